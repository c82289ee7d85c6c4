// libFuzzer target: the envelope parser (runtime/envelope.hpp) on any bytes.
// It must never crash or read past the padding it asks for; a frame it
// takes as an event must be strict JSON (runtime/json_check.hpp agrees);
// and it must agree with an independent full parser, simdjson's DOM: a text
// the DOM accepts is not refused as invalid JSON, a text it refuses (for
// another reason than a number too big for it or its depth) is refused,
// and the fields read are the DOM's.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <simdjson.h>

#include "runtime/envelope.hpp"
#include "runtime/json_check.hpp"

using namespace gcstream;

namespace {

void expect(bool ok) {
  if (!ok)
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static envelope_parser parser;
  static simdjson::dom::parser dom;
  // Exactly the padding the parser asks for, so ASan sees any read past it.
  std::vector<char> buf(size + envelope_parser::padding());
  if (size > 0)
    std::memcpy(buf.data(), data, size);
  envelope env;
  auto kind = parser.parse(buf.data(), size, buf.size(), 0, env);
  if (kind == frame_kind::event)
    expect(check_json(buf.data(), size) == json_fault::ok);
  bool invalid = kind == frame_kind::malformed
                 && env.error.rfind("not valid JSON", 0) == 0;
  if (dom.allocate(size + 1, 200) != simdjson::SUCCESS)
    return 0;
  simdjson::dom::element root;
  auto err = dom.parse(buf.data(), size, false).get(root);
  if (err == simdjson::SUCCESS) {
    expect(!invalid);
  } else if (err != simdjson::NUMBER_ERROR
             && err != simdjson::NUMBER_OUT_OF_RANGE && err != simdjson::DEPTH_ERROR) {
    expect(invalid);
  }
  if (err != simdjson::SUCCESS || kind != frame_kind::event)
    return 0;
  std::string_view topic;
  expect(root["topicName"].get(topic) == simdjson::SUCCESS && topic == env.topic);
  std::string_view id;
  if (root["metadata"]["CorrelationId"].get(id) == simdjson::SUCCESS)
    expect(id == env.id);
  return 0;
}
