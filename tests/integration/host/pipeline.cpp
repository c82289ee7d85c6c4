// A whole tenant through the embedding API against the emulator: sessions,
// orderer and sinks together. Crash tests kill the session, the orderer and
// the sink in turn in the middle of a stream; the emulator's duplicate,
// out-of-order and socket_closing faults must leave no duplicate and no
// disorder at the sink. Every wait has a deadline.

#include "host/runtime.hpp"
#include "host/tenant_manager.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <set>

#include "tests/support/live_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> topics = {
  "v2.users.6d2c5a1e-0000-0000-0000-000000000011.presence",
  "v2.users.6d2c5a1e-0000-0000-0000-000000000012.presence"};

// What the test sink saw, across its restarts.
struct seen {
  std::mutex m;
  std::map<std::string, size_t> ids;          // id -> deliveries
  std::map<std::string, size_t> per_topic;    // distinct ids per topic
  size_t duplicates = 0;
  size_t out_of_order = 0;
  size_t late = 0;
  int64_t last_ts = INT64_MIN;
  size_t starts = 0;
  std::vector<sink_actor> sinks;

  size_t distinct() {
    std::lock_guard<std::mutex> g{m};
    return ids.size();
  }
};

// A well-behaved sink: a batch resent after an orderer restart is only
// acknowledged again.
struct recording_state {
  seen_batches handled;
};

sink_actor::behavior_type
recording_sink(sink_actor::stateful_pointer<recording_state> self, seen* s) {
  return {[self, s](deliver_atom, const event_batch& b) {
    if (self->state.handled.seen(b.seq))
      return b.seq;
    std::lock_guard<std::mutex> g{s->m};
    for (auto& e : b.events) {
      if (++s->ids[std::string{e.id()}] > 1)
        ++s->duplicates;
      else
        ++s->per_topic[std::string{e.topic()}];
      if (e.late)
        ++s->late;
      if (e.ts_ms < s->last_ts)
        ++s->out_of_order;
      s->last_ts = std::max(s->last_ts, e.ts_ms);
    }
    return b.seq;
  }};
}

emulator::config pipeline_emulator() {
  auto c = test::emulator_fixture::default_config();
  c.heartbeat_interval_ms = 100;
  return c;
}

struct pipeline : test::live_fixture {
  seen got;
  std::unique_ptr<runtime> rt;

  pipeline() : test::live_fixture(pipeline_emulator()) {
    runtime_settings rs;
    rs.observer = recorder;
    rs.metrics_listen = "127.0.0.1:0";
    rt = std::make_unique<runtime>(sys, rs);
    tenant_config c;
    c.id = "acme";
    c.login_url = base;
    c.api_url = base;
    c.client_id = "app";
    c.client_secret = "s3cret-Value";
    c.topics = topics;
    c.session.ping_interval = 100ms;
    c.session.heartbeat_timeout = 500ms;
    c.supervisor.backoff = {0ms, 2.0, 50ms};
    c.orderer.reorder = {100, 300, 100000};
    c.orderer.sink_restart_delay_ms = 20;
    c.sinks.push_back(sink_spec{"recorder", [this](const sink_context& ctx) {
      auto h = ctx.sys.spawn(recording_sink, &got);
      std::lock_guard<std::mutex> g{got.m};
      ++got.starts;
      got.sinks.push_back(h);
      return h;
    }});
    BOOST_REQUIRE(rt->add_tenant(std::move(c)));
  }

  ~pipeline() {
    rt->shutdown();
    stop_actors({});
  }

  size_t written() {
    size_t n = 0;
    auto st = stats();
    for (auto& t : topics)
      n += st["topics"][t]["written"].get<size_t>();
    return n;
  }

  // Stops the events, then waits until the sink holds every event the
  // emulator wrote to a socket; checks exactly once and in order.
  void check_every_written_event_delivered_once() {
    srv.reconfigure(R"({"event_rate":0})");
    size_t w = 0;
    BOOST_CHECK(probe::eventually([&] {
      w = written();
      return got.distinct() == w;
    }, 20s));
    std::lock_guard<std::mutex> g{got.m};
    BOOST_CHECK_EQUAL(got.ids.size(), w);
    BOOST_CHECK_EQUAL(got.duplicates, 0u);
    for (auto& t : topics)
      BOOST_CHECK_EQUAL(got.per_topic[t], stats()["topics"][t]["written"].get<size_t>());
  }

  std::pair<caf::actor, caf::actor> children() {
    caf::scoped_actor self{sys};
    std::pair<caf::actor, caf::actor> out;
    self->request(*rt->tenant("acme"), 5s, children_atom::value)
      .receive([&](caf::actor s, caf::actor o) { out = {s, o}; },
               [](caf::error&) {});
    return out;
  }

  bool flowing(size_t more = 50) {
    auto before = got.distinct();
    return probe::eventually([&] { return got.distinct() >= before + more; }, 10s);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(pipeline_tests, pipeline)

BOOST_AUTO_TEST_CASE(events_reach_the_sink_once_and_in_order) {
  BOOST_REQUIRE(flowing());
  check_every_written_event_delivered_once();
  std::lock_guard<std::mutex> g{got.m};
  BOOST_CHECK_EQUAL(got.out_of_order, 0u);
  BOOST_CHECK_EQUAL(got.late, 0u);
}

BOOST_AUTO_TEST_CASE(killing_the_session_orderer_and_sink_in_turn_loses_nothing) {
  BOOST_REQUIRE(flowing());
  auto [session, orderer] = children();
  BOOST_REQUIRE(session && orderer);
  caf::anon_send_exit(session, caf::exit_reason::kill);
  BOOST_REQUIRE(flowing());
  caf::anon_send_exit(children().second, caf::exit_reason::kill);
  BOOST_REQUIRE(probe::eventually([&] { return children().second != orderer; }));
  BOOST_REQUIRE(flowing());
  sink_actor sink;
  {
    std::lock_guard<std::mutex> g{got.m};
    sink = got.sinks.back();
  }
  caf::anon_send_exit(sink, caf::exit_reason::kill);
  BOOST_REQUIRE(probe::eventually([&] {
    std::lock_guard<std::mutex> g{got.m};
    return got.starts >= 2;
  }));
  BOOST_REQUIRE(flowing());
  check_every_written_event_delivered_once();
  auto st = rt->stats("acme");
  BOOST_CHECK_EQUAL(st.incarnations, 2u);
  BOOST_REQUIRE_EQUAL(st.sinks.size(), 1u);
  BOOST_CHECK_EQUAL(st.sinks[0].restarts, 1u);
  BOOST_CHECK_GE(rt->status("acme").sessions, 2u);
}

BOOST_AUTO_TEST_CASE(server_duplicates_and_disorder_never_reach_the_sink) {
  BOOST_REQUIRE(flowing());
  srv.inject(R"({"kind":"duplicate","count":50})");
  srv.inject(R"({"kind":"out_of_order","count":50,"window":5})");
  BOOST_REQUIRE(flowing(200));
  BOOST_CHECK_GE(stats()["totals"]["duplicates_sent"].get<int>(), 1);
  check_every_written_event_delivered_once();
  std::lock_guard<std::mutex> g{got.m};
  BOOST_CHECK_EQUAL(got.out_of_order, 0u);
  BOOST_CHECK_GE(rt->stats("acme").duplicates, 1u);
}

BOOST_AUTO_TEST_CASE(socket_closing_rolls_over_with_no_gap_and_no_duplicate) {
  BOOST_REQUIRE(flowing());
  srv.inject(R"({"kind":"socket_closing"})");
  BOOST_REQUIRE(probe::eventually(
    [&] { return stats()["totals"]["channels"].get<int>() >= 2; }));
  BOOST_REQUIRE(flowing());
  for (auto& t : topics)
    BOOST_CHECK_EQUAL(stats()["topics"][t]["generated_without_socket"].get<int>(), 0);
  check_every_written_event_delivered_once();
}

BOOST_AUTO_TEST_CASE(removing_the_tenant_drains_and_stops_it) {
  BOOST_REQUIRE(flowing());
  // Everything written is in the process (the orderer has seen it); much of
  // it still waits in the reorder buffer and the sink's queue.
  srv.reconfigure(R"({"event_rate":0})");
  BOOST_REQUIRE(probe::eventually([&] { return rt->stats("acme").received >= written(); }));
  auto w = written();
  BOOST_CHECK(rt->remove_tenant("acme"));
  // All of it reached the sink before the tenant stopped.
  BOOST_CHECK_EQUAL(got.distinct(), w);
  bool incomplete = false, stopped = false;
  BOOST_CHECK(probe::eventually([&] {
    for (auto& e : audit_copy()) {
      incomplete = incomplete || e.event == "drain_incomplete";
      stopped = stopped || e.event == "tenant_stopped";
    }
    return stopped;
  }));
  BOOST_CHECK(!incomplete);
  BOOST_CHECK(rt->tenants().empty());
  // Its sink was stopped with it, and the channel's socket is closed.
  BOOST_CHECK(probe::eventually([&] {
    return stats()["totals"]["sockets_open"].get<int>() == 0;
  }));
  BOOST_CHECK(!rt->remove_tenant("acme"));
}

BOOST_AUTO_TEST_CASE(the_tenant_s_actors_can_be_had_and_killed_one_by_one) {
  BOOST_REQUIRE(flowing());
  auto unknown = rt->actors("nope");
  BOOST_CHECK(!unknown);
  for (auto kind : {"token", "supervisor", "session", "orderer", "metrics", "sink",
                    "limiter", "audit"}) {
    auto a = rt->actors("acme");
    BOOST_REQUIRE(a);
    auto pick = [&](const tenant_actors& x) { return actor_of(x, kind); };
    auto victim = pick(*a);
    BOOST_REQUIRE_MESSAGE(victim, kind);
    caf::anon_send_exit(victim, caf::exit_reason::kill);
    // A new one takes its place...
    BOOST_REQUIRE_MESSAGE(probe::eventually([&] {
      auto now = rt->actors("acme");
      return now && pick(*now) && pick(*now) != victim;
    }), kind);
    // ...and the stream goes on.
    BOOST_REQUIRE_MESSAGE(flowing(), kind);
  }
  check_every_written_event_delivered_once();
  // Every restart is in the audit log, by kind.
  std::set<std::string> restarted;
  BOOST_CHECK(probe::eventually([&] {
    for (auto& e : audit_copy())
      if (e.event == "actor_restarted")
        for (auto& [k, v] : e.fields)
          if (k == "kind")
            restarted.insert(v);
    return restarted.size() == 8;
  }));
  BOOST_CHECK_EQUAL(restarted.size(), 8u);
  BOOST_CHECK_EQUAL(rt->status("acme").state, "connected");
}

BOOST_AUTO_TEST_CASE(the_tenant_manager_does_the_same_by_messages) {
  auto mgr = spawn_tenant_manager(*rt);
  caf::scoped_actor self{sys};
  auto beta = [&] {
    tenant_config c;
    c.id = "beta";
    c.login_url = c.api_url = base;
    c.client_id = "app";
    c.client_secret = "s3cret-Value";
    c.topics = {topics[0]};
    c.sinks.push_back(sink_spec{"acks", [](const sink_context& ctx) {
      return ctx.sys.spawn([]() -> sink_actor::behavior_type {
        return {[](deliver_atom, const event_batch& b) { return b.seq; }};
      });
    }});
    return c;
  };
  bool added = false;
  self->request(mgr, 5s, add_tenant_atom::value, beta())
    .receive([&](supervisor_actor s) { added = bool(s); }, [](caf::error&) {});
  BOOST_CHECK(added);
  std::string refused;
  self->request(mgr, 5s, add_tenant_atom::value, beta())
    .receive([](supervisor_actor) {},
             [&](caf::error& e) { refused = sys.render(e); });
  BOOST_CHECK_NE(refused.find("a tenant with this id exists"), std::string::npos);
  BOOST_CHECK(probe::eventually([&] {
    std::string state;
    self->request(mgr, 5s, status_atom::value, std::string{"beta"})
      .receive([&](const tenant_status& st) { state = st.state; },
               [](caf::error&) {});
    return state == "connected";
  }));
  std::vector<std::string> ids;
  self->request(mgr, 5s, tenants_atom::value)
    .receive([&](std::vector<std::string>& x) { ids = std::move(x); },
             [](caf::error&) {});
  BOOST_CHECK((ids == std::vector<std::string>{"acme", "beta"}));
  bool removed = false;
  self->request(mgr, 20s, remove_tenant_atom::value, std::string{"beta"})
    .receive([&](bool x) { removed = x; }, [](caf::error&) {});
  BOOST_CHECK(removed);
  bool unknown = false;
  self->request(mgr, 5s, status_atom::value, std::string{"beta"})
    .receive([](const tenant_status&) {}, [&](caf::error&) { unknown = true; });
  BOOST_CHECK(unknown);
  BOOST_CHECK((rt->tenants() == std::vector<std::string>{"acme"}));
  self->send_exit(mgr, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(metrics_show_the_gap_of_a_drop_and_none_for_a_rollover) {
  BOOST_REQUIRE(flowing());
  auto url = "http://127.0.0.1:" + std::to_string(rt->metrics_port());
  auto value = [&](const std::string& series) {
    auto body = probe::http("GET", url + "/metrics").body;
    auto at = body.find("\n" + series + " ");
    return at == std::string::npos
             ? -1.0
             : std::stod(body.substr(at + series.size() + 2));
  };
  const std::string gaps = "gcstream_gap_seconds_count{tenant=\"acme\"}";
  const std::string connects = "gcstream_connects_total{tenant=\"acme\"}";
  BOOST_REQUIRE(probe::eventually([&] { return value(connects) >= 1; }));
  BOOST_CHECK_EQUAL(value(gaps), 0);
  auto health = probe::http("GET", url + "/healthz");
  BOOST_CHECK_EQUAL(health.status, 200);
  BOOST_CHECK_EQUAL(probe::http("GET", url + "/readyz").status, 200);
  BOOST_CHECK_EQUAL(probe::http("GET", url + "/nope").status, 404);
  srv.inject(R"({"kind":"drop"})");
  BOOST_REQUIRE(probe::eventually([&] { return value(gaps) >= 1; }));
  BOOST_CHECK_GE(value("gcstream_reconnect_latency_seconds_count{tenant=\"acme\"}"), 1);
  BOOST_CHECK_GE(value("gcstream_disconnects_total{tenant=\"acme\",reason=\"dropped\"}"), 1);
  BOOST_REQUIRE(flowing());
  // A rollover is make before break: no new gap.
  auto gaps_before = value(gaps);
  srv.inject(R"({"kind":"socket_closing"})");
  BOOST_REQUIRE(probe::eventually([&] {
    return value("gcstream_rollovers_total{tenant=\"acme\"}") >= 1;
  }));
  BOOST_REQUIRE(flowing());
  BOOST_CHECK_EQUAL(value(gaps), gaps_before);
  // The orderer's counters reach the snapshot without a poll; the rate is
  // read when scraped.
  BOOST_CHECK(probe::eventually([&] {
    return value("gcstream_events_received_total{tenant=\"acme\"}") > 0
           && value("gcstream_event_latency_seconds_count{tenant=\"acme\"}") > 0
           && value("gcstream_delivery_latency_seconds_count{tenant=\"acme\"}") > 0
           && value("gcstream_event_rate{tenant=\"acme\"}") > 0;
  }));
  BOOST_CHECK_GT(value("gcstream_token_expiry_seconds{tenant=\"acme\"}"), 0);
  BOOST_CHECK_GE(value("gcstream_heartbeat_age_seconds{tenant=\"acme\"}"), 0);
  // The gap is in the audit log with its estimate.
  bool gap_closed = false;
  for (auto& e : audit_copy())
    gap_closed = gap_closed || e.event == "gap_closed";
  BOOST_CHECK(gap_closed);
}

BOOST_AUTO_TEST_CASE(no_secret_in_metrics_or_audit_through_every_fault) {
  BOOST_REQUIRE(flowing());
  for (auto fault : {R"({"kind":"drop"})", R"({"kind":"reset"})",
                     R"({"kind":"socket_closing"})", R"({"kind":"duplicate"})",
                     R"({"kind":"out_of_order"})", R"({"kind":"revoke_token"})",
                     R"({"kind":"no_longer_subscribed"})", R"({"kind":"expire_channel"})",
                     R"({"kind":"malformed","variant":"invalid_json"})",
                     R"({"kind":"close","code":1011})", R"({"kind":"stall"})",
                     R"({"kind":"no_longer_subscribed","about":"other"})",
                     R"({"kind":"revoke_token","about":"other"})",
                     R"({"kind":"reply","result":"200"})", R"({"kind":"reply"})"}) {
    srv.inject(fault);
    BOOST_REQUIRE_MESSAGE(flowing(20), fault);
  }
  auto url = "http://127.0.0.1:" + std::to_string(rt->metrics_port());
  std::string everything = probe::http("GET", url + "/metrics").body;
  for (auto& e : audit_copy()) {
    everything += e.tenant + e.event;
    for (auto& [k, v] : e.fields)
      everything += k + "=" + v + "\n";
  }
  BOOST_CHECK_GT(everything.size(), 1000u);
  // Nor a channel id (the emulator's all start so), which is a capability.
  for (auto secret : {"s3cret-Value", "Bearer ", "access_token", "streaming-"})
    BOOST_CHECK_MESSAGE(everything.find(secret) == std::string::npos, secret);
  BOOST_CHECK_GE(rt->metrics().at(0).malformed, 1u);
}

BOOST_AUTO_TEST_SUITE_END()
