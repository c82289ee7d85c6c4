// Failures are loud and stay visible: a tenant the login service refuses,
// among good ones, is failed with its reason in its status, in /healthz
// (503, one line naming it), in /metrics (its series stay, tenant_up 0), in
// the health webhook and through on_tenant_failed, once; the good one goes
// on. A tenant that cannot start is unhealthy once the health budget is
// spent, and the budget does not start again when the reason changes.

#include "host/runtime.hpp"

#include <boost/test/unit_test.hpp>

#include <mutex>

#include <nlohmann/json.hpp>

#include "host/config.hpp"
#include "tests/support/live_fixture.hpp"
#include "tests/support/webhook_receiver.hpp"

using namespace gcstream;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct failures_fixture : test::live_fixture {
  test::webhook_receiver hook;
  std::unique_ptr<runtime> rt;
  std::mutex m;
  std::vector<std::pair<std::string, std::string>> failed;

  void start(std::chrono::milliseconds budget = 60s) {
    runtime_settings rs;
    rs.metrics_listen = "127.0.0.1:0";
    rs.health_budget = budget;
    rs.health_webhook.url = hook.url("/health");
    rs.on_tenant_failed = [this](const std::string& id, const std::string& why) {
      std::lock_guard<std::mutex> g{m};
      failed.emplace_back(id, why);
    };
    rt = std::make_unique<runtime>(sys, rs);
  }

  void add(const std::string& id, const std::string& secret, const std::string& user) {
    tenant_config c;
    c.id = id;
    c.login_url = c.api_url = base;
    c.client_id = "app";
    c.client_secret = secret;
    c.topics = {"v2.users.6d2c5a1e-0000-0000-0000-0000000000" + user + ".presence"};
    c.supervisor.backoff = {10ms, 2.0, 50ms};
    c.supervisor.max_restarts = 1000;
    c.sinks.push_back(null_sink_spec("null"));
    BOOST_REQUIRE(rt->add_tenant(std::move(c)));
  }

  ~failures_fixture() {
    if (rt)
      rt->shutdown();
    stop_actors({});
  }

  probe::http_result get(const std::string& path) {
    return probe::http("GET", "http://127.0.0.1:" + std::to_string(rt->metrics_port())
                                + path);
  }

  static bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(failure_tests, failures_fixture)

BOOST_AUTO_TEST_CASE(a_refused_tenant_among_good_ones_stays_failed_and_visible) {
  start();
  add("acme", "s3cret-Value", "71");
  add("bad", "wrong-Secret", "72");
  BOOST_REQUIRE(probe::eventually([&] { return rt->status("bad").state == "failed"; }, 20s));
  BOOST_REQUIRE(probe::eventually([&] { return rt->status("acme").state == "connected"; },
                                  20s));
  auto reason = rt->status("bad").reason;
  BOOST_CHECK(!reason.empty());
  {
    std::lock_guard<std::mutex> g{m};
    BOOST_REQUIRE_EQUAL(failed.size(), 1u); // once, for the bad one only
    BOOST_CHECK_EQUAL(failed[0].first, "bad");
    BOOST_CHECK_EQUAL(failed[0].second, reason);
  }
  // /healthz: 503, one line naming it and why; nothing about the good one.
  auto h = get("/healthz");
  BOOST_CHECK_EQUAL(h.status, 503);
  BOOST_CHECK_NE(h.body.find("bad: failed (" + reason + ")"), std::string::npos);
  BOOST_CHECK_EQUAL(h.body.find("acme"), std::string::npos);
  // /metrics: its series stay, and an alert has a gauge to fire on.
  auto text = get("/metrics").body;
  BOOST_CHECK(has_line(text, "gcstream_tenant_up{tenant=\"bad\"} 0"));
  BOOST_CHECK(has_line(text, "gcstream_tenant_up{tenant=\"acme\"} 1"));
  BOOST_CHECK(has_line(text, "gcstream_tenant_healthy{tenant=\"bad\"} 0"));
  BOOST_CHECK(has_line(text, "gcstream_connection_state{tenant=\"bad\",state=\"failed\"} 1"));
  BOOST_CHECK_NE(text.find("gcstream_events_received_total{tenant=\"bad\"}"),
                 std::string::npos);
  // The health webhook sent the failed snapshot.
  BOOST_CHECK(hook.wait_for(
    [&](const std::vector<test::webhook_receiver::request>& rs) {
      for (auto& r : rs) {
        auto j = json::parse(r.body, nullptr, false);
        if (!j.is_discarded() && j.value("tenant", "") == "bad"
            && j.value("state", "") == "failed" && j.value("reason", "") == reason)
          return true;
      }
      return false;
    },
    20s));
  for (auto& r : hook.received())
    BOOST_TEST_MESSAGE("webhook: " << r.body);
  // The good one streams on.
  BOOST_CHECK(probe::eventually([&] {
    for (auto& t : rt->metrics())
      if (t.tenant == "acme" && t.orderer.received > 0)
        return true;
    return false;
  }, 20s));
  // Removed, it is gone from everything, and the process is healthy again.
  BOOST_CHECK(rt->remove_tenant("bad"));
  BOOST_CHECK_EQUAL(get("/healthz").status, 200);
  BOOST_CHECK_EQUAL(get("/metrics").body.find("tenant=\"bad\""), std::string::npos);
}

BOOST_AUTO_TEST_CASE(starting_past_the_health_budget_is_unhealthy_whatever_the_reason) {
  // Channels cannot be created: 503 for a while, then 502 for good; the
  // reason changes, the state does not. (The topic list's request takes
  // the first 503; retries come every 10-50 ms, so the 503s last long
  // enough to be seen.)
  srv.inject(R"({"kind":"http_error","path_prefix":"/api/v2/notifications","status":503,"count":40})");
  srv.inject(R"({"kind":"http_error","path_prefix":"/api/v2/notifications","status":502,"count":100000})");
  start(1000ms);
  add("acme", "s3cret-Value", "73");
  BOOST_REQUIRE(probe::eventually([&] {
    return rt->status("acme").reason.find("503") != std::string::npos;
  }, 20s));
  auto first = rt->status("acme");
  BOOST_REQUIRE(probe::eventually([&] {
    auto now = rt->status("acme");
    return now.reason != first.reason && now.state == first.state;
  }, 20s));
  BOOST_CHECK_EQUAL(rt->status("acme").since_ms, first.since_ms);
  BOOST_REQUIRE(probe::eventually([&] { return get("/healthz").status == 503; }, 20s));
  auto body = get("/healthz").body;
  BOOST_CHECK_NE(body.find("acme: " + rt->status("acme").state), std::string::npos);
  BOOST_CHECK_NE(body.find("over the health budget of 1.0 s"), std::string::npos);
  BOOST_CHECK_EQUAL(rt->status("acme").state == "failed", false);
}

BOOST_AUTO_TEST_SUITE_END()
