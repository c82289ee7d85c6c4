// Every fault kind of the emulator, switched on at run time through the
// control endpoint and observed by a minimal client over loopback.

#include <boost/test/unit_test.hpp>

#include <set>

#include "tests/support/emulator_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;
using json = nlohmann::json;
using state = probe::ws_probe::state;

namespace {

struct fault_fixture : test::emulator_fixture {
  std::string token = probe::get_token(base, "app", "s3cret-Value");
  probe::channel_info ch = probe::create_channel(base, token);
  probe::ws_probe ws;

  fault_fixture() {
    BOOST_REQUIRE_EQUAL(
      probe::subscribe(base, token, ch.id, {"v2.users.u1.presence"}).status, 200);
    BOOST_REQUIRE(ws.connect(ch.connect_uri));
    BOOST_REQUIRE(ws.wait_until([&] { return ws.frame_count() >= 5; }));
  }

  bool closed() {
    return ws.wait_until([&] { return ws.current() == state::closed; });
  }

  std::vector<json> events() {
    std::vector<json> out;
    for (auto& f : ws.frames()) {
      auto j = json::parse(f, nullptr, false);
      if (!j.is_discarded() && j.contains("eventBody") && j["eventBody"].is_object()
          && j["eventBody"].contains("emulatorSeq"))
        out.push_back(j);
    }
    return out;
  }

  probe::http_options auth() {
    probe::http_options o;
    o.headers = {"Authorization: Bearer " + token};
    return o;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(emulator_faults, fault_fixture)

BOOST_AUTO_TEST_CASE(reset_aborts_the_connection) {
  probe::inject(base, R"({"kind":"reset"})");
  BOOST_REQUIRE(closed());
  BOOST_CHECK_EQUAL(ws.close_code(), 1006);
  BOOST_CHECK(probe::eventually([&] { return stats()["totals"]["sockets_open"] == 0; }));
}

BOOST_AUTO_TEST_CASE(stall_goes_silent_until_the_client_reconnects) {
  probe::inject(base, R"({"kind":"stall"})");
  auto before = ws.frame_count();
  ws.send(R"({"message":"ping"})");
  // Nothing at all for 300 ms: no event, no heartbeat, no pong.
  BOOST_CHECK(!ws.wait_until([&] { return ws.frame_count() > before; }, 300ms));
  BOOST_CHECK(ws.current() == state::open); // TCP still says all is well
  BOOST_CHECK(stats()["channels"][ch.id]["stalled"].get<bool>());
  // The cure: reconnect to the same channel.
  probe::ws_probe again;
  BOOST_REQUIRE(again.connect(ch.connect_uri));
  BOOST_CHECK(again.wait_until([&] { return again.frame_count() >= 5; }));
  BOOST_CHECK(stats()["topics"]["v2.users.u1.presence"]["generated_without_socket"] > 0);
}

BOOST_AUTO_TEST_CASE(socket_closing_then_close) {
  probe::inject(base, R"({"kind":"socket_closing","close_after_ms":200})");
  BOOST_REQUIRE(ws.wait_until([&] {
    for (auto& f : ws.frames())
      if (f.find("\"v2.system.socket_closing\"") != std::string::npos)
        return true;
    return false;
  }));
  BOOST_REQUIRE(closed());
  BOOST_CHECK_EQUAL(ws.close_code(), 1001);
}

BOOST_AUTO_TEST_CASE(http_errors_with_retry_after_then_success) {
  probe::inject(base, R"({"kind":"http_error","path_prefix":"/oauth/token",)"
                      R"("status":503,"count":2,"retry_after_s":2})");
  probe::http_options basic;
  basic.user = "app";
  basic.password = "s3cret-Value";
  for (int i = 0; i < 2; ++i) {
    auto r = probe::http("POST", base + "/oauth/token", "grant_type=client_credentials",
                         basic);
    BOOST_CHECK_EQUAL(r.status, 503);
    BOOST_CHECK_EQUAL(r.headers["retry-after"], "2");
  }
  BOOST_CHECK_EQUAL(probe::http("POST", base + "/oauth/token",
                                "grant_type=client_credentials", basic)
                      .status,
                    200);
  probe::inject(base, R"({"kind":"http_error","path_prefix":"/api/","status":429,)"
                      R"("retry_after_s":5})");
  auto limited = probe::http("POST", base + "/api/v2/notifications/channels", "", auth());
  BOOST_CHECK_EQUAL(limited.status, 429);
  BOOST_CHECK_EQUAL(json::parse(limited.body)["code"], "too.many.requests.retry.after");
}

BOOST_AUTO_TEST_CASE(slow_responses_arrive_late_but_whole) {
  probe::inject(base, R"({"kind":"slow","path_prefix":"/api/","delay_ms":300})");
  auto r = probe::http("GET", base + "/api/v2/notifications/channels", "", auth());
  BOOST_CHECK_EQUAL(r.status, 200);
  BOOST_CHECK_GE(r.seconds, 0.29);
  BOOST_CHECK_EQUAL(json::parse(r.body)["entities"].size(), 1u);
}

BOOST_AUTO_TEST_CASE(token_revocation) {
  probe::inject(base, R"({"kind":"revoke_token","client":"app"})");
  BOOST_REQUIRE(ws.wait_until([&] {
    for (auto& f : ws.frames())
      if (f.find("\"v2.system.token_revoked." + ch.id + "\"") != std::string::npos)
        return true;
    return false;
  }));
  BOOST_CHECK_EQUAL(
    probe::http("GET", base + "/api/v2/notifications/channels", "", auth()).status, 401);
}

BOOST_AUTO_TEST_CASE(duplicate_sends_repeat_correlation_ids) {
  probe::inject(base, R"({"kind":"duplicate","count":5})");
  BOOST_REQUIRE(ws.wait_until([&] {
    std::map<std::string, int> seen;
    int twice = 0;
    for (auto& e : events())
      if (++seen[e["metadata"]["CorrelationId"].get<std::string>()] == 2)
        ++twice;
    return twice == 5;
  }));
  BOOST_CHECK(probe::eventually(
    [&] { return stats()["topics"]["v2.users.u1.presence"]["duplicates_sent"] == 5; }));
}

BOOST_AUTO_TEST_CASE(out_of_order_sends_reverse_windows) {
  probe::inject(base, R"({"kind":"out_of_order","count":10,"window":5})");
  BOOST_REQUIRE(ws.wait_until([&] {
    int64_t last = 0;
    int inversions = 0;
    for (auto& e : events()) {
      auto seq = e["eventBody"]["emulatorSeq"].get<int64_t>();
      if (seq < last)
        ++inversions;
      last = seq;
    }
    return inversions >= 8; // two reversed windows of five
  }));
}

BOOST_AUTO_TEST_CASE(malformed_frames_of_every_variant_arrive) {
  for (auto v : {"invalid_json", "truncated", "wrong_types"})
    probe::inject(base, std::string{R"({"kind":"malformed","variant":")"} + v + "\"}");
  probe::inject(base, R"({"kind":"malformed","variant":"oversized","size":2000000})");
  BOOST_REQUIRE(ws.wait_until([&] {
    int bad = 0;
    bool big = false;
    for (auto& f : ws.frames()) {
      auto j = json::parse(f, nullptr, false);
      if (j.is_discarded() || !j["topicName"].is_string())
        ++bad;
      big = big || f.size() > 2000000;
    }
    return bad == 3 && big;
  }));
  BOOST_CHECK(ws.current() == state::open);
  BOOST_CHECK_EQUAL(stats()["totals"]["malformed_sent"], 4);
}

BOOST_AUTO_TEST_CASE(expired_channel_closes_its_socket_and_answers_404) {
  probe::inject(base, R"({"kind":"expire_channel"})");
  BOOST_REQUIRE(closed());
  BOOST_CHECK_EQUAL(ws.close_code(), 1000);
  BOOST_CHECK_EQUAL(probe::http("HEAD", base + "/api/v2/notifications/channels/" + ch.id,
                                "", auth())
                      .status,
                    404);
}

BOOST_AUTO_TEST_CASE(no_longer_subscribed_stops_the_events) {
  probe::inject(base, R"({"kind":"no_longer_subscribed"})");
  BOOST_REQUIRE(ws.wait_until([&] {
    for (auto& f : ws.frames())
      if (f.find("\"no_longer_subscribed\"") != std::string::npos)
        return true;
    return false;
  }));
  auto subs = probe::http("GET",
                          base + "/api/v2/notifications/channels/" + ch.id
                            + "/subscriptions",
                          "", auth());
  BOOST_CHECK_EQUAL(json::parse(subs.body)["entities"].size(), 0u);
}

BOOST_AUTO_TEST_CASE(refused_faults_say_why) {
  probe::http_options o;
  auto r = probe::http("POST", base + "/emulator/faults", R"({"kind":"meteor"})", o);
  BOOST_CHECK_EQUAL(r.status, 400);
  BOOST_CHECK(json::parse(r.body)["error"].get<std::string>().find("meteor")
              != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(emulator_control_validation)

// Bad control bodies: a 400 naming the field, never a crash, never an
// unbounded allocation; the emulator serves on.
BOOST_AUTO_TEST_CASE(every_field_is_checked_and_named) {
  test::emulator_fixture emu;
  auto post = [&](const std::string& path, const std::string& body) {
    probe::http_options o;
    o.headers = {"Content-Type: application/json"};
    return probe::http("POST", emu.base + path, body, o);
  };
  const std::vector<std::pair<std::string, std::string>> faults = {
    {R"({"kind":"drop","client":1})", "client: expected a string"},
    {R"({"kind":"drop","channel":[1]})", "channel: expected a string"},
    {R"({"kind":"drop","bogus":true})", "bogus: unknown field"},
    {R"({"kind":"malformed","size":99999999999})", "size: expected an integer from 1 to"},
    {R"({"kind":"malformed","variant":"oversized","size":16000000,"count":100})",
     "size: size times count must stay within 64 MiB"},
    {R"({"kind":"malformed","variant":7})", "variant: expected one of"},
    {R"({"kind":"duplicate","count":-5})", "count: expected an integer from 1 to 100000"},
    {R"({"kind":"duplicate","count":1.5})", "count: expected an integer"},
    {R"({"kind":"out_of_order","window":1})", "window: expected an integer from 2"},
    {R"({"kind":"close","code":70000})", "code: expected an integer from 1000 to 4999"},
    {R"({"kind":"close","reason":")" + std::string(200, 'r') + "\"}",
     "reason: expected a string of at most 123 bytes"},
    {R"({"kind":"http_error","status":200})", "status: expected an integer from 400"},
    {R"({"kind":"http_error","path_prefix":"api"})", "path_prefix: expected a path"},
    {R"({"kind":"slow","delay_ms":"soon"})", "delay_ms: expected an integer"},
    {R"({"kind":"socket_closing","close_after_ms":-1})", "close_after_ms: expected"},
    {R"({"kind":"nope"})", "kind: unknown fault nope"},
    {R"({"kind":5})", "a fault is a JSON object with a string"},
    {R"([1,2])", "a fault is a JSON object"},
    {"not json at all", "a fault is a JSON object"}};
  for (auto& [body, expected] : faults) {
    auto r = post("/emulator/faults", body);
    BOOST_CHECK_MESSAGE(r.status == 400, body << " -> " << r.status);
    BOOST_CHECK_MESSAGE(r.body.find(expected) != std::string::npos,
                        body << " -> " << r.body);
  }
  const std::vector<std::pair<std::string, std::string>> settings = {
    {R"({"event_rate":-1})", "event_rate: expected a number from 0"},
    {R"({"event_rate":"fast"})", "event_rate: expected a number"},
    {R"({"heartbeat_interval_ms":1e20})", "heartbeat_interval_ms: expected an integer"},
    {R"({"max_channels_per_client":0})", "max_channels_per_client: expected an integer from 1"},
    {R"({"forbidden_topics":"x"})", "forbidden_topics: expected an array"},
    {R"({"forbidden_topics":[1]})", "forbidden_topics: expected an array of patterns"},
    {R"({"what":1})", "what: unknown field"},
    {R"(7)", "the body must be a JSON object"}};
  for (auto& [body, expected] : settings) {
    auto r = post("/emulator/config", body);
    BOOST_CHECK_MESSAGE(r.status == 400, body << " -> " << r.status);
    BOOST_CHECK_MESSAGE(r.body.find(expected) != std::string::npos,
                        body << " -> " << r.body);
  }
  // Still alive, and nothing of the bad requests was applied.
  auto st = probe::http("GET", emu.base + "/emulator/stats");
  BOOST_CHECK_EQUAL(st.status, 200);
  BOOST_CHECK_EQUAL(json::parse(st.body)["totals"]["faults_applied"], 0);
  BOOST_CHECK_EQUAL(post("/emulator/config", R"({"event_rate":5})").status, 200);
}

BOOST_AUTO_TEST_SUITE_END()
