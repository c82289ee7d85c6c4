#pragma once

// tenant_supervisor: keeps one tenant's actors alive (ARCHITECTURE.md,
// tenant_supervisor, invariant 1).
//
// It works on the tenant's core (actors/tenant_core.hpp) and starts, watches
// (monitors, not links: a kill cannot be trapped, and a linked kill would
// take the supervisor along) and restarts the tenant's children:
//   token actor    started again with a backoff; the session gets the new
//                  handle, and the token it held stays good meanwhile
//   session        started again after a backoff with full jitter (attempts
//                  reset after stable_after of uptime), retried forever at
//                  the cap for network trouble, resuming the last channel
//   orderer        started again on its kept state; the session hands the
//                  new one what the old one had not acknowledged
//   metrics actor  started again on its kept counters
// Each kind has its own intensity limit (the session's max_restarts within
// restart_window; the others' child_restarts); past it the tenant fails.
//
// A tenant with more topics than a channel holds has several channels
// (tenant_core::lanes): one session each, each with its own inbox, sockets,
// backoff and channel to resume, all feeding the one orderer. The tenant is
// connected once every channel streams. Its topics change while it runs
// ((topics_atom, topics), from runtime::set_topics) by difference: a changed
// channel's session subscribes again on its socket, a channel left with none
// unsubscribes and stops, new channels get new sessions.
//
// Before the first channel is made it checks the topics once against the
// service's list (tenant_core::check_topics, when set): a refused topic
// fails the tenant (topics_refused); a list that cannot be read is audited
// (topics_unchecked) and the tenant goes on.
//
// Takes:
//   down of a child (monitor)         decides: restart, fail, or go on stopping
//   (channel_atom, channel_info)      from the session: the channel to resume
//   (restart_atom, gen), (respawn_atom, kind, gen)   its backoff timers
//   (topics_atom, gen, refused, why)  the answer of the topic check
//   (topics_atom, topics)             set_topics
//   (granted_atom, key, holder)       the limiter's permit for a session
//                                     (a new limiter is asked again by the
//                                     runtime: channel_permits::ask_again_all)
//   (status_atom) -> tenant_status, (stats_atom) -> orderer_stats,
//   (children_atom) -> (session, orderer)
//   (stop_atom)                       stop, drained
//
// Before each session (re)start it asks the token actor whether the token
// expires within token_threshold and, if so, gets a fresh one first; then it
// takes the session's permit from the connection limiter; then it spawns the
// session with the last channel to resume.
//
// A restarted supervisor (the runtime's supervisor starts one on the same
// core) adopts the children that still live, starts the others, and carries
// on where its predecessor was: waiting for a permit, stopping, draining.
//
// Stopping (asked, or failing): the session stops reading and hands the
// inbox to the orderer (with no session left, a drain-only session does
// that); the orderer hands everything to the sinks within drain_timeout;
// then the orderer, sinks, token and metrics actors stop, the sockets left
// behind are closed, and what did not reach every sink is counted
// (tenant_status::undelivered) and audited (drain_incomplete).
//
// States: starting -> connected -> reconnecting -> connected ...
//   -> failed (a fatal error, or past a restart limit: the tenant stops,
//      drained, and the supervisor quits with the reason)
//   -> stopping -> stopped (stop_atom)
// Audit events: session_started, tenant_connected, backoff_scheduled,
// actor_restarted, tenant_failed, drain_incomplete, tenant_stopped,
// topics_unchecked, topics_changed (those about one channel of several say
// which: lane, topics).

#include <memory>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/tenant_core.hpp"

namespace gcstream {

/// State of a tenant supervisor: everything it keeps is in the core.
struct supervisor_state {
  std::shared_ptr<tenant_core> core;
  static inline const char* name = "gcstream.supervisor";
};

using supervisor_pointer = supervisor_actor::stateful_pointer<supervisor_state>;

/// The supervisor's behavior, on `core` (new, or left by a supervisor that
/// died).
supervisor_actor::behavior_type tenant_supervisor(supervisor_pointer self,
                                                  std::shared_ptr<tenant_core> core);

} // namespace gcstream
