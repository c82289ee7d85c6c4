// The health judge (host/health.hpp): each state against the budget and the
// clock, the heartbeat rule, problems; a failed tenant is named with its
// reason.

#include "host/health.hpp"

#include <boost/test/unit_test.hpp>

using namespace gcstream;

namespace {

constexpr int64_t t0 = 1'800'000'000'000; // epoch ms
constexpr int64_t budget = 60'000;

tenant_metrics in(const std::string& state, int64_t since, std::string reason = "") {
  tenant_metrics m;
  m.tenant = "acme";
  m.state = state;
  m.reason = std::move(reason);
  m.state_since_ms = since;
  return m;
}

} // namespace

BOOST_AUTO_TEST_SUITE(health_tests)

BOOST_AUTO_TEST_CASE(starting_and_reconnecting_are_healthy_only_within_the_budget) {
  for (auto state : {"starting", "reconnecting", "stopping"}) {
    auto m = in(state, t0, "HTTP 503 from /oauth/token");
    BOOST_CHECK(judge_health(m, t0 + budget - 1, budget).ok);
    auto h = judge_health(m, t0 + budget, budget);
    BOOST_CHECK(!h.ok);
    BOOST_CHECK_EQUAL(h.text, std::string("acme: ") + state
                                + " (HTTP 503 from /oauth/token) for 60 s, over the "
                                  "health budget of 60 s\n");
  }
}

BOOST_AUTO_TEST_CASE(a_failed_tenant_is_named_with_its_reason) {
  auto h = judge_health(in("failed", t0, "the login service refused the credentials"),
                        t0 + 5000, budget);
  BOOST_CHECK(!h.ok);
  BOOST_CHECK_EQUAL(h.text,
                    "acme: failed (the login service refused the credentials) since 5.0 s\n");
  BOOST_CHECK(!judge_health(in("stopped", t0), t0, budget).ok);
}

BOOST_AUTO_TEST_CASE(connected_without_frames_past_the_heartbeat_timeout_is_unhealthy) {
  auto m = in("connected", t0);
  BOOST_CHECK(judge_health(m, t0 + 10 * budget, budget).ok); // not judged
  m.heartbeat_timeout_ms = 75'000;
  // No frame yet: counted from when it connected.
  BOOST_CHECK(judge_health(m, t0 + 75'000, budget).ok);
  BOOST_CHECK(!judge_health(m, t0 + 75'001, budget).ok);
  m.last_frame_ms = t0 + 70'000;
  BOOST_CHECK(judge_health(m, t0 + 145'000, budget).ok);
  auto h = judge_health(m, t0 + 146'000, budget);
  BOOST_CHECK(!h.ok);
  BOOST_CHECK_EQUAL(h.text, "acme: connected but no frame for 76 s (heartbeat timeout 75 s)\n");
}

BOOST_AUTO_TEST_CASE(a_problem_is_unhealthy_in_any_state) {
  auto m = in("connected", t0);
  m.problem = "the journal cannot store events: disk I/O error";
  auto h = judge_health(m, t0, budget);
  BOOST_CHECK(!h.ok);
  BOOST_CHECK_EQUAL(h.text, "acme: the journal cannot store events: disk I/O error\n");
}

BOOST_AUTO_TEST_SUITE_END()
