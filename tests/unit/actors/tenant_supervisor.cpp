#include "actors/tenant_supervisor.hpp"

#include <boost/test/unit_test.hpp>

#include <optional>

#include <caf/all.hpp>

#include "actors/connection_limiter.hpp"
#include "actors/token_actor.hpp"
#include "messages/errors.hpp"
#include "tests/support/audit_capture.hpp"
#include "tests/support/deterministic_fixture.hpp"
#include "tests/support/fake_http.hpp"

using namespace gcstream;
using namespace std::chrono;
using namespace std::chrono_literals;

namespace {

// What the fake sessions were told.
struct session_log {
  size_t tokens = 0;  // (token_atom, token_actor): the token actor restarted
  size_t adopted = 0; // (adopt_atom, listener): a new supervisor took over
  size_t stops = 0;
};

caf::behavior idle_session(caf::event_based_actor* self, session_log* log) {
  return {
    [=](stop_atom, caf::timespan) {
      ++log->stops;
      self->quit();
    },
    [=](token_atom, const token_actor&) { ++log->tokens; },
    [=](adopt_atom, const channel_listener&) { ++log->adopted; },
    [=](ingest_atom, const ingest_actor&) {},
  };
}

struct supervisor_fixture : test::deterministic_fixture {
  std::shared_ptr<test::fake_http> http = std::make_shared<test::fake_http>();
  test::audit_capture audit;
  std::shared_ptr<tenant_core> core;
  limiter_actor limiter;
  supervisor_actor sup;
  session_log log;
  std::vector<caf::actor> sessions;
  std::vector<channel_info> resumes;
  std::vector<session_start> starts;
  /// Set: the supervisor checks the topics first, and this keeps the
  /// answer's callback.
  bool with_check = false;
  std::vector<std::string> checked_with;
  std::function<void(std::vector<std::string>, std::string)> check_done;
  std::optional<caf::error> sup_exit;
  caf::actor watcher;

  supervisor_settings settings() {
    supervisor_settings s;
    s.tenant = "acme";
    s.limiter_key = "login|app";
    s.seed = 7;
    s.child_restarts.max_restarts = 3;
    return s;
  }

  /// Without `answer_token`, the first token request is left to the test.
  void start(supervisor_settings s, int token_lifetime_s = 300, size_t lanes = 1,
             bool answer_token = true) {
    token_settings ts;
    ts.tenant = "acme";
    ts.login_url = "http://127.0.0.1:9";
    ts.client_id = "app";
    ts.client_secret = "pw";
    ts.refresh_fraction = 0.99;
    limiter = sys.spawn(connection_limiter, limiter_settings{20, 1000},
                        std::vector<limiter_hold>{});
    core = std::make_shared<tenant_core>("acme");
    core->cfg = s;
    core->inbox = std::make_shared<event_inbox>();
    for (size_t i = 0; lanes > 1 && i < lanes; ++i) {
      channel_lane l;
      l.topics = {"v2.users.u" + std::to_string(i) + ".presence"};
      l.inbox = i == 0 ? core->inbox : std::make_shared<event_inbox>();
      core->lanes.push_back(l);
    }
    core->token = std::make_shared<token_keep>();
    core->audit = audit.queue;
    core->limiter = std::make_shared<limiter_ref>();
    core->limiter->set(limiter);
    core->make_token = [this, ts](caf::actor_system& sys) -> token_actor {
      return sys.spawn(token_actor_impl, ts, http, audit.queue, core->token);
    };
    core->make_session = [this](caf::actor_system& sys, const session_start& st) {
      resumes.push_back(st.resume);
      starts.push_back(st);
      auto h = sys.spawn(idle_session, &log);
      sessions.push_back(h);
      return h;
    };
    if (with_check)
      core->check_topics = [this](const std::string& token, auto done) {
        checked_with.push_back(token);
        check_done = std::move(done);
      };
    sup = sys.spawn(tenant_supervisor, core);
    watch(sup);
    sched.run();
    // The first launch asks for a token: the login service answers.
    BOOST_REQUIRE_EQUAL(http->calls.size(), 1u);
    if (!answer_token)
      return;
    http->reply(0, 200, test::fake_http::token_body("t1", token_lifetime_s));
    sched.run();
    BOOST_REQUIRE_EQUAL(sessions.size(), with_check ? 0u : lanes);
  }

  void watch(supervisor_actor s) {
    if (watcher)
      caf::anon_send_exit(watcher, caf::exit_reason::user_shutdown);
    sup_exit.reset();
    watcher = sys.spawn([this, s](caf::event_based_actor* self) -> caf::behavior {
      self->monitor(s);
      self->set_down_handler([this](const caf::down_msg& dm) { sup_exit = dm.reason; });
      return {[](int) {}};
    });
  }

  ~supervisor_fixture() {
    std::vector<caf::actor> all{caf::actor_cast<caf::actor>(sup),
                                caf::actor_cast<caf::actor>(limiter), watcher};
    if (core) {
      auto h = core->handles();
      all.insert(all.end(), {h.token, h.session});
    }
    for (auto& a : all)
      if (a)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void advance(milliseconds d) {
    sched.clock().advance_time(d);
    sched.run();
  }

  // Ends the current session (or the i-th started) with `reason`.
  void end_session(caf::error reason, size_t i = SIZE_MAX) {
    auto& h = i == SIZE_MAX ? sessions.back() : sessions.at(i);
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
  jitter_rng rng{7}; // the supervisor's seeded sequence
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
  BOOST_CHECK(code_of(*sup_exit) == errc::restart_limit);
  BOOST_CHECK(reason_of(*sup_exit).find("the session died 11 times") != std::string::npos);
  BOOST_CHECK_EQUAL(core->status().state, "failed");
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

BOOST_AUTO_TEST_CASE(a_killed_token_actor_is_restarted_and_the_session_goes_on) {
  start(settings());
  auto first = core->handles().token;
  BOOST_REQUIRE(first);
  caf::anon_send_exit(first, caf::exit_reason::kill);
  sched.run();
  advance(1ms);
  auto second = core->handles().token;
  BOOST_REQUIRE(second);
  BOOST_CHECK(second != first);
  BOOST_CHECK_EQUAL(log.tokens, 1u);       // the session was told
  BOOST_CHECK_EQUAL(sessions.size(), 1u);  // and was not restarted
  BOOST_CHECK_EQUAL(http->calls.size(), 1u); // the kept token serves
  auto restarts = audit.of("actor_restarted");
  BOOST_REQUIRE_EQUAL(restarts.size(), 1u);
  BOOST_CHECK_EQUAL(test::audit_capture::field(restarts[0], "kind"), "token");
  BOOST_CHECK(!sup_exit);
}

BOOST_AUTO_TEST_CASE(a_token_actor_that_keeps_dying_fails_the_tenant) {
  start(settings()); // child_restarts.max_restarts = 3
  for (int i = 0; i < 4; ++i) {
    caf::anon_send_exit(core->handles().token, caf::exit_reason::kill);
    sched.run();
    advance(10s);
  }
  BOOST_REQUIRE(sup_exit);
  BOOST_CHECK(code_of(*sup_exit) == errc::restart_limit);
  BOOST_CHECK_EQUAL(core->status().state, "failed");
  BOOST_CHECK_NE(core->status().reason.find("the token died 4 times"), std::string::npos);
  BOOST_CHECK_EQUAL(log.stops, 1u); // its session was stopped, drained
  BOOST_CHECK(core->done());
}

BOOST_AUTO_TEST_CASE(refused_credentials_fail_the_tenant_at_once) {
  start(settings());
  // The token actor gives up for good (the login service refused the
  // client): no restart, the tenant fails with that reason.
  auto tok = core->handles().token;
  tok->enqueue(nullptr, caf::make_message_id(),
               caf::make_message(caf::exit_msg{
                 tok->address(), make_error(errc::bad_credentials, "tenant acme: refused")}),
               nullptr);
  sched.run();
  BOOST_REQUIRE(sup_exit);
  BOOST_CHECK(code_of(*sup_exit) == errc::bad_credentials);
  BOOST_CHECK(audit.of("actor_restarted").empty());
}

BOOST_AUTO_TEST_CASE(a_new_supervisor_adopts_the_live_session) {
  start(settings());
  caf::anon_send(sup, channel_atom::value, channel_info{"ch-1", "ws://x/ch-1", 0});
  sched.run();
  caf::anon_send_exit(sup, caf::exit_reason::kill);
  sched.run();
  // The runtime's supervisor starts another on the same core.
  sup = sys.spawn(tenant_supervisor, core);
  watch(sup);
  sched.run();
  BOOST_CHECK_EQUAL(sessions.size(), 1u); // adopted, not replaced
  BOOST_CHECK_EQUAL(log.adopted, 1u);
  BOOST_CHECK(core->handles().session == sessions.back());
  BOOST_CHECK_EQUAL(status().state, "connected");
  // It supervises it: a session that ends is started again, on the channel.
  end_session(network_trouble());
  advance(30s);
  BOOST_REQUIRE_EQUAL(sessions.size(), 2u);
  BOOST_CHECK_EQUAL(resumes.back().id, "ch-1");
}

BOOST_AUTO_TEST_CASE(a_new_supervisor_finishes_a_stop_its_predecessor_began) {
  start(settings());
  // The stop reaches the session; the supervisor dies before it ends.
  caf::anon_send(sup, stop_atom::value);
  caf::anon_send_exit(sup, caf::exit_reason::kill);
  sched.run();
  BOOST_CHECK(!core->done());
  sup = sys.spawn(tenant_supervisor, core);
  watch(sup);
  sched.run();
  BOOST_CHECK(core->done());
  BOOST_CHECK_EQUAL(core->status().state, "stopped");
  BOOST_REQUIRE(sup_exit);
  BOOST_CHECK(!*sup_exit);
  advance(120s);
  BOOST_CHECK_EQUAL(sessions.size(), 1u);
}

BOOST_AUTO_TEST_CASE(each_channel_of_a_tenant_has_its_own_session_and_backoff) {
  start(settings(), 300, 3);
  for (uint32_t i = 0; i < 3; ++i) {
    BOOST_CHECK_EQUAL(starts[i].lane, i);
    BOOST_CHECK_EQUAL(starts[i].lanes, 3u);
    BOOST_CHECK(starts[i].topics == core->lanes[i].topics);
    BOOST_CHECK(starts[i].inbox == core->lanes[i].inbox);
  }
  BOOST_CHECK_EQUAL(core->handles().sessions.size(), 3u);
  auto told = [&](size_t session, const std::string& ch) {
    caf::send_as(sessions[session], sup, channel_atom::value,
                 channel_info{ch, "ws://x/" + ch, 0});
    sched.run();
  };
  // Connected once every channel streams, not before.
  told(0, "ch-0");
  told(1, "ch-1");
  BOOST_CHECK_EQUAL(status().state, "starting");
  told(2, "ch-2");
  BOOST_CHECK_EQUAL(status().state, "connected");
  // The second channel's session ends: that channel alone backs off and
  // resumes its own channel; the other two sessions are left alone.
  end_session(network_trouble(), 1);
  BOOST_CHECK_EQUAL(status().state, "reconnecting");
  auto backoffs = audit.of("backoff_scheduled");
  BOOST_REQUIRE_EQUAL(backoffs.size(), 1u);
  BOOST_CHECK_EQUAL(test::audit_capture::field(backoffs[0], "lane"), "1");
  BOOST_CHECK_EQUAL(test::audit_capture::field(backoffs[0], "topics"), "1");
  advance(2s);
  BOOST_REQUIRE_EQUAL(sessions.size(), 4u);
  BOOST_CHECK_EQUAL(starts.back().lane, 1u);
  BOOST_CHECK_EQUAL(resumes.back().id, "ch-1");
  BOOST_CHECK_EQUAL(log.stops, 0u);
  told(3, "ch-1b");
  BOOST_CHECK_EQUAL(status().state, "connected");
  // A message from a session that is gone changes nothing.
  told(1, "stale");
  end_session(network_trouble(), 3);
  advance(2s);
  BOOST_CHECK_EQUAL(resumes.back().id, "ch-1b");
  // Stopping stops every channel's session.
  caf::anon_send(sup, stop_atom::value);
  sched.run();
  BOOST_CHECK_EQUAL(log.stops, 3u);
  BOOST_CHECK_EQUAL(core->status().state, "stopped");
  BOOST_CHECK_EQUAL(core->permits->held_count(), 0u);
}

BOOST_AUTO_TEST_CASE(the_topics_are_checked_once_before_the_first_channel) {
  with_check = true;
  start(settings(), 300, 2);
  // Asked with the tenant's token; no channel yet.
  BOOST_REQUIRE_EQUAL(checked_with.size(), 1u);
  BOOST_CHECK_EQUAL(checked_with[0], "t1");
  BOOST_CHECK(sessions.empty());
  // A list that could not be read: audited, and the channels start.
  check_done({}, "no topic list: the service answered 500");
  sched.run();
  BOOST_CHECK_EQUAL(sessions.size(), 2u);
  auto un = audit.of("topics_unchecked");
  BOOST_REQUIRE_EQUAL(un.size(), 1u);
  BOOST_CHECK_EQUAL(test::audit_capture::field(un[0], "reason"),
                    "no topic list: the service answered 500");
  // Not again when a channel's session starts again.
  end_session(network_trouble(), 0);
  advance(2s);
  BOOST_CHECK_EQUAL(sessions.size(), 3u);
  BOOST_CHECK_EQUAL(checked_with.size(), 1u);
}

BOOST_AUTO_TEST_CASE(a_token_that_cannot_be_had_yet_delays_the_check_and_it_is_asked_again) {
  with_check = true;
  start(settings(), 300, 1, false);
  // The login service asks for an hour: beyond the token actor's cap, so its
  // waiters get a retriable error. The check waits with backoff, no channel.
  http->reply(0, 429, "", 3600 * 1000);
  sched.run();
  BOOST_CHECK(checked_with.empty());
  BOOST_CHECK(sessions.empty());
  BOOST_CHECK_EQUAL(core->status().state, "reconnecting");
  auto backoffs = audit.of("backoff_scheduled");
  BOOST_REQUIRE_EQUAL(backoffs.size(), 1u);
  BOOST_CHECK_NE(test::audit_capture::field(backoffs[0], "reason").find("3600 s"),
                 std::string::npos);
  BOOST_CHECK(!sup_exit);
  // After the backoff the token is asked for again, and the check made with it.
  advance(2s);
  BOOST_REQUIRE_EQUAL(http->calls.size(), 2u);
  http->reply(1, 200, test::fake_http::token_body("t2", 300));
  sched.run();
  BOOST_REQUIRE_EQUAL(checked_with.size(), 1u);
  BOOST_CHECK_EQUAL(checked_with[0], "t2");
  BOOST_CHECK(sessions.empty());
  check_done({}, "");
  sched.run();
  BOOST_CHECK_EQUAL(sessions.size(), 1u);
}

BOOST_AUTO_TEST_CASE(topics_the_list_refuses_fail_the_tenant_with_their_names) {
  with_check = true;
  start(settings());
  std::vector<std::string> refused;
  for (int i = 0; i < 12; ++i)
    refused.push_back("topic 'v2.userz.u" + std::to_string(i) + ".presence' matches no family");
  check_done(refused, "");
  sched.run();
  BOOST_CHECK(sessions.empty());
  auto st = core->status();
  BOOST_CHECK_EQUAL(st.state, "failed");
  BOOST_CHECK_MESSAGE(st.reason.find("refuses 12 topics: topic 'v2.userz.u0.presence'")
                          != std::string::npos
                        && st.reason.find("'v2.userz.u9.presence'") != std::string::npos
                        && st.reason.find("'v2.userz.u10.presence'") == std::string::npos
                        && st.reason.find("and 2 more") != std::string::npos,
                      st.reason);
  BOOST_REQUIRE(sup_exit);
  BOOST_CHECK(code_of(*sup_exit) == errc::topics_refused);
  // A late answer (a second one) changes nothing.
  check_done({}, "");
  sched.run();
  BOOST_CHECK(sessions.empty());
}

BOOST_AUTO_TEST_CASE(a_permit_still_asked_for_is_asked_of_a_new_limiter) {
  start(settings());
  end_session(network_trouble());
  // The limiter dies; the restart's request for a permit goes nowhere.
  caf::anon_send_exit(limiter, caf::exit_reason::kill);
  sched.run();
  advance(30s);
  BOOST_CHECK_EQUAL(sessions.size(), 1u);
  BOOST_CHECK(!core->sup.lanes.front().permit_wait.empty());
  // A new limiter (the runtime's supervisor starts it and tells everyone).
  limiter = sys.spawn(connection_limiter, limiter_settings{20, 1000},
                      std::vector<limiter_hold>{});
  core->limiter->set(limiter);
  core->permits->ask_again_all(); // (what the runtime's supervisor does)
  sched.run();
  BOOST_CHECK_EQUAL(sessions.size(), 2u);
}

BOOST_AUTO_TEST_SUITE_END()
