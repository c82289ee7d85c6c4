#include "runtime/event_line.hpp"

#include <cstdio>

namespace gcstream {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  // Runs that need no escape (nearly all of a frame) are appended whole.
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void append_event_line(std::string& out, const std::string& tenant,
                       const event& e) {
  out += "{\"tenant\":";
  append_json_string(out, tenant);
  out += ",\"topic\":";
  append_json_string(out, e.topic());
  out += ",\"id\":";
  append_json_string(out, e.id());
  out += ",\"ts\":";
  out += std::to_string(e.ts_ms);
  out += ",\"received\":";
  out += std::to_string(e.received_ms);
  out += e.late ? ",\"late\":true,\"event\":" : ",\"late\":false,\"event\":";
  out += e.frame().str().empty() ? std::string_view{"null"} : std::string_view{e.frame().str()};
  out += "}\n";
}

} // namespace gcstream
