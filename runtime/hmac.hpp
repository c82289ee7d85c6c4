#pragma once

// HMAC-SHA256 (OpenSSL), for the health webhook's signature header.

#include <string>

namespace gcstream {

/// HMAC-SHA256 of `data` with `key`, as 64 lower-case hex digits.
std::string hmac_sha256_hex(const std::string& key, const std::string& data);

} // namespace gcstream
