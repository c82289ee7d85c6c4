// The event rate read at scrape time (issue 15: no per-tenant tick).

#include <boost/test/unit_test.hpp>

#include "runtime/rate_meter.hpp"

using gcstream::rate_meter;

BOOST_AUTO_TEST_SUITE(rate_meter_tests)

BOOST_AUTO_TEST_CASE(nothing_yet_is_zero) {
  rate_meter r;
  BOOST_CHECK_EQUAL(r.per_second(5000), 0.0);
}

BOOST_AUTO_TEST_CASE(the_mean_of_the_last_ten_whole_seconds) {
  rate_meter r;
  // 100 events in each second from t=1000 s to t=1029 s.
  for (int64_t s = 1000; s < 1030; ++s)
    for (int i = 0; i < 10; ++i)
      r.add(s * 1000 + i * 100, 10);
  // At 1030.5 s: seconds 1020..1029 count, the current one does not.
  BOOST_CHECK_CLOSE(r.per_second(1030500), 100.0, 1e-9);
  // A quiet stretch decays the rate: 5 s without events, then none at all.
  BOOST_CHECK_CLOSE(r.per_second(1035000), 50.0, 1e-9);
  BOOST_CHECK_EQUAL(r.per_second(1041000), 0.0);
}

BOOST_AUTO_TEST_CASE(a_young_stream_is_averaged_over_its_own_age) {
  rate_meter r;
  r.add(7000, 30);
  r.add(8200, 30);
  // Two whole seconds since the first event: 60 events over 2 s.
  BOOST_CHECK_CLOSE(r.per_second(9100), 30.0, 1e-9);
  // Within the first second: what came so far is not counted yet.
  rate_meter q;
  q.add(7000, 30);
  BOOST_CHECK_EQUAL(q.per_second(7900), 0.0);
}

BOOST_AUTO_TEST_CASE(a_bucket_is_reused_after_its_second_has_gone) {
  rate_meter r;
  r.add(1000, 500);
  // Twelve slots: second 13 lands where second 1 was, and replaces it.
  r.add(13000, 7);
  BOOST_CHECK_CLOSE(r.per_second(14000), 0.7, 1e-9);
}

BOOST_AUTO_TEST_SUITE_END()
