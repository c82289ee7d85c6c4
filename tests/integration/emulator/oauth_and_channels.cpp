// The emulator's REST side over loopback, as a client sees it.

#include <boost/test/unit_test.hpp>

#include "tests/support/emulator_fixture.hpp"

using namespace gcstream;
using json = nlohmann::json;

BOOST_FIXTURE_TEST_SUITE(emulator_rest, test::emulator_fixture)

BOOST_AUTO_TEST_CASE(login_with_basic_auth_and_with_form_fields) {
  probe::http_options basic;
  basic.user = "app";
  basic.password = "s3cret-Value";
  auto r = probe::http("POST", base + "/oauth/token", "grant_type=client_credentials",
                       basic);
  BOOST_REQUIRE_EQUAL(r.status, 200);
  // The server closes after each response and says so: keep-alive clients
  // such as the Genesys JavaScript SDK must not reuse the connection.
  BOOST_CHECK_EQUAL(r.headers["connection"], "close");
  auto j = json::parse(r.body);
  BOOST_CHECK_EQUAL(j["token_type"], "bearer");
  BOOST_CHECK_EQUAL(j["expires_in"], 86400);
  auto form = probe::http("POST", base + "/oauth/token",
                          "grant_type=client_credentials&client_id=app&"
                          "client_secret=s3cret-Value");
  BOOST_CHECK_EQUAL(form.status, 200);
  auto bad = probe::http("POST", base + "/oauth/token",
                         "grant_type=client_credentials&client_id=app&"
                         "client_secret=wrong");
  BOOST_CHECK_EQUAL(bad.status, 401);
  BOOST_CHECK_EQUAL(json::parse(bad.body)["error"], "invalid_client");
}

BOOST_AUTO_TEST_CASE(channel_lifecycle_over_http) {
  auto tok = probe::get_token(base, "app", "s3cret-Value");
  auto ch = probe::create_channel(base, tok);
  BOOST_CHECK_EQUAL(ch.connect_uri, "ws://127.0.0.1:" + std::to_string(srv.port())
                                      + "/channels/" + ch.id);
  probe::http_options auth;
  auth.headers = {"Authorization: Bearer " + tok};
  auto url = base + "/api/v2/notifications/channels/" + ch.id;
  BOOST_CHECK_EQUAL(probe::http("HEAD", url, "", auth).status, 200);
  BOOST_CHECK_EQUAL(probe::http("HEAD", url + "x", "", auth).status, 404);
  auto sub = probe::subscribe(base, tok, ch.id, {"v2.users.u1.presence"});
  BOOST_CHECK_EQUAL(sub.status, 200);
  auto list = probe::http("GET", url + "/subscriptions", "", auth);
  BOOST_CHECK_EQUAL(json::parse(list.body)["entities"][0]["id"],
                    "v2.users.u1.presence");
  BOOST_CHECK_EQUAL(probe::http("DELETE", url + "/subscriptions", "", auth).status,
                    204);
  auto channels =
    probe::http("GET", base + "/api/v2/notifications/channels", "", auth);
  BOOST_CHECK_EQUAL(json::parse(channels.body)["entities"].size(), 1u);
  // Without a token: 401, with the documented body.
  auto anon = probe::http("GET", base + "/api/v2/notifications/channels");
  BOOST_CHECK_EQUAL(anon.status, 401);
  BOOST_CHECK_EQUAL(json::parse(anon.body)["status"], 401);
}

BOOST_AUTO_TEST_CASE(control_endpoints_read_stats_and_change_settings) {
  probe::http_options o;
  auto cfg = probe::http("POST", base + "/emulator/config",
                         R"({"rate_limit_per_minute": 2})", o);
  BOOST_CHECK_EQUAL(cfg.status, 200);
  BOOST_CHECK_EQUAL(json::parse(probe::http("GET", base + "/emulator/config").body)
                      ["rate_limit_per_minute"],
                    2);
  BOOST_CHECK_EQUAL(
    probe::http("POST", base + "/emulator/config", R"({"nope": 1})").status, 400);
  auto tok = probe::get_token(base, "app", "s3cret-Value");
  probe::http_options auth;
  auth.headers = {"Authorization: Bearer " + tok};
  auto url = base + "/api/v2/notifications/channels";
  probe::http("GET", url, "", auth);
  probe::http("GET", url, "", auth);
  auto limited = probe::http("GET", url, "", auth);
  BOOST_CHECK_EQUAL(limited.status, 429);
  BOOST_CHECK_EQUAL(limited.headers["retry-after"], "1");
  auto s = json::parse(probe::http("GET", base + "/emulator/stats").body);
  BOOST_CHECK_EQUAL(s["http"]["channels"]["429"], 1);
  BOOST_CHECK_EQUAL(s["token_requests"]["app"], 1);
}

BOOST_AUTO_TEST_SUITE_END()
