// The README's custom sink (examples/topic_counter.hpp), refusing the first
// delivery of every fifth batch as a sink with a briefly busy downstream
// does: nothing is lost and nothing counted twice, and the refusals show in
// the metrics and the audit log. (Before stop and wait, the refused batch
// came again after later ones, and the sink's seen_batches skipped it: 20%
// of the events were lost, silently.)

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "examples/topic_counter.hpp"
#include "host/runtime.hpp"
#include "tests/support/live_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> topics = {
  "v2.users.6d2c5a1e-0000-0000-0000-0000000000e1.presence",
  "v2.users.6d2c5a1e-0000-0000-0000-0000000000e1.routingStatus"};

struct refusing_sink_fixture : test::live_fixture {
  std::shared_ptr<example::counts> got = std::make_shared<example::counts>();
  std::unique_ptr<runtime> rt;

  refusing_sink_fixture() {
    runtime_settings rs;
    rs.observer = recorder;
    rt = std::make_unique<runtime>(sys, rs);
  }

  ~refusing_sink_fixture() {
    rt->shutdown();
    stop_actors({});
  }

  void add(int max_batch) {
    tenant_config c;
    c.id = "acme";
    c.login_url = c.api_url = base;
    c.client_id = "app";
    c.client_secret = "s3cret-Value";
    c.topics = topics;
    c.orderer.outbox.max_batch = static_cast<size_t>(max_batch);
    c.orderer.retry = {1ms, 2.0, 20ms};
    c.sinks.push_back(sink_spec{"topic-counter", [this](const sink_context& ctx) {
                                  return ctx.sys.spawn(example::topic_counter, got);
                                }});
    BOOST_REQUIRE(rt->add_tenant(std::move(c)));
  }

  uint64_t counted() {
    std::lock_guard<std::mutex> g{got->m};
    uint64_t n = 0;
    for (auto& [t, k] : got->per_topic)
      n += k;
    return n;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(custom_sink_tests, refusing_sink_fixture)

BOOST_AUTO_TEST_CASE(the_readme_sink_loses_nothing_when_it_refuses_batches) {
  got->busy = [tried = std::set<uint64_t>{}](uint64_t seq) mutable {
    return seq % 5 == 0 && tried.insert(seq).second; // the first delivery
  };
  add(8); // small batches: many of them, so many refusals
  BOOST_REQUIRE(probe::eventually([&] { return counted() >= 750; }, 30s));
  srv.reconfigure(R"({"event_rate":0})");
  auto written = [&](const std::string& t) {
    return stats()["topics"][t]["written"].get<uint64_t>();
  };
  BOOST_CHECK(probe::eventually([&] {
    return counted() == written(topics[0]) + written(topics[1]);
  }, 20s));
  {
    std::lock_guard<std::mutex> g{got->m};
    for (auto& t : topics)
      BOOST_CHECK_EQUAL(got->per_topic[t], written(t)); // not one lost or twice
    BOOST_CHECK_GE(got->refused, 10u);
  }
  // Refusals are counted and audited; none went to the dead letters.
  BOOST_CHECK(probe::eventually([&] {
    auto st = rt->stats("acme");
    return !st.sinks.empty() && st.sinks[0].refused >= 10;
  }));
  auto st = rt->stats("acme");
  BOOST_CHECK_EQUAL(st.sinks[0].dead_lettered, 0u);
  BOOST_CHECK(probe::eventually([&] {
    size_t n = 0;
    for (auto& e : audit_copy())
      n += e.event == "batch_refused";
    return n >= 10;
  }));
}

BOOST_AUTO_TEST_CASE(a_batch_refused_for_good_goes_to_the_dead_letters) {
  char tmpl[] = "/tmp/gcstream-dead-letter-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  got->busy = [](uint64_t seq) { return seq == 3; }; // batch 3: never
  tenant_config c;
  c.id = "acme";
  c.login_url = c.api_url = base;
  c.client_id = "app";
  c.client_secret = "s3cret-Value";
  c.topics = {topics[0]};
  c.orderer.outbox.max_batch = 4;
  c.orderer.max_refusals = 3;
  c.orderer.retry = {1ms, 2.0, 5ms};
  c.orderer.dead_letter_path = dir + "/acme.dead-letter.jsonl";
  c.sinks.push_back(sink_spec{"topic-counter", [this](const sink_context& ctx) {
                                return ctx.sys.spawn(example::topic_counter, got);
                              }});
  BOOST_REQUIRE(rt->add_tenant(std::move(c)));
  BOOST_REQUIRE(probe::eventually([&] { return counted() >= 100; }, 30s));
  srv.reconfigure(R"({"event_rate":0})");
  auto written = stats()["topics"][topics[0]]["written"].get<uint64_t>();
  // The stream went on; the batch the sink never took is in the file.
  uint64_t dead = 0;
  BOOST_CHECK(probe::eventually([&] {
    std::ifstream in{dir + "/acme.dead-letter.jsonl"};
    dead = 0;
    for (std::string line; std::getline(in, line);)
      dead += line.rfind("{\"dead_letter\":{\"sink\":\"topic-counter\",\"batch\":3,", 0) == 0;
    return dead > 0 && counted() + dead == written;
  }, 20s));
  BOOST_CHECK(probe::eventually([&] {
    auto st = rt->stats("acme");
    return !st.sinks.empty() && st.sinks[0].dead_lettered == dead;
  }));
  bool audited = false;
  for (auto& e : audit_copy())
    audited = audited || e.event == "batch_dead_lettered";
  BOOST_CHECK(audited);
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
