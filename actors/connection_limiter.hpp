#pragma once

// connection_limiter: one per process. Keyed by login host and client id
// (the service's 20-channels-per-client limit is per OAuth client), it grants
// at most `max_live` live sessions and `connects_per_second` new ones (a
// token bucket with a burst of one second), so that a thousand tenants
// starting at once do not earn a 429.
//
//   (acquire_atom, key) -> permit     queued (FIFO) until allowed
//   (release_atom, key, permit)       frees a live slot
// A holder that dies releases its permits (monitor), and its queued
// requests are skipped.

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "messages/supervision.hpp"

namespace gcstream {

/// Settings of the connection limiter.
struct limiter_settings {
  uint32_t max_live = 20;
  double connects_per_second = 10;
};

/// State of the connection limiter.
struct limiter_state {
  struct waiter {
    caf::typed_response_promise<uint64_t> promise;
    caf::actor_addr holder;
  };
  struct bucket {
    uint32_t live = 0;
    double tokens = 0;
    int64_t refilled_ms = 0;
    bool refill_scheduled = false;
    std::deque<waiter> waiting;
    std::set<uint64_t> permits;
  };
  limiter_settings cfg;
  std::map<std::string, bucket> keys;
  uint64_t next_permit = 0;
  /// Who holds which permits, for releasing them when a holder dies.
  std::map<caf::actor_addr, std::set<std::pair<std::string, uint64_t>>> holders;
  std::set<caf::actor_addr> dead;
  static inline const char* name = "gcstream.limiter";
};

using limiter_pointer = limiter_actor::stateful_pointer<limiter_state>;

/// The limiter's behavior.
limiter_actor::behavior_type connection_limiter(limiter_pointer self,
                                                limiter_settings cfg);

} // namespace gcstream
