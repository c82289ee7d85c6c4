// Frames of the service that are not notifications, through the runtime
// against the emulator: a system message about a channel other than the
// socket's own is ignored (counted, audited by hash) and changes nothing; a
// {"result":"404"} reply (the channel is gone) moves the session to a new
// channel before the socket closes, and neither is counted as malformed.

#include <boost/test/unit_test.hpp>

#include <set>

#include "examples/topic_counter.hpp"
#include "host/runtime.hpp"
#include "runtime/redact.hpp"
#include "tests/support/live_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;

namespace {

const std::string topic = "v2.users.6d2c5a1e-0000-0000-0000-0000000000d1.presence";

struct system_fixture : test::live_fixture {
  std::shared_ptr<example::counts> got = std::make_shared<example::counts>();
  std::unique_ptr<runtime> rt;

  system_fixture() {
    runtime_settings rs;
    rs.observer = recorder;
    rt = std::make_unique<runtime>(sys, rs);
    tenant_config c;
    c.id = "acme";
    c.login_url = c.api_url = base;
    c.client_id = "app";
    c.client_secret = "s3cret-Value";
    c.topics = {topic};
    c.sinks.push_back(sink_spec{"topic-counter", [this](const sink_context& ctx) {
                                  return ctx.sys.spawn(example::topic_counter, got);
                                }});
    BOOST_REQUIRE(rt->add_tenant(std::move(c)));
    BOOST_REQUIRE(probe::eventually([&] { return counted() >= 10; }, 30s));
  }

  ~system_fixture() {
    rt->shutdown();
    stop_actors({});
  }

  uint64_t counted() {
    std::lock_guard<std::mutex> g{got->m};
    return got->per_topic[topic];
  }

  size_t audited(const std::string& what) {
    size_t n = 0;
    for (auto& e : audit_copy())
      n += e.event == what;
    return n;
  }

  // The ids of the channels with an open socket.
  std::set<std::string> open_channels() {
    std::set<std::string> out;
    auto all = stats()["channels"]; // held: items() refers to it
    for (auto& [id, ch] : all.items())
      if (ch["socket_open"].get<bool>())
        out.insert(id);
    return out;
  }

  // A series' value in the Prometheus text (-1: absent).
  double series(const std::string& name) {
    auto body = rt->prometheus_text();
    auto at = body.find("\n" + name + " ");
    return at == std::string::npos ? -1.0 : std::stod(body.substr(at + name.size() + 2));
  }

  tenant_metrics metrics() {
    auto all = rt->metrics();
    BOOST_REQUIRE_EQUAL(all.size(), 1u);
    return all[0];
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(system_message_tests, system_fixture)

BOOST_AUTO_TEST_CASE(a_system_message_about_another_channel_changes_nothing) {
  auto accepted = stats()["totals"]["sockets_accepted"].get<int>();
  probe::inject(base, R"({"kind":"no_longer_subscribed","about":"other"})");
  probe::inject(base, R"({"kind":"socket_closing","about":"other"})");
  BOOST_REQUIRE(probe::eventually([&] { return audited("system_message_ignored") >= 2; },
                                  10s));
  BOOST_CHECK(probe::eventually([&] { return metrics().foreign_system_messages >= 2; }));
  BOOST_CHECK(probe::eventually([&] {
    return series("gcstream_system_messages_ignored_total{tenant=\"acme\"}") >= 2;
  }));
  // The audit names both channels by hash only.
  for (auto& e : audit_copy())
    if (e.event == "system_message_ignored")
      for (auto& [k, v] : e.fields)
        BOOST_CHECK_MESSAGE(v.find("streaming-") == std::string::npos, k << "=" << v);
  // No rollover, the same socket, events still flowing, nothing malformed.
  auto before = counted();
  BOOST_CHECK(probe::eventually([&] { return counted() >= before + 10; }, 10s));
  BOOST_CHECK_EQUAL(audited("rollover_started"), 0u);
  BOOST_CHECK_EQUAL(stats()["totals"]["sockets_accepted"].get<int>(), accepted);
  BOOST_CHECK_EQUAL(metrics().malformed, 0u);
}

BOOST_AUTO_TEST_CASE(a_404_reply_moves_the_session_to_a_new_channel) {
  auto before_open = open_channels();
  BOOST_REQUIRE_EQUAL(before_open.size(), 1u);
  probe::inject(base, R"({"kind":"reply","result":"200","message":"subscribed"})");
  probe::inject(base, R"({"kind":"reply"})"); // 404
  BOOST_REQUIRE(probe::eventually([&] { return audited("rollover_finished") >= 1; }, 10s));
  bool gone = false;
  for (auto& e : audit_copy())
    if (e.event == "rollover_started")
      for (auto& [k, v] : e.fields)
        gone |= k == "reason" && v == "channel_gone";
  BOOST_CHECK(gone);
  BOOST_CHECK(probe::eventually([&] { return metrics().service_replies >= 2; }));
  BOOST_CHECK(probe::eventually([&] {
    return series("gcstream_service_replies_total{tenant=\"acme\"}") >= 2;
  }));
  BOOST_CHECK_EQUAL(series("gcstream_events_malformed_total{tenant=\"acme\"}"), 0);
  BOOST_CHECK_EQUAL(metrics().malformed, 0u);
  BOOST_CHECK_EQUAL(audited("malformed_frame"), 0u);
  auto before = counted();
  BOOST_CHECK(probe::eventually([&] { return counted() >= before + 10; }, 10s));
  // The socket now open is on another channel.
  BOOST_CHECK(probe::eventually([&] {
    auto now_open = open_channels();
    return now_open.size() == 1 && now_open != before_open;
  }, 10s));
}

BOOST_AUTO_TEST_SUITE_END()
