// The JSON check: every kind of fault is found, and on random damage to real
// frames it agrees with a strict parser (nlohmann's) exactly.

#include "runtime/json_check.hpp"

#include <boost/test/unit_test.hpp>

#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/envelope.hpp"

using namespace gcstream;

namespace {

json_fault check(const std::string& s) {
  return check_json(s.data(), s.size());
}

const std::string frame =
  R"({"topicName":"v2.detail.events.conversation.c1.customer.start","version":"2",)"
  R"("eventBody":{"eventTime":1763800000123,"conversationId":"c1","participantId":"p1",)"
  R"("sessionId":"s1","mediaType":"VOICE","queueId":"q1","ani":"tel:+15551234567",)"
  R"("dnis":"tel:+15557654321","direction":"INBOUND","held":false,"recording":true,)"
  R"("wrapup":null,"score":-1.5e-3,"tags":["a","b\n\u00e9"],"nested":{"x":[1,{"y":[]}]}},)"
  R"("metadata":{"CorrelationId":"3f0a-\"quoted\"-\\path"}})";

} // namespace

BOOST_AUTO_TEST_SUITE(json_check_tests)

BOOST_AUTO_TEST_CASE(valid_texts_pass) {
  for (std::string s : {frame, std::string{"{}"}, std::string{"[]"}, std::string{" 0 "},
                        std::string{"-0.5E+10"}, std::string{"\"\""}, std::string{"null"},
                        std::string{"[true,false,null]"}, std::string{"{\"a\":{}}\n"}})
    BOOST_CHECK_MESSAGE(check(s) == json_fault::ok, s);
}

BOOST_AUTO_TEST_CASE(each_fault_is_named) {
  BOOST_CHECK(check(frame.substr(0, frame.size() - 1)) == json_fault::truncated);
  BOOST_CHECK(check(frame + " junk") == json_fault::trailing);
  BOOST_CHECK(check(frame + "{}") == json_fault::trailing);
  BOOST_CHECK(check(R"({"a":tru})") == json_fault::literal);
  BOOST_CHECK(check(R"({"a":nulll})") == json_fault::literal);
  BOOST_CHECK(check(R"({"a":01})") == json_fault::number);
  BOOST_CHECK(check(R"({"a":1.})") == json_fault::number);
  BOOST_CHECK(check(R"({"a":1.2.3})") == json_fault::number);
  BOOST_CHECK(check(R"({"a":"\x"})") == json_fault::string);
  BOOST_CHECK(check(R"({"a":"\u12G4"})") == json_fault::string);
  BOOST_CHECK(check("{\"a\":\"tab\there\"}") == json_fault::string);
  BOOST_CHECK(check(R"({"a":1,})") == json_fault::structure);
  BOOST_CHECK(check(R"({"a" 1})") == json_fault::structure);
  BOOST_CHECK(check(R"([1 2])") == json_fault::structure);
  BOOST_CHECK(check(R"({"a":[1}})") == json_fault::structure);
  BOOST_CHECK(check("") == json_fault::truncated);
  BOOST_CHECK(check(std::string(300, '[') + std::string(300, ']')) == json_fault::depth);
}

BOOST_AUTO_TEST_CASE(the_envelope_parser_refuses_what_on_demand_lets_through) {
  // Each of these parses without an error in simdjson's On-Demand API,
  // which does not validate what it does not read.
  envelope_parser parser;
  envelope env;
  auto kind = [&](std::string s) {
    s.reserve(s.size() + envelope_parser::padding());
    return parser.parse(s.data(), s.size(), s.capacity(), 0, env);
  };
  BOOST_REQUIRE(kind(frame) == frame_kind::event);
  BOOST_CHECK(kind(frame.substr(0, frame.size() - 1)) == frame_kind::malformed);
  BOOST_CHECK_NE(env.error.find("not valid JSON (truncated)"), std::string::npos);
  BOOST_CHECK(kind(frame + " x") == frame_kind::malformed);
  auto bad_literal = frame;
  bad_literal.replace(bad_literal.find("\"held\":false"), 12, "\"held\":fals ");
  BOOST_CHECK(kind(bad_literal) == frame_kind::malformed);
  BOOST_CHECK_NE(env.error.find("literal"), std::string::npos);
}

// nlohmann refuses a number too big for a double (1e999) before it reads on;
// JSON's grammar, and this checker, do not care about the size of a number.
bool overflows(const std::string& s) {
  try {
    (void) nlohmann::json::parse(s);
    return false;
  } catch (const nlohmann::json::out_of_range& e) {
    return e.id == 406;
  } catch (const std::exception&) {
    return false;
  }
}

BOOST_AUTO_TEST_CASE(on_random_damage_it_agrees_with_a_strict_parser) {
  std::mt19937 rng{20261202};
  const std::string alphabet = "{}[],:\"\\ntfrue0123456789.-+eE \t\r/ax";
  size_t disagreements = 0, invalid = 0;
  for (int i = 0; i < 100000; ++i) {
    auto s = frame;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < edits; ++k) {
      auto at = rng() % (s.size() + 1);
      switch (rng() % 3) {
        case 0: // delete
          if (at < s.size())
            s.erase(at, 1);
          break;
        case 1: // insert
          s.insert(s.begin() + static_cast<long>(at), alphabet[rng() % alphabet.size()]);
          break;
        default: // replace
          if (at < s.size())
            s[at] = alphabet[rng() % alphabet.size()];
      }
    }
    bool ours = check(s) == json_fault::ok;
    if (overflows(s))
      continue; // no reference answer: nlohmann stops at the number
    bool theirs = nlohmann::json::accept(s);
    invalid += !theirs;
    if (ours != theirs && ++disagreements <= 5)
      BOOST_TEST_MESSAGE("disagree on: " << s);
  }
  BOOST_CHECK_EQUAL(disagreements, 0u);
  BOOST_CHECK_GT(invalid, 50000u); // the damage mostly breaks it
}

BOOST_AUTO_TEST_SUITE_END()
