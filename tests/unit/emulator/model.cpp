#include "emulator/model.hpp"

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "emulator/events.hpp"

using namespace gcstream::emulator;
using json = nlohmann::json;

namespace {

// Drives a model with a hand-moved clock; no socket, no thread.
struct model_fixture {
  config cfg = make_config();
  model m{cfg, 42};
  instant now{1000000, 1763800000000};

  model_fixture() { m.tick(now); }

  static config make_config() {
    config c;
    c.clients["app"] = "secret";
    c.clients["other"] = "pw";
    c.event_rate = 100;
    c.heartbeat_interval_ms = 1000;
    c.token_ttl_s = 60;
    c.channel_ttl_s = 120;
    c.forbidden_topics = {"v2.users.*.conversations"};
    return c;
  }

  void advance(int64_t ms) {
    // Time passes in ticks of 5 ms, as on the server.
    for (int64_t left = ms; left > 0; left -= 5) {
      auto step = std::min<int64_t>(5, left);
      now.steady_ms += step;
      now.wall_ms += step;
      m.tick(now);
    }
  }

  http_response call(const std::string& method, const std::string& target,
                     const std::string& auth = "", const std::string& body = "") {
    return m.handle_http({method, target, auth, "application/json", body}, now);
  }

  std::string token(const std::string& id = "app",
                    const std::string& secret = "secret") {
    auto r = m.handle_http({"POST", "/oauth/token", "",
                            "application/x-www-form-urlencoded",
                            "grant_type=client_credentials&client_id=" + id
                              + "&client_secret=" + secret},
                           now);
    BOOST_REQUIRE_EQUAL(r.status, 200);
    return "Bearer " + json::parse(r.body)["access_token"].get<std::string>();
  }

  json channel(const std::string& auth) {
    auto r = call("POST", "/api/v2/notifications/channels", auth);
    BOOST_REQUIRE_EQUAL(r.status, 200);
    return json::parse(r.body);
  }

  static std::string topics_body(const std::vector<std::string>& topics) {
    json body = json::array();
    for (auto& t : topics)
      body.push_back({{"id", t}});
    return body.dump();
  }

  // Subscribes and opens a socket; returns the socket id.
  uint64_t connect(const json& ch, const std::string& auth,
                   const std::vector<std::string>& topics) {
    auto r = call("PUT",
                  "/api/v2/notifications/channels/" + ch["id"].get<std::string>()
                    + "/subscriptions",
                  auth, topics_body(topics));
    BOOST_REQUIRE_EQUAL(r.status, 200);
    auto res = m.socket_open("/channels/" + ch["id"].get<std::string>(), now);
    BOOST_REQUIRE_NE(res.socket, 0u);
    return res.socket;
  }

  json stats() { return json::parse(m.stats_json(now)); }

  // Frames sent to `socket` among the queued actions.
  std::vector<std::string> frames_to(uint64_t socket,
                                     const std::vector<socket_action>& acts) {
    std::vector<std::string> out;
    for (auto& a : acts)
      if (a.kind == socket_action::send && a.socket == socket)
        out.push_back(*a.payload);
    return out;
  }
};

bool is_event(const std::string& frame) {
  return frame.find("emulatorSeq") != std::string::npos;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(model_tests, model_fixture)

BOOST_AUTO_TEST_CASE(token_endpoint_takes_basic_auth_or_form_fields) {
  // Basic base64("app:secret").
  auto r = m.handle_http({"POST", "/oauth/token", "Basic YXBwOnNlY3JldA==",
                          "application/x-www-form-urlencoded",
                          "grant_type=client_credentials"},
                         now);
  BOOST_CHECK_EQUAL(r.status, 200);
  auto body = json::parse(r.body);
  BOOST_CHECK_EQUAL(body["token_type"], "bearer");
  BOOST_CHECK_EQUAL(body["expires_in"], 60);
  BOOST_CHECK(!body["access_token"].get<std::string>().empty());
  BOOST_CHECK_NE(token(), token()); // each request issues a new token
}

BOOST_AUTO_TEST_CASE(unknown_client_bad_secret_and_bad_grant_are_refused) {
  auto unknown = call("POST", "/oauth/token", "Basic bm9ib2R5OnNlY3JldA==",
                      "grant_type=client_credentials");
  BOOST_CHECK_EQUAL(unknown.status, 401);
  BOOST_CHECK_EQUAL(json::parse(unknown.body)["error"], "invalid_client");
  auto bad_secret = m.handle_http(
    {"POST", "/oauth/token", "", "", "grant_type=client_credentials&client_id=app&client_secret=nope"},
    now);
  BOOST_CHECK_EQUAL(bad_secret.status, 401);
  auto bad_grant = m.handle_http(
    {"POST", "/oauth/token", "Basic YXBwOnNlY3JldA==", "", "grant_type=password"},
    now);
  BOOST_CHECK_EQUAL(bad_grant.status, 400);
  auto s = stats();
  BOOST_CHECK_EQUAL(s["token_requests"]["app"], 2);
  BOOST_CHECK_EQUAL(s["http"]["token"]["401"], 2);
}

BOOST_AUTO_TEST_CASE(api_needs_a_live_token) {
  BOOST_CHECK_EQUAL(call("GET", "/api/v2/notifications/channels").status, 401);
  BOOST_CHECK_EQUAL(
    call("GET", "/api/v2/notifications/channels", "Bearer made-up").status, 401);
  auto auth = token();
  BOOST_CHECK_EQUAL(call("GET", "/api/v2/notifications/channels", auth).status,
                    200);
  advance(60000); // the token lives 60 s
  auto r = call("GET", "/api/v2/notifications/channels", auth);
  BOOST_CHECK_EQUAL(r.status, 401);
  BOOST_CHECK_EQUAL(json::parse(r.body)["code"], "bad.credentials");
}

BOOST_AUTO_TEST_CASE(channels_are_created_listed_and_probed_per_client) {
  auto auth = token();
  auto ch = channel(auth);
  BOOST_CHECK(ch["connectUri"].get<std::string>().find("/channels/"
                                                       + ch["id"].get<std::string>())
              != std::string::npos);
  BOOST_CHECK(!ch["expires"].get<std::string>().empty());
  auto id = ch["id"].get<std::string>();
  BOOST_CHECK_EQUAL(call("HEAD", "/api/v2/notifications/channels/" + id, auth).status,
                    200);
  BOOST_CHECK_EQUAL(
    call("HEAD", "/api/v2/notifications/channels/nope", auth).status, 404);
  auto list = json::parse(call("GET", "/api/v2/notifications/channels", auth).body);
  BOOST_CHECK_EQUAL(list["entities"].size(), 1u);
  // Another client neither sees nor reaches it.
  auto other = token("other", "pw");
  BOOST_CHECK_EQUAL(
    json::parse(call("GET", "/api/v2/notifications/channels", other).body)["entities"]
      .size(),
    0u);
  BOOST_CHECK_EQUAL(
    call("HEAD", "/api/v2/notifications/channels/" + id, other).status, 404);
}

BOOST_AUTO_TEST_CASE(subscriptions_add_replace_list_and_delete) {
  auto auth = token();
  auto id = channel(auth)["id"].get<std::string>();
  auto subs = "/api/v2/notifications/channels/" + id + "/subscriptions";
  BOOST_CHECK_EQUAL(call("POST", subs, auth, topics_body({"v2.users.a.presence"})).status,
                    200);
  BOOST_CHECK_EQUAL(call("POST", subs, auth, topics_body({"v2.users.b.presence"})).status,
                    200);
  auto list = json::parse(call("GET", subs, auth).body)["entities"];
  BOOST_CHECK_EQUAL(list.size(), 2u);
  BOOST_CHECK_EQUAL(call("PUT", subs, auth, topics_body({"v2.users.c.presence"})).status,
                    200);
  list = json::parse(call("GET", subs, auth).body)["entities"];
  BOOST_REQUIRE_EQUAL(list.size(), 1u);
  BOOST_CHECK_EQUAL(list[0]["id"], "v2.users.c.presence");
  BOOST_CHECK_EQUAL(call("DELETE", subs, auth).status, 204);
  BOOST_CHECK_EQUAL(json::parse(call("GET", subs, auth).body)["entities"].size(), 0u);
  BOOST_CHECK_EQUAL(call("POST", subs, auth, "not json").status, 400);
  BOOST_CHECK_EQUAL(call("POST", subs, auth, R"([{"name":"x"}])").status, 400);
}

BOOST_AUTO_TEST_CASE(forbidden_topics_give_403_or_rejected_with_ignore_errors) {
  auto auth = token();
  auto id = channel(auth)["id"].get<std::string>();
  auto subs = "/api/v2/notifications/channels/" + id + "/subscriptions";
  auto body = topics_body({"v2.users.a.presence", "v2.users.a.conversations"});
  auto strict = call("POST", subs, auth, body);
  BOOST_CHECK_EQUAL(strict.status, 403);
  BOOST_CHECK_EQUAL(json::parse(call("GET", subs, auth).body)["entities"].size(), 0u);
  auto lenient = call("POST", subs + "?ignoreErrors=true", auth, body);
  BOOST_REQUIRE_EQUAL(lenient.status, 200);
  auto entities = json::parse(lenient.body)["entities"];
  BOOST_REQUIRE_EQUAL(entities.size(), 2u);
  BOOST_CHECK_EQUAL(entities[0]["state"], "Permitted");
  BOOST_CHECK_EQUAL(entities[1]["state"], "Rejected");
  BOOST_CHECK(!entities[1]["rejectionReason"].get<std::string>().empty());
  BOOST_CHECK_EQUAL(json::parse(call("GET", subs, auth).body)["entities"].size(), 1u);
}

BOOST_AUTO_TEST_CASE(more_than_a_thousand_topics_give_400) {
  auto auth = token();
  auto id = channel(auth)["id"].get<std::string>();
  auto subs = "/api/v2/notifications/channels/" + id + "/subscriptions";
  std::vector<std::string> topics;
  for (int i = 0; i < 1000; ++i)
    topics.push_back("v2.users.u" + std::to_string(i) + ".presence");
  BOOST_CHECK_EQUAL(call("PUT", subs, auth, topics_body(topics)).status, 200);
  BOOST_CHECK_EQUAL(
    call("POST", subs + "?ignoreErrors=true", auth, topics_body({"v2.users.x.presence"}))
      .status,
    400);
  BOOST_CHECK_EQUAL(json::parse(call("GET", subs, auth).body)["entities"].size(),
                    1000u);
}

BOOST_AUTO_TEST_CASE(the_21st_channel_evicts_the_oldest_unconnected_one) {
  auto auth = token();
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(channel(auth)["id"].get<std::string>());
    advance(5);
  }
  // The oldest has a socket, so the second oldest (unconnected) goes.
  m.socket_open("/channels/" + ids[0], now);
  channel(auth);
  auto head = [&](const std::string& id) {
    return call("HEAD", "/api/v2/notifications/channels/" + id, auth).status;
  };
  BOOST_CHECK_EQUAL(head(ids[0]), 200);
  BOOST_CHECK_EQUAL(head(ids[1]), 404);
  BOOST_CHECK_EQUAL(head(ids[2]), 200);
  BOOST_CHECK_EQUAL(stats()["totals"]["channels"], 20);
  BOOST_CHECK_EQUAL(stats()["totals"]["channels_evicted"], 1);
}

BOOST_AUTO_TEST_CASE(the_21st_channel_evicts_the_one_unused_longest_not_the_oldest) {
  auto auth = token();
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(channel(auth)["id"].get<std::string>());
    advance(5);
  }
  // The oldest is used again (subscribed): the second oldest is now unused
  // longest, and goes.
  BOOST_CHECK_EQUAL(call("GET", "/api/v2/notifications/channels/" + ids[0]
                                  + "/subscriptions", auth).status, 200);
  advance(5);
  channel(auth);
  auto head = [&](const std::string& id) {
    return call("HEAD", "/api/v2/notifications/channels/" + id, auth).status;
  };
  BOOST_CHECK_EQUAL(head(ids[0]), 200);
  BOOST_CHECK_EQUAL(head(ids[1]), 404);
  BOOST_CHECK_EQUAL(head(ids[2]), 200);
  // One with a socket goes only when every channel has one: then the one
  // whose socket was used longest ago.
  std::vector<std::string> live;
  auto all = stats()["channels"];
  for (auto& [id, ch] : all.items())
    live.push_back(id);
  std::vector<uint64_t> socks;
  for (auto& id : live) {
    socks.push_back(m.socket_open("/channels/" + id, now).socket);
    advance(5);
  }
  m.socket_message(socks.front(), R"({"message":"ping"})", now); // used just now
  advance(5);
  channel(auth);
  BOOST_CHECK_EQUAL(head(live[0]), 200);
  BOOST_CHECK_EQUAL(head(live[1]), 404);
  BOOST_CHECK_EQUAL(stats()["totals"]["live_channels_evicted"], 1);
}

BOOST_AUTO_TEST_CASE(listing_channels_by_token_or_by_oauth_client) {
  auto first = token();
  auto second = token(); // the same OAuth client, another token
  auto a = channel(first)["id"].get<std::string>();
  auto b = channel(second)["id"].get<std::string>();
  auto list = [&](const std::string& auth, const std::string& query) {
    auto r = call("GET", "/api/v2/notifications/channels" + query, auth);
    std::set<std::string> ids;
    if (r.status == 200) {
      auto body = json::parse(r.body); // held: the loop refers to it
      for (auto& e : body["entities"])
        ids.insert(e["id"].get<std::string>());
    }
    return std::make_pair(r.status, ids);
  };
  BOOST_CHECK(list(first, "").second == std::set<std::string>{a});
  BOOST_CHECK(list(first, "?includechannels=token").second == std::set<std::string>{a});
  BOOST_CHECK((list(second, "?includechannels=oauthclient").second
               == std::set<std::string>{a, b}));
  BOOST_CHECK_EQUAL(list(first, "?includechannels=everyone").first, 400);
  // Another client's channels never show.
  BOOST_CHECK(list(token("other", "pw"), "?includechannels=oauthclient").second.empty());
}

BOOST_AUTO_TEST_CASE(an_idle_socket_is_closed_with_1001_when_asked_for) {
  auto auth = token();
  auto quiet = connect(channel(auth), auth, {"v2.users.a.presence"});
  auto pinging = connect(channel(auth), auth, {"v2.users.b.presence"});
  BOOST_REQUIRE_EQUAL(m.handle_http({"POST", "/emulator/config", "", "application/json",
                                     R"({"idle_timeout_ms":1000})"},
                                    now).status,
                      200);
  m.take_actions();
  bool closed_quiet = false, closed_pinging = false;
  for (int i = 0; i < 6; ++i) {
    m.socket_message(pinging, R"({"message":"ping"})", now);
    advance(300);
    for (auto& a : m.take_actions())
      if (a.kind == socket_action::close) {
        closed_quiet |= a.socket == quiet && a.code == 1001 && a.reason == "idle timeout";
        closed_pinging |= a.socket == pinging;
      }
  }
  BOOST_CHECK(closed_quiet);
  BOOST_CHECK(!closed_pinging);
  // Off by default.
  BOOST_CHECK_EQUAL(make_config().idle_timeout_ms, 0u);
}

BOOST_AUTO_TEST_CASE(available_topics_list_the_families_with_permissions_and_user_context) {
  const std::string path = "/api/v2/notifications/availabletopics";
  BOOST_CHECK_EQUAL(call("GET", path).status, 401);
  auto auth = token();
  BOOST_CHECK_EQUAL(call("POST", path, auth).status, 405);
  auto plain = json::parse(call("GET", path, auth).body)["entities"];
  BOOST_REQUIRE_GE(plain.size(), 5u);
  BOOST_CHECK(!plain[0].contains("requiresPermissions"));
  auto r = call("GET", path + "?expand=requiresPermissions,topicParameters,description", auth);
  BOOST_REQUIRE_EQUAL(r.status, 200);
  std::map<std::string, json> by_id;
  auto body = json::parse(r.body); // held: the loop refers to it
  for (auto& e : body["entities"])
    by_id[e["id"].get<std::string>()] = e;
  for (auto id : {"v2.users.{id}.presence", "v2.users.{id}.routingStatus",
                  "v2.detail.events.conversation.{id}.customer.start",
                  "v2.routing.queues.{id}.conversations",
                  "v2.analytics.queues.{id}.observations"}) {
    BOOST_REQUIRE_MESSAGE(by_id.count(id), id);
    BOOST_CHECK(!by_id[id]["requiresPermissions"].empty());
    BOOST_CHECK_EQUAL(by_id[id]["topicParameters"], json::array({"id"}));
    BOOST_CHECK_EQUAL(by_id[id]["requiresCurrentUser"], false);
    BOOST_CHECK(by_id[id].contains("description"));
  }
  // A topic that needs a user context, which a client-credentials token lacks.
  BOOST_CHECK_EQUAL(by_id["v2.users.{id}.conversations"]["requiresCurrentUser"], true);
  BOOST_CHECK_EQUAL(stats()["http"]["availabletopics"]["200"], 2);
}

BOOST_AUTO_TEST_CASE(rate_limit_gives_429_with_retry_after_and_body) {
  m.reconfigure(R"({"rate_limit_per_minute": 3, "rate_limit_retry_after_s": 7})");
  auto auth = token();
  for (int i = 0; i < 3; ++i)
    BOOST_CHECK_EQUAL(call("GET", "/api/v2/notifications/channels", auth).status,
                      200);
  auto r = call("GET", "/api/v2/notifications/channels", auth);
  BOOST_CHECK_EQUAL(r.status, 429);
  BOOST_CHECK(std::find(r.headers.begin(), r.headers.end(),
                        std::make_pair(std::string{"Retry-After"}, std::string{"7"}))
              != r.headers.end());
  auto body = json::parse(r.body);
  BOOST_CHECK_EQUAL(body["code"], "too.many.requests.retry.after");
  BOOST_CHECK_EQUAL(body["status"], 429);
  // The service's error body: also a contextId, details and errors.
  BOOST_CHECK(body["message"].get<std::string>().find("Retry the request in [7] seconds")
              != std::string::npos);
  BOOST_CHECK(body["contextId"].is_string() && !body["contextId"].get<std::string>().empty());
  BOOST_CHECK(body["details"].is_array());
  BOOST_CHECK(body["errors"].is_array());
  advance(60000);
  auth = token(); // the old one expired meanwhile (60 s ttl)
  BOOST_CHECK_EQUAL(call("GET", "/api/v2/notifications/channels", auth).status,
                    200);
}

BOOST_AUTO_TEST_CASE(channel_expires_unless_subscribed_again) {
  auto auth = token();
  auto ch = channel(auth);
  auto id = ch["id"].get<std::string>();
  auto sock = connect(ch, auth, {"v2.users.a.presence"});
  advance(100000);
  // Subscribing again at 100 s extends the 120 s lifetime.
  auth = token();
  BOOST_CHECK_EQUAL(call("POST", "/api/v2/notifications/channels/" + id
                                   + "/subscriptions",
                         auth, topics_body({"v2.users.a.presence"}))
                      .status,
                    200);
  advance(100000);
  BOOST_CHECK_EQUAL(m.open_sockets(), 1u);
  m.take_actions();
  advance(20005);
  BOOST_CHECK_EQUAL(m.open_sockets(), 0u);
  auto acts = m.take_actions();
  bool closed = std::any_of(acts.begin(), acts.end(), [&](auto& a) {
    return a.kind == socket_action::close && a.socket == sock;
  });
  BOOST_CHECK(closed);
  auth = token();
  BOOST_CHECK_EQUAL(call("HEAD", "/api/v2/notifications/channels/" + id, auth).status,
                    404);
  BOOST_CHECK_EQUAL(m.upgrade_status("/channels/" + id, now), 404);
}

BOOST_AUTO_TEST_CASE(events_flow_at_the_configured_rate_with_unique_ids) {
  auto auth = token();
  auto sock = connect(channel(auth), auth, {"v2.users.a.presence",
                                            "v2.detail.events.conversation.c1.user.start"});
  m.take_actions();
  advance(1000);
  auto frames = frames_to(sock, m.take_actions());
  std::set<std::string> ids;
  std::map<std::string, std::vector<int>> seqs;
  for (auto& f : frames) {
    if (!is_event(f))
      continue;
    auto j = json::parse(f);
    ids.insert(j["metadata"]["CorrelationId"].get<std::string>());
    seqs[j["topicName"]].push_back(j["eventBody"]["emulatorSeq"]);
  }
  // 100 events per second per topic, numbered from 1, no id twice.
  BOOST_CHECK_EQUAL(seqs["v2.users.a.presence"].size(), 100u);
  BOOST_CHECK_EQUAL(seqs["v2.detail.events.conversation.c1.user.start"].size(),
                    100u);
  BOOST_CHECK_EQUAL(ids.size(), 200u);
  BOOST_CHECK_EQUAL(seqs["v2.users.a.presence"].front(), 1);
  BOOST_CHECK_EQUAL(seqs["v2.users.a.presence"].back(), 100);
  auto s = stats();
  BOOST_CHECK_EQUAL(s["topics"]["v2.users.a.presence"]["generated"], 100);
  BOOST_CHECK_EQUAL(s["topics"]["v2.users.a.presence"]["written"], 100);
  BOOST_CHECK_EQUAL(s["totals"]["generated_without_socket"], 0);
}

BOOST_AUTO_TEST_CASE(a_combined_topic_sends_each_part_under_its_expanded_name) {
  auto auth = token();
  auto ch = channel(auth);
  auto sock = connect(ch, auth, {"v2.users.a?presence&routingStatus"});
  auto subs = "/api/v2/notifications/channels/" + ch["id"].get<std::string>()
              + "/subscriptions";
  // Listed as subscribed, combined.
  auto listed = json::parse(call("GET", subs, auth).body)["entities"];
  BOOST_REQUIRE_EQUAL(listed.size(), 1u);
  BOOST_CHECK_EQUAL(listed[0]["id"], "v2.users.a?presence&routingStatus");
  m.take_actions();
  advance(1000);
  std::map<std::string, size_t> by_topic;
  for (auto& f : frames_to(sock, m.take_actions()))
    if (is_event(f))
      ++by_topic[json::parse(f)["topicName"].get<std::string>()];
  BOOST_CHECK_EQUAL(by_topic.size(), 2u);
  BOOST_CHECK_EQUAL(by_topic["v2.users.a.presence"], 100u);
  BOOST_CHECK_EQUAL(by_topic["v2.users.a.routingStatus"], 100u);
  // Unsubscribing stops both parts.
  BOOST_CHECK_EQUAL(call("DELETE", subs, auth).status, 204);
  m.take_actions();
  advance(1000);
  for (auto& f : frames_to(sock, m.take_actions()))
    BOOST_CHECK_MESSAGE(!is_event(f), f);
}

BOOST_AUTO_TEST_CASE(combined_topics_are_checked_counted_and_refused_by_part) {
  auto auth = token();
  auto id = channel(auth)["id"].get<std::string>();
  auto subs = "/api/v2/notifications/channels/" + id + "/subscriptions";
  for (auto bad : {"v2.users.a?", "v2.users.a?presence&&station", "v2.users.a?pres ence",
                   "v2.users.a?presence?station"})
    BOOST_CHECK_MESSAGE(call("PUT", subs, auth, topics_body({bad})).status == 400, bad);
  std::string too_long = "v2.users.a?presence";
  for (int i = 0; too_long.size() <= 200; ++i)
    too_long += "&p" + std::to_string(i);
  BOOST_CHECK_EQUAL(call("PUT", subs, auth, topics_body({too_long})).status, 400);
  // A forbidden part makes the whole combined topic forbidden.
  BOOST_CHECK_EQUAL(
    call("PUT", subs, auth, topics_body({"v2.users.a?presence&conversations"})).status,
    403);
  // Each part counts against the 1,000 (by default).
  std::vector<std::string> topics;
  for (int i = 0; i < 500; ++i)
    topics.push_back("v2.users.u" + std::to_string(i) + "?presence&routingStatus");
  BOOST_CHECK_EQUAL(call("PUT", subs, auth, topics_body(topics)).status, 200);
  topics.push_back("v2.users.x.presence");
  BOOST_CHECK_EQUAL(call("PUT", subs, auth, topics_body(topics)).status, 400);
  // Counted as one each, they fit.
  auto r = call("POST", "/emulator/config", "", R"({"combined_topic_count":"one"})");
  BOOST_REQUIRE_EQUAL(r.status, 200);
  BOOST_CHECK_EQUAL(call("PUT", subs, auth, topics_body(topics)).status, 200);
  BOOST_CHECK_EQUAL(json::parse(call("GET", "/emulator/config").body)["combined_topic_count"],
                    "one");
  BOOST_CHECK_EQUAL(
    call("POST", "/emulator/config", "", R"({"combined_topic_count":"two"})").status, 400);
}

BOOST_AUTO_TEST_CASE(heartbeats_and_pongs) {
  auto auth = token();
  auto sock = connect(channel(auth), auth, {});
  m.take_actions();
  advance(3000);
  auto frames = frames_to(sock, m.take_actions());
  BOOST_CHECK_EQUAL(std::count(frames.begin(), frames.end(), heartbeat_frame()), 3);
  m.socket_message(sock, R"({"message":"ping"})", now);
  frames = frames_to(sock, m.take_actions());
  BOOST_REQUIRE_EQUAL(frames.size(), 1u);
  BOOST_CHECK_EQUAL(frames[0], pong_frame());
}

BOOST_AUTO_TEST_CASE(events_without_an_open_socket_are_counted_as_the_gap) {
  auto auth = token();
  auto sock = connect(channel(auth), auth, {"v2.users.a.presence"});
  advance(500);
  m.socket_closed(sock, now);
  advance(300);
  auto t = stats()["topics"]["v2.users.a.presence"];
  BOOST_CHECK_EQUAL(t["generated"], 80);
  BOOST_CHECK_EQUAL(t["written"], 50);
  BOOST_CHECK_EQUAL(t["generated_without_socket"], 30);
}

BOOST_AUTO_TEST_CASE(a_second_socket_replaces_the_first) {
  auto auth = token();
  auto ch = channel(auth);
  auto first = connect(ch, auth, {"v2.users.a.presence"});
  m.take_actions();
  auto second = m.socket_open("/channels/" + ch["id"].get<std::string>(), now);
  BOOST_CHECK_NE(second.socket, first);
  auto acts = m.take_actions();
  BOOST_REQUIRE_EQUAL(acts.size(), 1u);
  BOOST_CHECK_EQUAL(acts[0].kind, socket_action::close);
  BOOST_CHECK_EQUAL(acts[0].socket, first);
  BOOST_CHECK_EQUAL(m.open_sockets(), 1u);
}

BOOST_AUTO_TEST_CASE(overlapping_channels_get_the_same_events) {
  // Make before break: two channels on one topic see the same CorrelationIds,
  // and no event is generated without a socket across the switch.
  auto auth = token();
  auto old_sock = connect(channel(auth), auth, {"v2.users.a.presence"});
  advance(200);
  auto new_sock = connect(channel(auth), auth, {"v2.users.a.presence"});
  m.take_actions();
  advance(100);
  auto acts = m.take_actions();
  auto a = frames_to(old_sock, acts), b = frames_to(new_sock, acts);
  BOOST_CHECK_EQUAL(a.size(), 10u);
  BOOST_CHECK(a == b);
  m.socket_closed(old_sock, now);
  advance(100);
  auto t = stats()["topics"]["v2.users.a.presence"];
  BOOST_CHECK_EQUAL(t["generated"], 40);
  BOOST_CHECK_EQUAL(t["written"], 40);
  BOOST_CHECK_EQUAL(t["generated_without_socket"], 0);
}

BOOST_AUTO_TEST_CASE(duplicate_and_out_of_order_faults) {
  auto auth = token();
  auto sock = connect(channel(auth), auth, {"v2.users.a.presence"});
  BOOST_CHECK_EQUAL(m.inject(R"({"kind":"duplicate","count":3})", now), "");
  m.take_actions();
  advance(100);
  auto frames = frames_to(sock, m.take_actions());
  BOOST_CHECK_EQUAL(frames.size(), 13u);
  BOOST_CHECK(frames[0] == frames[1]);
  BOOST_CHECK_EQUAL(stats()["topics"]["v2.users.a.presence"]["duplicates_sent"], 3);

  BOOST_CHECK_EQUAL(m.inject(R"({"kind":"out_of_order","count":4,"window":4})", now),
                    "");
  advance(40);
  std::vector<int> seqs;
  for (auto& f : frames_to(sock, m.take_actions()))
    seqs.push_back(json::parse(f)["eventBody"]["emulatorSeq"]);
  BOOST_CHECK(seqs == (std::vector<int>{14, 13, 12, 11}));
}

BOOST_AUTO_TEST_CASE(socket_faults_queue_their_actions) {
  auto auth = token();
  auto ch = channel(auth);
  auto sock = connect(ch, auth, {"v2.users.a.presence"});
  m.take_actions();
  BOOST_CHECK_EQUAL(m.inject(R"({"kind":"socket_closing","close_after_ms":50})", now),
                    "");
  auto frames = frames_to(sock, m.take_actions());
  BOOST_REQUIRE_EQUAL(frames.size(), 1u);
  BOOST_CHECK_EQUAL(json::parse(frames[0])["topicName"], "v2.system.socket_closing");
  advance(50);
  auto acts = m.take_actions();
  BOOST_CHECK(acts.back().kind == socket_action::close);
  BOOST_CHECK_EQUAL(acts.back().code, 1001);
  BOOST_CHECK_EQUAL(m.open_sockets(), 0u);
  // Further socket faults need an open socket.
  BOOST_CHECK_NE(m.inject(R"({"kind":"drop"})", now), "");
  BOOST_CHECK_NE(m.inject(R"({"kind":"no_such_fault"})", now), "");
  BOOST_CHECK_NE(m.inject("{", now), "");
}

BOOST_AUTO_TEST_CASE(stall_silences_the_socket_and_counts_the_gap) {
  auto auth = token();
  auto sock = connect(channel(auth), auth, {"v2.users.a.presence"});
  m.take_actions();
  BOOST_CHECK_EQUAL(m.inject(R"({"kind":"stall"})", now), "");
  advance(2000);
  m.socket_message(sock, R"({"message":"ping"})", now);
  auto acts = m.take_actions();
  BOOST_REQUIRE_EQUAL(acts.size(), 1u);
  BOOST_CHECK_EQUAL(acts[0].kind, socket_action::stall);
  BOOST_CHECK_EQUAL(stats()["topics"]["v2.users.a.presence"]["generated_without_socket"],
                    200);
}

BOOST_AUTO_TEST_CASE(token_revocation_sends_the_system_topic_and_gives_401) {
  auto auth = token();
  auto ch = channel(auth);
  auto sock = connect(ch, auth, {});
  m.take_actions();
  BOOST_CHECK_EQUAL(m.inject(R"({"kind":"revoke_token","client":"app"})", now), "");
  auto frames = frames_to(sock, m.take_actions());
  BOOST_REQUIRE_EQUAL(frames.size(), 1u);
  auto j = json::parse(frames[0]);
  BOOST_CHECK_EQUAL(j["topicName"], "v2.system.token_revoked." + ch["id"].get<std::string>());
  BOOST_CHECK_EQUAL(j["eventBody"]["systemTopicType"], "token_revoked");
  BOOST_CHECK_EQUAL(call("GET", "/api/v2/notifications/channels", auth).status, 401);
  BOOST_CHECK_EQUAL(call("GET", "/api/v2/notifications/channels", token()).status, 200);
}

BOOST_AUTO_TEST_CASE(no_longer_subscribed_clears_the_subscriptions) {
  auto auth = token();
  auto ch = channel(auth);
  auto sock = connect(ch, auth, {"v2.users.a.presence"});
  m.take_actions();
  BOOST_CHECK_EQUAL(m.inject(R"({"kind":"no_longer_subscribed"})", now), "");
  auto frames = frames_to(sock, m.take_actions());
  BOOST_REQUIRE_EQUAL(frames.size(), 1u);
  BOOST_CHECK_EQUAL(json::parse(frames[0])["eventBody"]["systemTopicType"],
                    "no_longer_subscribed");
  advance(500);
  BOOST_CHECK(frames_to(sock, m.take_actions()).empty());
}

BOOST_AUTO_TEST_CASE(system_messages_carry_the_documented_fields_and_their_channel) {
  auto auth = token();
  auto ch = channel(auth);
  const auto id = ch["id"].get<std::string>();
  auto sock = connect(ch, auth, {"v2.users.a.presence"});
  m.take_actions();
  for (auto kind : {"socket_closing", "no_longer_subscribed", "revoke_token"}) {
    BOOST_CHECK_EQUAL(m.inject(std::string{R"({"kind":")"} + kind + R"(","about":"other"})",
                               now),
                      "");
    auto frames = frames_to(sock, m.take_actions());
    BOOST_REQUIRE_EQUAL(frames.size(), 1u);
    auto body = json::parse(frames[0])["eventBody"];
    for (auto field : {"systemTopicType", "reason", "message", "channelId",
                       "correlationId", "organizationId", "userId", "oauthClientId"})
      BOOST_CHECK_MESSAGE(body.contains(field), kind << " lacks " << field);
    BOOST_CHECK_NE(body["channelId"].get<std::string>(), id); // about another
    BOOST_CHECK_EQUAL(body["oauthClientId"], "app");
  }
  // About another channel, nothing else happens: still subscribed, open.
  advance(2000);
  size_t events = 0;
  for (auto& f : frames_to(sock, m.take_actions()))
    events += is_event(f);
  BOOST_CHECK_GT(events, 0u);
  // About this one: its own id.
  BOOST_CHECK_EQUAL(m.inject(R"({"kind":"socket_closing","close_after_ms":100})", now), "");
  auto frames = frames_to(sock, m.take_actions());
  BOOST_REQUIRE_EQUAL(frames.size(), 1u);
  BOOST_CHECK_EQUAL(json::parse(frames[0])["eventBody"]["channelId"], id);
  BOOST_CHECK_EQUAL(json::parse(frames[0])["eventBody"]["systemTopicType"], "socket_closing");
}

BOOST_AUTO_TEST_CASE(a_reply_frame_is_sent_as_the_service_does) {
  auto auth = token();
  auto sock = connect(channel(auth), auth, {"v2.users.a.presence"});
  m.take_actions();
  BOOST_CHECK_EQUAL(m.inject(R"({"kind":"reply"})", now), "");
  auto frames = frames_to(sock, m.take_actions());
  BOOST_REQUIRE_EQUAL(frames.size(), 1u);
  auto j = json::parse(frames[0]);
  BOOST_CHECK_EQUAL(j["result"], "404");
  BOOST_CHECK(!j.contains("topicName"));
  BOOST_CHECK_EQUAL(m.inject(R"({"kind":"reply","result":"200","message":"subscribed"})", now),
                    "");
  frames = frames_to(sock, m.take_actions());
  BOOST_REQUIRE_EQUAL(frames.size(), 1u);
  BOOST_CHECK_EQUAL(json::parse(frames[0])["result"], "200");
  BOOST_CHECK_NE(m.inject(R"({"kind":"reply","about":"other"})", now), "");
}

BOOST_AUTO_TEST_CASE(http_faults_answer_before_the_route_and_run_out) {
  BOOST_CHECK_EQUAL(
    m.inject(R"({"kind":"http_error","path_prefix":"/oauth/token","status":503,"count":2,"retry_after_s":3})",
             now),
    "");
  for (int i = 0; i < 2; ++i) {
    auto r = call("POST", "/oauth/token", "Basic YXBwOnNlY3JldA==",
                  "grant_type=client_credentials");
    BOOST_CHECK_EQUAL(r.status, 503);
    BOOST_CHECK(r.headers.back() == std::make_pair(std::string{"Retry-After"},
                                                   std::string{"3"}));
  }
  token(); // the third succeeds
  BOOST_CHECK_EQUAL(
    m.inject(R"({"kind":"slow","path_prefix":"/api/","delay_ms":250,"count":1})", now),
    "");
  auto auth = token();
  BOOST_CHECK_EQUAL(call("GET", "/api/v2/notifications/channels", auth).delay_ms,
                    250u);
  BOOST_CHECK_EQUAL(call("GET", "/api/v2/notifications/channels", auth).delay_ms,
                    0u);
}

BOOST_AUTO_TEST_CASE(malformed_frames_of_each_variant) {
  auto auth = token();
  auto sock = connect(channel(auth), auth, {});
  m.take_actions();
  for (auto variant : {"invalid_json", "truncated", "wrong_types"}) {
    BOOST_CHECK_EQUAL(
      m.inject(std::string{R"({"kind":"malformed","variant":")"} + variant + "\"}", now),
      "");
    auto frames = frames_to(sock, m.take_actions());
    BOOST_REQUIRE_EQUAL(frames.size(), 1u);
    auto j = json::parse(frames[0], nullptr, false);
    bool well_typed = !j.is_discarded() && j.is_object()
                      && j["topicName"].is_string() && j["eventBody"].is_object();
    BOOST_CHECK_MESSAGE(!well_typed, variant << " produced a valid event");
  }
  BOOST_CHECK_EQUAL(
    m.inject(R"({"kind":"malformed","variant":"oversized","size":2000000})", now), "");
  auto frames = frames_to(sock, m.take_actions());
  BOOST_REQUIRE_EQUAL(frames.size(), 1u);
  BOOST_CHECK_GT(frames[0].size(), 2000000u);
}

BOOST_AUTO_TEST_SUITE_END()
