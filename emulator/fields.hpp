#pragma once

// Reads the fields of a control request (a fault, a settings change) and
// checks each one: its type, its range, and that the request has no field
// it does not know. The first problem is kept, worded with the field's name
// ("count: expected an integer from 1 to 100000"), so the control endpoint
// answers 400 with it and never throws.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gcstream::emulator {

class fields {
public:
  /// `j` must be an object; `allowed` are the fields it may have.
  fields(const nlohmann::json& j, const std::vector<std::string>& allowed);

  /// An unsigned integer in [lo, hi], or `dflt` when absent.
  uint64_t integer(const char* key, uint64_t lo, uint64_t hi, uint64_t dflt);

  /// A number in [lo, hi], or `dflt` when absent.
  double number(const char* key, double lo, double hi, double dflt);

  /// A string of at most `max_len` bytes, or `dflt` when absent.
  std::string text(const char* key, size_t max_len, const std::string& dflt);

  /// A string among `options`, or `dflt` when absent.
  std::string choice(const char* key, std::initializer_list<const char*> options,
                     const std::string& dflt);

  /// Whether the key is present.
  bool has(const char* key) const { return j_.is_object() && j_.contains(key); }

  /// Notes a problem (the first one is kept).
  void fail(const std::string& what);

  /// The first problem, or empty.
  const std::string& error() const { return error_; }

private:
  const nlohmann::json& j_;
  std::string error_;
};

} // namespace gcstream::emulator
