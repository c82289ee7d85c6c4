#pragma once

// runtime_supervisor: one per runtime. It watches what every tenant of the
// process shares and each tenant's supervisor, and starts again whatever
// dies (ARCHITECTURE.md, invariant 1):
//   connection limiter   a new one, told the permits the tenants hold (their
//                        cores know: a tenant with a live session holds one);
//                        every tenant supervisor hears of it and asks again
//                        for a permit it was waiting for
//   audit log actor      a new one on the same queue and writer: what the
//                        old one had not written is written by the new one
//   tenant supervisor    a new one on the same core: it adopts the session,
//                        orderer, token and metrics actors that live
// Each with a backoff and an intensity limit. Past the limit, a tenant
// supervisor's tenant fails (its actors are stopped, its status says why);
// a shared actor past its limit fails the process: on_fatal is called with
// the reason, loudly (the program prints it and exits).
//
//   (watch_atom, id)                 a tenant was added: watch its supervisor
//   down of a watched actor          decides: start again, or fail
//   (respawn_atom, kind, id)         its backoff timers
//
// It keeps nothing a restart needs: a new one (the runtime starts it when
// this one dies) watches everything again from the process core.

#include <functional>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/audit_log.hpp"
#include "actors/connection_limiter.hpp"
#include "actors/tenant_core.hpp"
#include "runtime/audit_writer.hpp"
#include "runtime/restart_tracker.hpp"

namespace gcstream {

/// What the runtime shares between its tenants and its supervisor.
struct process_core {
  limiter_settings limiter_cfg;
  std::shared_ptr<limiter_ref> limiter = std::make_shared<limiter_ref>();
  /// The process's audit queue (null: no audit log and no observer).
  audit_ref audit;
  std::shared_ptr<audit_writer> writer; // may be null
  audit_actor observer;                 // may be null
  /// The shared actors' limit (each kind on its own), and each tenant
  /// supervisor's.
  restart_policy shared_restarts;
  restart_policy supervisor_restarts;
  /// Called (on the runtime supervisor's thread) when a shared actor died
  /// past its restart limit.
  std::function<void(const std::string&)> on_fatal;

  mutable std::mutex mtx;
  std::map<std::string, std::shared_ptr<tenant_core>> tenants;
  caf::actor audit_log; // the audit log actor now (under mtx)
  caf::actor root;      // the runtime supervisor now (under mtx)

  std::shared_ptr<tenant_core> tenant(const std::string& id) const;
};

using runtime_supervisor_actor = caf::typed_actor<
  caf::reacts_to<watch_atom, std::string>,
  caf::reacts_to<respawn_atom, std::string, std::string>>;

struct runtime_supervisor_state {
  std::shared_ptr<process_core> pc;
  restart_tracker limiter_crashes;
  restart_tracker audit_crashes;
  std::map<std::string, restart_tracker> supervisor_crashes;
  /// The tenant supervisors monitored now, and whose they are (a down
  /// message finds its tenant here: looking through every tenant for each
  /// one made stopping 10,000 tenants take minutes).
  std::map<caf::actor_addr, std::weak_ptr<tenant_core>> watched;
  jitter_rng rng{std::random_device{}()};
  caf::actor limiter;
  caf::actor audit_log;
  static inline const char* name = "gcstream.runtime_supervisor";
};

using runtime_supervisor_pointer =
  runtime_supervisor_actor::stateful_pointer<runtime_supervisor_state>;

/// The runtime supervisor's behavior.
runtime_supervisor_actor::behavior_type
runtime_supervisor(runtime_supervisor_pointer self, std::shared_ptr<process_core> pc);

/// Stops a tenant's actors at once, without a drain (its supervisor is past
/// its restart limit, or a remove ran out of time), marks it failed or
/// stopped, and finishes its core.
void abandon_tenant(caf::actor_system& sys, tenant_core& core,
                    const std::string& why, bool failed);

} // namespace gcstream
