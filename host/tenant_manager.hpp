#pragma once

// The tenant manager: the runtime's add_tenant / remove_tenant / status by
// messages, for hosts that drive everything with actors.
//
//   auto mgr = gcstream::spawn_tenant_manager(rt);
//   self->request(mgr, timeout, add_tenant_atom::value, cfg)
//     .then([](supervisor_actor sup) { ... });
//   self->request(mgr, timeout, remove_tenant_atom::value, "acme")
//     .then([](bool drained) { ... });
//
// It runs detached (its own thread): remove_tenant waits for the drain, and
// a waiting actor must not hold one of the scheduler's workers. Requests are
// served one at a time, in order. The runtime must outlive the manager;
// runtime::shutdown does not stop it (send it an exit).

#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>
#include <caf/replies_to.hpp>

#include "host/runtime.hpp"

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gcstream::tenant_config)

namespace gcstream {

using add_tenant_atom = caf::atom_constant<caf::atom("add_tenant")>;
using remove_tenant_atom = caf::atom_constant<caf::atom("rm_tenant")>;
using tenants_atom = caf::atom_constant<caf::atom("tenants")>;

using tenant_manager_actor = caf::typed_actor<
  // Starts a tenant; errc::bad_config as for runtime::add_tenant.
  caf::replies_to<add_tenant_atom, tenant_config>::with<supervisor_actor>,
  // Drains and stops a tenant; false when unknown or not done in time.
  caf::replies_to<remove_tenant_atom, std::string>::with<bool>,
  // The tenant's state; errc::bad_config when the id is unknown.
  caf::replies_to<status_atom, std::string>::with<tenant_status>,
  // The ids of the running tenants.
  caf::replies_to<tenants_atom>::with<std::vector<std::string>>>;

/// Spawns a manager for `rt` on rt's actor system.
tenant_manager_actor spawn_tenant_manager(runtime& rt);

} // namespace gcstream
