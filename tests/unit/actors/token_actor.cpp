#include "actors/token_actor.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "tests/support/audit_capture.hpp"
#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/fake_http.hpp"

using namespace gcstream;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

constexpr const char* secret = "Sup3r-S3cret-Value";

token_settings settings() {
  token_settings s;
  s.tenant = "acme";
  s.login_url = "http://127.0.0.1:9/login";
  s.client_id = "app";
  s.client_secret = secret;
  s.seed = 42;
  return s;
}

struct outcome {
  std::optional<access_token> token;
  std::optional<caf::error> err;
  bool done() const { return token || err; }
};

struct token_fixture : test::deterministic_fixture {
  std::shared_ptr<test::fake_http> http = std::make_shared<test::fake_http>();
  test::audit_capture audit;
  std::shared_ptr<token_keep> keep = std::make_shared<token_keep>();
  token_actor tok;
  std::optional<caf::error> exit_reason;
  caf::actor watcher;

  explicit token_fixture(token_settings s = settings()) {
    tok = sys.spawn(token_actor_impl, s, http, audit.queue, keep);
    watcher = sys.spawn([this](caf::event_based_actor* self) -> caf::behavior {
      self->monitor(tok);
      self->set_down_handler(
        [this](const caf::down_msg& dm) { exit_reason = dm.reason; });
      return {[](int) {}}; // stays alive to see the down message
    });
    sched.run();
  }

  ~token_fixture() {
    caf::anon_send_exit(tok, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
    sched.run();
  }

  std::shared_ptr<outcome> ask(caf::timespan min_validity = caf::timespan{0}) {
    auto out = std::make_shared<outcome>();
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(tok, caf::infinite, token_atom::value, min_validity)
        .then([=](const access_token& t) { out->token = t; },
              [=](caf::error& e) { out->err = e; });
    });
    sched.run();
    return out;
  }

  bool expiring(caf::timespan within) {
    auto out = std::make_shared<std::optional<bool>>();
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(tok, caf::infinite, expiring_atom::value, within)
        .then([=](bool b) { *out = b; }, [](caf::error&) {});
    });
    sched.run();
    BOOST_REQUIRE(out->has_value());
    return **out;
  }

  void advance(milliseconds d) {
    sched.clock().advance_time(d);
    sched.run();
  }

  void reply_token(size_t i, const std::string& token, int expires_in) {
    http->reply(i, 200, test::fake_http::token_body(token, expires_in));
    sched.run();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(token_actor_tests, token_fixture)

BOOST_AUTO_TEST_CASE(asks_the_login_service_with_basic_auth) {
  ask();
  BOOST_REQUIRE_EQUAL(http->calls.size(), 1u);
  auto& req = http->calls[0].req;
  BOOST_CHECK_EQUAL(req.method, "POST");
  BOOST_CHECK_EQUAL(req.url, "http://127.0.0.1:9/login/oauth/token");
  BOOST_CHECK_EQUAL(req.body, "grant_type=client_credentials");
  BOOST_CHECK_EQUAL(req.basic_user, "app");
  BOOST_CHECK_EQUAL(req.basic_password, secret);
}

BOOST_AUTO_TEST_CASE(single_flight_under_100_concurrent_requests) {
  std::vector<std::shared_ptr<outcome>> outs;
  for (int i = 0; i < 100; ++i)
    outs.push_back(ask());
  BOOST_CHECK_EQUAL(http->calls.size(), 1u);
  BOOST_CHECK(std::none_of(outs.begin(), outs.end(),
                           [](auto& o) { return o->done(); }));
  reply_token(0, "tok-1", 300);
  for (auto& o : outs) {
    BOOST_REQUIRE(o->token);
    BOOST_CHECK_EQUAL(o->token->reveal(), "tok-1");
    BOOST_CHECK_EQUAL(o->token->generation(), 1u);
  }
  // A cached token costs no request.
  auto again = ask();
  BOOST_CHECK(again->token);
  BOOST_CHECK_EQUAL(http->calls.size(), 1u);
}

BOOST_AUTO_TEST_CASE(a_restarted_token_actor_hands_out_the_kept_token_on_schedule) {
  ask();
  reply_token(0, "tok-1", 300); // refresh due at 240 s
  advance(100s);
  caf::anon_send_exit(tok, caf::exit_reason::kill);
  sched.run();
  tok = sys.spawn(token_actor_impl, settings(), http, audit.queue, keep);
  sched.run();
  // The new one hands out the same token at once: no login call.
  auto got = ask();
  BOOST_REQUIRE(got->token);
  BOOST_CHECK_EQUAL(got->token->reveal(), "tok-1");
  BOOST_CHECK_EQUAL(http->calls.size(), 1u);
  // And refreshes it when it was due, not a lifetime later.
  advance(139s);
  BOOST_CHECK_EQUAL(http->calls.size(), 1u);
  advance(1s);
  BOOST_REQUIRE_EQUAL(http->calls.size(), 2u);
  reply_token(1, "tok-2", 300);
  auto next = ask();
  BOOST_REQUIRE(next->token);
  BOOST_CHECK_EQUAL(next->token->generation(), 2u); // generations go on
}

BOOST_AUTO_TEST_CASE(refreshes_at_the_fraction_of_the_lifetime) {
  ask();
  reply_token(0, "tok-1", 300); // 0.8 * 300 = 240 s, also 60 s before expiry
  advance(239s);
  BOOST_CHECK_EQUAL(http->calls.size(), 1u);
  advance(1s);
  BOOST_REQUIRE_EQUAL(http->calls.size(), 2u);
  // The old token serves while the refresh is in flight.
  auto during = ask();
  BOOST_REQUIRE(during->token);
  BOOST_CHECK_EQUAL(during->token->reveal(), "tok-1");
  reply_token(1, "tok-2", 86400);
  BOOST_CHECK_EQUAL(ask()->token->reveal(), "tok-2");
  // A day-long token: 0.8 of it (69120 s) comes before expiry minus 60 s.
  advance(69119s);
  BOOST_CHECK_EQUAL(http->calls.size(), 2u);
  advance(1s);
  BOOST_CHECK_EQUAL(http->calls.size(), 3u);
}

BOOST_AUTO_TEST_CASE(refresh_delay_is_never_later_than_the_margin) {
  auto s = settings();
  s.refresh_fraction = 1.0;
  BOOST_CHECK_EQUAL(refresh_delay(s, 86400s).count(), 86340000);
  BOOST_CHECK_EQUAL(refresh_delay(s, 300s).count(), 240000);
  s.refresh_fraction = 0.5;
  BOOST_CHECK_EQUAL(refresh_delay(s, 300s).count(), 150000);
  // Short lifetimes (tests, emulators): the fraction alone.
  BOOST_CHECK_EQUAL(refresh_delay(s, 2s).count(), 1000);
}

BOOST_AUTO_TEST_CASE(a_token_for_a_reconnect_must_outlive_the_threshold) {
  ask();
  reply_token(0, "tok-1", 300);
  BOOST_CHECK(!expiring(60s));
  advance(230s); // 70 s left
  BOOST_CHECK(!expiring(60s));
  BOOST_CHECK(expiring(80s));
  // Asking for 80 s of validity fetches a new token first.
  auto fresh = ask(80s);
  BOOST_REQUIRE_EQUAL(http->calls.size(), 2u);
  BOOST_CHECK(!fresh->done());
  reply_token(1, "tok-2", 300);
  BOOST_REQUIRE(fresh->token);
  BOOST_CHECK_EQUAL(fresh->token->reveal(), "tok-2");
}

BOOST_AUTO_TEST_CASE(honours_retry_after_on_429) {
  auto out = ask();
  http->reply(0, 429, R"({"message":"slow down"})", 7000);
  sched.run();
  advance(6999ms);
  BOOST_CHECK_EQUAL(http->calls.size(), 1u);
  advance(1ms);
  BOOST_REQUIRE_EQUAL(http->calls.size(), 2u);
  reply_token(1, "tok-1", 300);
  BOOST_REQUIRE(out->token);
  // Reported once as throttled; its retry says so, for the metrics to count
  // the 429 once (gcstream_token_failures_total).
  auto retries = audit.of("token_retry");
  BOOST_REQUIRE_EQUAL(retries.size(), 1u);
  BOOST_CHECK_EQUAL(test::audit_capture::field(retries[0], "cause"), "throttled");
  BOOST_CHECK_EQUAL(audit.of("token_throttled").size(), 1u);
}

BOOST_AUTO_TEST_CASE(gives_up_on_a_retry_after_beyond_the_cap) {
  auto out = ask();
  http->reply(0, 429, "{}", 181000);
  sched.run();
  BOOST_REQUIRE(out->err);
  BOOST_CHECK(code_of(*out->err) == errc::retry_after_beyond_cap);
  BOOST_CHECK(is_retriable(*out->err));
  advance(300s);
  BOOST_CHECK_EQUAL(http->calls.size(), 1u); // no timer was left behind
  BOOST_CHECK(!exit_reason);
}

BOOST_AUTO_TEST_CASE(retries_5xx_and_timeouts_within_full_jitter_bounds) {
  auto out = ask();
  // The same seeded sequence the actor draws from.
  jitter_rng rng{42};
  backoff_policy p = settings().backoff;
  for (uint32_t attempt = 0; attempt < 6; ++attempt) {
    size_t i = http->calls.size() - 1;
    if (attempt % 2 == 0)
      http->reply(i, 503, "");
    else
      http->fail(i, errc::http_timeout, "GET x failed: timeout");
    sched.run();
    auto d = full_jitter(p, attempt, rng);
    BOOST_REQUIRE_LE(d.count(), backoff_ceiling(p, attempt).count());
    if (d.count() > 0) {
      advance(d - 1ms);
      BOOST_CHECK_EQUAL(http->calls.size(), i + 1);
    }
    advance(d.count() > 0 ? 1ms : 0ms);
    BOOST_REQUIRE_EQUAL(http->calls.size(), i + 2);
  }
  BOOST_CHECK(!out->done());
  reply_token(http->calls.size() - 1, "tok-1", 300);
  BOOST_CHECK(out->token);
}

BOOST_AUTO_TEST_CASE(bad_credentials_stop_the_tenant_once) {
  auto out = ask();
  http->reply(0, 401,
              R"({"error":"invalid_client","error_description":"client not found"})");
  sched.run();
  BOOST_REQUIRE(out->err);
  BOOST_CHECK(code_of(*out->err) == errc::bad_credentials);
  BOOST_CHECK(!is_retriable(*out->err));
  auto why = reason_of(*out->err);
  BOOST_CHECK(why.find("tenant acme") != std::string::npos);
  BOOST_CHECK(why.find("invalid_client: client not found") != std::string::npos);
  BOOST_REQUIRE(exit_reason);
  BOOST_CHECK(code_of(*exit_reason) == errc::bad_credentials);
  advance(3600s);
  BOOST_CHECK_EQUAL(http->calls.size(), 1u); // no retry loop
}

BOOST_AUTO_TEST_CASE(a_fatal_transport_error_stops_the_tenant) {
  auto out = ask();
  http->fail(0, errc::tls_verify_failed,
             "POST https://login.x/oauth/token failed: SSL certificate problem");
  sched.run();
  BOOST_REQUIRE(out->err);
  BOOST_CHECK(code_of(*out->err) == errc::tls_verify_failed);
  BOOST_REQUIRE(exit_reason);
  BOOST_CHECK(reason_of(*exit_reason).find("tenant acme") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalidation_after_401_or_revocation_fetches_a_new_token) {
  ask();
  reply_token(0, "tok-1", 300);
  caf::anon_send(tok, invalidate_atom::value, uint64_t{1}, std::string{"401"});
  sched.run();
  BOOST_REQUIRE_EQUAL(http->calls.size(), 2u);
  auto waiting = ask();
  BOOST_CHECK(!waiting->done()); // the dropped token is not handed out
  // Several sessions report the same old token: one request only.
  caf::anon_send(tok, invalidate_atom::value, uint64_t{1},
                 std::string{"token_revoked"});
  sched.run();
  BOOST_CHECK_EQUAL(http->calls.size(), 2u);
  reply_token(1, "tok-2", 300);
  BOOST_REQUIRE(waiting->token);
  BOOST_CHECK_EQUAL(waiting->token->generation(), 2u);
  caf::anon_send(tok, invalidate_atom::value, uint64_t{1}, std::string{"401"});
  sched.run();
  BOOST_CHECK_EQUAL(http->calls.size(), 2u); // stale: token 2 stays
}

BOOST_AUTO_TEST_CASE(neither_secret_nor_token_in_audit_events_or_errors) {
  ask();
  reply_token(0, "tok-SECRET-1", 300);
  caf::anon_send(tok, invalidate_atom::value, uint64_t{1}, std::string{"401"});
  sched.run();
  http->reply(1, 503, "");
  sched.run();
  advance(2s);
  http->reply(2, 401, R"({"error":"invalid_client"})");
  sched.run();
  BOOST_REQUIRE(exit_reason);
  std::string all = reason_of(*exit_reason) + caf::to_string(*exit_reason);
  for (auto& e : audit.all()) {
    all += e.tenant + e.event;
    for (auto& [k, v] : e.fields)
      all += k + v;
  }
  all += to_string(access_token{"tok-SECRET-1", 1, 0});
  BOOST_CHECK(all.find(secret) == std::string::npos);
  BOOST_CHECK(all.find("tok-SECRET-1") == std::string::npos);
  std::vector<std::string> kinds;
  for (auto& e : audit.all())
    kinds.push_back(e.event);
  BOOST_CHECK(kinds == (std::vector<std::string>{"token_refreshed",
                                                 "token_invalidated",
                                                 "token_retry", "token_failed"}));
}

BOOST_AUTO_TEST_SUITE_END()
