// A tenant with more topics than a channel holds, through the embedding API
// against the emulator: its topics are spread over channels of at most 1,000
// (runtime/topics.hpp, spread_topics), each with its own session and socket
// under the tenant's supervisor, all feeding the one orderer. Every event of
// every topic arrives exactly once through a drop of one channel's socket
// and a socket_closing on another; the drop opens a gap for that channel's
// topics only, and the audit log says which channel and how many topics.
// Tenants sharing an OAuth client share its 20 channels; what does not fit
// is refused before anything connects.

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <set>

#include "examples/topic_counter.hpp"
#include "host/runtime.hpp"
#include "messages/errors.hpp"
#include "runtime/redact.hpp"
#include "runtime/topics.hpp"
#include "tests/support/live_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

emulator::config slow_topics() {
  auto c = test::emulator_fixture::default_config();
  c.event_rate = 0.5; // per topic: 2,500 events/s over 5,000 topics
  return c;
}

struct many_fixture : test::live_fixture {
  std::unique_ptr<runtime> rt;

  many_fixture() : test::live_fixture(slow_topics()) {
    runtime_settings rs;
    rs.observer = recorder;
    rs.limiter.connects_per_second = 1000;
    rt = std::make_unique<runtime>(sys, rs);
  }

  ~many_fixture() {
    rt->shutdown();
    stop_actors({});
  }

  // `users` users' presence and routing status: two topics each, combined
  // per user into one of two parts.
  static std::vector<std::string> topics_of(const std::string& prefix, int users) {
    std::vector<std::string> out;
    for (int u = 0; u < users; ++u) {
      char id[64];
      std::snprintf(id, sizeof id, "v2.users.6d2c5a1e-%s-0000-0000-%012d", prefix.c_str(), u);
      out.push_back(std::string{id} + ".presence");
      out.push_back(std::string{id} + ".routingStatus");
    }
    return out;
  }

  tenant_config tenant(const std::string& id, std::vector<std::string> topics,
                       std::shared_ptr<example::counts> got) {
    tenant_config c;
    c.id = id;
    c.login_url = c.api_url = base;
    c.client_id = "app"; // all on one OAuth client: one budget of channels
    c.client_secret = "s3cret-Value";
    c.topics = std::move(topics);
    c.supervisor.backoff = {20ms, 2.0, 200ms};
    c.session.close_grace = 200ms;
    c.sinks.push_back(sink_spec{"topic-counter", [got](const sink_context& ctx) {
                                  return ctx.sys.spawn(example::topic_counter, got);
                                }});
    return c;
  }

  // The live channels of the emulator: id -> topics (as subscribed).
  std::map<std::string, std::vector<std::string>> channels() {
    std::map<std::string, std::vector<std::string>> out;
    auto all = stats()["channels"]; // held: items() refers to it
    for (auto& [id, ch] : all.items())
      if (ch.value("socket_open", false))
        out[id] = ch["topics"].get<std::vector<std::string>>();
    return out;
  }

  // Whether every name has reached the sink at least `n` times.
  static bool each_seen(example::counts& got, const std::vector<std::string>& names,
                        uint64_t n) {
    std::lock_guard<std::mutex> g{got.m};
    for (auto& t : names) {
      auto it = got.per_topic.find(t);
      if (it == got.per_topic.end() || it->second < n)
        return false;
    }
    return true;
  }

  // Names whose count at the sink differs from what the emulator wrote.
  std::vector<std::string> mismatched(example::counts& got,
                                      const std::vector<std::string>& names) {
    auto topics = stats()["topics"];
    std::vector<std::string> out;
    std::lock_guard<std::mutex> g{got.m};
    for (auto& t : names) {
      auto written = topics.contains(t) ? topics[t]["written"].get<uint64_t>() : 0;
      if (got.per_topic[t] != written)
        out.push_back(t + ": " + std::to_string(got.per_topic[t]) + " of "
                      + std::to_string(written));
    }
    return out;
  }

  std::vector<audit_event> audits_of(const std::string& tenant, const std::string& what) {
    std::lock_guard<std::mutex> g{audit_mtx};
    std::vector<audit_event> out;
    for (auto& e : audits)
      if (e.tenant == tenant && e.event == what)
        out.push_back(e);
    return out;
  }

  // Checks that every event of every name arrived exactly once: stops the
  // events, lets the last ones arrive, and compares with the emulator.
  void exactly_once(const std::vector<std::pair<std::shared_ptr<example::counts>,
                                                std::vector<std::string>>>& tenants) {
    srv.reconfigure(R"({"event_rate":0})");
    std::vector<std::string> wrong;
    bool same = probe::eventually([&] {
      wrong.clear();
      for (auto& [got, names] : tenants) {
        auto w = mismatched(*got, names);
        wrong.insert(wrong.end(), w.begin(), w.end());
      }
      return wrong.empty();
    }, 30s);
    BOOST_CHECK_MESSAGE(same, wrong.size() << " names differ, the first: "
                                           << (wrong.empty() ? "" : wrong.front()));
  }
};

std::string field(const audit_event& e, const std::string& name) {
  return test::audit_capture::field(e, name);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(many_channels_tests, many_fixture)

BOOST_AUTO_TEST_CASE(five_thousand_topics_arrive_exactly_once_over_five_channels) {
  auto names = topics_of("0001", 2500); // 5,000 names, 2,500 combined topics
  auto got = std::make_shared<example::counts>();
  BOOST_REQUIRE(rt->add_tenant(tenant("big", names, got)));
  BOOST_REQUIRE(probe::eventually([&] { return rt->status("big").state == "connected"; },
                                  30s));
  // Five channels of 1,000 names each, every name on exactly one (the
  // emulator notes a socket a moment after the client sees it open).
  std::map<std::string, std::vector<std::string>> live;
  BOOST_REQUIRE(probe::eventually([&] { return (live = channels()).size() == 5; }, 10s));
  std::multiset<std::string> subscribed;
  for (auto& [id, topics] : live) {
    BOOST_CHECK_EQUAL(topics_weight(topics), 1000u);
    for (auto& t : topics)
      for (auto& n : expand_topic(t))
        subscribed.insert(n);
  }
  BOOST_CHECK(subscribed == std::multiset<std::string>(names.begin(), names.end()));
  BOOST_REQUIRE(probe::eventually([&] { return each_seen(*got, names, 1); }, 60s));
  auto m = rt->metrics();
  BOOST_REQUIRE_EQUAL(m.size(), 1u);
  BOOST_CHECK_EQUAL(m[0].channels, 5u);
  BOOST_CHECK_EQUAL(m[0].topics, 5000u);
  BOOST_CHECK_EQUAL(m[0].topics_in_gap, 0u);
  auto text = rt->prometheus_text();
  for (auto line : {"gcstream_channels{tenant=\"big\"} 5", "gcstream_topics{tenant=\"big\"} 5000",
                    "gcstream_gap_open_topics{tenant=\"big\"} 0"})
    BOOST_CHECK_MESSAGE(text.find(std::string{"\n"} + line + "\n") != std::string::npos, line);

  // One channel's socket drops; another's gets socket_closing.
  auto it = live.begin();
  auto dropped = it->first;
  auto dropped_topics = it->second;
  auto closing = std::next(it)->first;
  auto closing_topics = std::next(it)->second;
  srv.inject(R"({"kind":"drop","channel":")" + dropped + "\"}");
  srv.inject(R"({"kind":"socket_closing","close_after_ms":5000,"channel":")" + closing
             + "\"}");
  BOOST_REQUIRE(probe::eventually([&] {
    return !audits_of("big", "gap_closed").empty()
           && !audits_of("big", "rollover_finished").empty()
           && rt->status("big").state == "connected";
  }, 30s));
  // The gap was the dropped channel's, with its 1,000 topics; the other
  // channels streamed on: only the dropped channel's topics had events
  // generated with no socket to take them.
  auto gaps = audits_of("big", "gap_closed");
  BOOST_REQUIRE_EQUAL(gaps.size(), 1u);
  BOOST_CHECK_EQUAL(field(gaps[0], "topics"), "1000");
  BOOST_CHECK_EQUAL(field(gaps[0], "channel"), channel_tag(dropped));
  BOOST_CHECK(!field(gaps[0], "lane").empty());
  std::set<std::string> gap_names;
  for (auto& t : dropped_topics)
    for (auto& n : expand_topic(t))
      gap_names.insert(n);
  auto topics = stats()["topics"];
  for (auto& n : names)
    if (gap_names.count(n) == 0)
      BOOST_CHECK_MESSAGE(topics[n]["generated_without_socket"].get<uint64_t>() == 0,
                          n << " lost events while its channel streamed");
  // The rollover made a new channel for the closing channel's topics, and
  // every name is still subscribed once.
  BOOST_REQUIRE(probe::eventually([&] { return channels().count(closing) == 0; }, 30s));
  subscribed.clear();
  for (auto& [id, ts] : channels())
    for (auto& t : ts)
      for (auto& n : expand_topic(t))
        subscribed.insert(n);
  BOOST_CHECK(subscribed == std::multiset<std::string>(names.begin(), names.end()));
  BOOST_CHECK_EQUAL(rt->metrics()[0].topics_in_gap, 0u);
  exactly_once({{got, names}});
}

BOOST_AUTO_TEST_CASE(three_tenants_share_one_clients_channels) {
  std::vector<std::pair<std::shared_ptr<example::counts>, std::vector<std::string>>> all;
  for (int i = 0; i < 3; ++i) {
    auto names = topics_of("000" + std::to_string(i + 2), 1000); // 2,000 names each
    auto got = std::make_shared<example::counts>();
    BOOST_REQUIRE(rt->add_tenant(tenant("t" + std::to_string(i), names, got)));
    all.emplace_back(got, names);
  }
  BOOST_REQUIRE(probe::eventually([&] {
    for (int i = 0; i < 3; ++i)
      if (rt->status("t" + std::to_string(i)).state != "connected")
        return false;
    return true;
  }, 30s));
  BOOST_CHECK(probe::eventually([&] { return channels().size() == 6; }, 10s));
  for (auto& [got, names] : all)
    BOOST_REQUIRE(probe::eventually([&] { return each_seen(*got, names, 1); }, 60s));
  // A 14,001-topic tenant on the same client does not fit the 14 channels
  // left: refused with the numbers, before anything connects.
  std::vector<std::string> huge;
  for (int u = 0; u < 14001; ++u)
    huge.push_back("v2.routing.queues.q" + std::to_string(u) + ".conversations");
  auto r = rt->add_tenant(tenant("huge", huge, std::make_shared<example::counts>()));
  BOOST_REQUIRE(!r);
  BOOST_CHECK_MESSAGE(reason_of(r.error()).find("needs 15 channels (14001 topics") != std::string::npos
                        && reason_of(r.error()).find("of which 6 go to t0 (2), t1 (2), t2 (2)")
                             != std::string::npos,
                      reason_of(r.error()));
  BOOST_CHECK_EQUAL(stats()["totals"]["channels"].get<int>(), 6);
  {
    std::lock_guard<std::mutex> g{audit_mtx};
    for (auto& e : audits)
      if (e.event == "disconnected" || e.event == "backoff_scheduled")
        BOOST_TEST_MESSAGE(e.tenant << " " << e.event << " " << field(e, "reason") << " "
                                    << field(e, "detail") << " lane " << field(e, "lane"));
  }
  // Faults on two tenants' channels: one socket dropped, one closing.
  auto live = channels();
  srv.inject(R"({"kind":"drop","channel":")" + live.begin()->first + "\"}");
  srv.inject(R"({"kind":"socket_closing","close_after_ms":5000,"channel":")"
             + std::prev(live.end())->first + "\"}");
  BOOST_REQUIRE(probe::eventually([&] {
    std::lock_guard<std::mutex> g{audit_mtx};
    bool gap = false, rolled = false;
    for (auto& e : audits) {
      gap = gap || e.event == "gap_closed";
      rolled = rolled || e.event == "rollover_finished";
    }
    return gap && rolled;
  }, 30s));
  exactly_once(all);
}

BOOST_AUTO_TEST_CASE(set_topics_changes_channels_by_difference_and_keeps_their_sockets) {
  auto all = topics_of("0009", 1100); // 2,200 names
  auto first = std::vector<std::string>(all.begin(), all.begin() + 1500);
  auto got = std::make_shared<example::counts>();
  BOOST_REQUIRE(rt->add_tenant(tenant("live", first, got)));
  BOOST_REQUIRE(probe::eventually([&] { return rt->status("live").state == "connected"; },
                                  30s));
  std::map<std::string, std::vector<std::string>> before;
  BOOST_REQUIRE(probe::eventually([&] { return (before = channels()).size() == 2; }, 10s));
  auto connects = [&](const std::string& id) {
    return stats()["channels"][id]["connects"].get<int>();
  };
  BOOST_REQUIRE(probe::eventually([&] { return each_seen(*got, first, 1); }, 60s));
  // A bad list changes nothing.
  auto err = rt->set_topics("live", {"v2.users.{id}.presence"});
  BOOST_CHECK_NE(reason_of(err).find("{placeholder}"), std::string::npos);
  BOOST_CHECK(rt->set_topics("nobody", first));
  // 100 names go, 700 come: 2,100 names, three channels; the two channels
  // keep their sockets, a third is made.
  auto second = std::vector<std::string>(all.begin() + 100, all.begin() + 2200);
  BOOST_REQUIRE(!rt->set_topics("live", second));
  std::map<std::string, std::vector<std::string>> after;
  BOOST_REQUIRE(probe::eventually([&] {
    after = channels();
    if (after.size() != 3)
      return false;
    std::multiset<std::string> subscribed;
    for (auto& [id, ts] : after)
      for (auto& t : ts)
        for (auto& n : expand_topic(t))
          subscribed.insert(n);
    return subscribed == std::multiset<std::string>(second.begin(), second.end());
  }, 30s));
  for (auto& [id, ts] : before) {
    BOOST_CHECK_MESSAGE(after.count(id) == 1, "channel " << id << " was replaced");
    BOOST_CHECK_EQUAL(connects(id), 1);
  }
  BOOST_REQUIRE(probe::eventually([&] { return each_seen(*got, second, 1); }, 60s));
  BOOST_CHECK_EQUAL(rt->metrics()[0].channels, 3u);
  BOOST_CHECK_EQUAL(rt->metrics()[0].topics, 2100u);
  // Down to 800 names, all of the first channel: the other two close, the
  // first keeps its socket, and no gap is left open.
  auto third = std::vector<std::string>(all.begin() + 100, all.begin() + 900);
  BOOST_REQUIRE(!rt->set_topics("live", third));
  BOOST_REQUIRE(probe::eventually([&] { return channels().size() == 1; }, 30s));
  auto kept = channels().begin()->first;
  BOOST_CHECK(before.count(kept) == 1);
  BOOST_CHECK_EQUAL(connects(kept), 1);
  BOOST_CHECK(probe::eventually([&] {
    auto m = rt->metrics()[0];
    return m.channels == 1 && m.topics == 800 && m.topics_in_gap == 0
           && rt->status("live").state == "connected";
  }, 10s));
  BOOST_CHECK(audits_of("live", "gap_closed").empty());
  auto changes = audits_of("live", "topics_changed");
  BOOST_CHECK_GE(changes.size(), 2u);
  // What was written under every name, before and after, arrived once.
  exactly_once({{got, all}});
}

BOOST_AUTO_TEST_SUITE_END()
