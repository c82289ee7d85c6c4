#include "runtime/redact.hpp"

#include <openssl/evp.h>

namespace gcstream {

std::string short_hash(std::string_view s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), md, &len, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < 6 && i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 0xf];
  }
  return out;
}

std::string channel_tag(std::string_view channel_id) {
  return channel_id.empty() ? std::string{} : "ch:" + short_hash(channel_id);
}

std::string redact_url(std::string_view url) {
  auto end = url.find_first_of("?#");
  std::string out{url.substr(0, end)};
  const std::string_view marker = "/channels/";
  auto at = out.find(marker);
  if (at == std::string::npos)
    return out;
  auto from = at + marker.size();
  auto to = out.find('/', from);
  auto id = out.substr(from, to == std::string::npos ? std::string::npos : to - from);
  if (id.empty())
    return out;
  out.replace(from, id.size(), channel_tag(id));
  return out;
}

} // namespace gcstream
