#include "host/tenant_manager.hpp"

#include <caf/all.hpp>

#include "messages/errors.hpp"

namespace gcstream {

namespace {

tenant_manager_actor::behavior_type manager(tenant_manager_actor::pointer,
                                            runtime* rt) {
  return {
    [rt](add_tenant_atom, tenant_config& cfg) -> caf::result<supervisor_actor> {
      auto sup = rt->add_tenant(std::move(cfg));
      if (!sup)
        return std::move(sup.error());
      return *sup;
    },
    [rt](remove_tenant_atom, const std::string& id) {
      return rt->remove_tenant(id);
    },
    [rt](status_atom, const std::string& id) -> caf::result<tenant_status> {
      if (!rt->tenant(id))
        return make_error(errc::bad_config, "no tenant " + id);
      return rt->status(id);
    },
    [rt](tenants_atom) { return rt->tenants(); },
  };
}

} // namespace

tenant_manager_actor spawn_tenant_manager(runtime& rt) {
  return rt.system().spawn<caf::detached>(manager, &rt);
}

} // namespace gcstream
