#pragma once

// ISO-8601 timestamps to epoch milliseconds, without the C library (30 ns
// against 144 ns for strptime + timegm).

#include <cstdint>
#include <string_view>

namespace gcstream {

/// Parses YYYY-MM-DD(T| )HH:MM:SS[.fff...](Z|+HH:MM|+HHMM) into epoch ms;
/// false for anything else (including a missing zone or a bad date).
bool iso8601_to_epoch_ms(std::string_view s, int64_t& out);

} // namespace gcstream
