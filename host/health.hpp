#pragma once

// What /healthz says about one tenant, as a pure function of its published
// snapshot and the clock (README, "Health"):
//
//   failed                         unhealthy, with the reason, until removed
//   stopped                        unhealthy
//   starting, reconnecting,        healthy for the health budget, counted
//   stopping                       from when the state began (a new reason
//                                  in the same state does not restart it)
//   connected                      healthy, unless no frame came for longer
//                                  than the heartbeat timeout (the watchdog
//                                  should have acted)
//   a problem (a failing journal)  unhealthy whatever the state
//
// Ready (/readyz): connected.

#include <cstdint>
#include <string>

#include "messages/metrics.hpp"

namespace gcstream {

struct tenant_health {
  bool ok = true;
  /// One line ("<tenant>: <why>\n") per reason it is not ok; empty if ok.
  std::string text;
};

tenant_health judge_health(const tenant_metrics& m, int64_t now_ms, int64_t budget_ms);

} // namespace gcstream
