#pragma once

// connection_limiter: one per process. Keyed by login host and client id
// (the service's 20-channels-per-client limit is per OAuth client), it grants
// at most `max_live` live permits and `connects_per_second` new ones (a
// token bucket with a burst of one second), so that a thousand tenants
// starting at once do not earn a 429.
//
//   (acquire_atom, key, holder)   queued (FIFO) until allowed, then answered
//                                 with (granted_atom, key, holder) to the
//                                 sender. Idempotent: a holder that has a
//                                 permit is answered at once, and one that
//                                 waits keeps its place (a restarted asker
//                                 simply asks again).
//   (release_atom, key, holder)   frees the holder's permit
//   (forget_atom, prefix)         frees every permit and wait of the holders
//                                 whose name starts with `prefix` (a tenant
//                                 that is gone)
//
// A permit is named by its holder ("<tenant>/<slot>"), not by a number, so
// that every restart on either side is reconciled by asking again. The
// limiter keeps no state that a restart needs: the runtime's supervisor
// starts a new one with the permits the tenants hold (their cores know), and
// the tenants that wait ask the new one again.

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/supervision.hpp"

namespace gcstream {

/// Settings of the connection limiter.
struct limiter_settings {
  uint32_t max_live = 20;
  double connects_per_second = 10;
};

/// A permit held when a limiter starts.
struct limiter_hold {
  std::string key;
  std::string holder;
};

/// State of the connection limiter.
struct limiter_state {
  struct waiter {
    std::string holder;
    caf::actor asker;
  };
  struct bucket {
    double tokens = 0;
    int64_t refilled_ms = 0;
    bool refill_scheduled = false;
    std::deque<waiter> waiting;
    std::set<std::string> holders;
  };
  limiter_settings cfg;
  std::map<std::string, bucket> keys;
  /// The keys where each holder holds or waits, sorted by holder: a tenant's
  /// holders ("tenant/...") are one range, so forgetting a tenant touches
  /// only its keys (looking through every key made stopping 10,000 tenants
  /// take a minute).
  std::map<std::string, std::set<std::string>> holder_keys;
  static inline const char* name = "gcstream.limiter";
};

using limiter_pointer = limiter_actor::stateful_pointer<limiter_state>;

/// The limiter's behavior, starting with `held` permits granted.
limiter_actor::behavior_type connection_limiter(limiter_pointer self,
                                                limiter_settings cfg,
                                                std::vector<limiter_hold> held);

} // namespace gcstream
