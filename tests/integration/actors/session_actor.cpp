// The session actor against the emulator: events flow, faults end it with
// the right reason, rollovers make before they break.

#include "actors/session_actor.hpp"

#include <boost/test/unit_test.hpp>

#include <map>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <set>

#include "actors/token_actor.hpp"
#include "messages/errors.hpp"
#include "runtime/redact.hpp"
#include "tests/support/live_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string presence = "v2.users.6d2c5a1e-0000-0000-0000-000000000001.presence";

emulator::config quick_heartbeats() {
  auto c = test::emulator_fixture::default_config();
  c.heartbeat_interval_ms = 100;
  c.forbidden_topics = {"v2.users.*.conversations"};
  return c;
}

struct session_fixture : test::live_fixture {
  std::shared_ptr<ws_transport> ws = std::make_shared<ws_transport>();
  token_actor tok;
  ingest_actor ingest;
  channel_listener listener;
  std::mutex m;
  std::condition_variable cv;
  std::vector<event> received;
  std::vector<channel_info> channels;

  session_fixture() : test::live_fixture(quick_heartbeats()) {
    token_settings ts;
    ts.tenant = "acme";
    ts.login_url = base;
    ts.client_id = "app";
    ts.client_secret = "s3cret-Value";
    tok = sys.spawn(token_actor_impl, ts, http, direct.queue,
                    std::make_shared<token_keep>());
    ingest = sys.spawn([this](ingest_actor::pointer) -> ingest_actor::behavior_type {
      return {[this](ingest_atom, const event_batch& b) {
        std::lock_guard<std::mutex> g{m};
        received.insert(received.end(), b.events.begin(), b.events.end());
        cv.notify_all();
        return b.seq;
      }};
    });
    listener = sys.spawn([this](channel_listener::pointer) -> channel_listener::behavior_type {
      return {[this](channel_atom, const channel_info& ch) {
        std::lock_guard<std::mutex> g{m};
        channels.push_back(ch);
        cv.notify_all();
      }};
    });
  }

  ~session_fixture() {
    ws->stop();
    stop_actors({caf::actor_cast<caf::actor>(tok), caf::actor_cast<caf::actor>(ingest),
                 caf::actor_cast<caf::actor>(listener)});
  }

  session_settings settings(std::vector<std::string> topics = {presence}) {
    session_settings s;
    s.tenant = "acme";
    s.api_url = base;
    s.topics = std::move(topics);
    s.ping_interval = 100ms;
    s.heartbeat_timeout = 400ms;
    return s;
  }

  session_actor spawn(session_settings s,
                      std::shared_ptr<event_inbox> inbox = std::make_shared<event_inbox>(),
                      std::shared_ptr<tenant_sockets> sockets = nullptr,
                      std::shared_ptr<timer_wheel> wheel = nullptr) {
    return sys.spawn(session_actor_impl, std::move(s),
                     session_deps{tok, http, ws, ingest, std::move(inbox), listener,
                                  direct.queue, nullptr, std::move(sockets), nullptr,
                                  std::move(wheel)});
  }

  template <class P>
  bool wait(P pred, std::chrono::milliseconds t = 10s) {
    std::unique_lock<std::mutex> g{m};
    return cv.wait_for(g, t, pred);
  }

  /// Events so far (outside wait()'s predicates, which hold the lock).
  size_t received_count() {
    std::lock_guard<std::mutex> g{m};
    return received.size();
  }

  size_t events_of(const std::string& topic) {
    std::lock_guard<std::mutex> g{m};
    return std::count_if(received.begin(), received.end(),
                         [&](const event& e) { return e.topic() == topic; });
  }

  // The distinct emulator sequence numbers received for a topic.
  std::set<int64_t> seqs_of(const std::string& topic) {
    std::lock_guard<std::mutex> g{m};
    std::set<int64_t> out;
    for (auto& e : received)
      if (e.topic() == topic)
        out.insert(json::parse(e.frame().str())["eventBody"]["emulatorSeq"].get<int64_t>());
    return out;
  }

  caf::error wait_down(const caf::actor_addr& addr, std::chrono::seconds t = 10s) {
    caf::scoped_actor self{sys};
    self->monitor(addr);
    caf::error reason = caf::make_error(caf::sec::request_timeout);
    self->receive([&](const caf::down_msg& dm) { reason = dm.reason; },
                  caf::after(t) >> [] {});
    return reason;
  }

  size_t count_of(const std::string& kind) {
    size_t n = 0;
    for (auto& e : audit_copy())
      n += e.event == kind;
    return n;
  }

  // Whether the actor still runs (a down message within 100 ms says not).
  bool alive(const caf::actor_addr& addr) {
    caf::scoped_actor self{sys};
    self->monitor(addr);
    bool down = false;
    self->receive([&](const caf::down_msg&) { down = true; },
                  caf::after(std::chrono::milliseconds(100)) >> [] {});
    return !down;
  }

  std::vector<std::string> audit_kinds() {
    std::vector<std::string> out;
    for (auto& e : audit_copy())
      out.push_back(e.event);
    return out;
  }
};

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(session_tests, session_fixture)

BOOST_AUTO_TEST_CASE(events_flow_to_the_ingest_actor_with_ids_and_times) {
  auto s = spawn(settings());
  BOOST_REQUIRE(wait([&] { return received.size() >= 50 && !channels.empty(); }));
  {
    std::lock_guard<std::mutex> g{m};
    BOOST_CHECK_EQUAL(received.front().topic(), presence);
    BOOST_CHECK(!received.front().id().empty());
    BOOST_CHECK_GT(received.front().ts_ms, 0);
    // Zero copy: the topic and the id are views into the received frame,
    // whose buffer is the one the transport read into.
    BOOST_CHECK(std::all_of(received.begin(), received.end(),
                            [](const event& e) { return e.views_frame(); }));
  }
  auto kinds = audit_kinds();
  BOOST_CHECK(has(kinds, "subscribed"));
  BOOST_CHECK(has(kinds, "connected"));
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  wait_down(s.address());
}

BOOST_AUTO_TEST_CASE(an_orderly_drop_ends_the_session_as_retriable) {
  auto s = spawn(settings());
  BOOST_REQUIRE(wait([&] { return received.size() >= 20; }));
  srv.inject(R"({"kind":"drop"})");
  auto reason = wait_down(s.address());
  BOOST_CHECK(code_of(reason) == errc::socket_closed);
  BOOST_CHECK(is_retriable(reason));
  BOOST_CHECK_MESSAGE(reason_of(reason).find("1006") != std::string::npos,
                      reason_of(reason));
  // Everything written before the drop arrived.
  auto written = stats()["topics"][presence]["written"].get<size_t>();
  BOOST_CHECK_EQUAL(seqs_of(presence).size(), written);
}

BOOST_AUTO_TEST_CASE(the_watchdog_catches_a_stall) {
  auto s = spawn(settings());
  BOOST_REQUIRE(wait([&] { return received.size() >= 5; }));
  auto t0 = std::chrono::steady_clock::now();
  srv.inject(R"({"kind":"stall"})");
  auto reason = wait_down(s.address());
  auto took = std::chrono::steady_clock::now() - t0;
  BOOST_CHECK(code_of(reason) == errc::heartbeat_timeout);
  BOOST_CHECK(is_retriable(reason));
  // Not before the timeout: silence counts from the last frame, which came
  // at most a few event intervals (5 ms each) before the stall.
  BOOST_CHECK(took >= 350ms);
}

BOOST_AUTO_TEST_CASE(the_watchdog_on_the_timer_wheel_catches_a_stall) {
  // As the runtime runs sessions: pings and watchdog checks on its wheel.
  auto wheel = std::make_shared<timer_wheel>();
  auto s = spawn(settings(), std::make_shared<event_inbox>(), nullptr, wheel);
  BOOST_REQUIRE(wait([&] { return received.size() >= 5; }));
  BOOST_CHECK_EQUAL(wheel->size(), 2u); // its ping and its watchdog
  auto t0 = std::chrono::steady_clock::now();
  srv.inject(R"({"kind":"stall"})");
  auto reason = wait_down(s.address());
  auto took = std::chrono::steady_clock::now() - t0;
  BOOST_CHECK(code_of(reason) == errc::heartbeat_timeout);
  BOOST_CHECK(took >= 350ms);
  BOOST_CHECK(took < 2s);
  BOOST_CHECK_EQUAL(wheel->size(), 0u); // cancelled with the session
}

BOOST_AUTO_TEST_CASE(heartbeats_and_pongs_alone_keep_an_idle_socket) {
  // No events: only the service's heartbeats (every 100 ms) and the pongs to
  // our pings (sent from the runtime's timer wheel) reach the socket. They
  // cost no message to the session (the watchdog reads when the socket was
  // heard), and must keep it alive through many heartbeat timeouts (400 ms).
  srv.reconfigure(R"({"event_rate":0})");
  auto wheel = std::make_shared<timer_wheel>();
  auto s = spawn(settings(), std::make_shared<event_inbox>(), nullptr, wheel);
  BOOST_REQUIRE(wait([&] { return !channels.empty(); }));
  auto sum = [&](const char* key) {
    auto st = stats(); // (kept: items() would outlive a temporary)
    size_t n = 0;
    for (auto& ch : st["channels"])
      n += ch.value(key, size_t{0});
    return n;
  };
  auto heartbeats = [&] { return sum("heartbeats"); };
  auto pongs = [&] { return sum("pongs"); };
  // 30 heartbeats: 3 s, 7 timeouts' worth of silence without them.
  BOOST_REQUIRE_MESSAGE(probe::eventually([&] { return heartbeats() >= 30 && pongs() >= 10; },
                                          20s),
                        stats().dump());
  BOOST_CHECK_EQUAL(stats()["totals"].value("sockets_accepted", 0), 1);
  BOOST_CHECK(!has(audit_kinds(), "disconnected"));
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  auto reason = wait_down(s.address());
  BOOST_CHECK(code_of(reason) != errc::heartbeat_timeout);
}

BOOST_AUTO_TEST_CASE(a_new_session_reconnects_to_the_same_channel) {
  auto first = spawn(settings());
  BOOST_REQUIRE(wait([&] { return !channels.empty(); }));
  auto ch = channels.front();
  srv.inject(R"({"kind":"drop"})");
  wait_down(first.address());
  auto s = settings();
  s.resume = ch;
  auto second = spawn(s);
  BOOST_REQUIRE(wait([&] { return channels.size() >= 2; }));
  BOOST_CHECK_EQUAL(channels.back().id, ch.id);
  auto st = stats();
  BOOST_CHECK_EQUAL(st["totals"]["channels"], 1);
  BOOST_CHECK_EQUAL(st["channels"][ch.id]["connects"], 2);
  // A channel that is gone gives a new one.
  srv.inject(R"({"kind":"expire_channel"})");
  wait_down(second.address());
  auto third = spawn(s);
  BOOST_REQUIRE(wait([&] { return channels.size() >= 3; }));
  BOOST_CHECK_NE(channels.back().id, ch.id);
  BOOST_CHECK(has(audit_kinds(), "channel_gone"));
  caf::anon_send_exit(third, caf::exit_reason::user_shutdown);
  wait_down(third.address());
}

BOOST_AUTO_TEST_CASE(socket_closing_makes_before_it_breaks) {
  auto s = spawn(settings());
  BOOST_REQUIRE(wait([&] { return received.size() >= 20; }));
  srv.inject(R"({"kind":"socket_closing","close_after_ms":1000})");
  BOOST_REQUIRE(wait([&] { return channels.size() >= 2; }));
  auto old_id = channels.front().id;
  BOOST_REQUIRE(probe::eventually([&] {
    return !stats()["channels"][old_id]["socket_open"].get<bool>();
  }));
  auto before = events_of(presence);
  BOOST_REQUIRE(wait([&] { return received.size() >= before + 20; }));
  auto st = stats();
  // No event was generated while no socket was open, and every event that
  // was written reached the session (duplicates of the overlap included).
  BOOST_CHECK_EQUAL(st["topics"][presence]["generated_without_socket"], 0);
  BOOST_CHECK_EQUAL(st["channels"][old_id]["socket_open"], false);
  auto written = st["topics"][presence]["written"].get<size_t>();
  BOOST_CHECK_GE(seqs_of(presence).size() + 5, written); // in flight at most
  auto kinds = audit_kinds();
  BOOST_CHECK(has(kinds, "rollover_started"));
  BOOST_CHECK(has(kinds, "rollover_finished"));
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  wait_down(s.address());
}

BOOST_AUTO_TEST_CASE(no_longer_subscribed_moves_to_a_new_channel) {
  auto s = spawn(settings());
  BOOST_REQUIRE(wait([&] { return !channels.empty() && received.size() >= 5; }));
  srv.inject(R"({"kind":"no_longer_subscribed"})");
  BOOST_REQUIRE(wait([&] { return channels.size() >= 2; }));
  auto before = events_of(presence);
  BOOST_CHECK(wait([&] { return received.size() >= before + 10; }));
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  wait_down(s.address());
}

BOOST_AUTO_TEST_CASE(token_revoked_gets_a_new_token_and_carries_on) {
  auto s = spawn(settings());
  BOOST_REQUIRE(wait([&] { return received.size() >= 5; }));
  srv.inject(R"({"kind":"revoke_token"})");
  BOOST_REQUIRE(probe::eventually(
    [&] { return stats()["token_requests"]["app"].get<int>() >= 2; }));
  auto before = received_count();
  BOOST_CHECK(wait([&] { return received.size() >= before + 10; }));
  BOOST_CHECK(has(audit_kinds(), "token_revoked"));
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  wait_down(s.address());
}

BOOST_AUTO_TEST_CASE(a_channel_is_extended_before_it_expires_without_reconnecting) {
  srv.reconfigure(R"({"channel_ttl_s": 1})");
  auto s = spawn(settings());
  BOOST_REQUIRE(wait([&] { return !channels.empty(); }));
  auto id = channels.front().id;
  // Three extensions later (more than two lifetimes), the same channel and
  // socket still stream.
  BOOST_CHECK(probe::eventually([&] {
    int extended = 0;
    for (auto& e : audit_copy())
      extended += e.event == "channel_extended";
    return extended >= 3;
  }));
  auto st = stats();
  BOOST_CHECK_EQUAL(st["channels"][id]["connects"], 1);
  BOOST_CHECK_EQUAL(st["channels"][id]["socket_open"], true);
  BOOST_CHECK_EQUAL(st["totals"]["channels_expired"], 0);
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  wait_down(s.address());
}

BOOST_AUTO_TEST_CASE(a_resumed_channel_is_extended_too) {
  srv.reconfigure(R"({"channel_ttl_s": 1})");
  auto first = spawn(settings());
  BOOST_REQUIRE(wait([&] { return !channels.empty(); }));
  auto ch = channels.front();
  BOOST_CHECK_GT(ch.ttl_ms, 0);
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  wait_down(first.address());
  auto s = settings();
  s.resume = ch;
  auto already = audit_copy().size();
  auto second = spawn(s);
  BOOST_CHECK(probe::eventually([&] {
    auto all = audit_copy();
    int extended = 0;
    for (size_t i = already; i < all.size(); ++i)
      extended += all[i].event == "channel_extended";
    return extended >= 3;
  }));
  auto st = stats();
  BOOST_CHECK_EQUAL(st["channels"][ch.id]["connects"], 2);
  BOOST_CHECK_EQUAL(st["channels"][ch.id]["socket_open"], true);
  BOOST_CHECK_EQUAL(st["totals"]["channels_expired"], 0);
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
  wait_down(second.address());
}

BOOST_AUTO_TEST_CASE(rejected_topics_are_reported_and_all_rejected_is_fatal) {
  auto partly = spawn(settings({presence, "v2.users.u1.conversations"}));
  BOOST_REQUIRE(wait([&] { return received.size() >= 5; }));
  bool reported = false;
  for (auto& e : audit_copy())
    if (e.event == "subscribed")
      for (auto& [k, v] : e.fields)
        reported = reported || (k == "rejected" && v == "1");
  BOOST_CHECK(reported);
  caf::anon_send_exit(partly, caf::exit_reason::user_shutdown);
  wait_down(partly.address());
  auto none = spawn(settings({"v2.users.u1.conversations"}));
  auto reason = wait_down(none.address());
  BOOST_CHECK(code_of(reason) == errc::all_topics_rejected);
  BOOST_CHECK(!is_retriable(reason));
}

BOOST_AUTO_TEST_CASE(a_killed_session_leaves_its_socket_streaming_to_the_next) {
  auto inbox = std::make_shared<event_inbox>();
  auto sockets = std::make_shared<tenant_sockets>(ws);
  // No watchdog in the way: on a loaded machine 400 ms of silence happens,
  // and a socket the watchdog cut is not left to anyone.
  auto patient = settings();
  patient.heartbeat_timeout = 30s;
  auto first = spawn(patient, inbox, sockets);
  BOOST_REQUIRE(wait([&] { return received.size() >= 20 && !channels.empty(); }));
  auto ch = channels.front();
  caf::anon_send_exit(first, caf::exit_reason::kill);
  wait_down(first.address());
  // Nobody owns the socket now, but it still feeds the tenant's inbox. (The
  // down message can come before the session's exit hook has run: CAF runs
  // the monitor attached last first.)
  BOOST_CHECK(probe::eventually([&] { return sockets->left() == 1u; }));
  auto held = inbox->buffered_events();
  BOOST_CHECK(probe::eventually([&] { return inbox->buffered_events() >= held + 10; }));
  // The next session resumes the channel (the service replaces the old
  // socket) and hands over everything the inbox got meanwhile.
  auto s = patient;
  s.resume = ch;
  auto second = spawn(s, inbox, sockets);
  BOOST_REQUIRE(wait([&] { return channels.size() >= 2; }));
  BOOST_CHECK(probe::eventually([&] {
    return stats()["totals"]["sockets_open"].get<int>() == 1;
  }));
  srv.reconfigure(R"({"event_rate":0})");
  auto written = [&] { return stats()["topics"][presence]["written"].get<size_t>(); };
  BOOST_CHECK(probe::eventually([&] { return seqs_of(presence).size() == written(); }));
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
  wait_down(second.address());
}

BOOST_AUTO_TEST_CASE(a_rollover_whose_calls_fail_keeps_streaming_and_tries_again) {
  auto inbox = std::make_shared<event_inbox>();
  auto sockets = std::make_shared<tenant_sockets>(ws);
  auto st = settings();
  st.api_retry = {50ms, 2.0, 200ms};
  auto s = spawn(st, inbox, sockets);
  BOOST_REQUIRE(wait([&] { return received.size() >= 10 && !channels.empty(); }));
  // The rollover's new channel cannot be made (503): the working socket
  // streams on, the failure is audited, and the rollover is tried again.
  srv.inject(R"({"kind":"http_error","path_prefix":"/api/v2/notifications/channels","status":503,"count":1})");
  srv.inject(R"({"kind":"socket_closing","close_after_ms":60000})");
  BOOST_REQUIRE(probe::eventually([&] { return count_of("api_retry") >= 1; }));
  auto before = received_count();
  BOOST_CHECK(wait([&] { return received.size() >= before + 10; }));
  BOOST_REQUIRE(probe::eventually([&] { return count_of("rollover_finished") >= 1; }));
  BOOST_CHECK(wait([&] { return channels.size() == 2; }));
  // Never ended, never left a socket behind.
  BOOST_CHECK(alive(s.address()));
  BOOST_CHECK_EQUAL(sockets->left(), 0u);
  BOOST_CHECK(probe::eventually(
    [&] { return stats()["totals"]["sockets_open"].get<int>() == 1; }));
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  wait_down(s.address());
}

BOOST_AUTO_TEST_CASE(resubscribe_errors_keep_the_socket_streaming) {
  // A drop, then two 503s on the background resubscribe of the channel the
  // next session reconnects to: it streams on (the socket is not closed
  // with events on it), and subscribes once the service answers.
  auto first = spawn(settings());
  BOOST_REQUIRE(wait([&] { return !channels.empty(); }));
  auto ch = channels.front();
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  wait_down(first.address());
  srv.inject(R"({"kind":"http_error","path_prefix":"/api/v2/notifications/channels/","status":503,"count":2})");
  auto st = settings();
  st.resume = ch;
  st.api_retry = {50ms, 2.0, 200ms};
  auto already = received_count();
  auto second = spawn(st);
  BOOST_REQUIRE(probe::eventually([&] { return count_of("api_retry") >= 2; }));
  BOOST_REQUIRE(probe::eventually([&] { return count_of("subscribed") >= 2; })); // first's, then this
  BOOST_CHECK(wait([&] { return received.size() >= already + 10; }));
  BOOST_CHECK(alive(second.address()));
  BOOST_CHECK_EQUAL(stats()["channels"][ch.id]["socket_open"], true);
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
  wait_down(second.address());
}

BOOST_AUTO_TEST_CASE(a_404_to_a_resubscribe_makes_a_new_channel_before_breaking) {
  srv.reconfigure(R"({"channel_ttl_s": 1})"); // a resubscribe every 750 ms
  auto st = settings();
  st.api_retry = {50ms, 2.0, 200ms};
  auto s = spawn(st);
  BOOST_REQUIRE(probe::eventually([&] { return count_of("channel_extended") >= 1; }));
  srv.inject(R"({"kind":"http_error","path_prefix":"/api/v2/notifications/channels/","status":404,"count":1})");
  BOOST_REQUIRE(probe::eventually([&] { return count_of("channel_gone") >= 1; }));
  BOOST_REQUIRE(probe::eventually([&] { return count_of("rollover_finished") >= 1; }));
  BOOST_CHECK(wait([&] { return channels.size() >= 2; }));
  BOOST_CHECK(alive(s.address()));
  BOOST_CHECK_EQUAL(count_of("api_retry"), 0u);
  caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  wait_down(s.address());
}

BOOST_AUTO_TEST_CASE(the_audit_names_channels_by_hash_and_quotes_no_frame_unless_asked) {
  auto check_malformed = [&](bool excerpts) {
    auto st = settings();
    st.frame_excerpts = excerpts;
    size_t opened = 0;
    {
      std::lock_guard<std::mutex> g{m};
      opened = channels.size();
    }
    auto s = spawn(st);
    BOOST_REQUIRE(wait([&] { return channels.size() > opened; }));
    auto already = count_of("malformed_frame");
    // (The emulator may register the socket a moment after the client saw
    // it open, and may still hold the previous session's socket, closing:
    // then the frame went there. Sent again until this session tells.)
    BOOST_REQUIRE(probe::eventually([&] {
      return srv.inject(R"({"kind":"malformed","variant":"invalid_json","count":1,"topic":"v2.users.u9.presence"})")
               .empty()
             && probe::eventually([&] { return count_of("malformed_frame") > already; },
                                  std::chrono::milliseconds{500});
    }));
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
    wait_down(s.address());
    audit_event last;
    for (auto& e : audit_copy())
      if (e.event == "malformed_frame")
        last = e;
    std::map<std::string, std::string> f(last.fields.begin(), last.fields.end());
    BOOST_CHECK(f.count("error") == 1 && f.count("size") == 1 && f.count("topic") == 1);
    BOOST_CHECK_EQUAL(f.count("excerpt"), excerpts ? 1u : 0u);
  };
  check_malformed(false);
  check_malformed(true);
  // No channel id anywhere in the audit: its hash only.
  BOOST_REQUIRE(!channels.empty());
  bool tagged = false;
  for (auto& e : audit_copy())
    for (auto& [k, v] : e.fields) {
      for (auto& ch : channels)
        BOOST_CHECK_MESSAGE(v.find(ch.id) == std::string::npos, e.event << "." << k);
      tagged = tagged || v == channel_tag(channels.front().id);
    }
  BOOST_CHECK(tagged);
}

BOOST_AUTO_TEST_CASE(a_killed_session_closes_a_socket_still_being_set_up) {
  // A listener that never answers the upgrade: the socket stays in setup
  // (as a rollover's new socket does until the service answers).
  int hole = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE_EQUAL(::bind(hole, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  BOOST_REQUIRE_EQUAL(::listen(hole, 4), 0);
  socklen_t len = sizeof(a);
  ::getsockname(hole, reinterpret_cast<sockaddr*>(&a), &len);
  auto uri = "ws://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/channels/x";
  auto sockets = std::make_shared<tenant_sockets>(ws);
  auto s = settings();
  s.resume = channel_info{"x", uri, 0, 0};
  auto session = spawn(s, std::make_shared<event_inbox>(), sockets);
  BOOST_REQUIRE(probe::eventually([&] { return ws->live_connections() == 1; }));
  caf::anon_send_exit(session, caf::exit_reason::kill);
  wait_down(session.address());
  // Not left to anyone: closed at once.
  BOOST_CHECK(probe::eventually([&] { return ws->live_connections() == 0; }));
  BOOST_CHECK_EQUAL(sockets->left(), 0u);
  ::close(hole);
}

BOOST_AUTO_TEST_CASE(a_stopped_session_hands_over_what_the_inbox_holds_then_ends) {
  auto inbox = std::make_shared<event_inbox>();
  auto s = spawn(settings(), inbox);
  BOOST_REQUIRE(wait([&] { return received.size() >= 10; }));
  caf::anon_send(s, stop_atom::value, caf::timespan{5s});
  auto reason = wait_down(s.address());
  BOOST_CHECK(!reason); // a normal end
  BOOST_CHECK(inbox->empty());
  // Every event that reached the inbox reached the ingest actor.
  BOOST_CHECK(probe::eventually(
    [&] { return stats()["totals"]["sockets_open"].get<int>() == 0; }));
  auto got = seqs_of(presence);
  BOOST_CHECK(!got.empty());
  BOOST_CHECK_EQUAL(*got.rbegin(), static_cast<int64_t>(got.size()));
}

BOOST_AUTO_TEST_SUITE_END()
