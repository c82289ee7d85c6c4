// The supervisor keeping a real session alive against the emulator's faults.

#include "actors/tenant_supervisor.hpp"

#include <boost/test/unit_test.hpp>

#include <set>

#include "actors/connection_limiter.hpp"
#include "actors/session_actor.hpp"
#include "actors/token_actor.hpp"
#include "messages/errors.hpp"
#include "tests/support/live_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string topic = "v2.users.6d2c5a1e-0000-0000-0000-000000000002.presence";

emulator::config fast_emulator() {
  auto c = test::emulator_fixture::default_config();
  c.heartbeat_interval_ms = 100;
  return c;
}

struct supervised : test::live_fixture {
  std::shared_ptr<ws_transport> ws = std::make_shared<ws_transport>();
  std::shared_ptr<event_inbox> inbox = std::make_shared<event_inbox>();
  std::shared_ptr<tenant_core> core;
  limiter_actor limiter;
  ingest_actor ingest;
  supervisor_actor sup;
  std::mutex m;
  std::condition_variable cv;
  std::set<std::string> ids;
  size_t duplicates = 0;
  std::vector<caf::actor> sessions;

  supervised() : test::live_fixture(fast_emulator()) {
    token_settings ts;
    ts.tenant = "acme";
    ts.login_url = base;
    ts.client_id = "app";
    ts.client_secret = "s3cret-Value";
    limiter = sys.spawn(connection_limiter, limiter_settings{},
                        std::vector<limiter_hold>{});
    ingest = sys.spawn([this](ingest_actor::pointer) -> ingest_actor::behavior_type {
      return {[this](ingest_atom, const event_batch& b) {
        std::lock_guard<std::mutex> g{m};
        for (auto& e : b.events)
          if (!ids.insert(std::string{e.id()}).second)
            ++duplicates;
        cv.notify_all();
        return b.seq;
      }};
    });
    supervisor_settings s;
    s.tenant = "acme";
    s.limiter_key = "127.0.0.1|app";
    s.backoff = {0ms, 2.0, 50ms};
    // One core for the tenant: it outlives every session (and supervisor).
    core = std::make_shared<tenant_core>("acme");
    core->cfg = s;
    core->inbox = inbox;
    core->ingest = ingest;
    core->token = std::make_shared<token_keep>();
    core->audit = direct.queue;
    core->sockets = std::make_shared<tenant_sockets>(ws);
    core->limiter = std::make_shared<limiter_ref>();
    core->limiter->set(limiter);
    core->make_token = [this, ts](caf::actor_system& sys) -> token_actor {
      return sys.spawn(token_actor_impl, ts, http, direct.queue, core->token);
    };
    auto deps = session_deps{{}, http, ws, ingest, inbox, {}, direct.queue,
                             nullptr, core->sockets};
    core->make_session = [this, deps](caf::actor_system& sys, const session_start& st) {
      session_settings ss;
      ss.tenant = "acme";
      ss.api_url = base;
      ss.topics = {topic};
      ss.ping_interval = 100ms;
      ss.heartbeat_timeout = 500ms;
      ss.resume = st.resume;
      ss.drain_only = st.drain_only;
      auto d = deps;
      d.token = st.token;
      d.ingest = st.ingest;
      d.listener = st.listener;
      auto h = caf::actor_cast<caf::actor>(sys.spawn(session_actor_impl, ss, d));
      std::lock_guard<std::mutex> g{m};
      sessions.push_back(h);
      return h;
    };
    sup = sys.spawn(tenant_supervisor, core);
  }

  ~supervised() {
    auto h = core->handles();
    stop_actors({h.supervisor, h.token, h.session, caf::actor_cast<caf::actor>(limiter),
                 caf::actor_cast<caf::actor>(ingest)});
    ws->stop();
  }

  template <class P>
  bool wait(P pred, std::chrono::milliseconds t = 10s) {
    std::unique_lock<std::mutex> g{m};
    return cv.wait_for(g, t, pred);
  }

  /// Distinct events so far (outside wait()'s predicates, which hold the lock).
  size_t seen() {
    std::lock_guard<std::mutex> g{m};
    return ids.size();
  }

  tenant_status status() {
    caf::scoped_actor self{sys};
    tenant_status out;
    self->request(caf::actor_cast<supervisor_actor>(core->handles().supervisor), 5s,
                  status_atom::value)
      .receive([&](const tenant_status& s) { out = s; }, [](caf::error&) {});
    return out;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(supervisor_live_tests, supervised)

BOOST_AUTO_TEST_CASE(drops_and_resets_come_back_on_the_same_channel) {
  BOOST_REQUIRE(wait([&] { return ids.size() >= 20; }));
  for (auto fault : {R"({"kind":"drop"})", R"({"kind":"reset"})", R"({"kind":"drop"})"}) {
    auto before = seen();
    srv.inject(fault);
    BOOST_REQUIRE(wait([&] { return ids.size() >= before + 20; }));
  }
  auto st = stats();
  BOOST_CHECK_EQUAL(st["totals"]["channels"], 1); // always the same channel
  BOOST_CHECK_GE(st["totals"]["sockets_accepted"].get<int>(), 4);
  BOOST_CHECK(probe::eventually([&] { return status().state == "connected"; }));
  // Nothing written was lost. (A batch in flight when a session ended is
  // offered again by the next one: the orderer's dedupe removes such
  // duplicates, so they are not counted here.)
  srv.reconfigure(R"({"event_rate":0})");
  BOOST_CHECK(probe::eventually([&] {
    auto written = stats()["topics"][topic]["written"].get<size_t>();
    std::lock_guard<std::mutex> g{m};
    return ids.size() == written;
  }));
}

BOOST_AUTO_TEST_CASE(a_stall_is_caught_and_the_stream_resumes) {
  BOOST_REQUIRE(wait([&] { return ids.size() >= 10; }));
  srv.inject(R"({"kind":"stall"})");
  auto before = seen();
  BOOST_REQUIRE(wait([&] { return ids.size() >= before + 20; }));
  BOOST_CHECK_GE(status().sessions, 2u);
}

BOOST_AUTO_TEST_CASE(a_killed_session_comes_back) {
  BOOST_REQUIRE(wait([&] { return ids.size() >= 10; }));
  caf::actor victim;
  {
    std::lock_guard<std::mutex> g{m};
    victim = sessions.back();
  }
  caf::anon_send_exit(victim, caf::exit_reason::kill);
  BOOST_REQUIRE(wait([&] { return sessions.size() >= 2; }));
  auto before = seen();
  BOOST_REQUIRE(wait([&] { return ids.size() >= before + 20; }));
  BOOST_CHECK_EQUAL(status().state, "connected");
  // Stop the events; then every event the emulator wrote to a socket must
  // have reached the ingest actor: nothing died with the session's mailbox.
  srv.reconfigure(R"({"event_rate":0})");
  size_t written = 0;
  BOOST_CHECK(probe::eventually([&] {
    written = stats()["topics"][topic]["written"].get<size_t>();
    std::lock_guard<std::mutex> g{m};
    return ids.size() == written;
  }));
  BOOST_CHECK_EQUAL(seen(), written);
}

BOOST_AUTO_TEST_CASE(a_401_mid_stream_gets_a_new_token_and_the_same_channel) {
  BOOST_REQUIRE(wait([&] { return ids.size() >= 5; }));
  // The next API call (the subscription that extends the channel) is
  // refused: the session reports the token, ends, and comes back with a new
  // one on the same channel.
  srv.inject(R"({"kind":"http_error","path_prefix":"/api/v2/notifications/channels/",)"
             R"("status":401,"count":1})");
  srv.reconfigure(R"({"channel_ttl_s": 1})");
  srv.inject(R"({"kind":"drop"})"); // a reconnect subscribes again at once
  BOOST_REQUIRE(probe::eventually(
    [&] { return stats()["token_requests"]["app"].get<int>() >= 2; }));
  auto before = seen();
  BOOST_REQUIRE(wait([&] { return ids.size() >= before + 20; }));
  BOOST_CHECK_EQUAL(stats()["totals"]["channels"], 1);
}

BOOST_AUTO_TEST_CASE(a_429_on_channel_creation_is_retried) {
  // Fresh start against a throttled API: the first sessions fail, the
  // supervisor backs off, and the stream starts once the burst is over.
  BOOST_REQUIRE(wait([&] { return ids.size() >= 5; }));
  srv.inject(R"({"kind":"expire_channel"})");
  srv.inject(R"({"kind":"http_error","path_prefix":"/api/v2/notifications/channels",)"
             R"("status":429,"count":2,"retry_after_s":1})");
  auto before = seen();
  BOOST_REQUIRE(wait([&] { return ids.size() >= before + 20; }));
  BOOST_CHECK_EQUAL(stats()["http"]["channels"]["429"], 2);
  // Each retry waited at least the Retry-After (1 s), not just the backoff.
  int honoured = 0;
  for (auto& e : audit_copy()) {
    if (e.event != "backoff_scheduled")
      continue;
    bool after_429 = false;
    int64_t delay = 0;
    for (auto& [k, v] : e.fields) {
      after_429 = after_429 || (k == "reason" && v.find("HTTP 429") != std::string::npos);
      if (k == "delay_ms")
        delay = std::stoll(v);
    }
    if (after_429) {
      BOOST_CHECK_GE(delay, 1000);
      ++honoured;
    }
  }
  BOOST_CHECK_EQUAL(honoured, 2);
}

BOOST_AUTO_TEST_CASE(a_killed_supervisor_is_replaced_and_the_stream_never_stops) {
  BOOST_REQUIRE(wait([&] { return ids.size() >= 10; }));
  auto session = core->handles().session;
  BOOST_REQUIRE(session);
  caf::anon_send_exit(core->handles().supervisor, caf::exit_reason::kill);
  // Events keep coming with no supervisor at all.
  auto before = seen();
  BOOST_REQUIRE(wait([&] { return ids.size() >= before + 20; }));
  // A new one (the runtime's supervisor starts it) adopts the session.
  sup = sys.spawn(tenant_supervisor, core);
  BOOST_REQUIRE(probe::eventually([&] {
    return core->handles().supervisor == caf::actor_cast<caf::actor>(sup);
  }));
  BOOST_CHECK(core->handles().session == session);
  BOOST_CHECK_EQUAL(status().state, "connected");
  // ...and supervises it: a drop is recovered from.
  srv.inject(R"({"kind":"drop"})");
  before = seen();
  BOOST_REQUIRE(wait([&] { return ids.size() >= before + 20; }));
  srv.reconfigure(R"({"event_rate":0})");
  BOOST_CHECK(probe::eventually([&] {
    auto written = stats()["topics"][topic]["written"].get<size_t>();
    std::lock_guard<std::mutex> g{m};
    return ids.size() == written;
  }));
}

BOOST_AUTO_TEST_CASE(a_killed_token_actor_changes_nothing_for_the_stream) {
  BOOST_REQUIRE(wait([&] { return ids.size() >= 10; }));
  auto tok = core->handles().token;
  caf::anon_send_exit(tok, caf::exit_reason::kill);
  BOOST_REQUIRE(probe::eventually([&] {
    auto now = core->handles().token;
    return now && now != tok;
  }));
  auto before = seen();
  BOOST_REQUIRE(wait([&] { return ids.size() >= before + 20; }));
  // The new token actor took the kept token: no new login.
  BOOST_CHECK_EQUAL(stats()["token_requests"]["app"].get<int>(), 1);
  // And it serves the next session (a drop makes one).
  srv.inject(R"({"kind":"drop"})");
  before = seen();
  BOOST_REQUIRE(wait([&] { return ids.size() >= before + 20; }));
  BOOST_CHECK_EQUAL(status().state, "connected");
}

BOOST_AUTO_TEST_SUITE_END()
