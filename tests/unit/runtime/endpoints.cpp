#include "runtime/endpoints.hpp"

#include <boost/test/unit_test.hpp>

#include "messages/errors.hpp"
#include "runtime/http_client.hpp"

using namespace gcstream;

BOOST_AUTO_TEST_SUITE(endpoints_tests)

BOOST_AUTO_TEST_CASE(environment_names_map_to_login_and_api_hosts) {
  auto e = endpoints_for("mypurecloud.de");
  BOOST_REQUIRE(e);
  BOOST_CHECK_EQUAL(e->login_url, "https://login.mypurecloud.de");
  BOOST_CHECK_EQUAL(e->api_url, "https://api.mypurecloud.de");
  BOOST_CHECK(endpoints_for("use2.us-gov-pure.cloud"));
  auto bad = endpoints_for("example.com");
  BOOST_REQUIRE(!bad);
  BOOST_CHECK(code_of(bad.error()) == errc::bad_config);
  BOOST_CHECK_EQUAL(known_environments().size(), 17u);
}

BOOST_AUTO_TEST_CASE(plain_http_only_for_loopback) {
  BOOST_CHECK(!check_url("http://127.0.0.1:8080/oauth/token", false));
  BOOST_CHECK(!check_url("http://localhost/x", false));
  BOOST_CHECK(!check_url("http://[::1]:9/x", false));
  BOOST_CHECK(!check_url("https://login.mypurecloud.com/oauth/token", false));
  BOOST_CHECK(code_of(check_url("http://login.mypurecloud.com/x", false))
              == errc::insecure_url);
  BOOST_CHECK(code_of(check_url("http://127.evil.com/x", false))
              == errc::insecure_url);
  BOOST_CHECK(!check_url("http://10.0.0.1/x", true)); // explicit opt-in
  BOOST_CHECK(code_of(check_url("ftp://127.0.0.1/x", true)) == errc::bad_url);
  BOOST_CHECK(code_of(check_url("https://", false)) == errc::bad_url);
}

BOOST_AUTO_TEST_CASE(retry_after_takes_seconds_or_an_http_date) {
  BOOST_CHECK_EQUAL(parse_retry_after("7", 0), 7000);
  BOOST_CHECK_EQUAL(parse_retry_after(" 120 ", 0), 120000);
  // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
  BOOST_CHECK_EQUAL(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111770),
                    7000);
  BOOST_CHECK_EQUAL(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111800),
                    0); // in the past: now
  BOOST_CHECK_EQUAL(parse_retry_after("soon", 0), -1);
  BOOST_CHECK_EQUAL(parse_retry_after("", 0), -1);
}

BOOST_AUTO_TEST_SUITE_END()
