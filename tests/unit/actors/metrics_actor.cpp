// The metrics actor on the test scheduler: gaps and reconnect latency from
// the tenant's audit events on a virtual clock, the gap_closed audit entry,
// state changes, and the health webhook (signed, one in flight, the newest
// waiting, retried after a failure).

#include "actors/metrics_actor.hpp"

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "runtime/hmac.hpp"
#include "tests/support/audit_capture.hpp"
#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/fake_http.hpp"

using namespace gcstream;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

struct metrics_fixture : test::deterministic_fixture {
  std::shared_ptr<test::fake_http> http = std::make_shared<test::fake_http>();
  test::audit_capture tenant_queue;
  test::audit_capture process_queue;
  std::shared_ptr<metrics_keep> keep = std::make_shared<metrics_keep>("acme");
  metrics_actor met;

  void start(health_webhook_settings hook = {}) {
    metrics_deps deps;
    deps.queue = tenant_queue.queue;
    deps.forward = process_queue.queue;
    deps.http = std::static_pointer_cast<http_transport>(http);
    met = sys.spawn(metrics_actor_impl, keep, deps, hook);
    sched.run();
  }

  ~metrics_fixture() {
    caf::anon_send_exit(met, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void tell(std::string what, std::vector<std::pair<std::string, std::string>> f = {}) {
    caf::anon_send(met, audit_event{"acme", std::move(what), std::move(f)});
    sched.run();
  }

  void advance(caf::timespan t) {
    sched.clock().advance_time(t);
    sched.run();
  }

  tenant_metrics snapshot() {
    tenant_metrics out;
    auto client = sys.spawn([&](caf::event_based_actor* self) {
      self->request(met, caf::infinite, metrics_atom::value)
        .then([&](const tenant_metrics& m) { out = m; });
    });
    sched.run();
    caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
    sched.run();
    return out;
  }

  std::string header(size_t call, const std::string& name) {
    for (auto& [k, v] : http->calls.at(call).req.headers)
      if (k == name)
        return v;
    return {};
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(metrics_actor_tests, metrics_fixture)

BOOST_AUTO_TEST_CASE(without_a_webhook_nothing_runs_on_a_timer) {
  // The README: "Nothing runs on a timer for it: an idle tenant costs no
  // CPU here." An idle tenant's metrics actor, told things and asked for a
  // snapshot, leaves nothing on the clock (no tick); with a webhook, its
  // interval is the one timer.
  start();
  tell("connected");
  snapshot();
  BOOST_CHECK(sched.clock().schedule().empty());
  advance(10s);
  BOOST_CHECK_EQUAL(sched.jobs.size(), 0u);
  BOOST_CHECK(sched.clock().schedule().empty());
}

BOOST_AUTO_TEST_CASE(with_a_webhook_its_interval_is_the_one_timer) {
  health_webhook_settings hook;
  hook.url = "http://127.0.0.1:9/health";
  hook.interval = 3600s;
  start(hook);
  tell("connected");
  BOOST_CHECK_EQUAL(sched.clock().schedule().size(), 1u);
}

BOOST_AUTO_TEST_CASE(a_lost_socket_is_a_gap_until_the_next_one_opens) {
  start();
  tell("session_started");
  tell("connected", {{"channel", "c1"}});
  tell("tenant_connected");
  advance(10ms);
  tell("disconnected", {{"reason", "dropped"}, {"code", "1006"}, {"requested", "false"}});
  advance(1500ms);
  tell("connected", {{"channel", "c1"}});
  auto m = snapshot();
  BOOST_CHECK_EQUAL(m.connects, 2u);
  BOOST_CHECK_EQUAL(m.disconnects["dropped"], 1u);
  BOOST_CHECK_EQUAL(m.gap_length.count, 1u);
  BOOST_CHECK_CLOSE(m.last_gap_s, 1.5, 0.01);
  BOOST_CHECK_EQUAL(m.reconnect_latency.count, 1u);
  BOOST_CHECK_CLOSE(m.last_reconnect_s, 1.5, 0.01);
  BOOST_CHECK_EQUAL(m.gap_since_ms, 0);
  // The gap is in the audit log, after the events it came from.
  bool found = false;
  for (auto& e : process_queue.all())
    if (e.event == "gap_closed")
      for (auto& [k, v] : e.fields)
        found = found || (k == "length_ms" && v == "1500");
  BOOST_CHECK(found);
  BOOST_CHECK_EQUAL(process_queue.all().front().event, "session_started");
}

BOOST_AUTO_TEST_CASE(a_channel_of_several_has_its_own_gap_for_its_topics) {
  keep->m.channels = 3;
  keep->m.topics = 2500;
  start();
  auto lane = [](const char* n, const char* topics, const char* channel) {
    return std::vector<std::pair<std::string, std::string>>{
      {"channel", channel}, {"lane", n}, {"topics", topics}};
  };
  tell("connected", lane("0", "1000", "c0"));
  tell("connected", lane("1", "1000", "c1"));
  tell("connected", lane("2", "500", "c2"));
  // The third channel's socket goes while the others stream: a gap of its
  // 500 topics only.
  auto gone = lane("2", "500", "c2");
  gone.emplace_back("reason", "dropped");
  tell("disconnected", gone);
  auto m = snapshot();
  BOOST_CHECK_NE(m.gap_since_ms, 0);
  BOOST_CHECK_EQUAL(m.topics_in_gap, 500u);
  // The first one's goes too: 1,500 topics in a gap, from the older start.
  advance(200ms);
  auto first = lane("0", "1000", "c0");
  first.emplace_back("reason", "dropped");
  tell("disconnected", first);
  auto older = m.gap_since_ms;
  m = snapshot();
  BOOST_CHECK_EQUAL(m.topics_in_gap, 1500u);
  BOOST_CHECK_EQUAL(m.gap_since_ms, older);
  advance(300ms);
  tell("connected", lane("2", "500", "c2b"));
  m = snapshot();
  BOOST_CHECK_EQUAL(m.topics_in_gap, 1000u);
  BOOST_CHECK_EQUAL(m.gap_length.count, 1u);
  BOOST_CHECK_CLOSE(m.last_gap_s, 0.5, 0.01);
  tell("connected", lane("0", "1000", "c0b"));
  m = snapshot();
  BOOST_CHECK_EQUAL(m.topics_in_gap, 0u);
  BOOST_CHECK_EQUAL(m.gap_since_ms, 0);
  BOOST_CHECK_EQUAL(m.gap_length.count, 2u);
  // Each gap in the audit log names its channel and its topics.
  std::vector<std::string> said;
  for (auto& e : process_queue.all())
    if (e.event == "gap_closed")
      said.push_back(test::audit_capture::field(e, "lane") + "/"
                     + test::audit_capture::field(e, "channel") + "/"
                     + test::audit_capture::field(e, "topics") + "/"
                     + test::audit_capture::field(e, "length_ms"));
  BOOST_CHECK(said == (std::vector<std::string>{"2/c2/500/500", "0/c0/1000/300"}));
}

BOOST_AUTO_TEST_CASE(make_before_break_is_no_gap) {
  start();
  tell("session_started");
  tell("connected", {{"channel", "c1"}});
  tell("connected", {{"channel", "c2"}}); // the rollover's new socket
  tell("disconnected", {{"reason", "rollover"}, {"code", "1000"}, {"requested", "true"}});
  tell("rollover_finished");
  auto m = snapshot();
  BOOST_CHECK_EQUAL(m.gap_length.count, 0u);
  BOOST_CHECK_EQUAL(m.reconnect_latency.count, 0u);
  BOOST_CHECK_EQUAL(m.rollovers, 1u);
}

BOOST_AUTO_TEST_CASE(a_restarted_session_whose_socket_streams_on_is_no_gap) {
  start();
  tell("session_started");
  tell("connected");
  tell("session_started"); // the session was killed; its socket was left
  advance(200ms);
  tell("connected");       // the new session's socket
  tell("disconnected", {{"reason", "client"}, {"requested", "true"}}); // the left one
  BOOST_CHECK_EQUAL(snapshot().gap_length.count, 0u);
}

BOOST_AUTO_TEST_CASE(the_gap_starts_when_the_socket_was_lost_not_when_it_was_heard_of) {
  start();
  tell("session_started");
  tell("connected");
  // Reported 700 ms after it happened (the transport stamps at_ms): the
  // gap and the reconnect latency count from the loss, whatever closed it.
  auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  tell("disconnected", {{"reason", "heartbeat_timeout"},
                        {"requested", "true"},
                        {"at_ms", std::to_string(wall - 700)}});
  advance(300ms);
  tell("connected");
  auto m = snapshot();
  BOOST_CHECK_EQUAL(m.reconnect_latency.count, 1u);
  // 700 ms before it was told, plus the 300 ms after (the wall clock moved
  // a little too while the test ran).
  BOOST_CHECK_GE(m.last_gap_s, 0.999);
  BOOST_CHECK_LT(m.last_gap_s, 1.5);
  BOOST_CHECK_EQUAL(m.last_reconnect_s, m.last_gap_s);
  BOOST_CHECK_EQUAL(m.disconnects["heartbeat_timeout"], 1u);
}

BOOST_AUTO_TEST_CASE(a_failed_tenant_stays_failed_when_it_has_stopped) {
  start();
  tell("tenant_failed", {{"reason", "credentials refused"}});
  auto since = snapshot().state_since_ms;
  tell("tenant_stopped", {{"undelivered", "0"}, {"failed", "true"}});
  auto m = snapshot();
  BOOST_CHECK_EQUAL(m.state, "failed");
  BOOST_CHECK_EQUAL(m.reason, "credentials refused");
  BOOST_CHECK_EQUAL(m.state_since_ms, since);
}

BOOST_AUTO_TEST_CASE(a_new_reason_in_the_same_state_keeps_its_start) {
  start();
  tell("backoff_scheduled", {{"reason", "HTTP 503"}});
  auto first = snapshot();
  advance(5s);
  tell("backoff_scheduled", {{"reason", "HTTP 502"}});
  auto second = snapshot();
  BOOST_CHECK_EQUAL(second.reason, "HTTP 502");
  BOOST_CHECK_EQUAL(second.state_since_ms, first.state_since_ms);
}

BOOST_AUTO_TEST_CASE(disconnect_reasons_are_a_fixed_set) {
  start();
  tell("connected");
  tell("disconnected", {{"reason", "an unheard-of reason 4711"}});
  auto m = snapshot();
  BOOST_CHECK_EQUAL(m.disconnects.size(), 1u);
  BOOST_CHECK_EQUAL(m.disconnects["other"], 1u);
}

BOOST_AUTO_TEST_CASE(rejected_topics_and_oversized_frames_are_counted) {
  start();
  tell("session_started");
  tell("subscribed", {{"permitted", "3"}, {"rejected", "2"}});
  tell("connected");
  tell("disconnected", {{"reason", "oversized"}, {"code", "1006"}, {"local_code", "1009"},
                        {"requested", "false"}});
  tell("connected");
  tell("disconnected", {{"reason", "dropped"}, {"code", "1006"}, {"local_code", "0"},
                        {"requested", "false"}});
  auto m = snapshot();
  BOOST_CHECK_EQUAL(m.topics_rejected, 2u);
  BOOST_CHECK_EQUAL(m.oversized_frames, 1u);
  BOOST_CHECK_EQUAL(m.disconnects["dropped"], 1u);
  BOOST_CHECK_EQUAL(m.disconnects["oversized"], 1u);
  tell("subscribed", {{"permitted", "5"}, {"rejected", "0"}});
  BOOST_CHECK_EQUAL(snapshot().topics_rejected, 0u);
}

BOOST_AUTO_TEST_CASE(token_failures_are_counted_by_kind_once_each) {
  start();
  // As the token actor reports them: a 503 retried, a 429 (its own line,
  // then the retry it schedules), then the credentials refused.
  tell("token_retry", {{"delay_ms", "800"}, {"attempt", "1"}, {"reason", "HTTP 503"},
                       {"cause", "error"}});
  tell("token_throttled", {{"retry_after_ms", "2000"}});
  tell("token_retry", {{"delay_ms", "2000"}, {"attempt", "2"},
                       {"reason", "429 Too Many Requests"}, {"cause", "throttled"}});
  tell("token_refreshed", {{"generation", "1"}, {"expires_in_s", "86400"}});
  auto m = snapshot();
  BOOST_CHECK_EQUAL(m.token_failures["retry"], 1u);
  BOOST_CHECK_EQUAL(m.token_failures["throttled"], 1u);
  BOOST_CHECK_EQUAL(m.token_failures.count("fatal"), 0u);
  tell("token_failed", {{"error", "credentials_refused"}, {"reason", "invalid_client"}});
  BOOST_CHECK_EQUAL(snapshot().token_failures["fatal"], 1u);
}

BOOST_AUTO_TEST_CASE(state_changes_post_signed_snapshots_one_at_a_time) {
  health_webhook_settings hook;
  hook.url = "http://127.0.0.1:9/health";
  hook.signing_key = "k3y";
  hook.interval = 3600s;
  hook.backoff = {100ms, 2.0, 100ms};
  start(hook);
  tell("tenant_connected");
  BOOST_REQUIRE_EQUAL(http->calls.size(), 1u);
  auto& req = http->calls[0].req;
  BOOST_CHECK_EQUAL(req.method, "POST");
  BOOST_CHECK_EQUAL(header(0, "X-Gcstream-Signature"),
                    "sha256=" + hmac_sha256_hex("k3y", req.body));
  auto body = json::parse(req.body);
  BOOST_CHECK_EQUAL(body["tenant"], "acme");
  BOOST_CHECK_EQUAL(body["state"], "connected");
  BOOST_CHECK(body.contains("timestamp_ms"));
  BOOST_CHECK(body["counts"].contains("estimated_missed"));
  // Two more changes while the first is in flight: only the newest waits.
  tell("backoff_scheduled", {{"reason", "socket closed"}});
  tell("tenant_failed", {{"reason", "bad credentials"}});
  BOOST_CHECK_EQUAL(http->calls.size(), 1u);
  http->reply(0, 500, "oops"); // fails: the newest goes after a backoff
  sched.run();
  BOOST_CHECK_EQUAL(http->calls.size(), 1u);
  advance(100ms);
  BOOST_REQUIRE_EQUAL(http->calls.size(), 2u);
  BOOST_CHECK_EQUAL(json::parse(http->calls[1].req.body)["state"], "failed");
  BOOST_CHECK_EQUAL(json::parse(http->calls[1].req.body)["reason"], "bad credentials");
  http->reply(1, 204, "");
  sched.run();
  BOOST_CHECK_EQUAL(http->calls.size(), 2u);
}

BOOST_AUTO_TEST_CASE(a_restarted_metrics_actor_keeps_its_counters_and_reads_what_waits) {
  start();
  auto post = [&](std::string what, audit_fields f = {}) {
    tenant_queue.queue->post(audit_event{"acme", std::move(what), std::move(f)});
    sched.run();
  };
  post("session_started");
  post("connected");
  BOOST_CHECK_EQUAL(snapshot().connects, 1u);
  caf::anon_send_exit(met, caf::exit_reason::kill);
  sched.run();
  // While nobody reads, events wait in the queue, outside every actor.
  post("disconnected", {{"reason", "dropped"}, {"code", "1006"}});
  post("connected");
  metrics_deps deps;
  deps.queue = tenant_queue.queue;
  deps.forward = process_queue.queue;
  met = sys.spawn(metrics_actor_impl, keep, deps, health_webhook_settings{});
  sched.run();
  auto m = snapshot();
  BOOST_CHECK_EQUAL(m.connects, 2u); // the count went on
  BOOST_CHECK_EQUAL(m.disconnects["dropped"], 1u);
  BOOST_CHECK_EQUAL(tenant_queue.queue->size(), 0u);
  // Every event reached the process's queue once, in order.
  std::vector<std::string> seen;
  for (auto& e : process_queue.all())
    if (e.event != "gap_closed")
      seen.push_back(e.event);
  BOOST_CHECK((seen == std::vector<std::string>{"session_started", "connected",
                                                "disconnected", "connected"}));
}

BOOST_AUTO_TEST_CASE(events_lost_at_a_full_queue_are_counted_and_written_as_a_gap) {
  tenant_queue.queue = std::make_shared<audit_queue>(3);
  for (int i = 0; i < 5; ++i)
    tenant_queue.queue->post(audit_event{"acme", "connected", {}});
  start();
  auto gaps = process_queue.of("audit_gap");
  BOOST_REQUIRE_EQUAL(gaps.size(), 1u);
  BOOST_CHECK_EQUAL(test::audit_capture::field(gaps[0], "lost"), "2");
  BOOST_CHECK_EQUAL(snapshot().audit_lost, 2u);
  BOOST_CHECK_EQUAL(snapshot().connects, 3u);
}

BOOST_AUTO_TEST_CASE(the_published_snapshot_needs_no_question) {
  start();
  tell("connected");
  BOOST_CHECK_EQUAL(keep->snapshot().connects, 1u);
  tell("actor_restarted", {{"kind", "orderer"}});
  BOOST_CHECK_EQUAL(keep->snapshot().restarts["orderer"], 1u);
}

BOOST_AUTO_TEST_SUITE_END()
