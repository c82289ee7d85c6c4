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
  std::vector<caf::error> refusals;
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
        .then([this](uint64_t seq) { acks.push_back(seq); },
              [this](caf::error& err) { refusals.push_back(err); });
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
  // (The orderer sends one at a time; a second that comes anyway waits.)
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

BOOST_AUTO_TEST_CASE(unavailable_receivers_refuse_the_batch_to_be_tried_again) {
  // 5xx, 408, 429 and transport errors: refused with sink_failed (the
  // orderer tries again, at least Retry-After later).
  uint64_t seq = 0;
  for (int status : {503, 500, 408, 429}) {
    deliver(batch_of(++seq, 1));
    http->reply(http->calls.size() - 1, status, "busy", 2000);
    sched.run();
  }
  deliver(batch_of(++seq, 1));
  http->fail(http->calls.size() - 1, errc::http_connect_failed, "refused");
  sched.run();
  BOOST_CHECK(acks.empty());
  BOOST_REQUIRE_EQUAL(refusals.size(), 5u);
  for (size_t i = 0; i < refusals.size(); ++i) {
    BOOST_CHECK(code_of(refusals[i]) == errc::sink_failed);
    BOOST_CHECK_EQUAL(retry_after_of(refusals[i]), i < 4 ? 2000 : -1);
  }
  BOOST_CHECK_NE(reason_of(refusals[0]).find("answered HTTP 503"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(other_4xx_refuse_the_batch_for_good) {
  uint64_t seq = 0;
  for (int status : {400, 413, 422}) {
    deliver(batch_of(++seq, 1));
    http->reply(http->calls.size() - 1, status, "no");
    sched.run();
  }
  BOOST_REQUIRE_EQUAL(refusals.size(), 3u);
  for (auto& r : refusals)
    BOOST_CHECK(code_of(r) == errc::sink_rejected);
  // The sink goes on with the next batch.
  deliver(batch_of(++seq, 1));
  http->reply(http->calls.size() - 1, 200, "");
  sched.run();
  BOOST_CHECK(acks == (std::vector<uint64_t>{4}));
}

BOOST_AUTO_TEST_CASE(printable_urls_lose_their_query_and_credentials) {
  BOOST_CHECK_EQUAL(printable_url("https://u:p@hooks.example/in?key=s3cret#x"),
                    "https://hooks.example/in");
  BOOST_CHECK_EQUAL(printable_url("http://127.0.0.1:9/hook"), "http://127.0.0.1:9/hook");
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
