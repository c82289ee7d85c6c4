#pragma once

// Whether a frame is one complete, valid JSON text (RFC 8259), checked in a
// single pass over its bytes.
//
// The envelope parser reads a frame with simdjson's On-Demand API, which
// validates what it reads and UTF-8 everywhere, but not the parts it skips:
// a frame with its final brace missing, or with `tru` in a field nobody
// reads, parses without an error. Such a frame must not reach a sink (whose
// line would then be invalid JSON), so every event frame is also checked
// here: the structure (brackets balanced and in order, commas and colons in
// their places, one root value and nothing after it), every literal, number
// and escape, and no raw control character inside a string. UTF-8 is left
// to simdjson, which checks it anyway.
//
// String contents, most of a frame's bytes, are scanned sixteen bytes at a
// time (SSE2, which every x86-64 has).

#include <cstddef>

namespace gcstream {

/// Why a text is not valid JSON (or ok).
enum class json_fault {
  ok,
  /// The text ended inside a value (a missing closing bracket, a cut string).
  truncated,
  /// Something follows the root value.
  trailing,
  /// A bracket, comma or colon out of place, or an unknown character.
  structure,
  /// A literal that is not true, false or null.
  literal,
  /// A malformed number.
  number,
  /// A bad escape, or a raw control character, in a string.
  string,
  /// Nested deeper than the limit.
  depth,
};

/// The name of a fault, for counters and audit lines.
const char* to_string(json_fault f);

/// Checks `data` (`size` bytes) and returns the first fault found.
json_fault check_json(const char* data, size_t size, size_t max_depth = 256);

} // namespace gcstream
