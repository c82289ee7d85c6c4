// multi_tenant: many tenants in one process against the emulator.
//
// One runtime shares the Asio thread, the HTTP workers and the connection
// limiter between all tenants. Each tenant has its own OAuth client here, so
// each has its own 20-channel budget; the limiter paces the connects of the
// whole process (10 per second per client by default, so a thousand tenants
// starting at once do not earn a 429). It prints how long until every tenant
// is connected, and the process's resident memory.
//
//   ./multi_tenant [tenants=1000] [timeout-s=300]

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include "emulator/server.hpp"
#include "actors/sinks/null_sink.hpp"
#include "host/runtime.hpp"
#include "messages/add_types.hpp"

using namespace gcstream;
using namespace std::chrono;

long rss_kib() {
  std::ifstream in{"/proc/self/status"};
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  int timeout_s = argc > 2 ? std::atoi(argv[2]) : 300;
  emulator::config ec;
  ec.event_rate = 0.2; // idle tenants: a presence change every 5 s
  ec.rate_limit_per_minute = 100000;
  for (int i = 0; i < n; ++i)
    ec.clients["client-" + std::to_string(i)] = "secret-" + std::to_string(i);
  emulator::server srv{ec};
  srv.start();

  caf::actor_system_config cfg;
  add_types(cfg);
  io_driven_scheduler(cfg); // idle tenants: no polling workers
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  runtime_settings rs;
  rs.http.workers = 8;
  runtime rt{sys, rs};
  auto start = steady_clock::now();
  for (int i = 0; i < n; ++i) {
    tenant_config t;
    t.id = "tenant-" + std::to_string(i);
    t.login_url = t.api_url = srv.base_url();
    t.client_id = "client-" + std::to_string(i);
    t.client_secret = "secret-" + std::to_string(i);
    char user[64];
    std::snprintf(user, sizeof(user), "6d2c5a1e-0000-0000-0000-%012d", i);
    t.topics = {std::string{"v2.users."} + user + ".presence"};
    t.sinks.push_back(sink_spec{"null", [](const sink_context& ctx) {
                                  return ctx.sys.spawn(null_sink);
                                }});
    if (!rt.add_tenant(std::move(t))) {
      std::cerr << "cannot add tenant " << i << "\n";
      return 1;
    }
  }
  size_t connected = 0;
  auto deadline = start + seconds{timeout_s};
  while (steady_clock::now() < deadline) {
    connected = 0;
    for (auto& m : rt.metrics())
      connected += m.state == "connected";
    if (connected == static_cast<size_t>(n))
      break;
    std::this_thread::sleep_for(milliseconds{200});
  }
  auto took = duration<double>(steady_clock::now() - start).count();
  std::cout << "tenants=" << n << " connected=" << connected << " seconds=" << took
            << " rss_mib=" << rss_kib() / 1024 << "\n";
  rt.shutdown();
  srv.stop();
  return connected == static_cast<size_t>(n) ? 0 : 1;
}
