#include "runtime/backoff.hpp"

#include <boost/test/unit_test.hpp>

using namespace gcstream;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(backoff_tests)

BOOST_AUTO_TEST_CASE(ceiling_grows_by_the_factor_up_to_the_cap) {
  backoff_policy p{milliseconds{1000}, 2.0, milliseconds{30000}};
  BOOST_CHECK_EQUAL(backoff_ceiling(p, 0).count(), 1000);
  BOOST_CHECK_EQUAL(backoff_ceiling(p, 1).count(), 2000);
  BOOST_CHECK_EQUAL(backoff_ceiling(p, 4).count(), 16000);
  BOOST_CHECK_EQUAL(backoff_ceiling(p, 5).count(), 30000);
  BOOST_CHECK_EQUAL(backoff_ceiling(p, 500).count(), 30000); // no overflow
}

BOOST_AUTO_TEST_CASE(full_jitter_stays_within_bounds_and_spreads) {
  backoff_policy p{milliseconds{1000}, 2.0, milliseconds{30000}};
  jitter_rng rng{7};
  for (uint32_t attempt = 0; attempt < 12; ++attempt) {
    auto ceiling = backoff_ceiling(p, attempt).count();
    int64_t lo = ceiling, hi = 0;
    for (int i = 0; i < 2000; ++i) {
      auto d = full_jitter(p, attempt, rng).count();
      BOOST_REQUIRE_GE(d, 0);
      BOOST_REQUIRE_LE(d, ceiling);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    // Full jitter: the whole window is used, not a band near the top.
    BOOST_CHECK_LT(lo, ceiling / 10);
    BOOST_CHECK_GT(hi, ceiling * 9 / 10);
  }
}

BOOST_AUTO_TEST_CASE(zero_initial_means_no_delay) {
  backoff_policy p{milliseconds{0}, 2.0, milliseconds{30000}};
  jitter_rng rng{1};
  BOOST_CHECK_EQUAL(full_jitter(p, 3, rng).count(), 0);
}

BOOST_AUTO_TEST_SUITE_END()
