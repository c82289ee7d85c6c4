#include "emulator/http_util.hpp"

#include <boost/test/unit_test.hpp>

using namespace gcstream::emulator;

BOOST_AUTO_TEST_SUITE(http_util_tests)

BOOST_AUTO_TEST_CASE(splits_target_and_decodes_query) {
  auto [path, query] = split_target("/a/b?ignoreErrors=true&x=%41+b");
  BOOST_CHECK_EQUAL(path, "/a/b");
  auto q = parse_form(query);
  BOOST_CHECK_EQUAL(q["ignoreErrors"], "true");
  BOOST_CHECK_EQUAL(q["x"], "A b");
  BOOST_CHECK_EQUAL(split_target("/plain").second, "");
}

BOOST_AUTO_TEST_CASE(reads_basic_and_bearer_credentials) {
  // base64("app:s3cr:et") — the secret may contain a colon.
  auto basic = parse_basic_auth("Basic YXBwOnMzY3I6ZXQ=");
  BOOST_REQUIRE(basic);
  BOOST_CHECK_EQUAL(basic->first, "app");
  BOOST_CHECK_EQUAL(basic->second, "s3cr:et");
  BOOST_CHECK(!parse_basic_auth("Basic !!!"));
  BOOST_CHECK(!parse_basic_auth("Bearer abc"));
  BOOST_CHECK_EQUAL(*parse_bearer("bearer abc"), "abc");
  BOOST_CHECK(!parse_bearer("Bearer "));
}

BOOST_AUTO_TEST_CASE(glob_patterns_match_whole_topics) {
  BOOST_CHECK(glob_match("v2.users.*.presence", "v2.users.u1.presence"));
  BOOST_CHECK(!glob_match("v2.users.*.presence", "v2.users.u1.routingStatus"));
  BOOST_CHECK(glob_match("*", ""));
  BOOST_CHECK(glob_match("v2.*.*.x", "v2.a.b.c.x"));
  BOOST_CHECK(!glob_match("v2.routing.*", "v2.users.x"));
}

BOOST_AUTO_TEST_SUITE_END()
