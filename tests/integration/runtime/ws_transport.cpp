// The WebSocket transport against the emulator over loopback.

#include "runtime/ws_transport.hpp"

#include <boost/test/unit_test.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "messages/errors.hpp"
#include "runtime/envelope.hpp"
#include "tests/support/emulator_fixture.hpp"
#include "tests/support/throwaway_ca.hpp"

using namespace gcstream;
using namespace std::chrono_literals;

namespace {

// What one connection reported, with waits that have a deadline.
struct recorder {
  std::mutex m;
  std::condition_variable cv;
  bool opened = false;
  std::optional<ws_close_info> closed;
  std::vector<std::string> frames;
  size_t batches = 0;
  bool all_padded = true;
  /// Pause reading after this many frames (0: never).
  size_t pause_after = 0;
  bool paused = false;

  ws_handlers handlers() {
    ws_handlers h;
    h.on_open = [this] { update([&] { opened = true; }); };
    h.on_frames = [this](uint64_t, std::vector<frame_ref>&& fs, int64_t) {
      bool pause = false;
      update([&] {
        ++batches;
        for (auto& f : fs) {
          auto& b = f.str();
          all_padded = all_padded
                       && b.capacity() >= b.size() + envelope_parser::padding();
          frames.push_back(b);
        }
        pause = paused = pause_after != 0 && frames.size() >= pause_after;
      });
      return pause;
    };
    h.on_closed = [this](const ws_close_info& i) { update([&] { closed = i; }); };
    return h;
  }

  template <class F>
  void update(F f) {
    std::lock_guard<std::mutex> g{m};
    f();
    cv.notify_all();
  }

  template <class P>
  bool wait(P pred, std::chrono::milliseconds t = 20000ms) {
    std::unique_lock<std::mutex> g{m};
    return cv.wait_for(g, t, pred);
  }

  /// Frames that contain `what`; for wait() predicates (the lock is held).
  size_t count_locked(const std::string& what) const {
    size_t n = 0;
    for (auto& f : frames)
      n += f.find(what) != std::string::npos;
    return n;
  }

  size_t count(const std::string& what) {
    std::lock_guard<std::mutex> g{m};
    return count_locked(what);
  }
};

struct transport_fixture : test::emulator_fixture {
  // Declared before the transport: they outlive its callbacks (its threads
  // end in its destructor, and a connection still open then reports to its
  // recorder while closing).
  std::deque<recorder> recorders;
  ws_transport transport;

  recorder& fresh() { return recorders.emplace_back(); }
  std::string token = probe::get_token(base, "app", "s3cret-Value");

  // The client sees its socket open a moment before the emulator has it in
  // its list: a fault injected in between reaches no socket. (The ASan run
  // once waited 20 s for a frame injected so.)
  bool emulator_has_socket() {
    return probe::eventually([&] { return stats()["totals"]["sockets_open"].get<int>() >= 1; });
  }

  std::string channel(const std::vector<std::string>& topics) {
    auto ch = probe::create_channel(base, token);
    probe::subscribe(base, token, ch.id, topics);
    return ch.connect_uri;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(ws_transport_tests, transport_fixture)

BOOST_AUTO_TEST_CASE(frames_arrive_in_batches_with_parser_padding) {
  recorder& r = fresh();
  auto id = transport.connect(channel({"v2.users.u1.presence"}), r.handlers());
  BOOST_REQUIRE(id);
  BOOST_REQUIRE(r.wait([&] { return r.opened; }));
  BOOST_REQUIRE(transport.send(*id, R"({"message":"ping"})"));
  BOOST_REQUIRE(r.wait([&] { return r.frames.size() >= 50; }));
  BOOST_CHECK(r.wait([&] {
    for (auto& f : r.frames)
      if (f.find("\"pong\"") != std::string::npos)
        return true;
    return false;
  }));
  BOOST_CHECK(r.all_padded);
  transport.close(*id, 1000, "done");
  BOOST_REQUIRE(r.wait([&] { return r.closed.has_value(); }));
  BOOST_CHECK(r.closed->requested);
  BOOST_CHECK_EQUAL(transport.live_connections(), 0u);
}

BOOST_AUTO_TEST_CASE(a_coalescing_window_gathers_the_frames_of_many_ticks) {
  // 5 topics x 200 events/s: the emulator writes every 5 ms, so reading as
  // soon as anything arrives (coalesce_ms 0) hands over about 5 frames at a
  // time. A 50 ms window gathers about 50 per hand-off; each hand-off is a
  // wake-up of the socket thread and of the actors it feeds.
  recorder r; // (before the transport: it outlives its callbacks)
  ws_settings ws;
  ws.coalesce_ms = 50;
  ws_transport paced{ws};
  std::vector<std::string> topics;
  for (int i = 0; i < 5; ++i)
    topics.push_back("v2.users.u" + std::to_string(i) + ".presence");
  auto id = paced.connect(channel(topics), r.handlers());
  BOOST_REQUIRE(id);
  BOOST_REQUIRE(r.wait([&] { return r.frames.size() >= 1000; }));
  size_t frames, batches;
  {
    std::lock_guard<std::mutex> g{r.m};
    frames = r.frames.size();
    batches = r.batches;
  }
  BOOST_CHECK_MESSAGE(batches * 15 <= frames,
                      frames << " frames in " << batches << " hand-offs");
  paced.close(*id, 1000, "done");
  BOOST_REQUIRE(r.wait([&] { return r.closed.has_value(); }));
  paced.stop();
}

BOOST_AUTO_TEST_CASE(an_orderly_drop_delivers_everything_before_the_close) {
  recorder& r = fresh();
  auto uri = channel({"v2.users.u1.presence"});
  auto id = transport.connect(uri, r.handlers());
  BOOST_REQUIRE(id);
  BOOST_REQUIRE(r.wait([&] { return r.frames.size() >= 20; }));
  srv.inject(R"({"kind":"drop"})");
  BOOST_REQUIRE(r.wait([&] { return r.closed.has_value(); }));
  BOOST_CHECK_EQUAL(r.closed->remote_code, 1006);
  BOOST_CHECK(!r.closed->requested);
  auto written = stats()["topics"]["v2.users.u1.presence"]["written"].get<size_t>();
  BOOST_CHECK_EQUAL(r.count("\"v2.users.u1.presence\""), written);
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_left_to_the_parser) {
  // Stock websocketpp would fail the connection (1007). Here the frame
  // arrives, the parser calls it malformed, and the connection stays up.
  recorder& r = fresh();
  auto id = transport.connect(channel({"v2.users.u1.presence"}), r.handlers());
  BOOST_REQUIRE(r.wait([&] { return r.opened; }));
  BOOST_REQUIRE(emulator_has_socket());
  srv.inject(R"({"kind":"malformed","variant":"invalid_utf8"})");
  BOOST_REQUIRE(r.wait([&] { return r.count_locked("\"note\":\"caf") == 1; }));
  std::string bad;
  {
    std::lock_guard<std::mutex> g{r.m};
    for (auto& f : r.frames)
      if (f.find("\"note\":\"caf") != std::string::npos)
        bad = f;
  }
  envelope_parser parser;
  envelope env;
  BOOST_CHECK(parser.parse(bad.data(), bad.size(), bad.capacity(), 0, env)
              == frame_kind::malformed);
  auto before = r.count("emulatorSeq");
  BOOST_CHECK(r.wait([&] { return r.count_locked("emulatorSeq") > before + 5; }));
  BOOST_CHECK(!r.closed);
  transport.close(*id, 1000, "done");
  BOOST_CHECK(r.wait([&] { return r.closed.has_value(); })); // r outlives it
}

BOOST_AUTO_TEST_CASE(an_oversized_frame_closes_with_1009) {
  recorder& r = fresh();
  auto id = transport.connect(channel({}), r.handlers());
  BOOST_REQUIRE(id);
  // Whatever happens below, the connection ends before `r` does.
  struct ender {
    ws_transport& t;
    uint64_t id;
    recorder& r;
    ~ender() {
      t.abort(id);
      r.wait([&] { return r.closed.has_value(); });
    }
  } end_first{transport, *id, r};
  BOOST_REQUIRE(r.wait([&] { return r.opened; }));
  BOOST_REQUIRE(emulator_has_socket());
  srv.inject(R"({"kind":"malformed","variant":"oversized","size":1100000})");
  BOOST_REQUIRE(r.wait([&] { return r.closed.has_value(); }));
  BOOST_CHECK_EQUAL(r.closed->local_code, 1009);
  BOOST_CHECK(!r.closed->requested);
  (void) id;
}

BOOST_AUTO_TEST_CASE(a_paused_connection_reads_nothing_until_resumed) {
  recorder& r = fresh();
  r.pause_after = 20;
  const std::string topic = "v2.users.u1.presence";
  auto id = transport.connect(channel({topic}), r.handlers());
  BOOST_REQUIRE(id);
  BOOST_REQUIRE(r.wait([&] { return r.paused; }));
  auto written = [&] { return stats()["topics"][topic]["written"].get<size_t>(); };
  // The service goes on writing; nothing more is read meanwhile (but what
  // the last read had brought in already).
  auto w0 = written();
  BOOST_REQUIRE(probe::eventually([&] { return written() >= w0 + 30; }, 20s));
  auto c1 = r.count("emulatorSeq");
  BOOST_REQUIRE(probe::eventually([&] { return written() >= w0 + 60; }, 20s));
  BOOST_CHECK_EQUAL(r.count("emulatorSeq"), c1);
  BOOST_CHECK_LT(c1, w0 + 30);
  // (A paused connection is kept alive: websocketpp owns none without I/O.)
  BOOST_CHECK(stats()["totals"]["sockets_open"].get<int>() == 1);
  r.update([&] { r.pause_after = 0; });
  transport.resume(*id);
  auto w1 = written();
  BOOST_CHECK(r.wait([&] { return r.count_locked("emulatorSeq") >= w1; }));
  transport.close(*id, 1000, "done");
  BOOST_CHECK(r.wait([&] { return r.closed.has_value(); }));
}

BOOST_AUTO_TEST_CASE(a_socket_closed_while_connecting_ends_as_asked) {
  recorder& r = fresh();
  auto id = transport.connect(channel({"v2.users.u1.presence"}), r.handlers());
  BOOST_REQUIRE(id);
  transport.close(*id, 1000, "changed my mind"); // before the upgrade is done
  BOOST_REQUIRE(r.wait([&] { return r.closed.has_value(); }));
  BOOST_CHECK(r.closed->requested);
  BOOST_CHECK(probe::eventually(
    [&] { return stats()["totals"]["sockets_open"].get<int>() == 0; }));
  BOOST_CHECK_EQUAL(transport.live_connections(), 0u);
}

BOOST_AUTO_TEST_CASE(refusals_are_reported) {
  recorder& r = fresh();
  auto id = transport.connect("ws://127.0.0.1:" + std::to_string(srv.port())
                                + "/channels/nope",
                              r.handlers());
  BOOST_REQUIRE(id);
  BOOST_REQUIRE(r.wait([&] { return r.closed.has_value(); }));
  BOOST_CHECK(!r.closed->was_open);
  BOOST_CHECK_EQUAL(r.closed->http_status, 404);
  recorder& never = fresh();
  auto remote = transport.connect("ws://streaming.example.invalid/channels/x",
                                  never.handlers());
  BOOST_REQUIRE(!remote);
  BOOST_CHECK(code_of(remote.error()) == errc::insecure_url);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ws_transport_tls_tests)

BOOST_AUTO_TEST_CASE(verifies_the_chain_and_the_host_name) {
  test::throwaway_ca ca;
  ca.make_cert("server", "DNS:localhost,IP:127.0.0.1");
  ca.make_cert("wrongname", "DNS:other.example");
  auto run = [&](const std::string& cert) {
    auto c = test::emulator_fixture::default_config();
    c.tls_cert = ca.path(cert + ".pem");
    c.tls_key = ca.path(cert + ".key");
    emulator::server srv{c};
    srv.start();
    auto caf = ca.path("ca.pem");
    std::string uri;
    if (cert == "server") {
      auto tok = probe::get_token(srv.base_url(), "app", "s3cret-Value", caf);
      auto ch = probe::create_channel(srv.base_url(), tok, caf);
      probe::subscribe(srv.base_url(), tok, ch.id, {"v2.users.u1.presence"}, false, caf);
      uri = ch.connect_uri;
    } else {
      uri = "wss://127.0.0.1:" + std::to_string(srv.port()) + "/channels/x";
    }
    recorder r; // declared first: it must outlive the transport's callbacks
    ws_settings ws;
    ws.ca_file = caf;
    ws_transport t{ws};
    auto id = t.connect(uri, r.handlers());
    BOOST_REQUIRE(id);
    r.wait([&] { return r.frames.size() >= 3 || r.closed.has_value(); });
    std::lock_guard<std::mutex> g{r.m};
    return std::make_pair(r.frames.size(), r.closed);
  };
  auto [good_frames, good_closed] = run("server");
  BOOST_CHECK_GE(good_frames, 3u);
  BOOST_CHECK(!good_closed);
  auto [bad_frames, bad_closed] = run("wrongname");
  BOOST_CHECK_EQUAL(bad_frames, 0u);
  BOOST_REQUIRE(bad_closed);
  BOOST_CHECK(!bad_closed->was_open);
  BOOST_CHECK_MESSAGE(bad_closed->error.find("hostname mismatch") != std::string::npos
                        || bad_closed->error.find("verification failed")
                             != std::string::npos,
                      bad_closed->error);
}

BOOST_AUTO_TEST_SUITE_END()
