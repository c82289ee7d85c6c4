// libFuzzer target: the metrics listener's request-line parser. Never
// crashes; what it accepts has an upper-case method and a path that starts
// with '/' and holds no query, space or control character.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "runtime/http_listener.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string head(reinterpret_cast<const char*>(data), size);
  std::string method, path;
  if (!gcstream::http_listener::parse_request_line(head, method, path))
    return 0;
  if (method.empty() || path.empty() || path[0] != '/')
    std::abort();
  for (char c : method)
    if (c < 'A' || c > 'Z')
      std::abort();
  for (unsigned char c : path)
    if (c <= ' ' || c == 0x7f || c == '?')
      std::abort();
  return 0;
}
