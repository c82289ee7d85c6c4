// Topics at scale (issue 16): against the gcstream-emulator program in a
// child process, so that the resident memory measured is the client's alone:
//   - one tenant with TOPICS topics (default 5,000: 2,500 users' presence and
//     routing status, combined per user), spread over channels of at most
//     1,000: the time from add_tenant until every channel is subscribed and
//     streaming, and the memory it holds;
//   - three tenants on one OAuth client with 2,000 topics each (6,000, six
//     channels of the client's twenty): the same;
//   - set_topics on the first tenant, 10% of its topics replaced: the time
//     until the emulator lists the new set, and whether any socket was
//     replaced (none should be).
// Each is measured RUNS times (default 3), the median printed.
//
// Usage: bench_topics [TOPICS=5000] [RUNS=3]

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/sinks/null_sink.hpp"
#include "bench/bench_stats.hpp"
#include "bench/bench_util.hpp"
#include "host/runtime.hpp"
#include "runtime/topics.hpp"
#include "tests/support/probe_client.hpp"

using namespace gcstream;
using namespace std::chrono;
using clk = steady_clock;
using bench::rss_kib;
using nlohmann::json;

namespace {

std::vector<std::string> names(const std::string& tag, int from, int to) {
  std::vector<std::string> out;
  for (int u = from; u < to; ++u) {
    char id[80];
    std::snprintf(id, sizeof id, "v2.users.6d2c5a1e-%s-0000-0000-%012d", tag.c_str(), u);
    out.push_back(std::string{id} + ".presence");
    out.push_back(std::string{id} + ".routingStatus");
  }
  return out;
}

tenant_config tenant(const std::string& base, const std::string& id,
                     std::vector<std::string> topics) {
  tenant_config t;
  t.id = id;
  t.login_url = t.api_url = base;
  t.client_id = "app";
  t.client_secret = "s3cret-Value";
  t.topics = std::move(topics);
  t.sinks.push_back(sink_spec{"null", [](const sink_context& ctx) {
    return ctx.sys.spawn(null_sink);
  }});
  return t;
}

json stats(const std::string& base) {
  return json::parse(probe::http("GET", base + "/emulator/stats").body);
}

// The names subscribed on the emulator's channels with an open socket, and
// the sockets those channels ever accepted.
std::multiset<std::string> subscribed(const std::string& base, int* connects = nullptr) {
  std::multiset<std::string> out;
  auto all = stats(base)["channels"];
  int n = 0;
  for (auto& [id, ch] : all.items()) {
    if (!ch.value("socket_open", false))
      continue;
    n += ch.value("connects", 0);
    for (auto& t : ch["topics"])
      for (auto& name : expand_topic(t.get<std::string>()))
        out.insert(name);
  }
  if (connects)
    *connects = n;
  return out;
}

// Waits until the emulator streams exactly `want` (and the tenants say
// connected); the seconds it took, or -1 after 120 s.
double until_streaming(runtime& rt, const std::string& base,
                       const std::multiset<std::string>& want, clk::time_point t0) {
  auto deadline = t0 + seconds(120);
  while (clk::now() < deadline) {
    bool up = true;
    for (auto& id : rt.tenants())
      up = up && rt.status(id).state == "connected";
    if (up && subscribed(base) == want)
      return duration<double>(clk::now() - t0).count();
    std::this_thread::sleep_for(milliseconds(20));
  }
  return -1;
}

} // namespace

int main(int argc, char** argv) {
  int topics = argc > 1 ? std::atoi(argv[1]) : 5000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  if (topics < 2 || topics > 20000 || runs < 1 || runs > 20) {
    std::fprintf(stderr, "usage: bench_topics [TOPICS 2..20000] [RUNS 1..20]\n");
    return 2;
  }
  std::vector<double> one_s, one_mib, three_s, three_mib, change_s;
  int replaced = 0;
  for (int run = 0; run < runs; ++run) {
    bench::emulator_child emu{{"--event-rate", "0.1", "--client", "app:s3cret-Value",
                               "--rate-limit-per-minute", "100000"}};
    auto base = emu.base_url();
    bench::quiet_config cfg;
    caf::actor_system sys{cfg};
    runtime_settings rs;
    rs.limiter.connects_per_second = 1000;
    {
      runtime rt{sys, rs};
      malloc_trim(0);
      auto rss0 = rss_kib();
      // One tenant.
      auto big = names("0001", 0, topics / 2);
      auto t0 = clk::now();
      if (!rt.add_tenant(tenant(base, "big", big)))
        return 1;
      auto s = until_streaming(rt, base, {big.begin(), big.end()}, t0);
      if (s < 0) {
        std::fprintf(stderr, "topics: %d topics not all streaming after 120 s\n", topics);
        return 1;
      }
      one_s.push_back(s);
      malloc_trim(0);
      one_mib.push_back((rss_kib() - rss0) / 1024.0);
      // 10% of its users replaced, live.
      int before = 0;
      subscribed(base, &before);
      auto changed = names("0001", topics / 20, topics / 2 + topics / 20);
      t0 = clk::now();
      if (rt.set_topics("big", changed))
        return 1;
      s = until_streaming(rt, base, {changed.begin(), changed.end()}, t0);
      if (s < 0)
        return 1;
      change_s.push_back(s);
      int after = 0;
      subscribed(base, &after);
      // The new channels (if any) add their first connect; a replaced
      // socket would add a second to an existing channel.
      auto channels = tenant_channels(big, true).size();
      auto now_channels = stats(base)["channels"].size();
      replaced += std::max<int>(0, after - before - int(now_channels - channels));
      rt.remove_tenant("big");
      // Three tenants on one client.
      std::multiset<std::string> all;
      t0 = clk::now();
      for (int i = 0; i < 3; ++i) {
        auto ts = names("000" + std::to_string(i + 2), 0, 1000);
        all.insert(ts.begin(), ts.end());
        if (!rt.add_tenant(tenant(base, "t" + std::to_string(i), ts)))
          return 1;
      }
      s = until_streaming(rt, base, all, t0);
      if (s < 0)
        return 1;
      three_s.push_back(s);
      malloc_trim(0);
      three_mib.push_back((rss_kib() - rss0) / 1024.0);
      rt.shutdown();
    }
  }
  auto med = [](std::vector<double> v) { return bench::median(v); };
  std::printf("topics one tenant    %d topics over %zu channel(s): subscribed and streaming in "
              "%.2f s (median of %d), %.1f MiB more resident\n",
              topics, tenant_channels(names("0001", 0, topics / 2), true).size(),
              med(one_s), runs, med(one_mib));
  std::printf("topics changed live  10%% of the users replaced with set_topics: listed in "
              "%.2f s (median); sockets replaced: %d\n",
              med(change_s), replaced);
  std::printf("topics three tenants 3 x 2,000 topics on one OAuth client (6 channels): "
              "streaming in %.2f s (median), %.1f MiB more resident\n",
              med(three_s), med(three_mib));
  return replaced == 0 ? 0 : 1;
}
