#pragma once

// `gcstream validate-config --online`: each tenant's topics checked against
// the service's own list (GET /api/v2/notifications/availabletopics), with a
// token of the tenant's client, and nothing subscribed or made.

#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "host/config.hpp"
#include "messages/http.hpp"
#include "runtime/topics.hpp"

namespace gcstream {

struct online_check_result {
  /// Topics the service's list refuses, by their path in the file
  /// ("tenants[0].topics[2]: topic '...' needs a user context ...").
  std::vector<std::string> refused;
  /// Tenants that could not be checked, and why (a refused credential, an
  /// unreachable host); never a secret.
  std::vector<std::string> unchecked;
};

/// The request for the service's topic list (GET availabletopics), with
/// `token`.
http_request topic_list_request(const std::string& api_url, const std::string& token);

/// The topic families of the service's answer `r`; when there are none, why
/// (in `why`: "no topic list: ..."). Used here and at tenant start.
std::vector<topic_family> topic_list_of(const caf::expected<http_response>& r,
                                        std::string& why);

/// Checks every tenant of `cfg`, one after the other.
online_check_result check_topics_online(const program_config& cfg);

} // namespace gcstream
