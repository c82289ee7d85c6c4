#include "runtime/event_line.hpp"

#include <cstdio>

namespace gcstream {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
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
