// End to end (issue 5's second target: under 2 us of client CPU per event,
// memory flat): the gcstream-emulator program in a child process writes
// conversation detail events (about 900 bytes) over a loopback WebSocket to
// one tenant of a gcstream::runtime in this process, through the session,
// the orderer and into a null sink. This process is only the client, so its
// CPU time (every thread: Asio, CAF workers, HTTP workers) per delivered
// event is the client's cost. Resident memory is sampled as the run goes:
// flat means the last samples are no higher than the early ones.
//
// Usage: bench_end_to_end [EVENTS=2000000] [TOPICS=20] [RATE_PER_TOPIC=5000]
// (the 10-million-event run: bench_end_to_end 10000000)

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/sinks/null_sink.hpp"
#include "bench/bench_util.hpp"
#include "host/runtime.hpp"
#include "tests/support/probe_client.hpp"

using namespace gcstream;
using namespace std::chrono;
using bench::rss_kib;

namespace {

uint64_t delivered(runtime& rt) {
  auto st = rt.stats("bench");
  return st.sinks.empty() ? 0 : st.sinks[0].delivered;
}

} // namespace

int main(int argc, char** argv) {
  uint64_t events = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2000000;
  int topics = argc > 2 ? std::atoi(argv[2]) : 20;
  int rate = argc > 3 ? std::atoi(argv[3]) : 5000;
  if (events < 1000 || topics < 1 || topics > 1000 || rate < 1) {
    std::fprintf(stderr, "usage: bench_end_to_end [EVENTS>=1000] [TOPICS 1..1000] "
                         "[RATE_PER_TOPIC>=1]\n");
    return 2;
  }
  bench::emulator_child emu{{"--client", "app:bench-secret", "--event-rate", "0",
                             "--rate-limit-per-minute", "100000"}};
  auto base = emu.base_url();
  // CAF_DEFAULT_SCHEDULER=1 measures CAF's default polling, for the ratio.
  bench::quiet_config cfg{std::getenv("CAF_DEFAULT_SCHEDULER") == nullptr};
  caf::actor_system sys{cfg};
  int status = 0;
  {
    runtime rt{sys, runtime_settings{}};
    tenant_config t;
    t.id = "bench";
    t.login_url = t.api_url = base;
    t.client_id = "app";
    t.client_secret = "bench-secret";
    for (int i = 0; i < topics; ++i) {
      char conv[64];
      std::snprintf(conv, sizeof conv, "6d2c5a1e-0000-0000-0000-%012d", i);
      t.topics.push_back(std::string{"v2.detail.events.conversation."} + conv
                         + ".customer.start");
    }
    t.sinks.push_back(sink_spec{"null", [](const sink_context& ctx) {
      return ctx.sys.spawn(null_sink);
    }});
    if (!rt.add_tenant(std::move(t))) {
      std::fprintf(stderr, "end_to_end: cannot add the tenant\n");
      return 1;
    }
    auto deadline = steady_clock::now() + seconds(30);
    while (rt.status("bench").state != "connected") {
      if (steady_clock::now() > deadline) {
        std::fprintf(stderr, "end_to_end: not connected within 30 s\n");
        return 1;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    auto rss_start = rss_kib();
    auto cpu0 = bench::cpu_s(CLOCK_PROCESS_CPUTIME_ID);
    auto t0 = steady_clock::now();
    probe::http("POST", base + "/emulator/config",
                R"({"event_rate":)" + std::to_string(rate) + "}");
    std::vector<long> rss; // one sample per tenth of the run
    size_t next_tenth = 1;
    uint64_t got = 0;
    auto give_up = t0 + seconds(60) + milliseconds(events * 1000 / (uint64_t(rate) * topics) * 3);
    while ((got = delivered(rt)) < events) {
      while (next_tenth <= 10 && got >= events * next_tenth / 10) {
        rss.push_back(rss_kib());
        ++next_tenth;
      }
      if (steady_clock::now() > give_up) {
        std::fprintf(stderr, "end_to_end: only %llu of %llu events in time\n",
                     static_cast<unsigned long long>(got),
                     static_cast<unsigned long long>(events));
        return 1;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    auto cpu = bench::cpu_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    auto secs = duration<double>(steady_clock::now() - t0).count();
    probe::http("POST", base + "/emulator/config", R"({"event_rate":0})");
    while (rss.size() < 10)
      rss.push_back(rss_kib());
    auto stats = nlohmann::json::parse(probe::http("GET", base + "/emulator/stats").body);
    auto ost = rt.stats("bench");
    std::printf("end_to_end           %.3f us client CPU/event  (target < 2 us)  "
                "%llu events in %.1f s = %.0f/s, %d topics\n",
                cpu * 1e6 / double(got), static_cast<unsigned long long>(got), secs,
                double(got) / secs, topics);
    std::printf("end_to_end memory    rss MiB: start %.1f, at 10%% %.1f, 50%% %.1f, "
                "90%% %.1f, end %.1f; duplicates %llu, late %llu, sockets accepted %d "
                "(1: never reconnected)\n",
                rss_start / 1024.0, rss[0] / 1024.0, rss[4] / 1024.0, rss[8] / 1024.0,
                rss[9] / 1024.0, static_cast<unsigned long long>(ost.duplicates),
                static_cast<unsigned long long>(ost.late),
                stats["totals"].value("sockets_accepted", 0));
    rt.shutdown();
  }
  return status;
}
