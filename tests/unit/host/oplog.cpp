// The program's operational log (host/oplog): text keeps the "gcstream:"
// lines; json is one object per line with ts, level, event and msg first,
// fields that cannot replace them, details as an array, and any bytes
// escaped or replaced.

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "host/oplog.hpp"

using namespace gcstream;
using json = nlohmann::json;

BOOST_AUTO_TEST_SUITE(oplog_tests)

BOOST_AUTO_TEST_CASE(text_is_the_gcstream_line_with_details_indented) {
  auto out = oplog::render(oplog::format::text, oplog::level::error, "all_tenants_failed",
                           "every tenant failed:", {{"failed", "2"}},
                           {"a: refused", "b: refused"}, 0);
  BOOST_CHECK_EQUAL(out, "gcstream: every tenant failed:\n  a: refused\n  b: refused\n");
}

BOOST_AUTO_TEST_CASE(json_is_one_line_with_fixed_keys_first) {
  // 2026-12-03T05:06:07.089Z
  int64_t at = 1796274367089;
  auto out = oplog::render(oplog::format::json, oplog::level::warn, "tenant_failed",
                           "tenant \"x\" failed:\n\tbad\xff", {{"tenant", "x"}, {"level", "debug"}},
                           {"one"}, at);
  BOOST_REQUIRE_EQUAL(out.back(), '\n');
  BOOST_CHECK_EQUAL(out.find('\n'), out.size() - 1); // one line
  auto j = nlohmann::ordered_json::parse(out);
  BOOST_CHECK_EQUAL(j.begin().key(), "ts");
  BOOST_CHECK_EQUAL(j["ts"], "2026-12-03T05:06:07.089Z");
  BOOST_CHECK_EQUAL(j["level"], "warn"); // a field does not replace it
  BOOST_CHECK_EQUAL(j["event"], "tenant_failed");
  BOOST_CHECK_EQUAL(j["msg"].get<std::string>().rfind("tenant \"x\" failed:\n\tbad", 0), 0u);
  BOOST_CHECK_EQUAL(j["tenant"], "x");
  BOOST_CHECK_EQUAL(j["details"].dump(), R"(["one"])");
}

BOOST_AUTO_TEST_CASE(levels_and_formats_parse_and_nothing_else_does) {
  BOOST_CHECK(oplog::parse_level("debug") == oplog::level::debug);
  BOOST_CHECK(oplog::parse_level("warning") == oplog::level::warn);
  BOOST_CHECK(oplog::parse_level("error") == oplog::level::error);
  BOOST_CHECK(!oplog::parse_level("ERROR"));
  BOOST_CHECK(!oplog::parse_level(""));
  BOOST_CHECK(oplog::parse_format("json") == oplog::format::json);
  BOOST_CHECK(!oplog::parse_format("yaml"));
}

BOOST_AUTO_TEST_SUITE_END()
