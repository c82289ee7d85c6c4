#pragma once

// Small pure helpers for the emulator's HTTP handling: target splitting,
// percent-decoding, form and query parsing, Basic credentials, glob matching.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace gcstream::emulator {

/// Splits "/a/b?x=1" into path "/a/b" and query "x=1".
std::pair<std::string, std::string> split_target(std::string_view target);

/// Decodes %XX escapes and '+' as space.
std::string percent_decode(std::string_view s);

/// Parses "a=1&b=2" (query or form body) into a map; later keys win.
std::map<std::string, std::string> parse_form(std::string_view s);

/// Decodes standard base64; nullopt on bad input.
std::optional<std::string> base64_decode(std::string_view s);

/// Reads "Basic base64(id:secret)" into (id, secret).
std::optional<std::pair<std::string, std::string>>
parse_basic_auth(std::string_view header);

/// Reads "Bearer <token>" into the token.
std::optional<std::string> parse_bearer(std::string_view header);

/// Matches `text` against `pattern`, where '*' matches any run of
/// characters (including none).
bool glob_match(std::string_view pattern, std::string_view text);

} // namespace gcstream::emulator
