// libFuzzer target: the configuration parser on any text. It never
// crashes; it either returns a configuration or an error that says what is
// wrong (never an empty message), and never echoes a secret's value.

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "host/config.hpp"
#include "messages/errors.hpp"

using namespace gcstream;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  const std::string secret = "Fuzz-S3cret-Value";
  env_lookup env = [&](const std::string& name) -> std::optional<std::string> {
    if (name.find("SECRET") != std::string::npos)
      return secret;
    return std::nullopt;
  };
  // A folder with nothing in it: relative paths resolve, nothing is read.
  auto cfg = parse_config(text, env, "/nonexistent-gcstream-fuzz");
  if (!cfg) {
    auto why = reason_of(cfg.error());
    if (why.empty())
      std::abort();
    // The value from the environment never shows; text of the file may
    // (an id, a path), so only when the file does not hold it itself.
    if (text.find(secret) == std::string::npos && why.find(secret) != std::string::npos)
      std::abort();
    // No excerpt of a file that does not parse.
    if (text.find("last read") == std::string::npos
        && why.find("last read") != std::string::npos)
      std::abort();
  }
  return 0;
}
