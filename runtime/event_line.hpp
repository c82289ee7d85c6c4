#pragma once

// The JSON line the stdout and file sinks write for one event:
//
//   {"tenant":"acme","topic":"v2.users....presence","id":"...","ts":1700000000000,
//    "received":1700000000012,"late":false,"event":<the frame, byte for byte>}
//
// The frame is inserted as received (it was valid JSON to be parsed at all),
// never re-serialized; the other strings are escaped here.

#include <string>
#include <string_view>

#include "messages/event.hpp"

namespace gcstream {

/// Appends `s` as a JSON string literal (quoted, escaped) to `out`.
void append_json_string(std::string& out, std::string_view s);

/// Appends one event's line, newline included, to `out`.
void append_event_line(std::string& out, const std::string& tenant,
                       const event& e);

} // namespace gcstream
