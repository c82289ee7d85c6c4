#pragma once

// The per-frame hot path: reads a notification frame's envelope
// (topicName, metadata.CorrelationId and the configured ordering timestamp)
// and says what kind of frame it is. The frame's bytes are not copied or
// re-serialized here: the caller keeps them whole (frame_ref) and sinks
// build a DOM only if they want one.
//
// Every frame is fully validated by simdjson's DOM parser (SIMD; On-Demand
// would not validate the parts it skips), its fields read from the tape, and
// topic and id found in the frame's own bytes. A refused frame is classified
// by runtime/json_check.hpp; valid JSON the DOM cannot hold (an integer
// beyond 64 bits) is read by json_check's one-pass reader instead. So bad
// UTF-8 anywhere, any syntax error (also in a part nobody reads), a missing
// field or a wrong type is a malformed frame, and never reaches a sink.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gcstream {

/// How a timestamp field is written.
enum class timestamp_format {
  /// A JSON integer of milliseconds since the epoch.
  epoch_ms,
  /// A JSON string in ISO-8601 with a zone.
  iso8601,
};

/// Where a topic's ordering timestamp is.
struct timestamp_rule {
  /// Topic pattern; '*' matches any run of characters.
  std::string topic_pattern;
  /// JSON pointer into the frame ("/eventBody/eventTime").
  std::string pointer;
  timestamp_format format = timestamp_format::epoch_ms;
};

/// The rules of PROTOCOL.md's topic families: conversation detail events
/// (eventTime, epoch ms), presence (modifiedDate), routing status
/// (routingStatus.startTime).
std::vector<timestamp_rule> default_timestamp_rules();

/// What a frame is.
enum class frame_kind {
  /// A notification on a subscribed topic: goes to the sinks.
  event,
  /// channel.metadata "WebSocket Heartbeat".
  heartbeat,
  /// channel.metadata "pong", the answer to our ping.
  pong,
  /// Another channel.metadata message.
  metadata,
  /// v2.system.socket_closing.
  socket_closing,
  /// v2.system.no_longer_subscribed.<id>.
  no_longer_subscribed,
  /// v2.system.token_revoked.<id>.
  token_revoked,
  /// Another v2.system.* topic.
  system,
  /// No notification but the service's answer: a frame with `result` and no
  /// topicName ({"result":"404",...} when the channel is gone, or the reply
  /// to a subscribe request sent over the socket).
  reply,
  /// Not a notification frame: see envelope::error.
  malformed,
};

/// What the parser read from one frame.
///
/// `topic` and `id` are views, valid until the parser's next parse: into the
/// frame's own bytes when the frame has them verbatim (no escapes; the usual
/// case, so an event can view them too), otherwise into the parser.
struct envelope {
  frame_kind kind = frame_kind::malformed;
  std::string_view topic;
  /// metadata.CorrelationId, or the configured eventBody key (a string, or
  /// an integer as written); may be empty.
  std::string_view id;
  /// The ordering timestamp, or the arrival time when the topic has no rule
  /// or the event lacks the field.
  int64_t ts_ms = 0;
  /// Whether ts_ms came from the event (not the arrival time).
  bool ts_from_event = false;
  /// A system frame's eventBody.channelId (empty when absent): the channel
  /// it is about. A capability: compare it, never print it.
  std::string_view channel;
  /// A reply's `result` ("404", "200"; an integer as written).
  std::string_view result;
  /// Why the frame is malformed.
  std::string error;
};

/// Parses envelopes. Not thread-safe: one per thread (the Asio thread that
/// receives the frames).
class envelope_parser {
public:
  /// `id_body_key`: the eventBody field used as the dedupe key when
  /// metadata.CorrelationId is absent ("" for none).
  explicit envelope_parser(std::vector<timestamp_rule> rules =
                             default_timestamp_rules(),
                           std::string id_body_key = "");
  ~envelope_parser();

  envelope_parser(const envelope_parser&) = delete;
  envelope_parser& operator=(const envelope_parser&) = delete;

  /// Parses `frame`, whose buffer must have at least `padding()` readable
  /// bytes past its end (`capacity` counts them). `arrival_ms` is the
  /// fallback timestamp. Fills `out` and returns out.kind.
  frame_kind parse(const char* data, size_t size, size_t capacity,
                   int64_t arrival_ms, envelope& out);

  /// Convenience for tests and cold paths: copies into a padded buffer of
  /// the parser's (the views in `out` point there).
  frame_kind parse(std::string_view frame, int64_t arrival_ms, envelope& out);

  /// Bytes of padding the parser may read past a frame's end.
  static size_t padding();

  class impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace gcstream
