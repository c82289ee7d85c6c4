// libFuzzer target: the envelope parser (runtime/envelope.hpp) on any bytes.
// It must never crash or read past the padding it asks for, and a frame it
// takes as an event must be strict JSON (runtime/json_check.hpp agrees).

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "runtime/envelope.hpp"
#include "runtime/json_check.hpp"

using namespace gcstream;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static envelope_parser parser;
  // Exactly the padding the parser asks for, so ASan sees any read past it.
  std::vector<char> buf(size + envelope_parser::padding());
  if (size > 0)
    std::memcpy(buf.data(), data, size);
  envelope env;
  auto kind = parser.parse(buf.data(), size, buf.size(), 0, env);
  if (kind == frame_kind::event
      && check_json(buf.data(), size) != json_fault::ok)
    std::abort(); // an event that is not strict JSON would reach a sink
  return 0;
}
