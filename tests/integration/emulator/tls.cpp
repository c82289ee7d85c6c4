// https and wss from a throwaway CA made at test time.

#include <boost/test/unit_test.hpp>

#include "tests/support/emulator_fixture.hpp"
#include "tests/support/throwaway_ca.hpp"

using namespace gcstream;
using json = nlohmann::json;

namespace {

struct tls_fixture {
  test::throwaway_ca ca;
  std::unique_ptr<emulator::server> srv;
  std::string base;

  explicit tls_fixture(const std::string& san = "DNS:localhost,IP:127.0.0.1") {
    ca.make_cert("server", san);
    auto cfg = test::emulator_fixture::default_config();
    cfg.tls_cert = ca.path("server.pem");
    cfg.tls_key = ca.path("server.key");
    srv = std::make_unique<emulator::server>(cfg);
    srv->start();
    base = srv->base_url();
  }
};

// "https://h:p" -> "wss://h:p".
std::string base_ws(const std::string& base) {
  return "wss" + base.substr(5);
}

struct wrong_name_fixture : tls_fixture {
  wrong_name_fixture() : tls_fixture("DNS:other.example") {}
};

} // namespace

BOOST_AUTO_TEST_SUITE(emulator_tls)

BOOST_FIXTURE_TEST_CASE(https_login_and_wss_events_with_the_right_ca, tls_fixture) {
  BOOST_CHECK_EQUAL(base.rfind("https://127.0.0.1:", 0), 0u);
  auto ca_file = ca.path("ca.pem");
  auto tok = probe::get_token(base, "app", "s3cret-Value", ca_file);
  auto ch = probe::create_channel(base, tok, ca_file);
  BOOST_CHECK_EQUAL(ch.connect_uri.rfind("wss://", 0), 0u);
  BOOST_REQUIRE_EQUAL(
    probe::subscribe(base, tok, ch.id, {"v2.users.u1.presence"}, false, ca_file).status,
    200);
  probe::ws_probe ws{ca_file};
  BOOST_REQUIRE_MESSAGE(ws.connect(ch.connect_uri), ws.error());
  BOOST_CHECK(ws.wait_until([&] { return ws.frame_count() >= 5; }));
}

BOOST_FIXTURE_TEST_CASE(an_unknown_ca_is_refused, tls_fixture) {
  ca.make_ca("other");
  probe::http_options o;
  o.ca_file = ca.path("other.pem");
  auto r = probe::http("POST", base + "/oauth/token", "grant_type=client_credentials", o);
  BOOST_CHECK_EQUAL(r.status, 0);
  BOOST_CHECK(!r.error.empty());
  probe::ws_probe ws{ca.path("other.pem")};
  BOOST_CHECK(!ws.connect(base_ws(base) + "/channels/x"));
  BOOST_CHECK_EQUAL(ws.close_code(), 0); // no HTTP answer: the handshake failed
}

BOOST_FIXTURE_TEST_CASE(a_certificate_for_another_name_is_refused, wrong_name_fixture) {
  probe::http_options o;
  o.ca_file = ca.path("ca.pem");
  auto r = probe::http("POST", base + "/oauth/token", "grant_type=client_credentials", o);
  BOOST_CHECK_EQUAL(r.status, 0);
  probe::ws_probe ws{ca.path("ca.pem")};
  BOOST_CHECK(!ws.connect(base_ws(base) + "/channels/x"));
  BOOST_CHECK(ws.current() == probe::ws_probe::state::failed);
  BOOST_CHECK_EQUAL(ws.close_code(), 0); // no HTTP answer: the handshake failed
}

BOOST_AUTO_TEST_SUITE_END()
