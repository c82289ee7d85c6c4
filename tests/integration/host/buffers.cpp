// What a tenant does when it holds too much, and when its journal cannot be
// written: one cap over every event between the socket and the sinks, with
// reading stopped (overflow: block) or the oldest dropped (drop_oldest),
// each counted and audited; a journal that fails makes the tenant
// unhealthy, and nothing is lost meanwhile.

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <filesystem>
#include <set>

#include <sqlite3.h>

#include "host/runtime.hpp"
#include "tests/support/live_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> topics = {
  "v2.users.6d2c5a1e-0000-0000-0000-000000000051.presence",
  "v2.users.6d2c5a1e-0000-0000-0000-000000000052.presence"};

using release_atom_t = caf::atom_constant<caf::atom("release")>;

// A sink that takes `delay_ms` per batch.
struct slow_state {
  std::vector<std::pair<caf::response_promise, uint64_t>> held;
  gcstream::seen_batches handled;
};

struct shared_record {
  std::mutex m;
  std::set<std::string> ids;
  size_t deliveries = 0;
  std::atomic<int> delay_ms{0};
};

caf::behavior slow_sink(caf::stateful_actor<slow_state>* self, shared_record* r) {
  return {
    [=](deliver_atom, const event_batch& b) -> caf::result<uint64_t> {
      if (self->state.handled.already(b.seq))
        return b.seq;
      {
        std::lock_guard<std::mutex> g{r->m};
        for (auto& e : b.events) {
          r->ids.insert(std::string{e.id()});
          ++r->deliveries;
        }
      }
      self->state.handled.done(b.seq);
      int d = r->delay_ms.load();
      if (d == 0)
        return b.seq;
      auto rp = self->make_response_promise();
      self->state.held.emplace_back(rp, b.seq);
      self->delayed_send(self, std::chrono::milliseconds{d}, release_atom_t::value);
      return caf::delegated<uint64_t>{};
    },
    [=](release_atom_t) {
      auto& h = self->state.held;
      if (h.empty())
        return;
      h.front().first.deliver(h.front().second);
      h.erase(h.begin());
    },
  };
}

struct buffers_fixture : test::live_fixture {
  shared_record got;
  std::unique_ptr<runtime> rt;

  buffers_fixture() : test::live_fixture(fast()) {
    runtime_settings rs;
    rs.observer = recorder;
    rs.metrics_listen = "127.0.0.1:0";
    rt = std::make_unique<runtime>(sys, rs);
  }

  static emulator::config fast() {
    auto c = test::emulator_fixture::default_config();
    c.heartbeat_interval_ms = 100;
    return c;
  }

  ~buffers_fixture() {
    rt->shutdown();
    stop_actors({});
  }

  tenant_config tenant() {
    tenant_config c;
    c.id = "acme";
    c.login_url = c.api_url = base;
    c.client_id = "app";
    c.client_secret = "s3cret-Value";
    c.topics = topics;
    c.session.ping_interval = 100ms;
    c.session.heartbeat_timeout = 500ms;
    c.supervisor.backoff = {0ms, 2.0, 50ms};
    c.orderer.reorder = {100, 300, 100000};
    c.orderer.outbox.max_batch = 20;
    c.sinks.push_back(sink_spec{"slow", [this](const sink_context& ctx) {
                                  return caf::actor_cast<sink_actor>(
                                    ctx.sys.spawn(slow_sink, &got));
                                }});
    return c;
  }

  size_t written() {
    size_t n = 0;
    auto st = stats();
    for (auto& t : topics)
      n += st["topics"][t]["written"].get<size_t>();
    return n;
  }

  size_t distinct() {
    std::lock_guard<std::mutex> g{got.m};
    return got.ids.size();
  }

  size_t audited(const std::string& what) {
    size_t n = 0;
    for (auto& e : audit_copy())
      n += e.event == what;
    return n;
  }

  double metric(const std::string& series) {
    auto body = probe::http("GET", "http://127.0.0.1:" + std::to_string(rt->metrics_port())
                                     + "/metrics")
                  .body;
    auto at = body.find("\n" + series + " ");
    return at == std::string::npos ? -1.0
                                   : std::stod(body.substr(at + series.size() + 2));
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(buffer_tests, buffers_fixture)

BOOST_AUTO_TEST_CASE(a_full_buffer_stops_reading_and_loses_nothing) {
  got.delay_ms = 100; // 20 events a batch: about 200 a second, under the rate
  auto c = tenant();
  c.max_buffered_events = 300;
  BOOST_REQUIRE(rt->add_tenant(std::move(c)));
  // The buffer fills; reading stops (and that is no stall for the watchdog).
  BOOST_REQUIRE(probe::eventually([&] { return audited("reading_paused") >= 1; }, 20s));
  BOOST_REQUIRE(probe::eventually([&] {
    return metric("gcstream_reading_paused{tenant=\"acme\"}") == 1;
  }));
  auto held = metric("gcstream_events_held{tenant=\"acme\"}");
  BOOST_CHECK_GT(held, 0);
  BOOST_CHECK_LE(held, 300 + 200); // the cap, and what one read brought in
  // Let it keep reading paused for a while longer than the heartbeat timeout.
  auto w0 = written();
  BOOST_REQUIRE(probe::eventually([&] { return written() >= w0 + 400; }, 20s));
  // The sink speeds up: reading resumes, everything written arrives, once.
  got.delay_ms = 0;
  srv.reconfigure(R"({"event_rate":0})");
  BOOST_CHECK(probe::eventually([&] { return distinct() == written(); }, 30s));
  BOOST_CHECK_GE(audited("reading_resumed"), 1u);
  BOOST_CHECK_EQUAL(rt->status("acme").sessions, 1u); // the watchdog never fired
  BOOST_CHECK(probe::eventually([&] {
    return metric("gcstream_reading_paused_seconds_total{tenant=\"acme\"}") > 0;
  }));
  std::lock_guard<std::mutex> g{got.m};
  BOOST_CHECK_EQUAL(got.deliveries, got.ids.size());
}

BOOST_AUTO_TEST_CASE(drop_oldest_keeps_the_cap_and_counts_what_it_drops) {
  got.delay_ms = 200;
  auto c = tenant();
  c.max_buffered_events = 200;
  c.overflow = overflow_policy::drop_oldest;
  BOOST_REQUIRE(rt->add_tenant(std::move(c)));
  BOOST_REQUIRE(probe::eventually([&] { return audited("events_dropped") >= 1; }, 20s));
  BOOST_CHECK_EQUAL(audited("reading_paused"), 0u);
  BOOST_CHECK(probe::eventually([&] {
    return metric("gcstream_events_dropped_total{tenant=\"acme\",buffer=\"sink:slow\"}") > 0
           || metric("gcstream_events_dropped_total{tenant=\"acme\",buffer=\"inbox\"}") > 0;
  }));
  BOOST_CHECK_LE(metric("gcstream_events_held{tenant=\"acme\"}"), 200 + 200);
}

BOOST_AUTO_TEST_CASE(a_journal_that_cannot_be_written_is_loud_and_loses_nothing) {
  char tmpl[] = "/tmp/gcstream-journal-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  auto c = tenant();
  c.journal_path = dir + "/acme.db";
  BOOST_REQUIRE(rt->add_tenant(std::move(c)));
  BOOST_REQUIRE(probe::eventually([&] { return distinct() >= 50; }, 20s));
  // Another writer holds the journal: every append fails.
  sqlite3* other = nullptr;
  BOOST_REQUIRE_EQUAL(sqlite3_open((dir + "/acme.db").c_str(), &other), SQLITE_OK);
  sqlite3_busy_timeout(other, 10000); // the journal may be writing just now
  BOOST_REQUIRE_EQUAL(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
                      SQLITE_OK);
  auto url = "http://127.0.0.1:" + std::to_string(rt->metrics_port());
  // Unhealthy, with the reason; counted; audited.
  BOOST_CHECK(probe::eventually([&] {
    auto h = probe::http("GET", url + "/healthz");
    return h.status == 503 && h.body.find("journal cannot store") != std::string::npos;
  }, 20s));
  BOOST_CHECK(probe::eventually(
    [&] { return metric("gcstream_journal_errors_total{tenant=\"acme\"}") > 0; }));
  BOOST_CHECK_GE(audited("journal_failed"), 1u);
  // Events stop reaching the sink (nothing is acknowledged unstored)...
  auto before = distinct();
  auto w0 = written();
  BOOST_REQUIRE(probe::eventually([&] { return written() >= w0 + 100; }, 20s));
  BOOST_CHECK_LE(distinct(), before + 50); // what the orderer held already
  // ...and all arrive once the journal can be written again.
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  srv.reconfigure(R"({"event_rate":0})");
  BOOST_CHECK(probe::eventually([&] { return distinct() == written(); }, 30s));
  BOOST_CHECK(probe::eventually([&] { return audited("journal_recovered") >= 1; }));
  BOOST_CHECK(probe::eventually(
    [&] { return probe::http("GET", url + "/healthz").status == 200; }));
  rt->shutdown();
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
