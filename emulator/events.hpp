#pragma once

// Realistic notification frames for the topic families of PROTOCOL.md. Every
// event carries `eventBody.emulatorSeq`, a per-topic sequence number starting
// at 1, so that tests can count what arrived.

#include <cstdint>
#include <string>
#include <string_view>

namespace gcstream::emulator {

/// Formats epoch milliseconds as ISO-8601 UTC with milliseconds
/// ("2026-11-22T13:29:53.123Z").
std::string format_iso8601(int64_t epoch_ms);

/// Appends the low `digits` hex digits of `v` (lower case, zero-padded; at
/// most 16).
void append_hex(std::string& out, uint64_t v, int digits);

/// Whether the topic is one of the analytics observation topics, which
/// publish at most once a second.
bool is_observation_topic(std::string_view topic);

/// Builds one event frame (the whole envelope) for `topic`.
std::string make_event_frame(std::string_view topic, uint64_t seq,
                             int64_t wall_ms, std::string_view correlation_id);

/// Builds a frame on a system topic with the given JSON body.
std::string make_system_frame(std::string_view topic,
                              std::string_view body_json,
                              std::string_view correlation_id);

/// The server heartbeat frame.
const std::string& heartbeat_frame();

/// The answer to a client ping.
const std::string& pong_frame();

} // namespace gcstream::emulator
