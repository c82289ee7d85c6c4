// The runtime's timer thread for pings and watchdog checks (issue 15): many
// timers on one grid fire in one wake-up; a cancelled timer stops.

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "runtime/timer_wheel.hpp"
#include "tests/support/probe_client.hpp"

using namespace gcstream;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(timer_wheel_tests)

BOOST_AUTO_TEST_CASE(the_grid_is_a_sixteenth_of_the_period_within_bounds) {
  BOOST_CHECK_EQUAL(timer_wheel::grid_of(30000), 1000); // at most 1 s
  BOOST_CHECK_EQUAL(timer_wheel::grid_of(400), 25);
  BOOST_CHECK_EQUAL(timer_wheel::grid_of(5), 1);         // at least 1 ms
}

BOOST_AUTO_TEST_CASE(a_thousand_timers_share_their_wake_ups) {
  timer_wheel w;
  std::atomic<int> fired{0};
  for (int i = 0; i < 1000; ++i)
    w.every(milliseconds{160}, [&](int64_t) -> int64_t { ++fired; return 0; }); // grid 10 ms
  BOOST_REQUIRE(probe::eventually([&] { return fired.load() >= 3000; }, seconds{10}));
  // Three rounds of 1,000 took a few wake-ups, not 3,000 (registrations
  // spread over at most two grid steps).
  BOOST_CHECK_LE(w.wakeups(), 12u);
  BOOST_CHECK_EQUAL(w.size(), 1000u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_timer_fires_no_more) {
  timer_wheel w;
  std::atomic<int> kept{0}, gone{0};
  auto keep = w.every(milliseconds{20}, [&](int64_t) -> int64_t { ++kept; return 0; });
  auto id = w.every(milliseconds{20}, [&](int64_t) -> int64_t { ++gone; return 0; });
  BOOST_REQUIRE(probe::eventually([&] { return gone.load() >= 2; }, seconds{5}));
  w.cancel(id);
  auto after = gone.load();
  auto kept_then = kept.load();
  // The other timer fires three more times: the cancelled one not once
  // more (one call may have been under way at the cancel).
  BOOST_REQUIRE(probe::eventually([&] { return kept.load() >= kept_then + 3; }, seconds{5}));
  BOOST_CHECK_LE(gone.load(), after + 1);
  BOOST_CHECK_EQUAL(w.size(), 1u);
  w.cancel(keep);
  w.cancel(0);      // ignored
  w.cancel(12345);  // ignored
  BOOST_CHECK_EQUAL(w.size(), 0u);
}

BOOST_AUTO_TEST_CASE(a_timer_says_when_it_runs_next) {
  // As a watchdog does: its period is long, but it asks to run again soon
  // (when the silence would reach the timeout). Ignoring what it returns,
  // five firings would take five seconds.
  timer_wheel w;
  std::atomic<int> fired{0};
  w.every(milliseconds{1000}, [&](int64_t now) -> int64_t {
    ++fired;
    return now + 20;
  });
  BOOST_CHECK(probe::eventually([&] { return fired.load() >= 5; }, seconds{3}));
}

BOOST_AUTO_TEST_SUITE_END()
