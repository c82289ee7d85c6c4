// libFuzzer target: the emulator's control endpoints (POST /emulator/faults
// and /emulator/config) through the model's HTTP entry, with any body. It
// must answer (200 or 400 with a message, never a crash, never an
// allocation the body asks for beyond the documented bounds: libFuzzer's
// -rss_limit_mb catches that).

#include <cstdint>
#include <cstdlib>
#include <string>

#include "emulator/model.hpp"

using namespace gcstream::emulator;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static model* m = [] {
    config c;
    c.clients["app"] = "s3cret-Value";
    return new model(c, 1);
  }();
  std::string body(reinterpret_cast<const char*>(data), size);
  instant now{1000, 1800000000000};
  for (const char* target : {"/emulator/faults", "/emulator/config"}) {
    http_request req;
    req.method = "POST";
    req.target = target;
    req.content_type = "application/json";
    req.body = body;
    auto r = m->handle_http(req, now);
    if (r.status != 200 && r.status != 400)
      std::abort();
  }
  // Undo what a valid body changed, so that runs stay independent.
  http_request clear;
  clear.method = "POST";
  clear.target = "/emulator/faults";
  clear.body = R"({"kind":"clear"})";
  m->handle_http(clear, now);
  return 0;
}
