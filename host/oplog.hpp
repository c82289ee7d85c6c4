#pragma once

// The program's operational log: what `gcstream run` says about itself on
// stderr (it started, where it listens, a reload, a failure, how it
// stopped). The audit log stays the record of state transitions; this is
// for the person or the journal watching the process.
//
//   text (default)  gcstream: metrics on port 9464 (/metrics, /healthz, /readyz)
//   json            {"ts":"2026-12-03T05:40:00.123Z","level":"info",
//                    "event":"listening","msg":"metrics on port 9464 ...","port":"9464"}
//
// A level filters what is said: debug < info < warn < error. Errors are
// always said (the highest threshold is error). Messages are built from
// reasons the library already redacts: no secret, token or channel id.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gcstream::oplog {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };
enum class format { text, json };

using fields = std::vector<std::pair<std::string, std::string>>;

std::optional<level> parse_level(std::string_view s);
std::optional<format> parse_format(std::string_view s);
const char* to_string(level lv);

/// Set once, before any thread that logs starts.
void configure(format f, level threshold);

/// One record to stderr, in one write, unless below the threshold.
/// `details` are lines under it (text: indented; json: an array).
void say(level lv, const std::string& event, const std::string& msg,
         const fields& extra = {}, const std::vector<std::string>& details = {});

/// The record as say() writes it, at the given time (epoch ms).
std::string render(format f, level lv, const std::string& event,
                   const std::string& msg, const fields& extra,
                   const std::vector<std::string>& details, int64_t now_ms);

} // namespace gcstream::oplog
