// The health webhook and the webhook sink against a real HTTP receiver on
// loopback: snapshots on state changes, each signed with HMAC-SHA256 over
// the exact body; event batches as JSON arrays with the batch headers. No
// secret in any body.

#include "host/runtime.hpp"

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "actors/sinks/webhook_sink.hpp"
#include "host/config.hpp"
#include "runtime/hmac.hpp"
#include "tests/support/live_fixture.hpp"
#include "tests/support/webhook_receiver.hpp"

using namespace gcstream;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string key = "hmac-Key-42";
const std::string secret = "s3cret-Value";

struct hooks : test::live_fixture {
  test::webhook_receiver health;
  test::webhook_receiver events;
  std::unique_ptr<runtime> rt;

  hooks() : test::live_fixture(config_with_heartbeats()) {
    runtime_settings rs;
    rs.health_webhook.url = health.url("/health");
    rs.health_webhook.signing_key = key;
    rs.health_webhook.interval = 60s;
    rt = std::make_unique<runtime>(sys, rs);
    tenant_config c;
    c.id = "acme";
    c.login_url = c.api_url = base;
    c.client_id = "app";
    c.client_secret = secret;
    c.topics = {"v2.users.6d2c5a1e-0000-0000-0000-000000000031.presence"};
    c.session.ping_interval = 100ms;
    c.session.heartbeat_timeout = 500ms;
    c.supervisor.backoff = {0ms, 2.0, 50ms};
    webhook_sink_settings ws;
    ws.url = events.url("/events");
    c.sinks.push_back(webhook_sink_spec("hook", ws));
    BOOST_REQUIRE(rt->add_tenant(std::move(c)));
  }

  ~hooks() {
    rt->shutdown();
    stop_actors({});
  }

  static emulator::config config_with_heartbeats() {
    auto c = test::emulator_fixture::default_config();
    c.heartbeat_interval_ms = 100;
    return c;
  }

  static std::string header(const test::webhook_receiver::request& r,
                            const std::string& name) {
    auto it = r.headers.find(name);
    return it == r.headers.end() ? "" : it->second;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(webhook_tests, hooks)

BOOST_AUTO_TEST_CASE(state_changes_post_signed_snapshots) {
  auto connected_with = [](uint64_t connects) {
    return [connects](const std::vector<test::webhook_receiver::request>& rs) {
      for (auto& r : rs) {
        auto j = json::parse(r.body, nullptr, false);
        if (!j.is_discarded() && j.value("state", "") == "connected"
            && j["counts"].value("connects", uint64_t{0}) >= connects)
          return true;
      }
      return false;
    };
  };
  BOOST_REQUIRE(health.wait_for(connected_with(1), 20s));
  srv.inject(R"({"kind":"drop"})");
  BOOST_REQUIRE(health.wait_for(connected_with(2), 20s));
  auto got = health.received();
  for (auto& r : got) {
    BOOST_CHECK_EQUAL(r.method, "POST");
    BOOST_CHECK_EQUAL(r.path, "/health");
    BOOST_CHECK_EQUAL(header(r, "x-gcstream-signature"),
                      "sha256=" + hmac_sha256_hex(key, r.body));
    BOOST_CHECK_NE(header(r, "x-gcstream-signature"),
                   "sha256=" + hmac_sha256_hex("another key", r.body));
    auto j = json::parse(r.body);
    BOOST_CHECK_EQUAL(j["tenant"], "acme");
    for (auto field : {"state", "reason", "since_ms", "reconnect_latency_ms", "gap_ms",
                       "event_latency_ms", "counts", "timestamp_ms"})
      BOOST_CHECK_MESSAGE(j.contains(field), "no " << field << " in " << r.body);
    BOOST_CHECK_EQUAL(r.body.find(secret), std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(the_webhook_sink_posts_batches_as_json_arrays) {
  BOOST_REQUIRE(events.wait_for(
    [](const std::vector<test::webhook_receiver::request>& rs) {
      size_t n = 0;
      for (auto& r : rs)
        n += json::parse(r.body, nullptr, false).size();
      return n >= 20;
    },
    20s));
  uint64_t last_batch = 0;
  for (auto& r : events.received()) {
    BOOST_CHECK_EQUAL(r.path, "/events");
    BOOST_CHECK_EQUAL(header(r, "x-gcstream-tenant"), "acme");
    auto batch = std::stoull(header(r, "x-gcstream-batch"));
    BOOST_CHECK_GT(batch, last_batch); // one at a time, in order
    last_batch = batch;
    auto j = json::parse(r.body);
    BOOST_REQUIRE(j.is_array());
    for (auto& e : j) {
      BOOST_CHECK_EQUAL(e["tenant"], "acme");
      BOOST_CHECK(e["event"].contains("topicName"));
      BOOST_CHECK_EQUAL(e["id"], e["event"]["metadata"]["CorrelationId"]);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
