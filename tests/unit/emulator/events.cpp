#include "emulator/events.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

using namespace gcstream::emulator;
using json = nlohmann::json;

BOOST_AUTO_TEST_SUITE(events_tests)

BOOST_AUTO_TEST_CASE(formats_iso8601_in_utc_with_milliseconds) {
  BOOST_CHECK_EQUAL(format_iso8601(0), "1970-01-01T00:00:00.000Z");
  BOOST_CHECK_EQUAL(format_iso8601(1763800000123), "2025-11-22T08:26:40.123Z");
  BOOST_CHECK_EQUAL(format_iso8601(-1), "1969-12-31T23:59:59.999Z");
  BOOST_CHECK_EQUAL(format_iso8601(951782400000), "2000-02-29T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(each_family_has_its_timestamp_field) {
  const int64_t t = 1763800000123;
  auto detail = json::parse(make_event_frame(
    "v2.detail.events.conversation.c0ffee.customer.start", 5, t, "cid-1"));
  BOOST_CHECK_EQUAL(detail["eventBody"]["eventTime"].get<int64_t>(), t);
  BOOST_CHECK_EQUAL(detail["eventBody"]["conversationId"], "c0ffee");
  BOOST_CHECK(detail["eventBody"].contains("participantId"));
  BOOST_CHECK(detail["eventBody"].contains("sessionId"));
  BOOST_CHECK_EQUAL(detail["metadata"]["CorrelationId"], "cid-1");
  BOOST_CHECK_EQUAL(detail["eventBody"]["emulatorSeq"], 5);
  // Conversation detail events are the 860-byte kind the benchmarks use.
  auto detail_size = make_event_frame(
    "v2.detail.events.conversation.6d2c5a1e-0000-0000-0000-000000000001."
    "customer.start", 5, t, "6d2c5a1e-0000-4000-a000-000000000001").size();
  BOOST_CHECK_GT(detail_size, 750u);
  BOOST_CHECK_LT(detail_size, 1000u);

  auto presence = json::parse(make_event_frame("v2.users.u1.presence", 1, t, "c"));
  BOOST_CHECK_EQUAL(presence["topicName"], "v2.users.u1.presence");
  BOOST_CHECK_EQUAL(presence["version"], "2");
  BOOST_CHECK_EQUAL(presence["eventBody"]["modifiedDate"], format_iso8601(t));
  BOOST_CHECK_EQUAL(presence["eventBody"]["id"], "u1");

  auto routing = json::parse(make_event_frame("v2.users.u1.routingStatus", 1, t, "c"));
  BOOST_CHECK_EQUAL(routing["eventBody"]["routingStatus"]["startTime"],
                    format_iso8601(t));

  auto queue = json::parse(
    make_event_frame("v2.routing.queues.q1.conversations", 1, t, "c"));
  BOOST_CHECK_EQUAL(queue["eventBody"]["participants"][0]["startTime"],
                    format_iso8601(t));

  BOOST_CHECK(is_observation_topic("v2.analytics.queues.q1.observations"));
  BOOST_CHECK(!is_observation_topic("v2.users.u1.presence"));
}

BOOST_AUTO_TEST_SUITE_END()
