// The emulator's WebSocket over loopback: events, heartbeats, pings, one
// socket per channel.

#include <boost/test/unit_test.hpp>

#include <set>

#include "tests/support/emulator_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

emulator::config fast_heartbeat() {
  auto c = test::emulator_fixture::default_config();
  c.heartbeat_interval_ms = 50;
  return c;
}

struct socket_fixture : test::emulator_fixture {
  socket_fixture() : test::emulator_fixture(fast_heartbeat()) {}

  std::string token = probe::get_token(base, "app", "s3cret-Value");

  probe::channel_info subscribed(const std::vector<std::string>& topics) {
    auto ch = probe::create_channel(base, token);
    BOOST_REQUIRE_EQUAL(probe::subscribe(base, token, ch.id, topics).status, 200);
    return ch;
  }
};

size_t count_topic(const std::vector<std::string>& frames, const std::string& what) {
  size_t n = 0;
  for (auto& f : frames)
    if (f.find(what) != std::string::npos)
      ++n;
  return n;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(emulator_socket, socket_fixture)

BOOST_AUTO_TEST_CASE(events_heartbeats_and_pong) {
  auto ch = subscribed({"v2.users.u1.presence",
                        "v2.detail.events.conversation.c1.customer.start"});
  probe::ws_probe ws;
  BOOST_REQUIRE(ws.connect(ch.connect_uri));
  BOOST_REQUIRE(ws.wait_until([&] {
    auto f = ws.frames();
    return count_topic(f, "WebSocket Heartbeat") >= 3
           && count_topic(f, "\"v2.users.u1.presence\"") >= 20
           && count_topic(f, "\"v2.detail.events.conversation.c1.customer.start\"") >= 20;
  }));
  ws.send(R"({"message":"ping"})");
  BOOST_REQUIRE(ws.wait_until([&] { return count_topic(ws.frames(), "pong") == 1; }));
  std::set<std::string> ids;
  std::map<std::string, int64_t> last_seq;
  for (auto& f : ws.frames()) {
    auto j = json::parse(f);
    if (j["topicName"] == "channel.metadata")
      continue;
    BOOST_CHECK(ids.insert(j["metadata"]["CorrelationId"].get<std::string>()).second);
    auto seq = j["eventBody"]["emulatorSeq"].get<int64_t>();
    auto& last = last_seq[j["topicName"]];
    BOOST_CHECK_EQUAL(seq, last + 1); // no gap, no reordering without a fault
    last = seq;
  }
}

BOOST_AUTO_TEST_CASE(a_second_socket_on_a_channel_closes_the_first) {
  auto ch = subscribed({"v2.users.u1.presence"});
  probe::ws_probe first, second;
  BOOST_REQUIRE(first.connect(ch.connect_uri));
  BOOST_REQUIRE(second.connect(ch.connect_uri));
  BOOST_REQUIRE(first.wait_until(
    [&] { return first.current() == probe::ws_probe::state::closed; }));
  BOOST_CHECK_EQUAL(first.close_code(), 4000);
  auto before = second.frame_count();
  BOOST_CHECK(second.wait_until([&] { return second.frame_count() > before + 5; }));
}

BOOST_AUTO_TEST_CASE(unknown_channel_is_refused_with_404) {
  probe::ws_probe ws;
  BOOST_CHECK(!ws.connect("ws://127.0.0.1:" + std::to_string(srv.port())
                          + "/channels/streaming-0-nope"));
  BOOST_CHECK(ws.current() == probe::ws_probe::state::failed);
  BOOST_CHECK_EQUAL(ws.close_code(), 404);
}

BOOST_AUTO_TEST_CASE(accounting_matches_what_arrived_after_an_orderly_drop) {
  // A drop is a FIN after the queued data: every written event arrives, and
  // the accounting says exactly how many that was.
  auto ch = subscribed({"v2.users.u1.presence", "v2.users.u2.presence"});
  probe::ws_probe ws;
  BOOST_REQUIRE(ws.connect(ch.connect_uri));
  BOOST_REQUIRE(ws.wait_until([&] { return ws.frame_count() >= 100; }));
  probe::inject(base, R"({"kind":"drop"})");
  BOOST_REQUIRE(ws.wait_until(
    [&] { return ws.current() == probe::ws_probe::state::closed; }));
  BOOST_CHECK_EQUAL(ws.close_code(), 1006);
  auto s = stats();
  auto written = s["channels"][ch.id]["written_by_topic"];
  auto frames = ws.frames();
  for (auto topic : {"v2.users.u1.presence", "v2.users.u2.presence"}) {
    BOOST_CHECK_EQUAL(written[topic].get<size_t>(),
                      count_topic(frames, std::string{"\""} + topic + "\""));
    BOOST_CHECK_EQUAL(s["topics"][topic]["written"], written[topic]);
  }
  BOOST_CHECK_EQUAL(s["channels"][ch.id]["socket_open"], false);
  // The topics go on without a socket: that is the gap a client must avoid.
  BOOST_CHECK(probe::eventually([&] {
    return stats()["topics"]["v2.users.u1.presence"]["generated_without_socket"] > 0;
  }));
}

BOOST_AUTO_TEST_SUITE_END()
