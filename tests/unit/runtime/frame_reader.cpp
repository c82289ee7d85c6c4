// What the socket thread tells the session (issue 15: heartbeats and pongs
// cost no actor message; the watchdog reads when the socket was heard).

#include <boost/test/unit_test.hpp>

#include "runtime/frame_reader.hpp"

using namespace gcstream;

namespace {

struct told {
  int calls = 0;
  std::vector<frame_notice> notices;
};

std::vector<frame_ref> frames(std::initializer_list<const char*> texts) {
  std::vector<frame_ref> out;
  for (auto t : texts)
    out.emplace_back(std::string{t});
  return out;
}

const char* heartbeat =
  R"({"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}})";
const char* pong = R"({"topicName":"channel.metadata","eventBody":{"message":"pong"}})";
const char* closing = R"({"topicName":"v2.system.socket_closing","eventBody":{}})";
const char* an_event =
  R"({"topicName":"v2.users.u1.presence","eventBody":{"x":1},"metadata":{"CorrelationId":"c1"}})";

} // namespace

BOOST_AUTO_TEST_SUITE(frame_reader_tests)

BOOST_AUTO_TEST_CASE(liveness_frames_are_recorded_not_told) {
  auto inbox = std::make_shared<event_inbox>();
  told t;
  frame_reader_settings cfg;
  cfg.tenant = "acme";
  cfg.heard = std::make_shared<std::atomic<int64_t>>(0);
  auto read = frame_reader(cfg, inbox, nullptr,
                           [&](uint64_t, std::vector<frame_notice>&& n) {
                             ++t.calls;
                             for (auto& x : n)
                               t.notices.push_back(x);
                           });
  auto before = steady_ms();
  BOOST_CHECK(!read(1, frames({heartbeat, pong}), 1000));
  BOOST_CHECK_EQUAL(t.calls, 0); // no message for the session
  BOOST_CHECK_GE(cfg.heard->load(), before);
  // An event goes to the inbox, not to the session.
  read(1, frames({an_event}), 1001);
  BOOST_CHECK_EQUAL(t.calls, 0);
  BOOST_CHECK_EQUAL(inbox->buffered_events(), 1u);
  // What the session must act on is told at once, alone.
  read(1, frames({heartbeat, closing, "{nope"}), 1002);
  BOOST_REQUIRE_EQUAL(t.calls, 1);
  BOOST_REQUIRE_EQUAL(t.notices.size(), 2u);
  BOOST_CHECK(static_cast<frame_kind>(t.notices[0].kind) == frame_kind::socket_closing);
  BOOST_CHECK(static_cast<frame_kind>(t.notices[1].kind) == frame_kind::malformed);
}

BOOST_AUTO_TEST_CASE(without_a_heard_slot_liveness_is_told_at_most_every_liveness_ms) {
  auto inbox = std::make_shared<event_inbox>();
  int calls = 0;
  frame_reader_settings cfg;
  cfg.liveness_ms = 50;
  auto read = frame_reader(cfg, inbox, nullptr,
                           [&](uint64_t, std::vector<frame_notice>&&) { ++calls; });
  read(1, frames({an_event}), 1000);
  read(1, frames({an_event}), 1010); // within 50 ms: spared
  BOOST_CHECK_EQUAL(calls, 1);
  read(1, frames({an_event}), 1060);
  BOOST_CHECK_EQUAL(calls, 2);
  read(1, frames({heartbeat}), 1061); // a notice goes at once
  BOOST_CHECK_EQUAL(calls, 3);
}

BOOST_AUTO_TEST_SUITE_END()
