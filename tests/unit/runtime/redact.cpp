// Channel ids are bearer capabilities: printed only as a short hash, and
// URLs without their query or channel id (runtime/redact.hpp).

#include "runtime/redact.hpp"

#include <boost/test/unit_test.hpp>

using namespace gcstream;

BOOST_AUTO_TEST_SUITE(redact_tests)

BOOST_AUTO_TEST_CASE(a_channel_is_named_by_a_short_hash_of_its_id) {
  auto a = channel_tag("streaming-0-fmpc3dkq3tn9qvc3v2gv0a");
  BOOST_CHECK_EQUAL(a.size(), 15u); // "ch:" and 12 hex digits
  BOOST_CHECK_EQUAL(a.rfind("ch:", 0), 0u);
  BOOST_CHECK_EQUAL(a.find_first_not_of("0123456789abcdef", 3), std::string::npos);
  BOOST_CHECK_EQUAL(a, channel_tag("streaming-0-fmpc3dkq3tn9qvc3v2gv0a")); // stable
  BOOST_CHECK_NE(a, channel_tag("streaming-0-fmpc3dkq3tn9qvc3v2gv0b"));
  BOOST_CHECK_EQUAL(a.find("fmpc3"), std::string::npos);
  BOOST_CHECK_EQUAL(channel_tag(""), "");
  // SHA-256("abc") starts with ba7816bf8f01.
  BOOST_CHECK_EQUAL(short_hash("abc"), "ba7816bf8f01");
}

BOOST_AUTO_TEST_CASE(urls_lose_their_query_and_channel_id) {
  auto u = redact_url("wss://streaming.mypurecloud.com/channels/streaming-0-secretid?token=x");
  BOOST_CHECK_EQUAL(u, "wss://streaming.mypurecloud.com/channels/"
                         + channel_tag("streaming-0-secretid"));
  BOOST_CHECK_EQUAL(redact_url("https://api.mypurecloud.com/api/v2/notifications/channels/"
                               "abc/subscriptions?ignoreErrors=true"),
                    "https://api.mypurecloud.com/api/v2/notifications/channels/"
                      + channel_tag("abc") + "/subscriptions");
  BOOST_CHECK_EQUAL(redact_url("https://login.mypurecloud.com/oauth/token"),
                    "https://login.mypurecloud.com/oauth/token");
}

BOOST_AUTO_TEST_SUITE_END()
