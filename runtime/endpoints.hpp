#pragma once

// Where a tenant's login and API live: from a Genesys Cloud environment name
// (PROTOCOL.md's list) or from explicit base URLs, and whether a URL may be
// used without TLS.

#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace gcstream {

/// The base URLs of one tenant's services, without a trailing slash.
struct service_endpoints {
  std::string login_url; // "https://login.mypurecloud.com"
  std::string api_url;   // "https://api.mypurecloud.com"
};

/// The environments PROTOCOL.md lists ("mypurecloud.com", ...).
const std::vector<std::string>& known_environments();

/// The endpoints of a known environment, or errc::bad_config naming it.
caf::expected<service_endpoints> endpoints_for(std::string_view environment);

/// The environment of an AWS-style region as Genesys' own tools name it
/// (GENESYSCLOUD_REGION: "us-east-1" -> "mypurecloud.com"), or
/// errc::bad_config naming the region.
caf::expected<std::string> environment_for_region(std::string_view region);

/// Whether the URL's host is a loopback address (127.0.0.0/8, ::1,
/// localhost).
bool is_loopback_url(std::string_view url);

/// Checks that `url` is http(s) and that http:// goes only to loopback
/// (unless `allow_insecure`); errc::insecure_url or errc::bad_url otherwise.
caf::error check_url(std::string_view url, bool allow_insecure);

/// The connection limiter's key for a login URL and client id: the host part
/// of the URL and the id ("login.mypurecloud.com|app").
std::string limiter_key_of(const std::string& login_url,
                           const std::string& client_id);

} // namespace gcstream
