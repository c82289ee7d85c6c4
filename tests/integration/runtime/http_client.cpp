// The libcurl HTTP client against the emulator over loopback.

#include "runtime/http_client.hpp"

#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include "messages/errors.hpp"
#include "tests/support/live_fixture.hpp"
#include "tests/support/throwaway_ca.hpp"

using namespace gcstream;
using json = nlohmann::json;

namespace {

http_request get(const std::string& url) {
  http_request r;
  r.url = url;
  return r;
}

// A loopback port with nothing listening on it.
uint16_t closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(http_client_tests, test::live_fixture)

BOOST_AUTO_TEST_CASE(methods_status_headers_and_body) {
  http_request tok;
  tok.method = "POST";
  tok.url = base + "/oauth/token";
  tok.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  tok.body = "grant_type=client_credentials";
  tok.basic_user = "app";
  tok.basic_password = "s3cret-Value";
  auto r = call(tok);
  BOOST_REQUIRE(r);
  BOOST_CHECK_EQUAL(r->status, 200);
  BOOST_CHECK_EQUAL(r->header("content-type"), "application/json");
  auto token = json::parse(r->body)["access_token"].get<std::string>();
  http_request create;
  create.method = "POST";
  create.url = base + "/api/v2/notifications/channels";
  create.headers = {{"Authorization", "Bearer " + token}};
  auto ch = call(create);
  BOOST_REQUIRE(ch);
  BOOST_REQUIRE_EQUAL(ch->status, 200);
  auto id = json::parse(ch->body)["id"].get<std::string>();
  http_request put;
  put.method = "PUT";
  put.url = base + "/api/v2/notifications/channels/" + id + "/subscriptions";
  put.headers = {{"Authorization", "Bearer " + token},
                 {"Content-Type", "application/json"}};
  put.body = R"([{"id":"v2.users.u1.presence"}])";
  BOOST_CHECK_EQUAL(call(put)->status, 200);
  http_request head;
  head.method = "HEAD";
  head.url = base + "/api/v2/notifications/channels/" + id;
  head.headers = create.headers;
  BOOST_CHECK_EQUAL(call(head)->status, 200);
  http_request del = put;
  del.method = "DELETE";
  del.body.clear();
  BOOST_CHECK_EQUAL(call(del)->status, 204);
}

BOOST_AUTO_TEST_CASE(retry_after_is_parsed_from_a_429) {
  srv.inject(R"({"kind":"http_error","path_prefix":"/api/","status":429,"retry_after_s":7})");
  auto r = call(get(base + "/api/v2/notifications/channels"));
  BOOST_REQUIRE(r);
  BOOST_CHECK_EQUAL(r->status, 429);
  BOOST_CHECK_EQUAL(r->retry_after_ms, 7000);
}

BOOST_AUTO_TEST_CASE(a_slow_answer_times_out_as_retriable) {
  http_settings hs;
  hs.total_timeout_ms = 300;
  http_client quick{hs};
  srv.inject(R"({"kind":"slow","path_prefix":"/api/","delay_ms":1000})");
  std::promise<caf::expected<http_response>> p;
  quick.submit(get(base + "/api/v2/notifications/channels"),
               [&](caf::expected<http_response> r) { p.set_value(std::move(r)); });
  auto r = p.get_future().get();
  BOOST_REQUIRE(!r);
  BOOST_CHECK(code_of(r.error()) == errc::http_timeout);
  BOOST_CHECK(is_retriable(r.error()));
}

BOOST_AUTO_TEST_CASE(a_response_over_the_cap_fails) {
  http_settings hs;
  hs.max_response_bytes = 64;
  http_client small{hs};
  std::promise<caf::expected<http_response>> p;
  small.submit(get(base + "/emulator/stats"),
               [&](caf::expected<http_response> r) { p.set_value(std::move(r)); });
  auto r = p.get_future().get();
  BOOST_REQUIRE(!r);
  BOOST_CHECK(code_of(r.error()) == errc::http_response_too_large);
}

BOOST_AUTO_TEST_CASE(refused_connections_and_insecure_urls) {
  auto refused = call(get("http://127.0.0.1:" + std::to_string(closed_port()) + "/x"));
  BOOST_REQUIRE(!refused);
  BOOST_CHECK(code_of(refused.error()) == errc::http_connect_failed);
  // Refused before any traffic: the URL is checked first.
  auto insecure = call(get("http://login.example.invalid/oauth/token"));
  BOOST_REQUIRE(!insecure);
  BOOST_CHECK(code_of(insecure.error()) == errc::insecure_url);
  BOOST_CHECK(!is_retriable(insecure.error()));
}

BOOST_AUTO_TEST_CASE(stop_fails_what_is_queued) {
  http_settings hs;
  hs.workers = 1;
  http_client one{hs};
  srv.inject(R"({"kind":"slow","path_prefix":"/api/","delay_ms":1500,"count":5})");
  std::mutex m;
  std::vector<caf::error> errors;
  for (int i = 0; i < 3; ++i)
    one.submit(get(base + "/api/v2/notifications/channels"),
               [&](caf::expected<http_response> r) {
                 std::lock_guard<std::mutex> g{m};
                 errors.push_back(r ? caf::error{} : r.error());
               });
  one.stop();
  BOOST_REQUIRE_EQUAL(errors.size(), 3u);
  for (auto& e : errors)
    BOOST_CHECK(code_of(e) == errc::http_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(http_client_tls_tests)

BOOST_AUTO_TEST_CASE(verifies_peer_and_host_name) {
  test::throwaway_ca ca;
  ca.make_cert("server", "DNS:localhost,IP:127.0.0.1");
  ca.make_cert("wrongname", "DNS:other.example");
  ca.make_ca("other");
  auto run = [&](const std::string& cert, const std::string& trust) {
    auto c = test::emulator_fixture::default_config();
    c.tls_cert = ca.path(cert + ".pem");
    c.tls_key = ca.path(cert + ".key");
    emulator::server srv{c};
    srv.start();
    http_settings hs;
    hs.ca_file = ca.path(trust + ".pem");
    http_client client{hs};
    std::promise<caf::expected<http_response>> p;
    http_request req;
    req.url = srv.base_url() + "/emulator/stats";
    client.submit(req, [&](caf::expected<http_response> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  };
  auto ok = run("server", "ca");
  BOOST_REQUIRE(ok);
  BOOST_CHECK_EQUAL(ok->status, 200);
  auto unknown_ca = run("server", "other");
  BOOST_REQUIRE(!unknown_ca);
  BOOST_CHECK(code_of(unknown_ca.error()) == errc::tls_verify_failed);
  BOOST_CHECK_MESSAGE(reason_of(unknown_ca.error()).find("certificate")
                        != std::string::npos,
                      reason_of(unknown_ca.error()));
  auto wrong_name = run("wrongname", "ca");
  BOOST_REQUIRE(!wrong_name);
  BOOST_CHECK(code_of(wrong_name.error()) == errc::tls_verify_failed);
}

BOOST_AUTO_TEST_SUITE_END()
