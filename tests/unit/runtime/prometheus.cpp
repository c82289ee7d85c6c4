// The Prometheus text format as the exposition format's rules state it.

#include "runtime/prometheus.hpp"

#include <boost/test/unit_test.hpp>

#include "runtime/hmac.hpp"

using namespace gcstream;

BOOST_AUTO_TEST_SUITE(prometheus_tests)

BOOST_AUTO_TEST_CASE(one_help_and_type_per_family_then_its_samples) {
  exposition x;
  x.family("gcstream_connects_total", "WebSockets opened", "counter");
  x.sample({{"tenant", "a"}}, 3);
  x.family("gcstream_event_rate", "Events per second", "gauge");
  x.sample({{"tenant", "a"}}, 12.5);
  x.family("gcstream_connects_total", "WebSockets opened", "counter"); // again
  x.sample({{"tenant", "b"}}, 4);
  BOOST_CHECK_EQUAL(x.render(),
                    "# HELP gcstream_connects_total WebSockets opened\n"
                    "# TYPE gcstream_connects_total counter\n"
                    "gcstream_connects_total{tenant=\"a\"} 3\n"
                    "gcstream_connects_total{tenant=\"b\"} 4\n"
                    "# HELP gcstream_event_rate Events per second\n"
                    "# TYPE gcstream_event_rate gauge\n"
                    "gcstream_event_rate{tenant=\"a\"} 12.5\n");
}

BOOST_AUTO_TEST_CASE(label_values_and_help_are_escaped) {
  BOOST_CHECK_EQUAL(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  exposition x;
  x.family("m", "line one\nback\\slash", "gauge");
  x.sample({{"tenant", "x\"y"}}, 1);
  auto text = x.render();
  BOOST_CHECK_NE(text.find("# HELP m line one\\nback\\\\slash\n"), std::string::npos);
  BOOST_CHECK_NE(text.find("m{tenant=\"x\\\"y\"} 1\n"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(histograms_have_cumulative_buckets_inf_sum_and_count) {
  histogram h{{0.1, 1, 10}};
  for (double v : {0.05, 0.5, 0.7, 5.0, 50.0})
    h.observe(v);
  exposition x;
  x.family("gcstream_gap_seconds", "gaps", "histogram");
  x.sample({{"tenant", "a"}}, h);
  BOOST_CHECK_EQUAL(x.render(),
                    "# HELP gcstream_gap_seconds gaps\n"
                    "# TYPE gcstream_gap_seconds histogram\n"
                    "gcstream_gap_seconds_bucket{tenant=\"a\",le=\"0.1\"} 1\n"
                    "gcstream_gap_seconds_bucket{tenant=\"a\",le=\"1\"} 3\n"
                    "gcstream_gap_seconds_bucket{tenant=\"a\",le=\"10\"} 4\n"
                    "gcstream_gap_seconds_bucket{tenant=\"a\",le=\"+Inf\"} 5\n"
                    "gcstream_gap_seconds_sum{tenant=\"a\"} 56.25\n"
                    "gcstream_gap_seconds_count{tenant=\"a\"} 5\n");
}

BOOST_AUTO_TEST_CASE(hmac_sha256_matches_rfc_4231_case_2) {
  BOOST_CHECK_EQUAL(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

BOOST_AUTO_TEST_SUITE_END()
