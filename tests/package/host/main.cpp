// A host that embeds gcstream from its installed CMake package: its own
// actor system, a runtime, one tenant against the emulator (in this
// process, on a free loopback port) and a sink actor of its own. It exits 0
// when the sink got every event the emulator wrote, once each.
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include "emulator/server.hpp"
#include "host/runtime.hpp"
#include "messages/add_types.hpp"
#include "messages/sink.hpp"

struct seen {
  std::mutex m;
  std::set<std::string> ids;
  uint64_t events = 0;
};

struct counter_state {
  std::shared_ptr<seen> out;
  gcstream::seen_batches handled;
  static inline const char* name = "host.counter";
};

gcstream::sink_actor::behavior_type
counter(gcstream::sink_actor::stateful_pointer<counter_state> self,
        std::shared_ptr<seen> out) {
  self->state.out = std::move(out);
  return {[=](gcstream::deliver_atom,
              const gcstream::event_batch& b) -> caf::result<uint64_t> {
    if (self->state.handled.already(b.seq))
      return b.seq;
    std::lock_guard<std::mutex> guard{self->state.out->m};
    for (auto& e : b.events) {
      self->state.out->ids.emplace(e.id());
      ++self->state.out->events;
    }
    self->state.handled.done(b.seq);
    return b.seq;
  }};
}

int main() {
  gcstream::emulator::config ec;
  ec.clients["host"] = "host-secret";
  ec.event_rate = 200;
  gcstream::emulator::server srv{ec};
  srv.start();

  caf::actor_system_config cfg;
  gcstream::add_types(cfg);
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auto got = std::make_shared<seen>();
  const std::string topic = "v2.users.6d2c5a1e-0000-0000-0000-0000000000e1.presence";
  uint64_t received = 0;
  {
    gcstream::runtime rt{sys, gcstream::runtime_settings{}};
    gcstream::tenant_config t;
    t.id = "host";
    t.login_url = t.api_url = srv.base_url();
    t.client_id = "host";
    t.client_secret = "host-secret";
    t.topics = {topic};
    t.sinks.push_back({"counter", [got](const gcstream::sink_context& ctx) {
                         return ctx.sys.spawn(counter, got);
                       }});
    if (auto added = rt.add_tenant(t); !added) {
      std::cerr << "add_tenant: " << caf::to_string(added.error()) << "\n";
      return 1;
    }
    // Until 100 events have arrived (30 s at most), then stop the events
    // and wait until all that were written have arrived.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto until = [&](auto done) {
      while (!done() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return done();
    };
    if (!until([&] { return rt.stats("host").received >= 100; })) {
      std::cerr << "fewer than 100 events in 30 s\n";
      return 1;
    }
    srv.reconfigure(R"({"event_rate":0})");
    auto written = [&] {
      auto st = srv.stats_json();
      auto key = "\"written\":";
      auto at = st.find(key, st.find(topic));
      return std::stoull(st.substr(at + std::string{key}.size()));
    };
    until([&] { return rt.stats("host").received >= written(); });
    received = rt.stats("host").received;
    rt.remove_tenant("host"); // drains what the orderer holds to the sink
  }
  srv.stop();
  std::lock_guard<std::mutex> guard{got->m};
  std::cout << "host: received " << received << ", sink got " << got->events
            << " events, " << got->ids.size() << " distinct\n";
  return received >= 100 && got->events == received && got->ids.size() == received
           ? 0 : 1;
}
