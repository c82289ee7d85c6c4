#include "actors/connection_limiter.hpp"

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include "tests/support/deterministic_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;

namespace {

struct limiter_fixture : test::deterministic_fixture {
  limiter_actor limiter;
  std::vector<uint64_t> granted;
  std::vector<caf::actor> clients;

  void start(limiter_settings s) {
    limiter = sys.spawn(connection_limiter, s);
    sched.run();
  }

  ~limiter_fixture() {
    for (auto& c : clients)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(limiter, caf::exit_reason::user_shutdown);
    sched.run();
  }

  // A client that asks for a permit and stays alive holding it.
  caf::actor ask(const std::string& key) {
    auto c = sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
      self->request(limiter, caf::infinite, acquire_atom::value, key)
        .then([=](uint64_t p) { granted.push_back(p); }, [](caf::error&) {});
      return {[](int) {}};
    });
    clients.push_back(c);
    sched.run();
    return c;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(connection_limiter_tests, limiter_fixture)

BOOST_AUTO_TEST_CASE(queues_past_the_live_limit_and_releases_in_order) {
  start({2, 1000});
  ask("login.x|app");
  ask("login.x|app");
  ask("login.x|app");
  BOOST_CHECK_EQUAL(granted.size(), 2u);
  ask("login.x|other"); // another client id has its own limit
  BOOST_CHECK_EQUAL(granted.size(), 3u);
  caf::anon_send(limiter, release_atom::value, std::string{"login.x|app"},
                 granted[0]);
  sched.run();
  BOOST_CHECK_EQUAL(granted.size(), 4u);
  // Releasing an unknown permit changes nothing.
  caf::anon_send(limiter, release_atom::value, std::string{"login.x|app"},
                 uint64_t{999});
  sched.run();
  ask("login.x|app");
  BOOST_CHECK_EQUAL(granted.size(), 4u);
}

BOOST_AUTO_TEST_CASE(paces_connects_to_the_rate) {
  start({100, 2}); // burst of 2, then one every 500 ms
  for (int i = 0; i < 5; ++i)
    ask("k");
  BOOST_CHECK_EQUAL(granted.size(), 2u);
  sched.clock().advance_time(499ms);
  sched.run();
  BOOST_CHECK_EQUAL(granted.size(), 2u);
  sched.clock().advance_time(1ms);
  sched.run();
  BOOST_CHECK_EQUAL(granted.size(), 3u);
  sched.clock().advance_time(500ms);
  sched.run();
  sched.clock().advance_time(500ms);
  sched.run();
  BOOST_CHECK_EQUAL(granted.size(), 5u);
}

BOOST_AUTO_TEST_CASE(a_dead_holder_frees_its_permit) {
  start({1, 1000});
  auto first = ask("k");
  ask("k");
  BOOST_CHECK_EQUAL(granted.size(), 1u);
  caf::anon_send_exit(first, caf::exit_reason::kill);
  sched.run();
  BOOST_CHECK_EQUAL(granted.size(), 2u);
}

BOOST_AUTO_TEST_SUITE_END()
