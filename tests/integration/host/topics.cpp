// Topics through the embedding API against the emulator: a user's topics are
// subscribed as one combined topic (runtime/topics.hpp), the service sends
// each part under its expanded name, and a sink sees exactly what was
// written for each name; with combine_topics off they are subscribed one by
// one. A malformed topic, or more topics than the OAuth client's channels
// hold, is refused by add_tenant before anything connects.

#include <boost/test/unit_test.hpp>

#include "examples/topic_counter.hpp"
#include "host/runtime.hpp"
#include "messages/errors.hpp"
#include "tests/support/live_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;

namespace {

struct topics_fixture : test::live_fixture {
  std::unique_ptr<runtime> rt;

  topics_fixture() {
    runtime_settings rs;
    rs.observer = recorder;
    rt = std::make_unique<runtime>(sys, rs);
  }

  ~topics_fixture() {
    rt->shutdown();
    stop_actors({});
  }

  tenant_config tenant(const std::string& id, std::vector<std::string> topics,
                       std::shared_ptr<example::counts> got) {
    tenant_config c;
    c.id = id;
    c.login_url = c.api_url = base;
    c.client_id = "app";
    c.client_secret = "s3cret-Value";
    c.topics = std::move(topics);
    c.sinks.push_back(sink_spec{"topic-counter", [got](const sink_context& ctx) {
                                  return ctx.sys.spawn(example::topic_counter, got);
                                }});
    return c;
  }

  // The subscriptions of every channel the emulator holds.
  std::vector<std::vector<std::string>> subscriptions() {
    std::vector<std::vector<std::string>> out;
    auto all = stats()["channels"]; // held: items() refers to it
    for (auto& [id, ch] : all.items())
      out.push_back(ch["topics"].get<std::vector<std::string>>());
    return out;
  }
};

uint64_t count_of(example::counts& got, const std::string& topic) {
  std::lock_guard<std::mutex> g{got.m};
  return got.per_topic[topic];
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(topics_live_tests, topics_fixture)

BOOST_AUTO_TEST_CASE(a_users_topics_are_subscribed_combined_and_arrive_expanded) {
  const std::string user = "v2.users.6d2c5a1e-0000-0000-0000-0000000000c7";
  const std::vector<std::string> names = {user + ".presence", user + ".routingStatus",
                                          user + ".station"};
  const std::string other = "v2.users.6d2c5a1e-0000-0000-0000-0000000000c8";
  auto got = std::make_shared<example::counts>();
  auto apart = std::make_shared<example::counts>();
  BOOST_REQUIRE(rt->add_tenant(tenant("combined", names, got)));
  auto c = tenant("apart", {other + ".presence", other + ".routingStatus"}, apart);
  c.combine_topics = false;
  BOOST_REQUIRE(rt->add_tenant(std::move(c)));
  BOOST_REQUIRE(probe::eventually([&] {
    for (auto& n : names)
      if (count_of(*got, n) < 20)
        return false;
    return count_of(*apart, other + ".routingStatus") >= 20;
  }, 30s));
  auto subs = subscriptions();
  BOOST_CHECK(std::find(subs.begin(), subs.end(),
                        std::vector<std::string>{user + "?presence&routingStatus&station"})
              != subs.end());
  BOOST_CHECK(std::find(subs.begin(), subs.end(),
                        std::vector<std::string>{other + ".presence",
                                                 other + ".routingStatus"})
              != subs.end());
  // Every event written under each expanded name reaches the sink, once.
  srv.reconfigure(R"({"event_rate":0})");
  auto written = [&](const std::string& t) {
    return stats()["topics"][t]["written"].get<uint64_t>();
  };
  BOOST_CHECK(probe::eventually([&] {
    for (auto& n : names)
      if (count_of(*got, n) != written(n))
        return false;
    return true;
  }, 20s));
  for (auto& n : names)
    BOOST_CHECK_EQUAL(count_of(*got, n), written(n));
  std::lock_guard<std::mutex> g{got->m};
  BOOST_CHECK_EQUAL(got->per_topic.size(), names.size()); // no combined name
}

BOOST_AUTO_TEST_CASE(add_tenant_refuses_bad_topics_before_connecting) {
  auto got = std::make_shared<example::counts>();
  auto r = rt->add_tenant(tenant("bad", {"v2.users.{id}.presence"}, got));
  BOOST_REQUIRE(!r);
  BOOST_CHECK_NE(reason_of(r.error()).find("{placeholder}"), std::string::npos);
  // More than the OAuth client's 20 channels hold: 20,001 topics need 21.
  std::vector<std::string> many;
  for (int i = 0; i < 20001; ++i)
    many.push_back("v2.users.u" + std::to_string(i) + ".presence");
  r = rt->add_tenant(tenant("many", many, got));
  BOOST_REQUIRE(!r);
  BOOST_CHECK_MESSAGE(reason_of(r.error()).find("needs 21 channels (20001 topics")
                        != std::string::npos,
                      reason_of(r.error()));
  BOOST_CHECK_EQUAL(stats()["totals"].value("channels", 0), 0);
  BOOST_CHECK(subscriptions().empty());
}

BOOST_AUTO_TEST_CASE(topics_the_services_list_refuses_fail_the_tenant_before_any_channel) {
  // A family that does not exist (a typo), and one that needs a user
  // context, which a client-credentials token has not: both named, the
  // tenant failed, and no channel made. A well-formed tenant beside it runs.
  auto got = std::make_shared<example::counts>();
  const std::string user = "v2.users.6d2c5a1e-0000-0000-0000-0000000000d1";
  BOOST_REQUIRE(rt->add_tenant(tenant("typo", {user + ".presence", "v2.userz.u1.presence",
                                               user + ".conversations"}, got)));
  BOOST_REQUIRE(probe::eventually([&] { return rt->status("typo").state == "failed"; }, 20s));
  auto why = rt->status("typo").reason;
  BOOST_CHECK_MESSAGE(why.find("refuses 2 topics") != std::string::npos
                        && why.find("'v2.userz.u1.presence'") != std::string::npos
                        && why.find("'" + user + ".conversations'") != std::string::npos
                        && why.find("user context") != std::string::npos,
                      why);
  BOOST_CHECK_EQUAL(stats()["totals"].value("channels", 0), 0);
  // The status changes at once; the audit line reaches the observer through
  // the audit queue and actor a moment later.
  BOOST_CHECK(probe::eventually([&] {
    for (auto& e : audit_copy())
      if (e.tenant == "typo" && e.event == "tenant_failed"
          && test::audit_capture::field(e, "reason") == why)
        return true;
    return false;
  }, 20s));
  // Turned off, the same topics go to the subscription, which rejects
  // what it does not know (and the tenant keeps the others).
  auto c = tenant("unchecked", {user + ".presence", "v2.userz.u1.presence"}, got);
  c.check_topics = false;
  BOOST_REQUIRE(rt->add_tenant(std::move(c)));
  BOOST_CHECK(probe::eventually([&] { return rt->status("unchecked").state == "connected"; },
                                20s));
}

BOOST_AUTO_TEST_CASE(a_topic_list_that_cannot_be_read_is_audited_and_the_tenant_goes_on) {
  srv.inject(R"({"kind":"http_error","path_prefix":"/api/v2/notifications/availabletopics",)"
             R"("status":500,"count":1})");
  auto got = std::make_shared<example::counts>();
  BOOST_REQUIRE(rt->add_tenant(
    tenant("blind", {"v2.users.6d2c5a1e-0000-0000-0000-0000000000d2.presence"}, got)));
  BOOST_REQUIRE(probe::eventually([&] { return rt->status("blind").state == "connected"; },
                                  20s));
  std::string reason;
  for (auto& e : audit_copy())
    if (e.tenant == "blind" && e.event == "topics_unchecked")
      reason = test::audit_capture::field(e, "reason");
  BOOST_CHECK_EQUAL(reason, "no topic list: the service answered 500");
  // The check asked (and got the 500), then the channel was made.
  auto http = stats()["http"];
  bool asked = false;
  for (auto& [route, by_status] : http.items())
    asked = asked || (route.find("availabletopics") != std::string::npos
                      && by_status.value("500", 0) == 1);
  BOOST_CHECK_MESSAGE(asked, http.dump());
}

BOOST_AUTO_TEST_SUITE_END()
