#pragma once

// `gcstream validate-config --online`: each tenant's topics checked against
// the service's own list (GET /api/v2/notifications/availabletopics), with a
// token of the tenant's client, and nothing subscribed or made.

#include <string>
#include <vector>

#include "host/config.hpp"

namespace gcstream {

struct online_check_result {
  /// Topics the service's list refuses, by their path in the file
  /// ("tenants[0].topics[2]: topic '...' needs a user context ...").
  std::vector<std::string> refused;
  /// Tenants that could not be checked, and why (a refused credential, an
  /// unreachable host); never a secret.
  std::vector<std::string> unchecked;
};

/// Checks every tenant of `cfg`, one after the other.
online_check_result check_topics_online(const program_config& cfg);

} // namespace gcstream
