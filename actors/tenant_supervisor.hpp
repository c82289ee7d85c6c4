#pragma once

// tenant_supervisor: keeps one tenant's session alive.
//
// Takes:
//   down of its session (monitor)  decides: stop, fail, or restart later
//   (channel_atom, channel_info)   from the session: the channel to resume
//   (restart_atom, gen)            its backoff timer
//   (status_atom) -> tenant_status
//   (stop_atom)                    ends the session and stops, no restart
// Before each (re)start it asks the token actor whether the token expires
// within token_threshold and, if so, gets a fresh one first; then it takes a
// permit from the connection limiter; then it spawns the session (monitored;
// it dies with the supervisor) with the last channel to resume.
//
// States: starting -> connected -> reconnecting (retriable error; backoff
//   with full jitter, attempts reset after stable_after of uptime; retried
//   forever at the cap) -> connected ...
//   -> failed (a fatal error, or more than max_restarts crashes within
//      restart_window: the supervisor quits with the reason, escalating to
//      whoever linked or monitored it)
//   -> stopped (stop_atom)
// Audit events: session_started, connected, backoff_scheduled, tenant_failed,
// tenant_stopped, orderer_restarted.

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/orderer_actor.hpp"
#include "messages/audit.hpp"
#include "messages/supervision.hpp"
#include "messages/token.hpp"
#include "runtime/backoff.hpp"

namespace gcstream {

/// Settings of a tenant supervisor.
struct supervisor_settings {
  std::string tenant;
  /// The connection limiter's key: login host and client id.
  std::string limiter_key;
  backoff_policy backoff{std::chrono::milliseconds{1000}, 2.0,
                         std::chrono::milliseconds{30000}};
  /// A session that lived this long resets the attempt count.
  std::chrono::milliseconds stable_after{10000};
  /// More crashes than this within restart_window fail the tenant.
  uint32_t max_restarts = 10;
  std::chrono::milliseconds restart_window{60000};
  /// Refresh the token first when it expires within this.
  std::chrono::milliseconds token_threshold{60000};
  /// Seed of the jitter; 0 picks a random one.
  uint64_t seed = 0;
  /// How long a stop waits for the orderer to hand everything to the sinks.
  std::chrono::milliseconds drain_timeout{5000};
};

struct supervisor_state;
using supervisor_pointer = supervisor_actor::stateful_pointer<supervisor_state>;

/// Spawns a session (not linked: the supervisor monitors it), resuming
/// `resume` when it has an id. The session's channel listener is the
/// supervisor.
using session_factory =
  std::function<caf::actor(supervisor_pointer self, const channel_info& resume)>;

/// State of a tenant supervisor.
struct supervisor_state {
  supervisor_settings cfg;
  token_actor token;
  limiter_actor limiter;
  session_factory make_session;
  audit_actor observer;
  std::mt19937_64 rng;
  caf::actor session;
  /// The live session and orderer, for the supervisor's exit hook.
  std::shared_ptr<caf::actor> child;
  std::shared_ptr<caf::actor> orderer_child;
  /// What outlives the orderer (null: sessions hand events elsewhere).
  std::shared_ptr<orderer_keep> keep;
  /// The live orderer; sessions hand it their events.
  orderer_actor orderer;
  uint64_t permit = 0;
  channel_info last_channel;
  tenant_status status;
  int64_t started_ms = 0;
  std::deque<int64_t> crashes;
  uint64_t restart_gen = 0;
  bool stopping = false;
  static inline const char* name = "gcstream.supervisor";
};

/// The supervisor's behavior, for a tenant whose sessions hand their events
/// to an ingest actor of their own (tests).
supervisor_actor::behavior_type
tenant_supervisor(supervisor_pointer self, supervisor_settings cfg,
                  token_actor token, limiter_actor limiter,
                  session_factory make_session, audit_actor observer);

/// The supervisor's behavior for a whole tenant: it also starts the orderer
/// on `keep` (monitored), starts it again at once when it dies (counted like
/// a session crash), and tells the live session the new orderer. Session
/// factories hand `self->state.orderer` to their sessions. A stop ends the
/// session, drains the orderer (within drain_timeout), then stops the
/// orderer and its sinks.
supervisor_actor::behavior_type
tenant_supervisor_with_orderer(supervisor_pointer self, supervisor_settings cfg,
                               token_actor token, limiter_actor limiter,
                               std::shared_ptr<orderer_keep> keep,
                               session_factory make_session,
                               audit_actor observer);

} // namespace gcstream
