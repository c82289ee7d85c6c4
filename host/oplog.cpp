#include "host/oplog.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include <nlohmann/json.hpp>

#include "runtime/audit_writer.hpp" // iso8601_utc

namespace gcstream::oplog {

namespace {

std::atomic<format> the_format{format::text};
std::atomic<level> the_threshold{level::info};
std::mutex write_mtx;

} // namespace

std::optional<level> parse_level(std::string_view s) {
  if (s == "debug")
    return level::debug;
  if (s == "info")
    return level::info;
  if (s == "warn" || s == "warning")
    return level::warn;
  if (s == "error")
    return level::error;
  return std::nullopt;
}

std::optional<format> parse_format(std::string_view s) {
  if (s == "text")
    return format::text;
  if (s == "json")
    return format::json;
  return std::nullopt;
}

const char* to_string(level lv) {
  switch (lv) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    case level::error:
      return "error";
  }
  return "info";
}

void configure(format f, level threshold) {
  the_format = f;
  the_threshold = threshold;
}

std::string render(format f, level lv, const std::string& event,
                   const std::string& msg, const fields& extra,
                   const std::vector<std::string>& details, int64_t now_ms) {
  if (f == format::text) {
    std::string out = "gcstream: " + msg + "\n";
    for (auto& d : details)
      out += "  " + d + "\n";
    return out;
  }
  // Keys in a fixed order; a field never replaces one of the fixed keys.
  nlohmann::ordered_json j;
  j["ts"] = iso8601_utc(now_ms); // as the audit log writes it
  j["level"] = to_string(lv);
  j["event"] = event;
  j["msg"] = msg;
  for (auto& [k, v] : extra)
    if (!j.contains(k))
      j[k] = v;
  if (!details.empty())
    j["details"] = details;
  // Invalid UTF-8 (a reason quoting bytes it was sent) is replaced, not
  // thrown over.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void say(level lv, const std::string& event, const std::string& msg,
         const fields& extra, const std::vector<std::string>& details) {
  if (lv < the_threshold.load() && lv != level::error)
    return;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  auto line = render(the_format.load(), lv, event, msg, extra, details, now);
  std::lock_guard<std::mutex> guard{write_mtx};
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

} // namespace gcstream::oplog
