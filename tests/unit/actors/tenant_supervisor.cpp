#include "actors/tenant_supervisor.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>

#include <caf/all.hpp>

#include "actors/connection_limiter.hpp"
#include "actors/token_actor.hpp"
#include "messages/errors.hpp"
#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/fake_http.hpp"

using namespace gcstream;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

caf::behavior idle_session(caf::event_based_actor*) {
  return {[](int) {}};
}

struct supervisor_fixture : test::deterministic_fixture {
  std::shared_ptr<test::fake_http> http = std::make_shared<test::fake_http>();
  token_actor tok;
  limiter_actor limiter;
  supervisor_actor sup;
  std::vector<caf::actor> sessions;
  std::vector<channel_info> resumes;
  std::optional<caf::error> sup_exit;
  caf::actor watcher;

  supervisor_settings settings() {
    supervisor_settings s;
    s.tenant = "acme";
    s.limiter_key = "login|app";
    s.seed = 7;
    return s;
  }

  void start(supervisor_settings s, int token_lifetime_s = 300) {
    token_settings ts;
    ts.tenant = "acme";
    ts.login_url = "http://127.0.0.1:9";
    ts.client_id = "app";
    ts.client_secret = "pw";
    ts.refresh_fraction = 0.99;
    tok = sys.spawn(token_actor_impl, ts, http, audit_actor{});
    limiter = sys.spawn(connection_limiter, limiter_settings{20, 1000});
    sup = sys.spawn(tenant_supervisor, s, tok, limiter,
                    session_factory{[this](supervisor_pointer self,
                                           const channel_info& resume) {
                      resumes.push_back(resume);
                      auto h = self->spawn(idle_session);
                      sessions.push_back(h);
                      return h;
                    }},
                    audit_actor{});
    watcher = sys.spawn([this](caf::event_based_actor* self) -> caf::behavior {
      self->monitor(sup);
      self->set_down_handler([this](const caf::down_msg& dm) { sup_exit = dm.reason; });
      return {[](int) {}};
    });
    sched.run();
    // The first launch asks for a token: the login service answers.
    BOOST_REQUIRE_EQUAL(http->calls.size(), 1u);
    http->reply(0, 200, test::fake_http::token_body("t1", token_lifetime_s));
    sched.run();
    BOOST_REQUIRE_EQUAL(sessions.size(), 1u);
  }

  ~supervisor_fixture() {
    for (auto h : {caf::actor_cast<caf::actor>(sup), caf::actor_cast<caf::actor>(tok),
                   caf::actor_cast<caf::actor>(limiter), watcher})
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void advance(milliseconds d) {
    sched.clock().advance_time(d);
    sched.run();
  }

  // Ends the current session with `reason`.
  void end_session(caf::error reason) {
    auto& h = sessions.back();
    h->enqueue(nullptr, caf::make_message_id(),
               caf::make_message(caf::exit_msg{h->address(), std::move(reason)}),
               nullptr);
    sched.run();
  }

  tenant_status status() {
    std::optional<tenant_status> out;
    sys.spawn([&](caf::event_based_actor* self) {
      self->request(sup, caf::infinite, status_atom::value)
        .then([&](const tenant_status& s) { out = s; }, [](caf::error&) {});
    });
    sched.run();
    BOOST_REQUIRE(out);
    return *out;
  }

  static caf::error network_trouble() {
    return make_error(errc::socket_closed, "tenant acme: remote 1006");
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(tenant_supervisor_tests, supervisor_fixture)

BOOST_AUTO_TEST_CASE(restart_delays_stay_within_full_jitter_bounds) {
  start(settings());
  std::mt19937_64 rng{7}; // the supervisor's seeded sequence
  auto policy = settings().backoff;
  for (uint32_t attempt = 0; attempt < 7; ++attempt) {
    end_session(network_trouble());
    BOOST_CHECK_EQUAL(status().state, "reconnecting");
    auto d = full_jitter(policy, attempt, rng);
    BOOST_REQUIRE_LE(d.count(), backoff_ceiling(policy, attempt).count());
    auto before = sessions.size();
    if (d.count() > 0) {
      advance(d - 1ms);
      BOOST_CHECK_EQUAL(sessions.size(), before);
    }
    advance(d.count() > 0 ? 1ms : 0ms);
    BOOST_REQUIRE_EQUAL(sessions.size(), before + 1);
  }
  // Network trouble is retried forever, at the cap.
  BOOST_CHECK_EQUAL(status().attempt, 7u);
  BOOST_CHECK(!sup_exit);
}

BOOST_AUTO_TEST_CASE(the_channel_is_resumed_by_the_next_session) {
  start(settings());
  caf::anon_send(sup, channel_atom::value, channel_info{"ch-1", "ws://x/ch-1", 0});
  sched.run();
  BOOST_CHECK_EQUAL(status().state, "connected");
  end_session(network_trouble());
  advance(30s);
  BOOST_REQUIRE_EQUAL(resumes.size(), 2u);
  BOOST_CHECK_EQUAL(resumes[0].id, "");
  BOOST_CHECK_EQUAL(resumes[1].id, "ch-1");
}

BOOST_AUTO_TEST_CASE(attempts_reset_after_stable_uptime) {
  start(settings());
  for (int i = 0; i < 3; ++i) {
    end_session(network_trouble());
    advance(30s);
  }
  BOOST_CHECK_EQUAL(status().attempt, 3u);
  advance(10s); // stable for 10 s
  end_session(network_trouble());
  BOOST_CHECK_EQUAL(status().attempt, 1u); // the next delay used attempt 0
}

BOOST_AUTO_TEST_CASE(no_restart_after_a_requested_stop) {
  start(settings());
  caf::anon_send(sup, stop_atom::value);
  sched.run();
  BOOST_REQUIRE(sup_exit);
  BOOST_CHECK(!*sup_exit); // a normal exit
  advance(120s);
  BOOST_CHECK_EQUAL(sessions.size(), 1u);
}

BOOST_AUTO_TEST_CASE(a_fatal_error_fails_the_tenant_without_retry) {
  start(settings());
  end_session(make_error(errc::all_topics_rejected, "tenant acme: all rejected"));
  BOOST_REQUIRE(sup_exit);
  BOOST_CHECK(code_of(*sup_exit) == errc::all_topics_rejected);
  advance(120s);
  BOOST_CHECK_EQUAL(sessions.size(), 1u);
}

BOOST_AUTO_TEST_CASE(a_crash_loop_escalates_past_the_intensity) {
  auto s = settings();
  s.backoff.initial = 0ms; // restart at once: only the intensity stops it
  start(s);
  for (int i = 0; i < 10; ++i) {
    end_session(caf::exit_reason::kill);
    advance(1ms);
  }
  BOOST_CHECK(!sup_exit); // ten crashes in a minute are tolerated
  BOOST_CHECK_EQUAL(sessions.size(), 11u);
  end_session(caf::exit_reason::kill);
  BOOST_REQUIRE(sup_exit);
  BOOST_CHECK(reason_of(*sup_exit).find("11 session crashes") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_expiring_token_is_refreshed_before_reconnecting) {
  start(settings(), 100); // expires 100 s after the start
  advance(50s);           // 50 s left: within the 60 s threshold
  end_session(network_trouble());
  advance(30s); // the restart timer has fired
  BOOST_REQUIRE_EQUAL(http->calls.size(), 2u); // a new token first...
  BOOST_CHECK_EQUAL(sessions.size(), 1u);      // ...and no session yet
  http->reply(1, 200, test::fake_http::token_body("t2", 300));
  sched.run();
  BOOST_CHECK_EQUAL(sessions.size(), 2u);
}

BOOST_AUTO_TEST_SUITE_END()
