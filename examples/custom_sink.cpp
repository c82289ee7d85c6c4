// custom_sink: your own sink actor.
//
// A sink is any actor with gcstream::sink_actor's interface: it receives
// (deliver_atom, event_batch) and replies with the batch's seq once it is
// done with the batch. The orderer keeps every batch until that reply, sends
// a sink one batch at a time, sends the same batch again when the sink
// refuses it (an error reply) or died and was started again, and a refused
// batch is always the next one the sink gets: so the sink only needs to
// remember the last batch it handled (seen_batches).
//
// This one (examples/topic_counter.hpp) counts events per topic, and its
// "downstream" is busy for the first delivery of every fifth batch, so you
// can see refusals cost nothing. It runs against the emulator in this
// process for a few seconds, then prints its counts next to what the
// emulator wrote.
//
//   ./custom_sink [seconds]

#include <chrono>
#include <iostream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "emulator/server.hpp"
#include "examples/topic_counter.hpp"
#include "host/runtime.hpp"
#include "messages/add_types.hpp"

using namespace gcstream;
using example::counts;
using example::topic_counter;

int main(int argc, char** argv) {
  int seconds = argc > 1 ? std::atoi(argv[1]) : 5;
  // An emulator of the Genesys service, on a free loopback port.
  emulator::config ec;
  ec.clients["example"] = "example-secret";
  ec.event_rate = 50;
  emulator::server srv{ec};
  srv.start();

  // The host's actor system; gcstream's message types are added first.
  caf::actor_system_config cfg;
  add_types(cfg);
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auto got = std::make_shared<counts>();
  // The downstream is busy for the first delivery of every fifth batch.
  got->busy = [tried = std::set<uint64_t>{}](uint64_t seq) mutable {
    return seq % 5 == 0 && tried.insert(seq).second;
  };
  {
    runtime rt{sys, runtime_settings{}};
    tenant_config t;
    t.id = "example";
    t.login_url = t.api_url = srv.base_url();
    t.client_id = "example";
    t.client_secret = "example-secret";
    t.topics = {"v2.users.6d2c5a1e-0000-0000-0000-0000000000e1.presence",
                "v2.users.6d2c5a1e-0000-0000-0000-0000000000e1.routingStatus"};
    // The factory is called again whenever the sink has to be restarted.
    t.sinks.push_back(sink_spec{"topic-counter", [got](const sink_context& ctx) {
                                  return ctx.sys.spawn(topic_counter, got);
                                }});
    if (auto added = rt.add_tenant(t); !added) {
      std::cerr << caf::to_string(added.error()) << "\n";
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    // Stop the events and give what is on the wire a moment to arrive.
    srv.reconfigure(R"({"event_rate":0})");
    auto written = [&] {
      uint64_t n = 0;
      auto st = nlohmann::json::parse(srv.stats_json());
      for (auto& topic : t.topics)
        n += st["topics"][topic].value("written", uint64_t{0});
      return n;
    };
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (rt.stats("example").received < written()
           && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    rt.remove_tenant("example"); // drains what the orderer holds to the sink
  }
  auto st = nlohmann::json::parse(srv.stats_json());
  srv.stop();
  int status = 0;
  std::lock_guard<std::mutex> guard{got->m};
  std::cout << "batches refused (and offered again): " << got->refused << "\n";
  for (auto& [topic, n] : got->per_topic) {
    auto written = st["topics"][topic]["written"].get<uint64_t>();
    std::cout << topic << ": counted " << n << ", emulator wrote " << written << "\n";
    if (n != written)
      status = 1;
  }
  if (got->per_topic.empty()) {
    std::cout << "no events counted\n";
    status = 1;
  }
  return status;
}
