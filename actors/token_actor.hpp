#pragma once

// token_actor: holds a tenant's client credentials and its current bearer
// token, and is the only place that ever sees either.
//
// Takes:
//   (token_atom, min_validity)  -> access_token   a token valid for at least
//                                  min_validity; waits (single flight) while
//                                  one is fetched
//   (expiring_atom, within)     -> bool           no token, or it expires
//                                                 within `within`
//   (invalidate_atom, gen, why)  drops token `gen` (a 401, token_revoked)
//                                and fetches a new one
// Sends itself: refresh_atom (ahead of expiry), retry_atom (backoff),
// http_done_atom (from the HTTP client's worker).
// Reports audit events token_refreshed, token_invalidated, token_retry,
// token_throttled, token_failed.
//
// A restarted token actor (its supervisor starts a new one when it dies)
// takes the current token from the tenant's token_keep: sessions keep
// streaming and get the same token at once; the refresh stays on schedule.
//
// States: empty -> fetching -> valid -> (refresh) fetching -> valid ...
//         fetching -> waiting (429 Retry-After, or backoff after a timeout or
//         5xx) -> fetching
//         fetching -> quit with errc::bad_credentials (400/401/403 from the
//         token endpoint) or another fatal error: once, no retry loop.

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/actor_util.hpp"
#include "messages/audit.hpp"
#include "messages/token.hpp"
#include "runtime/backoff.hpp"
#include "runtime/http_transport.hpp"

namespace gcstream {

/// Settings of one tenant's token actor.
struct token_settings {
  std::string tenant;
  /// Base URL of the login service ("https://login.mypurecloud.com").
  std::string login_url;
  std::string client_id;
  std::string client_secret;
  /// Refresh at this fraction of the token's lifetime...
  double refresh_fraction = 0.8;
  /// ...but never later than this before expiry (for lifetimes above twice
  /// this).
  std::chrono::seconds refresh_margin{60};
  /// A Retry-After beyond this fails the waiting requests instead.
  std::chrono::seconds max_retry_after{180};
  /// Backoff after timeouts and 5xx.
  backoff_policy backoff{std::chrono::milliseconds{1000}, 2.0,
                         std::chrono::milliseconds{30000}};
  /// Seed of the jitter; 0 picks a random one.
  uint64_t seed = 0;
};

/// The delay, from when a token with `lifetime` arrives, until its refresh.
std::chrono::milliseconds refresh_delay(const token_settings& s,
                                        std::chrono::milliseconds lifetime);

/// What outlives a token actor's crash (held by the tenant): the current
/// token, so that a restarted token actor hands it out at once and refreshes
/// it on the same schedule, and the generation count, so that an
/// invalidation meant for an old token never hits a new one.
struct token_keep {
  access_token current;
  uint64_t generation = 0;
  /// When the current token arrived, and its lifetime (actor clock, ms).
  int64_t issued_ms = 0;
  int64_t lifetime_ms = 0;
};

/// State of a token actor.
struct token_state {
  token_settings cfg;
  std::shared_ptr<http_transport> http;
  audit_ref audit;
  std::shared_ptr<token_keep> keep;
  jitter_rng rng;
  /// Id of the HTTP request in flight (0: none).
  uint64_t in_flight = 0;
  uint64_t next_request = 0;
  /// Id of the pending retry timer (0: none).
  uint64_t retry_pending = 0;
  uint64_t next_retry = 0;
  uint32_t attempt = 0;
  std::vector<caf::typed_response_promise<access_token>> waiters;
  static inline const char* name = "gcstream.token";
};

using token_pointer = token_actor::stateful_pointer<token_state>;

/// The token actor's behavior. `audit` may be null; `keep` may be null (a
/// restart then starts from nothing).
token_actor::behavior_type token_actor_impl(token_pointer self,
                                            token_settings cfg,
                                            std::shared_ptr<http_transport> http,
                                            audit_ref audit,
                                            std::shared_ptr<token_keep> keep);

} // namespace gcstream
