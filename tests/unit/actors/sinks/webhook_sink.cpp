// The webhook sink on the test scheduler with a fake HTTP transport: one
// POST at a time in seq order, the body a JSON array of event lines, an ack
// only after a 2xx, retries with backoff (Retry-After as a floor), and no
// second request for a batch already acknowledged.

#include "actors/sinks/webhook_sink.hpp"

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/fake_http.hpp"

using namespace gcstream;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

event_batch batch_of(uint64_t seq, int n) {
  event_batch b{"acme", seq, {}};
  for (int i = 0; i < n; ++i)
    b.events.push_back(event{"v2.users.u1.presence",
                             "id-" + std::to_string(seq) + "-" + std::to_string(i),
                             1000 + i, 2000 + i, false,
                             frame_ref{R"({"eventBody":{"n":)" + std::to_string(i) + "}}"}});
  return b;
}

struct webhook_fixture : test::deterministic_fixture {
  std::shared_ptr<test::fake_http> http = std::make_shared<test::fake_http>();
  sink_actor sink;
  std::vector<uint64_t> acks;
  std::vector<caf::actor> clients;

  webhook_fixture() {
    webhook_sink_settings s;
    s.url = "http://127.0.0.1:9/hook";
    s.headers = {{"Authorization", "Bearer hook-token"}};
    s.backoff = {100ms, 2.0, 1000ms};
    sink = caf::actor_cast<sink_actor>(sys.spawn(webhook_sink, s, http));
  }

  ~webhook_fixture() {
    caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
    for (auto& c : clients)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void deliver(event_batch b) {
    clients.push_back(sys.spawn([this, b](caf::event_based_actor* self) {
      self->request(sink, caf::infinite, deliver_atom::value, b)
        .then([this](uint64_t seq) { acks.push_back(seq); });
    }));
    sched.run();
  }

  std::string header(size_t call, const std::string& name) {
    for (auto& [k, v] : http->calls.at(call).req.headers)
      if (k == name)
        return v;
    return {};
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(webhook_sink_tests, webhook_fixture)

BOOST_AUTO_TEST_CASE(posts_one_batch_at_a_time_and_acks_after_a_2xx) {
  deliver(batch_of(1, 2));
  deliver(batch_of(2, 1));
  BOOST_REQUIRE_EQUAL(http->calls.size(), 1u); // the second waits its turn
  auto& req = http->calls[0].req;
  BOOST_CHECK_EQUAL(req.method, "POST");
  BOOST_CHECK_EQUAL(req.url, "http://127.0.0.1:9/hook");
  BOOST_CHECK_EQUAL(header(0, "Content-Type"), "application/json");
  BOOST_CHECK_EQUAL(header(0, "X-Gcstream-Batch"), "1");
  BOOST_CHECK_EQUAL(header(0, "Authorization"), "Bearer hook-token");
  auto body = json::parse(req.body);
  BOOST_REQUIRE_EQUAL(body.size(), 2u);
  BOOST_CHECK_EQUAL(body[1]["id"], "id-1-1");
  BOOST_CHECK_EQUAL(body[1]["event"]["eventBody"]["n"], 1);
  BOOST_CHECK(acks.empty());
  http->reply(0, 204, "");
  sched.run();
  BOOST_CHECK(acks == (std::vector<uint64_t>{1}));
  BOOST_REQUIRE_EQUAL(http->calls.size(), 2u);
  BOOST_CHECK_EQUAL(header(1, "X-Gcstream-Batch"), "2");
  http->reply(1, 200, "ok");
  sched.run();
  BOOST_CHECK(acks == (std::vector<uint64_t>{1, 2}));
}

BOOST_AUTO_TEST_CASE(failures_are_retried_with_backoff_and_retry_after) {
  deliver(batch_of(1, 1));
  http->reply(0, 503, "busy", 2000); // Retry-After: 2 s
  sched.run();
  sched.clock().advance_time(1999ms);
  sched.run();
  BOOST_CHECK_EQUAL(http->calls.size(), 1u); // not before the Retry-After
  sched.clock().advance_time(1ms);
  sched.run();
  BOOST_REQUIRE_EQUAL(http->calls.size(), 2u);
  http->fail(1, errc::http_connect_failed, "refused");
  sched.run();
  sched.clock().advance_time(1000ms); // at most the cap
  sched.run();
  BOOST_REQUIRE_EQUAL(http->calls.size(), 3u);
  BOOST_CHECK(acks.empty());
  http->reply(2, 200, "");
  sched.run();
  BOOST_CHECK(acks == (std::vector<uint64_t>{1}));
  BOOST_CHECK_EQUAL(http->calls[2].req.body, http->calls[0].req.body);
}

BOOST_AUTO_TEST_CASE(a_batch_already_acknowledged_is_not_posted_again) {
  deliver(batch_of(1, 1));
  http->reply(0, 200, "");
  sched.run();
  deliver(batch_of(1, 1)); // the orderer restarted and resent it
  BOOST_CHECK_EQUAL(http->calls.size(), 1u);
  BOOST_CHECK(acks == (std::vector<uint64_t>{1, 1}));
}

BOOST_AUTO_TEST_SUITE_END()
