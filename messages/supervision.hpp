#pragma once

// The tenant supervisor's and the connection limiter's interfaces.
//
//   supervisor --(acquire_atom, key, holder)----> limiter
//   limiter    --(granted_atom, key, holder)----> supervisor (when granted)
//   supervisor --(release_atom, key, holder)----> limiter
//   runtime    --(forget_atom, holder prefix)---> limiter (a tenant is gone)
//   anyone     --(status_atom)------------------> supervisor -> tenant_status
//   anyone     --(stats_atom)-------------------> supervisor -> orderer_stats
//                                                             (from its orderer)
//   anyone     --(children_atom)----------------> supervisor -> the live session
//                                                             and orderer
//   host       --(stop_atom)--------------------> supervisor (drains and stops)

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/orderer.hpp"
#include "messages/session.hpp"

namespace gcstream {

using acquire_atom = caf::atom_constant<caf::atom("acquire")>;
using granted_atom = caf::atom_constant<caf::atom("granted")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using forget_atom = caf::atom_constant<caf::atom("forget")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using respawn_atom = caf::atom_constant<caf::atom("respawn")>;

using status_atom = caf::atom_constant<caf::atom("status")>;
using refill_atom = caf::atom_constant<caf::atom("refill")>;
using children_atom = caf::atom_constant<caf::atom("children")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;

/// The process's connection limiter: at most N live channels and R connects
/// per second per key (login host and client id).
using limiter_actor = caf::typed_actor<
  caf::reacts_to<acquire_atom, std::string, std::string>,
  caf::reacts_to<release_atom, std::string, std::string>,
  caf::reacts_to<forget_atom, std::string>,
  caf::reacts_to<refill_atom, std::string>>;

/// A tenant's state as its supervisor sees it.
struct tenant_status {
  std::string tenant;
  /// "starting", "connected", "reconnecting", "stopping", "failed" or
  /// "stopped".
  std::string state;
  /// Why it is reconnecting or failed.
  std::string reason;
  /// Sessions started so far.
  uint64_t sessions = 0;
  /// Consecutive failed attempts (reset after stable uptime).
  uint32_t attempt = 0;
  /// Events that did not reach every sink when the tenant stopped.
  uint64_t undelivered = 0;
  /// Since when (epoch ms) the tenant is in this state; a new reason in the
  /// same state does not move it.
  int64_t since_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tenant_status& x) {
  return f(caf::meta::type_name("gcstream::tenant_status"), x.tenant, x.state,
           x.reason, x.sessions, x.attempt, x.undelivered, x.since_ms);
}

/// The typed interface of a tenant supervisor.
using supervisor_actor = caf::typed_actor<
  caf::reacts_to<channel_atom, channel_info>,
  caf::reacts_to<restart_atom, uint64_t>,
  caf::reacts_to<respawn_atom, std::string, uint64_t>,
  caf::reacts_to<granted_atom, std::string, std::string>,
  caf::reacts_to<topics_atom, uint64_t, std::vector<std::string>, std::string>,
  caf::reacts_to<topics_atom, std::vector<std::string>>,
  caf::replies_to<status_atom>::with<tenant_status>,
  caf::replies_to<stats_atom>::with<orderer_stats>,
  caf::replies_to<children_atom>::with<caf::actor, caf::actor>,
  caf::reacts_to<stop_atom>>;

} // namespace gcstream
