// embed: gcstream inside a host program that has its own actor system and
// its own actors.
//
// The host builds its actor system (after gcstream::add_types), runs its own
// actor (here: an "alerts" actor that a sink forwards events to), creates
// one gcstream::runtime for the process, and adds and removes tenants while
// everything runs. Removing a tenant drains it: what its orderer holds
// reaches the sinks before the tenant stops.
//
//   ./embed

#include <chrono>
#include <iostream>
#include <thread>

#include <caf/all.hpp>

#include "emulator/server.hpp"
#include "host/runtime.hpp"
#include "messages/add_types.hpp"

using namespace gcstream;

using count_atom = caf::atom_constant<caf::atom("count")>;

// The host's own actor: it learns about events from the tenants' sinks.
caf::behavior alerts(caf::stateful_actor<std::map<std::string, uint64_t>>* self) {
  return {
    [=](const std::string& tenant, uint64_t n) { self->state[tenant] += n; },
    [=](count_atom, const std::string& tenant) { return self->state[tenant]; },
  };
}

// A sink that tells the host's actor how many events each batch had.
sink_actor::behavior_type forward_to(sink_actor::pointer, caf::actor host) {
  return {[=](deliver_atom, const event_batch& b) {
    caf::anon_send(host, b.tenant, uint64_t{b.events.size()});
    return b.seq;
  }};
}

tenant_config tenant_of(const std::string& id, const std::string& base,
                        caf::actor host) {
  tenant_config t;
  t.id = id;
  t.login_url = t.api_url = base;
  t.client_id = id;
  t.client_secret = id + "-secret";
  t.topics = {"v2.users.6d2c5a1e-0000-0000-0000-0000000000e2.presence"};
  t.sinks.push_back(sink_spec{"to-host", [host](const sink_context& ctx) {
                                return ctx.sys.spawn(forward_to, host);
                              }});
  return t;
}

int main() {
  emulator::config ec;
  ec.event_rate = 50;
  for (auto id : {"north", "south"})
    ec.clients[id] = std::string{id} + "-secret";
  emulator::server srv{ec};
  srv.start();

  caf::actor_system_config cfg;
  add_types(cfg);           // before the actor system is built
  io_driven_scheduler(cfg); // optional: less CPU for I/O-driven actors
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auto host = sys.spawn(alerts);
  auto count = [&](const std::string& tenant) {
    uint64_t n = 0;
    caf::scoped_actor self{sys};
    self->request(host, std::chrono::seconds(5), count_atom::value, tenant)
      .receive([&](uint64_t x) { n = x; }, [](caf::error&) {});
    return n;
  };
  // Waits (at most 20 s) until `tenant` has had more than `n` events.
  auto more_than = [&](const std::string& tenant, uint64_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (count(tenant) <= n) {
      if (std::chrono::steady_clock::now() > deadline)
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  };
  int status = 0;
  {
    runtime rt{sys, runtime_settings{}};
    rt.add_tenant(tenant_of("north", srv.base_url(), host));
    std::cout << "added north\n";
    bool ok = more_than("north", 0);
    rt.add_tenant(tenant_of("south", srv.base_url(), host));
    std::cout << "added south while north runs\n";
    ok = ok && more_than("south", 0);
    rt.remove_tenant("north"); // drained: its sink had everything it held
    auto north = count("north");
    std::cout << "removed north after " << north << " events\n";
    // South goes on; north, removed, gets nothing more.
    auto south_then = count("south");
    ok = ok && more_than("south", south_then + 100);
    auto north_after = count("north");
    std::cout << "south: " << count("south") << " events; north stayed at "
              << north_after << "\n";
    if (!ok || north == 0 || north_after != north)
      status = 1;
    rt.shutdown(); // before the actor system goes
  }
  caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
  srv.stop();
  return status;
}
