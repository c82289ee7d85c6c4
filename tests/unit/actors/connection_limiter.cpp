#include "actors/connection_limiter.hpp"
#include "actors/channel_permits.hpp"
#include "runtime/tenant_sockets.hpp"

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include "tests/support/deterministic_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;

namespace {

struct limiter_fixture : test::deterministic_fixture {
  limiter_actor limiter;
  std::vector<std::string> granted; // holders, in the order granted
  std::vector<caf::actor> clients;

  void start(limiter_settings s, std::vector<limiter_hold> held = {}) {
    limiter = sys.spawn(connection_limiter, s, std::move(held));
    sched.run();
  }

  ~limiter_fixture() {
    for (auto& c : clients)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(limiter, caf::exit_reason::user_shutdown);
    sched.run();
  }

  // A client that asks for a permit for `holder` and records the grant.
  caf::actor ask(const std::string& key, const std::string& holder) {
    auto c = sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
      self->send(limiter, acquire_atom::value, key, holder);
      return {[=](granted_atom, const std::string&, const std::string& h) {
        granted.push_back(h);
      }};
    });
    clients.push_back(c);
    sched.run();
    return c;
  }

  void release(const std::string& key, const std::string& holder) {
    caf::anon_send(limiter, release_atom::value, key, holder);
    sched.run();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(connection_limiter_tests, limiter_fixture)

BOOST_AUTO_TEST_CASE(queues_past_the_live_limit_and_releases_in_order) {
  start({2, 1000});
  ask("login.x|app", "a/0");
  ask("login.x|app", "b/0");
  ask("login.x|app", "c/0");
  BOOST_CHECK((granted == std::vector<std::string>{"a/0", "b/0"}));
  ask("login.x|other", "d/0"); // another client id has its own limit
  BOOST_CHECK_EQUAL(granted.size(), 3u);
  release("login.x|app", "a/0");
  BOOST_CHECK_EQUAL(granted.back(), "c/0");
  // Releasing what nobody holds changes nothing.
  release("login.x|app", "zz/0");
  ask("login.x|app", "e/0");
  BOOST_CHECK_EQUAL(granted.size(), 4u);
}

BOOST_AUTO_TEST_CASE(asking_again_is_harmless) {
  start({1, 1000});
  ask("k", "a/0");
  ask("k", "a/0"); // a restarted asker asks again: granted again, not twice
  BOOST_CHECK((granted == std::vector<std::string>{"a/0", "a/0"}));
  ask("k", "b/0");
  ask("k", "b/0"); // waits once, keeps its place
  BOOST_CHECK_EQUAL(granted.size(), 2u);
  release("k", "a/0");
  BOOST_CHECK((granted == std::vector<std::string>{"a/0", "a/0", "b/0"}));
}

BOOST_AUTO_TEST_CASE(a_new_limiter_starts_with_the_permits_held) {
  start({1, 1000}, {limiter_hold{"k", "a/0"}});
  ask("k", "b/0");
  BOOST_CHECK(granted.empty()); // a/0 holds the only one
  release("k", "a/0");
  BOOST_CHECK((granted == std::vector<std::string>{"b/0"}));
}

BOOST_AUTO_TEST_CASE(a_tenant_that_is_gone_is_forgotten) {
  start({1, 1000});
  ask("k", "a/0");
  ask("k", "b/0");
  caf::anon_send(limiter, forget_atom::value, std::string{"a/"});
  sched.run();
  BOOST_CHECK((granted == std::vector<std::string>{"a/0", "b/0"}));
}

BOOST_AUTO_TEST_CASE(forgetting_a_tenant_frees_its_keys_and_no_one_else_s) {
  start({1, 1000});
  ask("k1", "a/0");  // granted
  ask("k2", "a/1");  // granted
  ask("k1", "ab/0"); // waits ("ab/" is another tenant, though it starts alike)
  ask("k2", "a/2");  // waits: a tenant's waiter is forgotten too
  ask("k2", "ab/1"); // waits
  caf::anon_send(limiter, forget_atom::value, std::string{"a/"});
  sched.run();
  BOOST_CHECK((granted == std::vector<std::string>{"a/0", "a/1", "ab/0", "ab/1"}));
  // ab/0 and ab/1 still hold: a newcomer waits until they let go.
  ask("k1", "c/0");
  BOOST_CHECK_EQUAL(granted.size(), 4u);
  release("k1", "ab/0");
  BOOST_CHECK_EQUAL(granted.back(), "c/0");
  release("k2", "ab/1"); // and a/2, forgotten, is not granted
  BOOST_CHECK_EQUAL(granted.size(), 5u);
}

BOOST_AUTO_TEST_CASE(paces_connects_to_the_rate) {
  start({100, 2}); // burst of 2, then one every 500 ms
  for (int i = 0; i < 5; ++i)
    ask("k", std::to_string(i) + "/0");
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

BOOST_AUTO_TEST_SUITE_END()

// The tenant side: channel_permits names one permit per channel and keeps
// the book a new limiter starts from.
BOOST_FIXTURE_TEST_CASE(a_tenants_permits_count_channels_and_survive_a_new_limiter,
                        limiter_fixture) {
  start({2, 1000});
  auto ref = std::make_shared<limiter_ref>();
  ref->set(limiter);
  channel_permits a{"a", "k", ref};
  // An asker that records grants and tells the book, as a session does.
  auto asker = sys.spawn([&](caf::event_based_actor*) -> caf::behavior {
    return {[&](granted_atom, const std::string&, const std::string& h) {
      if (a.granted(h))
        granted.push_back(h);
    }};
  });
  clients.push_back(asker);
  auto first = a.ask(asker);
  auto second = a.ask(asker); // a rollover's second channel
  auto third = a.ask(asker);  // past the limit: waits
  sched.run();
  BOOST_CHECK((granted == std::vector<std::string>{first, second}));
  BOOST_CHECK_EQUAL(a.held_count(), 2u);
  BOOST_CHECK_EQUAL(a.waiting_count(), 1u);
  // The limiter dies; a new one starts from the book and is asked again.
  caf::anon_send_exit(limiter, caf::exit_reason::kill);
  sched.run();
  std::vector<limiter_hold> held;
  for (auto& h : a.held())
    held.push_back({a.key(), h});
  start({2, 1000}, held);
  ref->set(limiter);
  a.ask_again_all();
  sched.run();
  BOOST_CHECK_EQUAL(granted.size(), 2u); // still full: nothing double-granted
  // The old socket closes: its permit serves the waiting channel.
  a.release(first);
  sched.run();
  BOOST_CHECK((granted == std::vector<std::string>{first, second, third}));
  // A permit released while its grant was on the way is given back.
  a.release(second);
  auto fourth = a.ask(asker);
  a.release(fourth);
  sched.run();
  BOOST_CHECK_EQUAL(granted.size(), 3u);
  BOOST_CHECK_EQUAL(a.held_count(), 1u);
  a.release_all();
  sched.run();
  BOOST_CHECK_EQUAL(a.held_count() + a.waiting_count(), 0u);
  // Everything went back: another tenant gets both permits.
  ask("k", "b/0");
  ask("k", "b/1");
  BOOST_CHECK_EQUAL(granted.back(), "b/1");
}

// A socket a session leaves to its successor keeps its channel's permit until
// it is closed; then the permit goes back (and another tenant may have it).
BOOST_FIXTURE_TEST_CASE(a_socket_left_behind_keeps_its_permit_until_closed,
                        limiter_fixture) {
  start({1, 1000});
  auto ref = std::make_shared<limiter_ref>();
  ref->set(limiter);
  auto permits = std::make_shared<channel_permits>("a", "k", ref);
  auto asker = sys.spawn([=](caf::event_based_actor*) -> caf::behavior {
    return {[=](granted_atom, const std::string&, const std::string& h) {
      permits->granted(h);
    }};
  });
  clients.push_back(asker);
  auto held = permits->ask(asker);
  sched.run();
  BOOST_REQUIRE_EQUAL(permits->held_count(), 1u);
  tenant_sockets sockets{nullptr, [=](const std::string& p) { permits->release(p); }};
  sockets.leave(7, held);
  ask("k", "b/0"); // another tenant: the only permit is the left socket's
  BOOST_CHECK(granted.empty());
  sockets.close_left(1000, "replaced");
  sched.run();
  BOOST_CHECK_EQUAL(permits->held_count(), 0u);
  BOOST_CHECK((granted == std::vector<std::string>{"b/0"}));
}
