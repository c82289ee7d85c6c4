#include "runtime/envelope.hpp"

#include <boost/test/unit_test.hpp>

#include "messages/event.hpp"
#include "runtime/iso8601.hpp"

using namespace gcstream;

namespace {

const int64_t arrival = 1763800099999;

struct envelope_fixture {
  envelope_parser parser;
  envelope env;

  frame_kind parse(std::string_view frame) {
    return parser.parse(frame, arrival, env);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(iso8601_tests)

BOOST_AUTO_TEST_CASE(reads_zones_fractions_and_refuses_bad_dates) {
  int64_t t = 0;
  BOOST_CHECK(iso8601_to_epoch_ms("2025-11-22T08:26:40.123Z", t));
  BOOST_CHECK_EQUAL(t, 1763800000123);
  BOOST_CHECK(iso8601_to_epoch_ms("2025-11-22T10:26:40.123+02:00", t));
  BOOST_CHECK_EQUAL(t, 1763800000123);
  BOOST_CHECK(iso8601_to_epoch_ms("2025-11-22T03:26:40.1234567-0500", t));
  BOOST_CHECK_EQUAL(t, 1763800000123);
  BOOST_CHECK(iso8601_to_epoch_ms("1969-12-31T23:59:59.999Z", t));
  BOOST_CHECK_EQUAL(t, -1);
  BOOST_CHECK(iso8601_to_epoch_ms("2024-02-29 00:00:00Z", t));
  BOOST_CHECK(!iso8601_to_epoch_ms("2023-02-29T00:00:00Z", t));
  BOOST_CHECK(!iso8601_to_epoch_ms("2025-11-22T08:26:40", t)); // no zone
  BOOST_CHECK(!iso8601_to_epoch_ms("2025-11-22T08:26:40.Z", t));
  BOOST_CHECK(!iso8601_to_epoch_ms("2025-13-01T00:00:00Z", t));
  BOOST_CHECK(!iso8601_to_epoch_ms("", t));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(envelope_tests, envelope_fixture)

BOOST_AUTO_TEST_CASE(conversation_detail_event_orders_by_event_time) {
  BOOST_CHECK(parse(R"({"topicName":"v2.detail.events.conversation.c1.customer.start",)"
                    R"("version":"2","eventBody":{"eventTime":1763800000123,)"
                    R"("conversationId":"c1"},"metadata":{"CorrelationId":"cid-1"}})")
              == frame_kind::event);
  BOOST_CHECK_EQUAL(env.topic, "v2.detail.events.conversation.c1.customer.start");
  BOOST_CHECK_EQUAL(env.id, "cid-1");
  BOOST_CHECK_EQUAL(env.ts_ms, 1763800000123);
  BOOST_CHECK(env.ts_from_event);
}

BOOST_AUTO_TEST_CASE(an_event_time_that_is_no_int64_means_arrival_time) {
  auto with_time = [&](const std::string& t) {
    BOOST_REQUIRE(parse(R"({"topicName":"v2.detail.events.conversation.c1.customer.start",)"
                        R"("eventBody":{"eventTime":)" + t + "}}")
                  == frame_kind::event);
    return env.ts_from_event ? env.ts_ms : -1;
  };
  BOOST_CHECK_EQUAL(with_time("-5"), -5);
  BOOST_CHECK_EQUAL(with_time("9223372036854775807"), INT64_MAX);
  BOOST_CHECK_EQUAL(with_time("-9223372036854775808"), INT64_MIN);
  BOOST_CHECK_EQUAL(with_time("9223372036854775808"), -1);
  BOOST_CHECK_EQUAL(with_time("99999999999999999999999"), -1);
  BOOST_CHECK_EQUAL(with_time("1.5"), -1);
  BOOST_CHECK_EQUAL(with_time("1e3"), -1);
  BOOST_CHECK_EQUAL(with_time(R"("1763800000123")"), -1);
  BOOST_CHECK_EQUAL(with_time("null"), -1);
  // metadata that is no object cannot hold a CorrelationId: malformed.
  BOOST_CHECK(parse(R"({"topicName":"t","eventBody":{},"metadata":"x"})")
              == frame_kind::malformed);
}

BOOST_AUTO_TEST_CASE(valid_json_simdjson_cannot_hold_is_still_read) {
  // An integer beyond 64 bits is valid JSON that simdjson's DOM refuses: the
  // one-pass reader takes the frame instead, with the same result.
  BOOST_REQUIRE(parse(R"({"topicName":"v2.detail.events.conversation.c1.customer.start",)"
                      R"("eventBody":{"eventTime":1763800000123,"big":123456789012345678901234567890,)"
                      R"("tiny":1e400},"metadata":{"CorrelationId":"cid-9"}})")
                == frame_kind::event);
  BOOST_CHECK_EQUAL(env.topic, "v2.detail.events.conversation.c1.customer.start");
  BOOST_CHECK_EQUAL(env.id, "cid-9");
  BOOST_CHECK_EQUAL(env.ts_ms, 1763800000123);
  // What neither accepts is malformed, with what is wrong.
  BOOST_CHECK(parse(R"({"topicName":"t","eventBody":{"note":"\ud800"}})")
              == frame_kind::malformed);
  BOOST_CHECK_EQUAL(env.error, "not valid JSON (string)");
}

BOOST_AUTO_TEST_CASE(presence_and_routing_status_use_iso_times) {
  BOOST_CHECK(parse(R"({"metadata":{"CorrelationId":"p"},"topicName":"v2.users.u1.presence",)"
                    R"("eventBody":{"modifiedDate":"2025-11-22T08:26:40.123Z"}})")
              == frame_kind::event);
  BOOST_CHECK_EQUAL(env.ts_ms, 1763800000123); // any key order
  BOOST_CHECK_EQUAL(env.id, "p");
  parse(R"({"topicName":"v2.users.u1.routingStatus","eventBody":{"routingStatus":)"
        R"({"status":"IDLE","startTime":"2025-11-22T08:26:41.000Z"}},)"
        R"("metadata":{"CorrelationId":"r"}})");
  BOOST_CHECK_EQUAL(env.ts_ms, 1763800001000);
}

BOOST_AUTO_TEST_CASE(no_rule_or_no_field_means_arrival_time) {
  parse(R"({"topicName":"v2.routing.queues.q1.conversations","eventBody":{"id":"x"},)"
        R"("metadata":{"CorrelationId":"q"}})");
  BOOST_CHECK(env.kind == frame_kind::event);
  BOOST_CHECK_EQUAL(env.ts_ms, arrival);
  BOOST_CHECK(!env.ts_from_event);
  parse(R"({"topicName":"v2.users.u1.presence","eventBody":{"id":"u1"},)"
        R"("metadata":{"CorrelationId":"p"}})"); // modifiedDate is optional
  BOOST_CHECK(env.kind == frame_kind::event);
  BOOST_CHECK_EQUAL(env.ts_ms, arrival);
  parse(R"({"topicName":"v2.users.u1.presence","eventBody":{"modifiedDate":"yesterday"},)"
        R"("metadata":{"CorrelationId":"p"}})");
  BOOST_CHECK(env.kind == frame_kind::event);
  BOOST_CHECK_EQUAL(env.ts_ms, arrival);
}

BOOST_AUTO_TEST_CASE(custom_rules_and_a_body_key_for_ids) {
  envelope_parser custom{{{"v2.custom.*", "/eventBody/at/when", timestamp_format::epoch_ms}},
                         "eventId"};
  custom.parse(R"({"topicName":"v2.custom.x","eventBody":{"eventId":77,"at":{"when":5}}})",
               arrival, env);
  BOOST_CHECK(env.kind == frame_kind::event);
  BOOST_CHECK_EQUAL(env.id, "77");
  BOOST_CHECK_EQUAL(env.ts_ms, 5);
  custom.parse(R"({"topicName":"v2.custom.x","eventBody":{"eventId":-12 ,"at":{"when":5}}})",
               arrival, env);
  BOOST_CHECK_EQUAL(env.id, "-12"); // the integer as written, no space
  custom.parse(R"({"topicName":"v2.custom.x","eventBody":{"eventId":1.5}})", arrival, env);
  BOOST_CHECK(env.kind == frame_kind::event);
  BOOST_CHECK_EQUAL(env.id, ""); // neither a string nor an integer: no id
  parse(R"({"topicName":"v2.custom.x","eventBody":{"eventId":"e"}})");
  BOOST_CHECK_EQUAL(env.id, ""); // the default parser has no body key
}

BOOST_AUTO_TEST_CASE(the_rule_cache_starts_over_past_4096_topics_and_stays_right) {
  // Each topic's rule is cached; past 4,096 topics the cache is emptied.
  // Every lookup, before and after, must still find the topic's own rule.
  envelope_parser custom{{{"v2.a.*", "/eventBody/t", timestamp_format::epoch_ms}}};
  auto frame = [](const std::string& topic) {
    return R"({"topicName":")" + topic + R"(","eventBody":{"t":42},)"
           + R"("metadata":{"CorrelationId":"x"}})";
  };
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 5000; ++i) {
      bool ruled = i % 2 == 0;
      auto topic = (ruled ? "v2.a." : "v2.b.") + std::to_string(i);
      BOOST_REQUIRE(custom.parse(frame(topic), arrival, env) == frame_kind::event);
      BOOST_REQUIRE_EQUAL(env.ts_ms, ruled ? 42 : arrival);
    }
}

BOOST_AUTO_TEST_CASE(a_timestamp_outside_event_body_is_found_too) {
  envelope_parser custom{{{"v2.a.*", "/stamp/ms", timestamp_format::epoch_ms},
                          {"v2.b.*", "/eventBody", timestamp_format::epoch_ms}}};
  // After eventBody, before it, and a pointer to eventBody itself (an
  // object, not a time: the arrival time).
  custom.parse(R"({"topicName":"v2.a.x","eventBody":{"k":[1,{"m":2}]},"stamp":{"ms":9},)"
               R"("metadata":{"CorrelationId":"a1"}})",
               arrival, env);
  BOOST_CHECK(env.kind == frame_kind::event);
  BOOST_CHECK_EQUAL(env.ts_ms, 9);
  BOOST_CHECK_EQUAL(env.id, "a1");
  custom.parse(R"({"stamp":{"ms":8},"topicName":"v2.a.x","eventBody":{"k":1},)"
               R"("metadata":{"CorrelationId":"a2"}})",
               arrival, env);
  BOOST_CHECK_EQUAL(env.ts_ms, 8);
  BOOST_CHECK_EQUAL(env.id, "a2");
  custom.parse(R"({"topicName":"v2.b.x","eventBody":{"k":1},"metadata":{"CorrelationId":"b"}})",
               arrival, env);
  BOOST_CHECK(env.kind == frame_kind::event);
  BOOST_CHECK_EQUAL(env.ts_ms, arrival);
  BOOST_CHECK_EQUAL(env.id, "b");
}

BOOST_AUTO_TEST_CASE(topic_and_id_are_views_into_the_frame_and_so_are_the_events) {
  // The hot path: no string per event. The parser points into the frame's
  // own bytes, and an event built on the same buffer keeps viewing them.
  std::string f = R"({"topicName":"v2.users.u1.presence","eventBody":{},)"
                  R"("metadata":{"CorrelationId":"cid-7"}})";
  f.reserve(f.size() + envelope_parser::padding());
  BOOST_REQUIRE(parser.parse(f.data(), f.size(), f.capacity(), arrival, env)
                == frame_kind::event);
  const char* begin = f.data();
  const char* end = f.data() + f.size();
  BOOST_CHECK(env.topic.data() > begin && env.topic.data() < end);
  BOOST_CHECK(env.id.data() > begin && env.id.data() < end);
  event e{env.topic, env.id, env.ts_ms, arrival, false, frame_ref{std::move(f)}};
  BOOST_CHECK(e.views_frame());
  BOOST_CHECK_EQUAL(e.topic(), "v2.users.u1.presence");
  BOOST_CHECK_EQUAL(e.id(), "cid-7");
  auto& bytes = e.frame().str();
  BOOST_CHECK(e.id().data() >= bytes.data()
              && e.id().data() + e.id().size() <= bytes.data() + bytes.size());
}

BOOST_AUTO_TEST_CASE(escaped_strings_are_unescaped_and_then_copied) {
  // An escape means the text is not in the frame verbatim: the parser
  // unescapes it, and an event keeps its own copy.
  std::string f = R"({"topicName":"v2.users.u\u0031.presence","eventBody":{},)"
                  R"("metadata":{"CorrelationId":"a\"b"}})";
  BOOST_REQUIRE(parse(f) == frame_kind::event);
  BOOST_CHECK_EQUAL(env.topic, "v2.users.u1.presence");
  BOOST_CHECK_EQUAL(env.id, "a\"b");
  event e{env.topic, env.id, 1, 2, false, frame_ref{f}};
  BOOST_CHECK(!e.views_frame());
  BOOST_CHECK_EQUAL(e.topic(), "v2.users.u1.presence");
  BOOST_CHECK_EQUAL(e.id(), "a\"b");
  // A number where a string belongs is still refused.
  BOOST_CHECK(parse(R"({"topicName":"t","eventBody":{},"metadata":{"CorrelationId":5}})")
              == frame_kind::malformed);
  BOOST_CHECK(parse(R"({"topicName":7,"eventBody":{}})") == frame_kind::malformed);
}

BOOST_AUTO_TEST_CASE(channel_metadata_and_system_topics_are_told_apart) {
  BOOST_CHECK(parse(R"({"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}})")
              == frame_kind::heartbeat);
  BOOST_CHECK(parse(R"({"topicName":"channel.metadata","eventBody":{"message":"pong"}})")
              == frame_kind::pong);
  BOOST_CHECK(parse(R"({"topicName":"channel.metadata","eventBody":{}})")
              == frame_kind::metadata);
  BOOST_CHECK(parse(R"({"topicName":"v2.system.socket_closing","eventBody":{}})")
              == frame_kind::socket_closing);
  BOOST_CHECK(parse(R"({"topicName":"v2.system.no_longer_subscribed.ch1","eventBody":)"
                    R"({"systemTopicType":"no_longer_subscribed"}})")
              == frame_kind::no_longer_subscribed);
  BOOST_CHECK(parse(R"({"topicName":"v2.system.token_revoked.ch1","eventBody":{}})")
              == frame_kind::token_revoked);
  BOOST_CHECK(parse(R"({"topicName":"v2.system.subscription_changed.ch1","eventBody":{}})")
              == frame_kind::system);
}

BOOST_AUTO_TEST_CASE(a_system_message_says_which_channel_it_is_about) {
  BOOST_CHECK(parse(R"({"topicName":"v2.system.no_longer_subscribed.ch1","eventBody":)"
                    R"({"systemTopicType":"no_longer_subscribed","channelId":"streaming-0-abc"}})")
              == frame_kind::no_longer_subscribed);
  BOOST_CHECK_EQUAL(env.channel, "streaming-0-abc");
  BOOST_CHECK(parse(R"({"topicName":"v2.system.socket_closing","eventBody":{}})")
              == frame_kind::socket_closing);
  BOOST_CHECK(env.channel.empty()); // names none: about the socket's own
  // The same through the scalar reader (a number simdjson cannot hold).
  BOOST_CHECK(parse(R"({"topicName":"v2.system.token_revoked.ch1","eventBody":)"
                    R"({"channelId":"streaming-0-x\u0079z","n":123456789012345678901234567890}})")
              == frame_kind::token_revoked);
  BOOST_CHECK_EQUAL(env.channel, "streaming-0-xyz");
}

BOOST_AUTO_TEST_CASE(the_services_replies_are_no_events_and_not_malformed) {
  BOOST_CHECK(parse(R"({"result":"404","message":"The channel does not exist"})")
              == frame_kind::reply);
  BOOST_CHECK_EQUAL(env.result, "404");
  BOOST_CHECK(env.error.empty());
  BOOST_CHECK(parse(R"({"result":200,"status":"subscribed"})") == frame_kind::reply);
  BOOST_CHECK_EQUAL(env.result, "200");
  BOOST_CHECK(parse(R"({"result":"400","status":"error","n":123456789012345678901234567890})")
              == frame_kind::reply);
  BOOST_CHECK_EQUAL(env.result, "400");
  // Neither a topic nor a result: malformed, as before.
  BOOST_CHECK(parse(R"({"status":"subscribed"})") == frame_kind::malformed);
  BOOST_CHECK(parse(R"({"result":true})") == frame_kind::malformed);
  BOOST_CHECK(parse(R"({"topicName":7,"result":"404"})") == frame_kind::malformed);
}

BOOST_AUTO_TEST_CASE(malformed_frames_say_why) {
  for (auto bad : {"", "hello", R"({"topicName":"v2.users.u.presence" "eventBody":{}})",
                   R"({"topicName":"v2.users.u.presence","eventBody":{"modifiedDate":"20)",
                   R"({"topicName":42,"eventBody":{}})",
                   R"({"topicName":"v2.users.u.presence","eventBody":"text"})",
                   R"({"topicName":"v2.users.u.presence","metadata":{}})",
                   R"({"topicName":"v2.users.u.presence","eventBody":{},"metadata":{"CorrelationId":17}})"}) {
    BOOST_CHECK_MESSAGE(parse(bad) == frame_kind::malformed, "accepted: " << bad);
    BOOST_CHECK(!env.error.empty());
  }
}

BOOST_AUTO_TEST_CASE(a_broken_document_is_refused_whole) {
  // Found by the fuzzer (tests/fuzz/corpus/envelope/): a string that ends
  // early leaves `"melationId":76:53...` where a field should be; looking
  // fields up out of order in it broke an assumption inside simdjson.
  auto frame = std::string{R"({"topicName":"v2.users.6-000000000031.presence","version":"2",)"}
               + R"("eventBody":{"id":"6d2c","presenceDenifition":{"id":"x","systemPresence":)"
               + R"("Available"},"modifiedDate":","melationId":76:53.123Z"},"melationId":"3f0a-1"}})";
  BOOST_CHECK(parse(frame) == frame_kind::malformed);
  BOOST_CHECK_NE(env.error.find("not valid JSON"), std::string::npos);
  // Heartbeats and system messages are checked as strictly.
  BOOST_CHECK(parse(R"({"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"})")
              == frame_kind::malformed);
  BOOST_CHECK(parse(R"({"topicName":"v2.system.socket_closing","eventBody":{}} x)")
              == frame_kind::malformed);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_anywhere_is_malformed) {
  // The bad byte sits in a field the parser never reads: simdjson's first
  // stage still refuses it, so websocketpp need not check UTF-8 too.
  std::string frame = R"({"topicName":"v2.users.u.presence","eventBody":{"note":"caf)";
  frame += '\xC3';
  frame += '\x28';
  frame += R"("},"metadata":{"CorrelationId":"x"}})";
  BOOST_CHECK(parse(frame) == frame_kind::malformed);
  BOOST_CHECK_MESSAGE(env.error.find("UTF-8") != std::string::npos
                        || env.error.find("UTF8") != std::string::npos,
                      env.error);
}

BOOST_AUTO_TEST_SUITE_END()
