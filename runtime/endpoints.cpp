#include "runtime/endpoints.hpp"

#include <algorithm>

#include "messages/errors.hpp"

namespace gcstream {

namespace {

// The host part of "scheme://host[:port][/path]", without brackets for IPv6.
std::string_view host_of(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return {};
  auto rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string_view::npos)
    rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    return close == std::string_view::npos ? std::string_view{}
                                           : rest.substr(1, close - 1);
  }
  return rest.substr(0, rest.find(':'));
}

} // namespace

const std::vector<std::string>& known_environments() {
  static const std::vector<std::string> envs = {
    "mypurecloud.com",  "mypurecloud.ie",   "mypurecloud.de",
    "mypurecloud.jp",   "mypurecloud.com.au", "usw2.pure.cloud",
    "cac1.pure.cloud",  "apne2.pure.cloud", "euw2.pure.cloud",
    "aps1.pure.cloud",  "sae1.pure.cloud",  "mec1.pure.cloud",
    "apne3.pure.cloud", "euc2.pure.cloud",  "mxc1.pure.cloud",
    "apse1.pure.cloud", "use2.us-gov-pure.cloud"};
  return envs;
}

caf::expected<service_endpoints> endpoints_for(std::string_view environment) {
  auto& envs = known_environments();
  if (std::find(envs.begin(), envs.end(), environment) == envs.end())
    return make_error(errc::bad_config,
                      "unknown environment '" + std::string{environment}
                        + "' (expected one of mypurecloud.com, "
                          "mypurecloud.ie, ..., or explicit login_url and "
                          "api_url)");
  std::string env{environment};
  return service_endpoints{"https://login." + env, "https://api." + env};
}

caf::expected<std::string> environment_for_region(std::string_view region) {
  static const std::pair<const char*, const char*> table[] = {
    {"us-east-1", "mypurecloud.com"},     {"us-east-2", "use2.us-gov-pure.cloud"},
    {"us-west-2", "usw2.pure.cloud"},     {"ca-central-1", "cac1.pure.cloud"},
    {"sa-east-1", "sae1.pure.cloud"},     {"eu-central-1", "mypurecloud.de"},
    {"eu-west-1", "mypurecloud.ie"},      {"eu-west-2", "euw2.pure.cloud"},
    {"eu-central-2", "euc2.pure.cloud"},  {"me-central-1", "mec1.pure.cloud"},
    {"ap-south-1", "aps1.pure.cloud"},    {"ap-northeast-1", "mypurecloud.jp"},
    {"ap-northeast-2", "apne2.pure.cloud"}, {"ap-northeast-3", "apne3.pure.cloud"},
    {"ap-southeast-1", "apse1.pure.cloud"}, {"ap-southeast-2", "mypurecloud.com.au"},
    {"mx-central-1", "mxc1.pure.cloud"}};
  for (auto& [r, env] : table)
    if (region == r)
      return std::string{env};
  return make_error(errc::bad_config,
                    "unknown region '" + std::string{region}
                      + "' (expected an AWS-style region such as us-east-1, "
                        "eu-west-1 or ap-southeast-2)");
}

bool is_loopback_url(std::string_view url) {
  auto host = host_of(url);
  if (host == "localhost" || host == "::1")
    return true;
  // 127.0.0.0/8, in dotted decimal.
  if (host.substr(0, 4) != "127.")
    return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.')
      ++dots;
    else if (c < '0' || c > '9')
      return false;
  }
  return dots == 3;
}

caf::error check_url(std::string_view url, bool allow_insecure) {
  bool https = url.substr(0, 8) == "https://";
  bool http = url.substr(0, 7) == "http://";
  if ((!https && !http) || host_of(url).empty())
    return make_error(errc::bad_url,
                      "not an http(s) URL: '" + std::string{url.substr(0, 80)}
                        + "'");
  if (http && !allow_insecure && !is_loopback_url(url))
    return make_error(errc::insecure_url,
                      "http:// is allowed only for loopback addresses; use "
                      "https:// or set allow_insecure: "
                        + std::string{host_of(url)});
  return caf::none;
}

std::string limiter_key_of(const std::string& login_url,
                           const std::string& client_id) {
  auto host = login_url;
  if (auto p = host.find("://"); p != std::string::npos)
    host.erase(0, p + 3);
  if (auto p = host.find_first_of("/?#"); p != std::string::npos)
    host.erase(p);
  return host + "|" + client_id;
}

} // namespace gcstream
