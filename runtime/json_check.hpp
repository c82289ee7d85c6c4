#pragma once

// Whether a frame is one complete, valid JSON text (RFC 8259), checked in a
// single pass over its bytes, and (json_paths) where a few of its values
// are, recorded on the way.
//
// An event goes to the sinks whole, so all of it must be valid, also the
// parts nobody reads: a parser that validates only what it reads (simdjson's
// On-Demand API) takes a frame with its final brace missing, or with `tru`
// in a field nobody reads, and a sink's line would then be invalid JSON.
// The envelope parser validates with simdjson's DOM; this check says what is
// wrong with a frame it refused (the fault below), and reads the frames
// simdjson cannot hold although they are valid (integers beyond 64 bits).
// It checks the structure (brackets balanced and in order, commas and
// colons in their places, one root value and nothing after it), every
// literal, number and escape (a surrogate escape only as a high-low pair),
// and no raw control character inside a string; UTF-8 is left to simdjson.
//
// String contents, most of a frame's bytes, are scanned sixteen bytes at a
// time (SSE2, which every x86-64 has).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

/// Where a value lies in a text check_json accepted.
struct json_span {
  /// Its first byte (null: the path is not in the text).
  const char* begin = nullptr;
  /// Just past it (for a container, just past its opening bracket).
  const char* end = nullptr;
  /// A string with a backslash in it (to unescape before use).
  bool escaped = false;

  bool found() const { return begin != nullptr; }
  /// '"', '{', '[', 't', 'f', 'n', or a number's first character.
  char kind() const { return *begin; }
  /// The value's text (a string's without its quotes, escapes as written).
  std::string_view text() const {
    if (*begin == '"')
      return {begin + 1, static_cast<size_t>(end - begin - 2)};
    return {begin, static_cast<size_t>(end - begin)};
  }
};

/// Paths whose values check_json records on its way through a text, so that
/// reading a few fields costs no second pass: a path is a list of object
/// keys (compared decoded: "topic\u004eame" is topicName); a segment of
/// digits also indexes an array. The first occurrence of each path counts.
class json_paths {
public:
  static constexpr size_t max = 64;

  /// Adds a path and returns its slot (the same path twice: the same slot);
  /// throws std::length_error past `max` paths.
  size_t add(std::vector<std::string> segments);
  /// Adds a JSON pointer (RFC 6901: "/eventBody/eventTime", ~0 and ~1).
  size_t add_pointer(std::string_view pointer);
  size_t size() const { return paths_.size(); }
  const std::vector<std::string>& path(size_t slot) const { return paths_[slot]; }

private:
  std::vector<std::vector<std::string>> paths_;
};

/// check_json that also fills `spans` (paths.size() of them) with where each
/// path's value is; the spans are meaningful only when it returns ok.
json_fault check_json(const char* data, size_t size, const json_paths& paths,
                      json_span* spans, size_t max_depth = 256);

/// Decodes a JSON string's text (without its quotes; check_json accepted
/// it) into `out`, as UTF-8. False for a \u escape that is a lone or
/// reversed surrogate.
bool unescape_json_string(std::string_view text, std::string& out);

} // namespace gcstream
