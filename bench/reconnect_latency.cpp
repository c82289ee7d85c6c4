// How long a stream stays down (issue 4's targets), against the in-process
// emulator on loopback, through the real token actor, supervisor, session,
// transport and HTTP client:
//   - drop: from the emulator dropping the socket (FIN, no close frame) to the
//     first event written on the new socket reaching the process; backoff 0;
//     median of 50 drops; target under 20 ms.
//   - stall: from the socket going silent to events flowing again, minus the
//     heartbeat timeout; median of 5; target under 100 ms.
// Usage: bench_reconnect_latency [DROPS [STALLS]]

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/connection_limiter.hpp"
#include "actors/session_actor.hpp"
#include "actors/tenant_supervisor.hpp"
#include "actors/token_actor.hpp"
#include "emulator/server.hpp"
#include "bench/bench_util.hpp"
#include "runtime/http_client.hpp"

using namespace gcstream;
using namespace std::chrono;
using bench::median;
using clk = steady_clock;

namespace {

const std::string topic = "v2.users.6d2c5a1e-0000-0000-0000-0000000000aa.presence";

// Arrival of the first event written after a mark.
struct arrivals {
  std::mutex m;
  std::condition_variable cv;
  uint64_t after_seq = UINT64_MAX;
  clk::time_point first;
  bool seen = false;
  uint64_t events = 0;

  void arm(uint64_t seq) {
    std::lock_guard<std::mutex> g{m};
    after_seq = seq;
    seen = false;
  }

  void on_event(const std::string& frame) {
    auto p = frame.find("\"emulatorSeq\":");
    if (p == std::string::npos)
      return;
    uint64_t seq = std::stoull(frame.substr(p + 14));
    std::lock_guard<std::mutex> g{m};
    ++events;
    if (!seen && seq > after_seq) {
      seen = true;
      first = clk::now();
      cv.notify_all();
    }
  }

  bool wait(milliseconds t) {
    std::unique_lock<std::mutex> g{m};
    return cv.wait_for(g, t, [&] { return seen; });
  }
};

// Sequence numbers are per topic and count every generated event, written or
// not: after the drop, whatever carries a higher one came on a new socket.
uint64_t generated(emulator::server& srv) {
  return nlohmann::json::parse(srv.stats_json())["topics"][topic]["generated"]
    .get<uint64_t>();
}

} // namespace

int main(int argc, char** argv) {
  int drops = argc > 1 ? std::atoi(argv[1]) : 50;
  int stalls = argc > 2 ? std::atoi(argv[2]) : 5;
  const milliseconds heartbeat_timeout{1000};
  emulator::config ec;
  ec.clients["bench"] = "bench-secret";
  ec.event_rate = 2000; // an event every 0.5 ms: the resolution
  ec.heartbeat_interval_ms = 200;
  ec.rate_limit_per_minute = 100000;
  ec.tick_ms = 1;
  emulator::server srv{ec};
  srv.start();
  bench::quiet_config cfg;
  caf::actor_system sys{cfg};
  auto http = std::make_shared<http_client>();
  auto ws = std::make_shared<ws_transport>();
  arrivals arr;
  auto inbox = std::make_shared<event_inbox>();
  {
    token_settings ts;
    ts.tenant = "bench";
    ts.login_url = srv.base_url();
    ts.client_id = "bench";
    ts.client_secret = "bench-secret";
    // (Room for every channel of the run: this hand-built tenant does not
    // give its permits back the way the runtime's does, and the limiter's
    // pacing is not what is measured here.)
    auto limiter = sys.spawn(connection_limiter, limiter_settings{100000, 1000},
                             std::vector<limiter_hold>{});
    auto ingest = sys.spawn([&](ingest_actor::pointer) -> ingest_actor::behavior_type {
      return {[&](ingest_atom, const event_batch& b) {
        for (auto& e : b.events)
          arr.on_event(e.frame().str());
        return b.seq;
      }};
    });
    supervisor_settings ss;
    ss.tenant = "bench";
    ss.limiter_key = "bench";
    ss.backoff = {milliseconds{0}, 2.0, milliseconds{0}};
    ss.max_restarts = 1000;
    auto base = srv.base_url();
    auto core = std::make_shared<tenant_core>("bench");
    core->cfg = ss;
    core->inbox = inbox;
    core->ingest = ingest;
    core->token = std::make_shared<token_keep>();
    core->sockets = std::make_shared<tenant_sockets>(ws);
    core->limiter = std::make_shared<limiter_ref>();
    core->limiter->set(limiter);
    core->make_token = [ts, http, keep = core->token](caf::actor_system& sys) {
      return sys.spawn(token_actor_impl, ts, http, audit_ref{}, keep);
    };
    // (The session gives its channel's permit back when its socket closes:
    // it needs the permits the supervisor asks, or the limiter fills up
    // after max_live_channels drops.)
    core->make_session = [=, sockets = core->sockets, c = core.get()](
                           caf::actor_system& sys, const session_start& st) {
      session_settings s;
      s.tenant = "bench";
      s.api_url = base;
      s.topics = {topic};
      s.ping_interval = milliseconds{200};
      s.heartbeat_timeout = heartbeat_timeout;
      s.resume = st.resume;
      s.drain_only = st.drain_only;
      return caf::actor_cast<caf::actor>(sys.spawn(
        session_actor_impl, s,
        session_deps{st.token, http, ws, st.ingest, inbox, st.listener, audit_ref{},
                     nullptr, sockets, c->permits}));
    };
    auto sup = sys.spawn(tenant_supervisor, core);
    arr.arm(0);
    if (!arr.wait(seconds{10})) {
      std::fprintf(stderr, "reconnect_latency: no events\n");
      return 1;
    }
    std::vector<double> drop_ms, stall_ms;
    for (int i = 0; i < drops; ++i) {
      // The drop ends the socket in the model at once: every event
      // generated after it can only arrive over a new socket.
      auto t0 = clk::now();
      srv.inject(R"({"kind":"drop"})");
      arr.arm(generated(srv));
      if (!arr.wait(seconds{10})) {
        std::fprintf(stderr, "reconnect_latency: no recovery after drop %d\n", i);
        return 1;
      }
      drop_ms.push_back(duration<double, std::milli>(arr.first - t0).count());
    }
    for (int i = 0; i < stalls; ++i) {
      auto t0 = clk::now();
      srv.inject(R"({"kind":"stall"})");
      arr.arm(generated(srv));
      if (!arr.wait(seconds{10})) {
        std::fprintf(stderr, "reconnect_latency: no recovery after stall %d\n", i);
        return 1;
      }
      stall_ms.push_back(duration<double, std::milli>(arr.first - t0).count()
                         - double(heartbeat_timeout.count()));
    }
    auto md = median(drop_ms), ms = median(stall_ms);
    std::printf("reconnect_after_drop  median=%.2f ms  min=%.2f  max=%.2f  drops=%d  "
                "target<20 ms  %s\n",
                md, *std::min_element(drop_ms.begin(), drop_ms.end()),
                *std::max_element(drop_ms.begin(), drop_ms.end()), drops,
                md < 20 ? "OK" : "ABOVE TARGET");
    std::printf("stall_detection       median=timeout+%.2f ms  stalls=%d  "
                "target<timeout+100 ms  %s\n",
                ms, stalls, ms < 100 ? "OK" : "ABOVE TARGET");
    caf::anon_send(sup, stop_atom::value);
    core->wait_done(seconds{10});
    for (auto h : {core->handles().token, caf::actor_cast<caf::actor>(limiter),
                   caf::actor_cast<caf::actor>(ingest)})
      if (h)
        caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  }
  ws->stop();
  http->stop();
  srv.stop();
  return 0;
}
