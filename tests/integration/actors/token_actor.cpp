// The token actor with the real HTTP client against the emulator.

#include "actors/token_actor.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "messages/errors.hpp"
#include "tests/support/live_fixture.hpp"
#include "tests/support/throwaway_ca.hpp"

using namespace gcstream;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr const char* secret = "s3cret-Value";

emulator::config short_tokens() {
  auto c = test::emulator_fixture::default_config();
  c.token_ttl_s = 2;
  c.rate_limit_per_minute = 1000000; // the test calls the API in a loop
  return c;
}

struct token_live : test::live_fixture {
  explicit token_live(emulator::config c = test::emulator_fixture::default_config())
    : test::live_fixture(std::move(c)) {}

  token_settings settings(const std::string& password = secret) {
    token_settings s;
    s.tenant = "acme";
    s.login_url = base;
    s.client_id = "app";
    s.client_secret = password;
    s.backoff = {std::chrono::milliseconds{50}, 2.0, std::chrono::milliseconds{500}};
    return s;
  }

  token_actor spawn_token(const std::string& password = secret) {
    return sys.spawn(token_actor_impl, settings(password), http, direct.queue,
                     std::make_shared<token_keep>());
  }

  caf::expected<access_token> get(const token_actor& tok,
                                  caf::timespan min_validity = caf::timespan{0}) {
    caf::scoped_actor self{sys};
    caf::expected<access_token> out = caf::make_error(caf::sec::request_timeout);
    self->request(tok, 20s, token_atom::value, min_validity)
      .receive([&](const access_token& t) { out = t; },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }

  long api_status(const access_token& t) {
    http_request req;
    req.url = base + "/api/v2/notifications/channels";
    req.headers = {{"Authorization", "Bearer " + t.reveal()}};
    auto r = call(req);
    return r ? r->status : 0;
  }

  // Waits until `tok` is down; returns its exit reason.
  caf::error wait_down(const caf::actor_addr& addr) {
    caf::scoped_actor self{sys};
    self->monitor(addr);
    caf::error reason = caf::make_error(caf::sec::request_timeout);
    self->receive([&](const caf::down_msg& dm) { reason = dm.reason; },
                  caf::after(20s) >> [] {});
    return reason;
  }
};

struct short_token_live : token_live {
  short_token_live() : token_live(short_tokens()) {}
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(token_live_tests, short_token_live)

BOOST_AUTO_TEST_CASE(short_lifetimes_many_refreshes_no_failed_call) {
  auto tok = spawn_token();
  std::set<uint64_t> generations;
  int calls = 0, failed = 0;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (generations.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    auto t = get(tok);
    BOOST_REQUIRE(t);
    generations.insert(t->generation());
    ++calls;
    if (api_status(*t) != 200)
      ++failed;
  }
  BOOST_CHECK_GE(generations.size(), 4u);
  BOOST_CHECK_EQUAL(failed, 0);
  BOOST_CHECK_GT(calls, 4);
  // Refreshes, not one request per call.
  auto requests = stats()["token_requests"]["app"].get<int>();
  BOOST_CHECK_LE(requests, static_cast<int>(generations.size()) + 1);
  caf::anon_send_exit(tok, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(token_live_fault_tests, token_live)

BOOST_AUTO_TEST_CASE(a_burst_of_429_is_waited_out) {
  srv.inject(R"({"kind":"http_error","path_prefix":"/oauth/token","status":429,)"
             R"("count":2,"retry_after_s":1})");
  auto tok = spawn_token();
  auto t = get(tok);
  BOOST_REQUIRE(t);
  BOOST_CHECK_EQUAL(api_status(*t), 200);
  auto s = stats();
  BOOST_CHECK_EQUAL(s["http"]["token"]["429"], 2);
  BOOST_CHECK_EQUAL(s["http"]["token"]["200"], 1);
  caf::anon_send_exit(tok, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_revoked_token_is_replaced) {
  auto tok = spawn_token();
  auto first = get(tok);
  BOOST_REQUIRE(first);
  srv.inject(R"({"kind":"revoke_token","client":"app"})");
  BOOST_CHECK_EQUAL(api_status(*first), 401);
  caf::anon_send(tok, invalidate_atom::value, first->generation(),
                 std::string{"401 from the API"});
  auto second = get(tok);
  BOOST_REQUIRE(second);
  BOOST_CHECK_GT(second->generation(), first->generation());
  BOOST_CHECK_EQUAL(api_status(*second), 200);
  caf::anon_send_exit(tok, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(bad_credentials_cost_one_request) {
  auto tok = spawn_token("wrong-secret");
  auto t = get(tok);
  BOOST_REQUIRE(!t);
  BOOST_CHECK(code_of(t.error()) == errc::bad_credentials);
  BOOST_CHECK(reason_of(t.error()).find("invalid_client") != std::string::npos);
  auto reason = wait_down(tok.address());
  BOOST_CHECK(code_of(reason) == errc::bad_credentials);
  BOOST_CHECK_EQUAL(stats()["token_requests"]["app"], 1);
}

BOOST_AUTO_TEST_CASE(no_secret_or_token_in_any_output) {
  // Everything the process prints while tokens are fetched, refused,
  // revoked and throttled, plus the audit events and error texts.
  char path[] = "/tmp/gcstream-output-XXXXXX";
  int fd = mkstemp(path);
  BOOST_REQUIRE_GE(fd, 0);
  fflush(stdout);
  fflush(stderr);
  int saved_out = dup(1), saved_err = dup(2);
  dup2(fd, 1);
  dup2(fd, 2);
  std::vector<std::string> tokens;
  std::string texts;
  {
    auto tok = spawn_token();
    auto t = get(tok);
    if (t)
      tokens.push_back(t->reveal());
    srv.inject(R"({"kind":"revoke_token"})");
    if (t)
      caf::anon_send(tok, invalidate_atom::value, t->generation(),
                     std::string{"token_revoked"});
    srv.inject(R"({"kind":"http_error","path_prefix":"/oauth/token","status":503,"count":1})");
    auto t2 = get(tok);
    if (t2)
      tokens.push_back(t2->reveal());
    texts += to_string(*t2);
    auto bad = spawn_token("wrong-" + std::string{secret});
    auto e = get(bad);
    if (!e)
      texts += caf::to_string(e.error()) + reason_of(e.error());
    texts += caf::to_string(wait_down(bad.address()));
    caf::anon_send_exit(tok, caf::exit_reason::user_shutdown);
  }
  fflush(stdout);
  fflush(stderr);
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  std::ifstream in{path};
  std::stringstream captured;
  captured << in.rdbuf();
  close(fd);
  unlink(path);
  std::string all = captured.str() + texts;
  for (auto& e : audit_copy()) {
    all += e.tenant + e.event;
    for (auto& [k, v] : e.fields)
      all += k + "=" + v;
  }
  BOOST_REQUIRE_EQUAL(tokens.size(), 2u);
  BOOST_CHECK(all.find(secret) == std::string::npos);
  for (auto& t : tokens)
    BOOST_CHECK(all.find(t) == std::string::npos);
  BOOST_CHECK(all.find("token_refreshed") != std::string::npos); // it did log
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(token_live_tls_tests)

BOOST_AUTO_TEST_CASE(tokens_over_https_and_a_clear_error_for_the_wrong_ca) {
  test::throwaway_ca ca;
  ca.make_cert("server", "DNS:localhost,IP:127.0.0.1");
  ca.make_ca("other");
  auto c = test::emulator_fixture::default_config();
  c.tls_cert = ca.path("server.pem");
  c.tls_key = ca.path("server.key");
  for (auto trust : {"ca", "other"}) {
    http_settings hs;
    hs.ca_file = ca.path(std::string{trust} + ".pem");
    test::live_fixture f{c, hs};
    token_settings s;
    s.tenant = "acme";
    s.login_url = f.base;
    s.client_id = "app";
    s.client_secret = secret;
    auto tok = f.sys.spawn(token_actor_impl, s, f.http, f.direct.queue,
                           std::make_shared<token_keep>());
    caf::scoped_actor self{f.sys};
    self->request(tok, 20s, token_atom::value, caf::timespan{0})
      .receive(
        [&](const access_token& t) {
          BOOST_CHECK_EQUAL(std::string{trust}, "ca");
          BOOST_CHECK(!t.empty());
        },
        [&](caf::error& e) {
          BOOST_CHECK_EQUAL(std::string{trust}, "other");
          BOOST_CHECK(code_of(e) == errc::tls_verify_failed);
          auto why = reason_of(e);
          BOOST_CHECK_MESSAGE(why.find("tenant acme") != std::string::npos
                                && why.find("certificate") != std::string::npos,
                              why);
        });
    caf::anon_send_exit(tok, caf::exit_reason::user_shutdown);
  }
}

BOOST_AUTO_TEST_SUITE_END()
