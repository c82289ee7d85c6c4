// Past their restart limits, failures are loud: a tenant whose supervisor
// keeps dying fails (its status says why), and a shared actor that keeps
// dying fails the process (on_fatal, fatal_error(), /healthz 503).

#include <boost/test/unit_test.hpp>

#include <atomic>

#include "host/config.hpp"
#include "host/runtime.hpp"
#include "tests/support/live_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;

namespace {

struct limits_fixture : test::live_fixture {
  std::unique_ptr<runtime> rt;
  std::mutex m;
  std::string fatal;

  limits_fixture() {
    runtime_settings rs;
    rs.metrics_listen = "127.0.0.1:0";
    rs.shared_restarts.max_restarts = 2;
    rs.shared_restarts.backoff = {1ms, 2.0, 5ms};
    rs.supervisor_restarts = rs.shared_restarts;
    rs.on_fatal = [this](const std::string& why) {
      std::lock_guard<std::mutex> g{m};
      fatal = why;
    };
    rt = std::make_unique<runtime>(sys, rs);
    tenant_config c;
    c.id = "acme";
    c.login_url = c.api_url = base;
    c.client_id = "app";
    c.client_secret = "s3cret-Value";
    c.topics = {"v2.users.6d2c5a1e-0000-0000-0000-000000000061.presence"};
    c.sinks.push_back(null_sink_spec("null"));
    BOOST_REQUIRE(rt->add_tenant(std::move(c)));
    BOOST_REQUIRE(probe::eventually([&] { return rt->status("acme").state == "connected"; }));
  }

  ~limits_fixture() {
    rt->shutdown();
    stop_actors({});
  }

  // Kills the actor `pick` chooses, and waits for its successor.
  template <class F>
  void kill_and_wait(F pick) {
    auto a = rt->actors("acme");
    BOOST_REQUIRE(a);
    auto victim = pick(*a);
    BOOST_REQUIRE(victim);
    caf::anon_send_exit(victim, caf::exit_reason::kill);
    BOOST_REQUIRE(probe::eventually([&] {
      auto now = rt->actors("acme");
      return now && pick(*now) != victim && pick(*now);
    }));
  }

  int healthz() {
    return probe::http("GET", "http://127.0.0.1:" + std::to_string(rt->metrics_port())
                                + "/healthz")
      .status;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(restart_limit_tests, limits_fixture)

BOOST_AUTO_TEST_CASE(a_shared_actor_past_its_limit_fails_the_process_loudly) {
  auto limiter = [](const tenant_actors& a) { return a.limiter; };
  kill_and_wait(limiter);
  kill_and_wait(limiter); // two restarts: within the limit
  BOOST_CHECK(rt->fatal_error().empty());
  BOOST_CHECK_EQUAL(healthz(), 200);
  auto a = rt->actors("acme");
  caf::anon_send_exit(a->limiter, caf::exit_reason::kill); // the third
  BOOST_REQUIRE(probe::eventually([&] { return !rt->fatal_error().empty(); }));
  BOOST_CHECK_NE(rt->fatal_error().find("the limiter died 3 times"), std::string::npos);
  {
    std::lock_guard<std::mutex> g{m};
    BOOST_CHECK_EQUAL(fatal, rt->fatal_error()); // the host was told
  }
  BOOST_CHECK_EQUAL(healthz(), 503);
}

BOOST_AUTO_TEST_CASE(a_tenant_whose_supervisor_keeps_dying_fails_and_says_why) {
  auto sup = [](const tenant_actors& a) { return a.supervisor; };
  kill_and_wait(sup);
  kill_and_wait(sup);
  BOOST_CHECK_EQUAL(rt->status("acme").state, "connected");
  auto a = rt->actors("acme");
  caf::anon_send_exit(a->supervisor, caf::exit_reason::kill);
  BOOST_REQUIRE(probe::eventually([&] { return rt->status("acme").state == "failed"; }));
  BOOST_CHECK_NE(rt->status("acme").reason.find("its supervisor died 3 times"),
                 std::string::npos);
  // Its actors are stopped: its socket closes.
  BOOST_CHECK(probe::eventually(
    [&] { return stats()["totals"]["sockets_open"].get<int>() == 0; }));
  BOOST_CHECK_EQUAL(healthz(), 503);
}

BOOST_AUTO_TEST_SUITE_END()
