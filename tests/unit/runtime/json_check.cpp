// The JSON check: every kind of fault is found, and on random damage to real
// frames it agrees with a strict parser (nlohmann's) exactly.

#include "runtime/json_check.hpp"

#include <boost/test/unit_test.hpp>

#include <functional>
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

BOOST_AUTO_TEST_SUITE(json_paths_tests)

BOOST_AUTO_TEST_CASE(a_surrogate_escape_is_valid_only_as_a_pair) {
  BOOST_CHECK(check(R"(["\ud83d\ude00"])") == json_fault::ok);
  BOOST_CHECK(check(R"(["\ud83d"])") == json_fault::string);
  BOOST_CHECK(check(R"(["\ude00\ud83d"])") == json_fault::string);
  BOOST_CHECK(check(R"(["\ud83d\u0041"])") == json_fault::string);
  BOOST_CHECK(check(R"(["\ud83d x"])") == json_fault::string);
  BOOST_CHECK(check(R"(["\ud83d\ud)") == json_fault::truncated);
  std::string out;
  BOOST_CHECK(unescape_json_string(R"(a\u00e9\ud83d\ude00\n\"\/\\)", out));
  BOOST_CHECK_EQUAL(out, "a\xc3\xa9\xf0\x9f\x98\x80\n\"/\\");
  BOOST_CHECK(!unescape_json_string(R"(\ud83d)", out));
}

BOOST_AUTO_TEST_CASE(values_are_found_where_their_paths_lead_in_one_pass) {
  json_paths paths;
  auto topic = paths.add({"topicName"});
  auto time = paths.add_pointer("/eventBody/eventTime");
  auto tag = paths.add_pointer("/eventBody/tags/1");
  auto deep = paths.add_pointer("/eventBody/nested/x/1/y");
  auto id = paths.add_pointer("/metadata/CorrelationId");
  auto missing = paths.add_pointer("/eventBody/absent");
  auto odd = paths.add_pointer("/a~1b/c~0d");
  BOOST_CHECK_EQUAL(paths.add_pointer("/topicName"), topic); // the same slot
  std::vector<json_span> spans(paths.size());
  BOOST_REQUIRE(check_json(frame.data(), frame.size(), paths, spans.data()) == json_fault::ok);
  BOOST_CHECK_EQUAL(spans[topic].text(), "v2.detail.events.conversation.c1.customer.start");
  BOOST_CHECK(!spans[topic].escaped);
  BOOST_CHECK_EQUAL(spans[time].text(), "1763800000123");
  BOOST_CHECK_EQUAL(spans[tag].text(), R"(b\n\u00e9)");
  BOOST_CHECK(spans[tag].escaped);
  BOOST_CHECK_EQUAL(spans[deep].kind(), '[');
  BOOST_CHECK_EQUAL(spans[id].text(), R"(3f0a-\"quoted\"-\\path)");
  BOOST_CHECK(!spans[missing].found());
  BOOST_CHECK(!spans[odd].found());
  // The first occurrence counts; keys compare as they read; a path through
  // a value that is no container leads nowhere.
  std::string text = R"({"a/b":{"c~d":1},"topic\u004eame":"x","topicName":"y",)"
                     R"("eventBody":7,"metadata":{"CorrelationId":[1]}})";
  BOOST_REQUIRE(check_json(text.data(), text.size(), paths, spans.data()) == json_fault::ok);
  BOOST_CHECK_EQUAL(spans[odd].text(), "1");
  BOOST_CHECK_EQUAL(spans[topic].text(), "x");
  BOOST_CHECK(!spans[time].found());
  BOOST_CHECK_EQUAL(spans[id].kind(), '[');
}

BOOST_AUTO_TEST_CASE(recording_agrees_with_a_full_parser_on_random_documents) {
  // Random nested documents: every path's span is what nlohmann finds.
  std::mt19937 rng{7};
  const std::vector<std::string> keys = {"a", "b", "eventBody", "x\"y", "0", "1"};
  json_paths paths;
  std::vector<nlohmann::json::json_pointer> pointers;
  for (auto& k1 : {"a", "b", "eventBody"})
    for (auto& k2 : {"a", "0", "1", "x\"y"}) {
      std::string p = std::string{"/"} + k1 + "/" + k2;
      paths.add_pointer(p);
      pointers.emplace_back(p);
    }
  std::function<nlohmann::json(int)> make = [&](int depth) -> nlohmann::json {
    auto pick = rng() % (depth > 3 ? 3 : 6);
    if (pick == 0)
      return static_cast<int>(rng() % 1000);
    if (pick == 1)
      return "s" + std::to_string(rng() % 10) + (rng() % 2 ? "\n\u00e9" : "");
    if (pick == 2)
      return nullptr;
    if (pick == 3) {
      auto a = nlohmann::json::array();
      for (unsigned i = rng() % 4; i > 0; --i)
        a.push_back(make(depth + 1));
      return a;
    }
    auto o = nlohmann::json::object();
    for (unsigned i = rng() % 5; i > 0; --i)
      o[keys[rng() % keys.size()]] = make(depth + 1);
    return o;
  };
  std::vector<json_span> spans(paths.size());
  size_t seen = 0;
  for (int round = 0; round < 2000; ++round) {
    auto doc = nlohmann::json::object();
    for (unsigned i = 1 + rng() % 3; i > 0; --i)
      doc[keys[rng() % 3]] = make(1);
    auto text = doc.dump();
    BOOST_REQUIRE(check_json(text.data(), text.size(), paths, spans.data()) == json_fault::ok);
    for (size_t i = 0; i < pointers.size(); ++i) {
      bool there = doc.contains(pointers[i]);
      // (nlohmann reads "/a/0" in an object as the key "0", as we do)
      BOOST_CHECK_EQUAL(spans[i].found(), there);
      seen += there ? 1 : 0;
      if (there && spans[i].found() && spans[i].kind() != '{' && spans[i].kind() != '[')
        BOOST_CHECK_EQUAL(nlohmann::json::parse(std::string{spans[i].begin, spans[i].end}),
                          doc[pointers[i]]);
    }
  }
  BOOST_CHECK_GT(seen, 1000u); // (the documents do hold the paths)
}

BOOST_AUTO_TEST_SUITE_END()
