// End to end at a given rate (issue 15): the gcstream-emulator program in a
// child process writes conversation detail events (about 900 bytes) over a
// loopback WebSocket to one tenant of a gcstream::runtime in this process,
// through the session, the orderer and into a sink: a file sink (one JSON
// line per event, the README's default; a temporary file) or a null sink.
// This process is only the client, so its CPU time (every thread: Asio, CAF
// workers, HTTP workers) per delivered event is the client's cost.
//
// Reported: CPU per event; the added latency, frame arrival to the sink's
// acknowledgement (after its write), as p50/p99/max bucket bounds of
// gcstream_delivery_latency_seconds (events are held allowed_lateness_ms,
// 250 ms, by design: the target is p99 at most 270 ms); resident memory
// through the run (flat: the last samples no higher than the early ones).
//
// Usage: bench_end_to_end [RATE=10000] [SINK=file|null] [SECONDS=20] [TOPICS=20]
//   RATE: events per second in all (each topic RATE/TOPICS)
// Environment: COALESCE_MS (the runtime's coalescing window), CLIENT_CPU=N
// (the client on core N only), CAF_DEFAULT_SCHEDULER=1 (CAF's own polling),
// SUSTAIN=1 (stop after SECONDS whatever was delivered: the rate sustained).

#include <sched.h>
#include <time.h>
#include <unistd.h>

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
#include "host/config.hpp"
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

// The smallest bucket bound below which at least `q` of the events fall
// (+inf: beyond the last bound).
double quantile(const histogram& h, double q) {
  uint64_t total = 0;
  for (auto c : h.counts)
    total += c;
  if (total == 0)
    return 0;
  uint64_t seen = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    seen += h.counts[i];
    if (double(seen) >= q * double(total))
      return i < h.bounds.size() ? h.bounds[i] : 1e9;
  }
  return 1e9;
}

} // namespace

int main(int argc, char** argv) {
  int rate = argc > 1 ? std::atoi(argv[1]) : 10000;
  std::string sink = argc > 2 ? argv[2] : "file";
  int seconds_ = argc > 3 ? std::atoi(argv[3]) : 20;
  int topics = argc > 4 ? std::atoi(argv[4]) : 20;
  if (rate < topics || seconds_ < 1 || topics < 1 || topics > 1000
      || (sink != "file" && sink != "null")) {
    std::fprintf(stderr, "usage: bench_end_to_end [RATE>=TOPICS] [file|null] "
                         "[SECONDS>=1] [TOPICS 1..1000]\n");
    return 2;
  }
  uint64_t events = uint64_t(rate) * uint64_t(seconds_);
  bench::emulator_child emu{{"--client", "app:bench-secret", "--event-rate", "0",
                             "--rate-limit-per-minute", "100000"}};
  auto base = emu.base_url();
  // CLIENT_CPU=N: this process (the client) on core N only; the emulator,
  // started above, is not bound.
  if (auto c = std::getenv("CLIENT_CPU")) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(std::atoi(c), &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
      std::perror("sched_setaffinity");
      return 1;
    }
  }
  char path[] = "/tmp/gcstream-bench-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    std::perror("mkstemp");
    return 1;
  }
  close(fd);
  // CAF_DEFAULT_SCHEDULER=1 measures CAF's default polling, for the ratio.
  bench::quiet_config cfg{std::getenv("CAF_DEFAULT_SCHEDULER") == nullptr};
  caf::actor_system sys{cfg};
  int status = 0;
  {
    runtime_settings rs;
    if (auto c = std::getenv("COALESCE_MS"))
      rs.ws.coalesce_ms = std::atol(c);
    runtime rt{sys, rs};
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
    if (sink == "file") {
      file_sink_settings fs;
      fs.path = path;
      t.sinks.push_back(file_sink_spec("file", fs));
    } else {
      t.sinks.push_back(sink_spec{"null", [](const sink_context& ctx) {
        return ctx.sys.spawn(null_sink);
      }});
    }
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
                R"({"event_rate":)" + std::to_string(rate / topics) + "}");
    std::vector<long> rss; // one sample per tenth of the run
    size_t next_tenth = 1;
    uint64_t got = 0;
    auto give_up = t0 + seconds(60) + seconds(seconds_ * 3);
    // SUSTAIN=1: ask for more than the client takes, for SECONDS, and report
    // what was delivered per second.
    bool sustain = std::getenv("SUSTAIN") != nullptr;
    while ((got = delivered(rt)) < events) {
      if (sustain && steady_clock::now() - t0 >= seconds(seconds_))
        break;
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
      // (the bench's own polling: 10 requests a second, in the CPU measured)
      std::this_thread::sleep_for(milliseconds(100));
    }
    auto cpu = bench::cpu_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    auto secs = duration<double>(steady_clock::now() - t0).count();
    probe::http("POST", base + "/emulator/config", R"({"event_rate":0})");
    while (rss.size() < 10)
      rss.push_back(rss_kib());
    auto stats = nlohmann::json::parse(probe::http("GET", base + "/emulator/stats").body);
    auto ost = rt.stats("bench");
    auto& lat = ost.delivery_latency;
    std::printf("end_to_end %6d/s %-4s %.3f us client CPU/event  latency ms p50 %.0f "
                "p99 %.0f max %.0f  (%llu events in %.1f s = %.0f/s, %d topics, coalesce %ld ms)\n",
                rate, sink.c_str(), cpu * 1e6 / double(got), quantile(lat, 0.5) * 1000,
                quantile(lat, 0.99) * 1000, quantile(lat, 1.0) * 1000,
                static_cast<unsigned long long>(got), secs, double(got) / secs, topics,
                rs.ws.coalesce_ms);
    std::printf("end_to_end memory    rss MiB: start %.1f, at 10%% %.1f, 50%% %.1f, "
                "90%% %.1f, end %.1f; duplicates %llu, late %llu, sockets accepted %d "
                "(1: never reconnected)\n",
                rss_start / 1024.0, rss[0] / 1024.0, rss[4] / 1024.0, rss[8] / 1024.0,
                rss[9] / 1024.0, static_cast<unsigned long long>(ost.duplicates),
                static_cast<unsigned long long>(ost.late),
                stats["totals"].value("sockets_accepted", 0));
    rt.shutdown();
  }
  unlink(path);
  return status;
}
