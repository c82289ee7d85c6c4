// The connection limiter counts channels, not sessions: with
// max_live_channels at the service's limit, a rollover waits for a second
// permit rather than make a channel past the limit (which the service makes
// room for by evicting the oldest channel, here another tenant's live one).

#include "host/runtime.hpp"

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "host/config.hpp"
#include "messages/errors.hpp"
#include "tests/support/live_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

emulator::config two_channels() {
  auto c = test::emulator_fixture::default_config();
  c.max_channels_per_client = 2;
  return c;
}

struct limit_fixture : test::live_fixture {
  std::unique_ptr<runtime> rt;

  explicit limit_fixture(uint32_t max_live = 2, emulator::config ec = two_channels())
      : test::live_fixture(ec) {
    runtime_settings rs;
    rs.limiter.max_live = max_live;
    rs.limiter.connects_per_second = 1000;
    rs.observer = recorder;
    rt = std::make_unique<runtime>(sys, rs);
  }

  ~limit_fixture() {
    if (rt)
      rt->shutdown();
    stop_actors({});
  }

  static std::string topic_of(const std::string& user) {
    return "v2.users.6d2c5a1e-0000-0000-0000-0000000000" + user + ".presence";
  }

  void add(const std::string& id, const std::string& user) {
    tenant_config c;
    c.id = id;
    c.login_url = c.api_url = base;
    c.client_id = "app"; // both on one OAuth client: one budget of channels
    c.client_secret = "s3cret-Value";
    c.topics = {topic_of(user)};
    c.supervisor.backoff = {10ms, 2.0, 50ms};
    c.session.close_grace = 200ms;
    c.sinks.push_back(null_sink_spec("null"));
    BOOST_REQUIRE(rt->add_tenant(std::move(c)));
    BOOST_REQUIRE(probe::eventually([&] { return rt->status(id).state == "connected"; },
                                    20s));
  }

  // The emulator's channel (id and stats) that carries `topic` and has a
  // socket open.
  std::pair<std::string, json> live_channel(const std::string& topic,
                                            const std::string& except = "") {
    auto all = stats()["channels"];
    for (auto& [id, ch] : all.items())
      if (id != except && ch["socket_open"].get<bool>()
          && ch["topics"].dump().find(topic) != std::string::npos)
        return {id, ch};
    return {};
  }

  bool audited(const std::string& tenant, const std::string& event) {
    for (auto& e : audit_copy())
      if (e.tenant == tenant && e.event == event)
        return true;
    return false;
  }

  uint64_t received(const std::string& tenant) {
    for (auto& t : rt->metrics())
      if (t.tenant == tenant)
        return t.orderer.received;
    return 0;
  }
};

struct roomy_fixture : limit_fixture {
  roomy_fixture() : limit_fixture(3) {}
};

// A budget of 3 channels on a service that has room for 20: no channel is
// evicted by the service, so every tenant added stays.
struct budget_fixture : limit_fixture {
  budget_fixture() : limit_fixture(3, test::emulator_fixture::default_config()) {}
};

} // namespace

BOOST_AUTO_TEST_SUITE(channel_limit_tests)

BOOST_FIXTURE_TEST_CASE(a_rollover_at_the_limit_waits_and_evicts_no_live_channel,
                        limit_fixture) {
  // The older channel is the other tenant's: evicting by age would take it.
  add("first", "81");
  add("second", "82");
  auto [first_channel, first_stats] = live_channel(topic_of("81"));
  auto [second_channel, second_stats] = live_channel(topic_of("82"));
  BOOST_REQUIRE(!first_channel.empty());
  BOOST_REQUIRE(!second_channel.empty());
  // Both permits are held: the second tenant's rollover must wait until its
  // old socket has gone (the service closes it after close_after_ms).
  srv.inject(R"({"kind":"socket_closing","close_after_ms":700,"channel":")"
             + second_channel + "\"}");
  BOOST_REQUIRE(probe::eventually(
    [&] {
      return !live_channel(topic_of("82"), second_channel).first.empty();
    },
    20s));
  auto totals = stats()["totals"];
  BOOST_CHECK_EQUAL(totals["live_channels_evicted"].get<int>(), 0);
  BOOST_CHECK(audited("second", "rollover_permit_asked"));
  // The first tenant's socket was never touched.
  auto [still, now] = live_channel(topic_of("81"));
  BOOST_CHECK_EQUAL(still, first_channel);
  BOOST_CHECK_EQUAL(now["connects"].get<int>(), 1);
  BOOST_CHECK(probe::eventually([&] { return rt->status("second").state == "connected"; },
                                20s));
  // Both stream on.
  auto a = received("first"), b = received("second");
  BOOST_CHECK(probe::eventually(
    [&] { return received("first") > a && received("second") > b; }, 20s));
}

BOOST_FIXTURE_TEST_CASE(a_rollover_with_room_does_not_wait, roomy_fixture) {
  add("first", "83");
  auto [old_channel, old_stats] = live_channel(topic_of("83"));
  BOOST_REQUIRE(!old_channel.empty());
  srv.inject(R"({"kind":"socket_closing","close_after_ms":30000,"channel":")"
             + old_channel + "\"}");
  // Make before break: the new channel's socket opens while the old one
  // still streams (the permit came at once).
  BOOST_REQUIRE(probe::eventually(
    [&] {
      auto all = stats()["channels"];
      return all.size() == 2u && all[old_channel]["socket_open"].get<bool>()
             && !live_channel(topic_of("83"), old_channel).first.empty();
    },
    20s));
  BOOST_CHECK(audited("first", "rollover_permit_asked"));
  BOOST_CHECK(audited("first", "rollover_started"));
  BOOST_CHECK_EQUAL(stats()["totals"]["live_channels_evicted"].get<int>(), 0);
  BOOST_CHECK_EQUAL(
    stats()["topics"][topic_of("83")]["generated_without_socket"].get<int>(), 0);
}

// add_tenant from many threads at once on one OAuth client: the budget of
// channels holds (it is checked again where a tenant is inserted).
BOOST_FIXTURE_TEST_CASE(tenants_added_at_once_get_no_more_channels_than_the_budget,
                        budget_fixture) {
  constexpr int threads = 8;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::optional<caf::error>> results(threads);
  std::vector<std::thread> adders;
  for (int i = 0; i < threads; ++i)
    adders.emplace_back([&, i] {
      tenant_config c;
      c.id = "t" + std::to_string(i);
      c.login_url = c.api_url = base;
      c.client_id = "app";
      c.client_secret = "s3cret-Value";
      c.topics = {topic_of(std::to_string(90 + i))};
      c.sinks.push_back(null_sink_spec("null"));
      ++ready;
      while (!go)
        std::this_thread::yield();
      auto r = rt->add_tenant(std::move(c));
      results[i] = r ? caf::error{} : r.error();
    });
  while (ready < threads)
    std::this_thread::yield();
  go = true;
  for (auto& t : adders)
    t.join();
  int added = 0;
  for (auto& r : results) {
    BOOST_REQUIRE(r);
    if (!*r)
      ++added;
    else
      BOOST_CHECK_NE(reason_of(*r).find("max_live_channels"), std::string::npos);
  }
  BOOST_CHECK_EQUAL(added, 3); // max_live_channels 3
  BOOST_CHECK_EQUAL(rt->tenants().size(), 3u);
}

// The service removed the new channel before its first subscription (a
// 21st channel made by another process on the same OAuth client removes a
// channel with no socket first): the tenant makes a new one, it does not fail.
BOOST_FIXTURE_TEST_CASE(a_channel_removed_before_its_subscription_is_made_again,
                        budget_fixture) {
  srv.inject(R"({"kind":"http_error","path_prefix":"/api/v2/notifications/channels/","status":404,"count":1})");
  add("t", "95");
  BOOST_CHECK(audited("t", "backoff_scheduled"));
  bool said = false;
  for (auto& e : audit_copy())
    for (auto& [k, v] : e.fields)
      if (e.event == "backoff_scheduled" && k == "reason"
          && v.find("HTTP 404 (the channel is gone") != std::string::npos)
        said = true;
  BOOST_CHECK(said);
  BOOST_CHECK(!audited("t", "tenant_failed"));
  BOOST_CHECK(probe::eventually([&] { return received("t") > 0; }, 20s));
}

BOOST_AUTO_TEST_SUITE_END()
