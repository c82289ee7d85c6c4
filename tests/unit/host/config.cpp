// The configuration: the issue's example works, every bad field is named by
// its path, unknown keys are errors, secrets come from the environment or a
// file and never appear in a message.

#include "host/config.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "messages/errors.hpp"

using namespace gcstream;
using json = nlohmann::json;

namespace {

const char* example = R"({
  "tenants": [{
    "id": "acme",
    "login_url": "http://127.0.0.1:8080", "api_url": "http://127.0.0.1:8080",
    "client_id": "app", "client_secret_env": "ACME_SECRET",
    "topics": ["v2.users.6d2c5a1e-0000-0000-0000-000000000001.presence"],
    "session": {"ping_interval_ms": 30000, "heartbeat_timeout_ms": 75000},
    "backoff": {"initial_ms": 1000, "max_ms": 30000},
    "ordering": {"allowed_lateness_ms": 250, "max_hold_ms": 1000},
    "sinks": [{"type": "file", "path": "events.jsonl"}]
  }],
  "metrics": {"listen": "127.0.0.1:9464"},
  "audit_log": "audit.jsonl"
})";

env_lookup fake_env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end())
      return std::nullopt;
    return it->second;
  };
}

const env_lookup env = fake_env({{"ACME_SECRET", "hunter2-Secret"}});

// Parses `example` changed by `edit`; returns the error text ("" if valid).
std::string problems_of(const std::function<void(json&)>& edit,
                        const env_lookup& e = env) {
  auto j = json::parse(example);
  edit(j);
  auto cfg = parse_config(j.dump(), e, "/etc/gcstream");
  return cfg ? std::string{} : reason_of(cfg.error());
}

} // namespace

BOOST_AUTO_TEST_SUITE(config_tests)

BOOST_AUTO_TEST_CASE(the_example_of_the_issue_is_valid) {
  auto cfg = parse_config(example, env, "/etc/gcstream");
  BOOST_REQUIRE_MESSAGE(cfg, (cfg ? std::string{} : reason_of(cfg.error())));
  BOOST_REQUIRE_EQUAL(cfg->tenants.size(), 1u);
  auto& t = cfg->tenants[0];
  BOOST_CHECK_EQUAL(t.id, "acme");
  BOOST_CHECK_EQUAL(t.login_url, "http://127.0.0.1:8080");
  BOOST_CHECK_EQUAL(t.client_secret, "hunter2-Secret");
  BOOST_CHECK_EQUAL(t.session.heartbeat_timeout.count(), 75000);
  BOOST_CHECK_EQUAL(t.supervisor.backoff.cap.count(), 30000);
  BOOST_CHECK_EQUAL(t.orderer.reorder.allowed_lateness_ms, 250);
  BOOST_REQUIRE_EQUAL(t.sinks.size(), 1u);
  BOOST_CHECK_EQUAL(t.sinks[0].name, "file-0");
  BOOST_CHECK_EQUAL(cfg->metrics.listen, "127.0.0.1:9464");
  // Relative paths are taken from the configuration's folder.
  BOOST_CHECK_EQUAL(cfg->audit_log, "/etc/gcstream/audit.jsonl");
}

BOOST_AUTO_TEST_CASE(an_environment_replaces_the_two_urls) {
  auto text = problems_of([](json& j) {
    j["tenants"][0].erase("login_url");
    j["tenants"][0].erase("api_url");
    j["tenants"][0]["environment"] = "mypurecloud.ie";
  });
  BOOST_CHECK_EQUAL(text, "");
  auto j = json::parse(example);
  j["tenants"][0].erase("login_url");
  j["tenants"][0].erase("api_url");
  j["tenants"][0]["environment"] = "mypurecloud.ie";
  auto cfg = parse_config(j.dump(), env);
  BOOST_REQUIRE(cfg);
  BOOST_CHECK_EQUAL(cfg->tenants[0].api_url, "https://api.mypurecloud.ie");
}

BOOST_AUTO_TEST_CASE(bad_fields_are_named_by_their_path) {
  auto text = problems_of([](json& j) {
    j["tenants"][0]["session"]["ping_interval_ms"] = "often";
    j["tenants"][0]["sesion"] = json::object();
    j["tenants"][0]["sinks"][0]["type"] = "kafka";
    j["metrics"]["listen"] = "9464";
  });
  BOOST_CHECK_NE(text.find("tenants[0].session.ping_interval_ms: expected an integer"),
                 std::string::npos);
  BOOST_CHECK_NE(text.find("tenants[0].sesion: unknown key"), std::string::npos);
  BOOST_CHECK_NE(text.find("tenants[0].sinks[0].type: 'kafka' is not one of"),
                 std::string::npos);
  BOOST_CHECK_NE(text.find("metrics.listen: expected address:port"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(timestamp_rules_are_bounded) {
  // More than the envelope parser can read (json_paths::max) is refused at
  // load, not when a session starts.
  auto text = problems_of([](json& j) {
    auto rules = json::array();
    for (int i = 0; i < 33; ++i)
      rules.push_back({{"topic", "v2.x" + std::to_string(i) + ".*"},
                       {"pointer", "/eventBody/t" + std::to_string(i)}});
    j["tenants"][0]["ordering"]["timestamps"] = rules;
  });
  BOOST_CHECK_NE(text.find("tenants[0].ordering.timestamps: at most 32 rules (got 33)"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(topics_are_checked_before_anything_connects) {
  auto with = [](std::vector<std::string> topics) {
    return problems_of([&](json& j) { j["tenants"][0]["topics"] = topics; });
  };
  auto has = [](const std::string& text, const std::string& part) {
    bool found = text.find(part) != std::string::npos;
    BOOST_CHECK_MESSAGE(found, "'" << part << "' not in: " << text);
  };
  // Each malformed topic by its path, all of them in one go.
  auto text = with({"v2.users.{id}.presence", "v2.users.a.presence", "users.b.presence",
                    "v2.users.a?station&presence"});
  has(text, "tenants[0].topics[0]: topic 'v2.users.{id}.presence': its name still has a "
            "{placeholder}");
  has(text, "tenants[0].topics[2]: topic 'users.b.presence' does not start with 'v2.'");
  BOOST_CHECK_EQUAL(text.find("topics[1]"), std::string::npos);
  has(text, "tenants[0].topics: topic 'v2.users.a.presence' is asked for by both");
  // A name asked for twice, also through a combined topic.
  has(with({"v2.users.a.presence", "v2.users.a?presence&station"}),
      "tenants[0].topics: topic 'v2.users.a.presence' is asked for by both");
  // More than a channel holds is spread over channels: 1,001 topics (a
  // combined topic counted as its parts) are two, and fit.
  std::vector<std::string> many;
  for (int i = 0; i < 500; ++i)
    many.push_back("v2.users.u" + std::to_string(i) + "?presence&routingStatus");
  BOOST_CHECK_EQUAL(with(many), "");
  many.push_back("v2.users.last.presence");
  BOOST_CHECK_EQUAL(with(many), "");
  // What the OAuth client's channels cannot hold is refused with the
  // numbers: 20,001 topics need 21 channels of the 20.
  std::vector<std::string> huge;
  for (int i = 0; i < 20001; ++i)
    huge.push_back("v2.users.u" + std::to_string(i) + ".presence");
  has(with(huge), "tenants: the tenants of OAuth client 'app' at 127.0.0.1:8080 need 21 "
                  "channels (acme (21); one per 1000 topics), but "
                  "runtime.max_live_channels is 20");
  // Tenants on one client share its channels; on another client they do not.
  auto shared = [&](const std::string& second_client, int max_live) {
    return problems_of([&](json& j) {
      std::vector<std::string> a, b;
      for (int i = 0; i < 2500; ++i)
        a.push_back("v2.users.a" + std::to_string(i) + ".presence");
      for (int i = 0; i < 1500; ++i)
        b.push_back("v2.users.b" + std::to_string(i) + ".presence");
      j["tenants"][0]["topics"] = a;
      auto t = j["tenants"][0];
      t["id"] = "beta";
      t["client_id"] = second_client;
      t["topics"] = b;
      j["tenants"].push_back(t);
      j["runtime"]["max_live_channels"] = max_live;
    });
  };
  BOOST_CHECK_EQUAL(shared("app", 5), ""); // 3 + 2
  has(shared("app", 4), "need 5 channels (acme (3), beta (2); one per 1000 topics), but "
                        "runtime.max_live_channels is 4");
  BOOST_CHECK_EQUAL(shared("other-app", 3), "");
  // Well-formed combined topics pass, and combining can be turned off.
  BOOST_CHECK_EQUAL(with({"v2.users.a?presence&routingStatus&station"}), "");
  auto cfg = parse_config(example, env, "/etc/gcstream");
  BOOST_REQUIRE(cfg);
  BOOST_CHECK(cfg->tenants[0].combine_topics);
  auto j = json::parse(example);
  j["tenants"][0]["combine_topics"] = false;
  cfg = parse_config(j.dump(), env, "/etc/gcstream");
  BOOST_REQUIRE(cfg);
  BOOST_CHECK(!cfg->tenants[0].combine_topics);
  j["tenants"][0]["combine_topics"] = "yes";
  BOOST_CHECK(!parse_config(j.dump(), env, "/etc/gcstream"));
}

BOOST_AUTO_TEST_CASE(missing_and_inconsistent_values_are_refused) {
  BOOST_CHECK_NE(problems_of([](json& j) { j["tenants"][0].erase("topics"); })
                   .find("tenants[0].topics: expected a non-empty array"),
                 std::string::npos);
  BOOST_CHECK_NE(problems_of([](json& j) { j["tenants"][0].erase("login_url"); })
                   .find("tenants[0].login_url: missing"),
                 std::string::npos);
  BOOST_CHECK_NE(problems_of([](json& j) {
                   j["tenants"][0]["session"]["heartbeat_timeout_ms"] = 20000;
                 }).find("heartbeat_timeout_ms: expected more than ping_interval_ms"),
                 std::string::npos);
  BOOST_CHECK_NE(problems_of([](json& j) {
                   j["tenants"].push_back(j["tenants"][0]);
                 }).find("tenants[1].id: 'acme' is used by another tenant"),
                 std::string::npos);
  BOOST_CHECK_NE(problems_of([](json& j) {
                   j["tenants"][0]["login_url"] = "http://login.example.com";
                 }).find("tenants[0].login_url"),
                 std::string::npos);
  BOOST_CHECK_NE(problems_of([](json& j) { j["tenants"][0]["ordering"]["late"] = "route"; })
                   .find("needs a sink with \"late_only\": true"),
                 std::string::npos);
  auto bad_json = parse_config("{\"tenants\": [", env);
  BOOST_REQUIRE(!bad_json);
  BOOST_CHECK_NE(reason_of(bad_json.error()).find("not valid JSON"), std::string::npos);
  // Found by the fuzzer (tests/fuzz/fuzz_config.cpp): the parse error quoted
  // the text it last read, so a secret written inline by mistake, next to a
  // syntax error, went to stderr. Now: where, and what kind of error only.
  auto inline_secret = parse_config(R"({"tenants":[{"client_secret":"hunter2-Inline)", env);
  BOOST_REQUIRE(!inline_secret);
  auto why = reason_of(inline_secret.error());
  BOOST_CHECK_EQUAL(why.find("hunter2"), std::string::npos);
  BOOST_CHECK_NE(why.find("line 1, column"), std::string::npos);
  BOOST_CHECK_EQUAL(why.find("json.exception"), std::string::npos);
  // Found by the fuzzer: a number too big for a double threw an exception
  // the parser did not catch (validate-config ended in terminate).
  auto huge = parse_config(R"({"tenants":[],"audit_rotate_bytes":2e2222222222254062})", env);
  BOOST_REQUIRE(!huge);
  BOOST_CHECK_NE(reason_of(huge.error()).find("not valid JSON: number overflow"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(secrets_come_from_the_environment_or_a_file_never_inline) {
  auto unset = problems_of([](json&) {}, fake_env({}));
  BOOST_CHECK_NE(unset.find("tenants[0].client_secret_env: the environment variable "
                            "ACME_SECRET is not set"),
                 std::string::npos);
  auto inline_secret = problems_of([](json& j) {
    j["tenants"][0]["client_secret"] = "hunter2-Secret";
  });
  BOOST_CHECK_NE(inline_secret.find("secrets are never inline"), std::string::npos);
  BOOST_CHECK_EQUAL(inline_secret.find("hunter2"), std::string::npos);
  auto dir = std::filesystem::temp_directory_path() / "gcstream-config-test";
  std::filesystem::create_directories(dir);
  std::ofstream{dir / "secret"} << "from-a-file\n";
  auto j = json::parse(example);
  j["tenants"][0].erase("client_secret_env");
  j["tenants"][0]["client_secret_file"] = "secret";
  auto cfg = parse_config(j.dump(), env, dir.string());
  BOOST_REQUIRE(cfg);
  BOOST_CHECK_EQUAL(cfg->tenants[0].client_secret, "from-a-file");
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(the_quick_start_maps_the_genesys_variables) {
  auto cfg = config_from_env(fake_env({{"GENESYSCLOUD_OAUTHCLIENT_ID", "cid"},
                                       {"GENESYSCLOUD_OAUTHCLIENT_SECRET", "s"},
                                       {"GENESYSCLOUD_REGION", "eu-central-1"}}),
                             {"v2.users.x.presence"});
  BOOST_REQUIRE(cfg);
  BOOST_CHECK_EQUAL(cfg->tenants[0].login_url, "https://login.mypurecloud.de");
  BOOST_CHECK_EQUAL(cfg->tenants[0].client_id, "cid");
  auto bad = config_from_env(fake_env({{"GENESYSCLOUD_REGION", "mars-1"}}), {});
  BOOST_REQUIRE(!bad);
  auto text = reason_of(bad.error());
  BOOST_CHECK_NE(text.find("GENESYSCLOUD_OAUTHCLIENT_ID is not set"), std::string::npos);
  BOOST_CHECK_NE(text.find("unknown region 'mars-1'"), std::string::npos);
  BOOST_CHECK_NE(text.find("no topics given"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(delivery_refusals_buffers_and_restart_limits) {
  auto j = json::parse(example);
  auto& t = j["tenants"][0];
  t["delivery"] = {{"sink_timeout_ms", 2000}, {"max_refusals", 3},
                   {"retry_initial_ms", 50}, {"retry_max_ms", 500}};
  t["max_buffered_events"] = 5000;
  t["overflow"] = "drop_oldest";
  t["supervisor"] = {{"child_max_restarts", 4}, {"restart_window_ms", 30000}};
  j["runtime"] = {{"max_restarts", 7}, {"restart_window_ms", 20000}};
  auto cfg = parse_config(j.dump(), env, "/etc/gcstream");
  BOOST_REQUIRE(cfg);
  auto& tc = cfg->tenants[0];
  BOOST_CHECK_EQUAL(tc.orderer.sink_timeout_ms, 2000);
  BOOST_CHECK_EQUAL(tc.orderer.max_refusals, 3u);
  BOOST_CHECK_EQUAL(tc.orderer.retry.initial.count(), 50);
  BOOST_CHECK_EQUAL(tc.orderer.retry.cap.count(), 500);
  BOOST_CHECK_EQUAL(tc.max_buffered_events, 5000u);
  BOOST_CHECK(tc.overflow == overflow_policy::drop_oldest);
  BOOST_CHECK_EQUAL(tc.supervisor.child_restarts.max_restarts, 4u);
  BOOST_CHECK_EQUAL(tc.supervisor.child_restarts.window.count(), 30000);
  BOOST_CHECK_EQUAL(tc.orderer.sink_restarts.max_restarts, 4u);
  BOOST_CHECK_EQUAL(cfg->runtime.shared_restarts.max_restarts, 7u);
  BOOST_CHECK_EQUAL(cfg->runtime.supervisor_restarts.window.count(), 20000);
  // Dead letters go next to the configuration by default.
  BOOST_CHECK_EQUAL(tc.orderer.dead_letter_path, "/etc/gcstream/acme.dead-letter.jsonl");
  t["dead_letter"] = "dl/acme.jsonl";
  cfg = parse_config(j.dump(), env, "/etc/gcstream");
  BOOST_REQUIRE(cfg);
  BOOST_CHECK_EQUAL(cfg->tenants[0].orderer.dead_letter_path, "/etc/gcstream/dl/acme.jsonl");
}

BOOST_AUTO_TEST_CASE(the_coalescing_window_is_a_bounded_setting) {
  auto j = json::parse(example);
  auto cfg = parse_config(j.dump(), env, "/etc/gcstream");
  BOOST_REQUIRE(cfg);
  BOOST_CHECK_EQUAL(cfg->runtime.ws.coalesce_ms, 10); // the default
  j["runtime"] = {{"coalesce_ms", 0}};
  cfg = parse_config(j.dump(), env, "/etc/gcstream");
  BOOST_REQUIRE(cfg);
  BOOST_CHECK_EQUAL(cfg->runtime.ws.coalesce_ms, 0);
  BOOST_CHECK_NE(problems_of([](json& x) { x["runtime"] = {{"coalesce_ms", 101}}; })
                   .find("runtime.coalesce_ms"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(removed_and_renamed_keys_say_what_to_use) {
  auto window = problems_of([](json& j) { j["tenants"][0]["delivery"] = {{"window", 8}}; });
  BOOST_CHECK_NE(window.find("tenants[0].delivery.window: removed: a sink gets one batch"),
                 std::string::npos);
  auto inbox = problems_of([](json& j) { j["tenants"][0]["inbox_max_events"] = 10; });
  BOOST_CHECK_NE(inbox.find("tenants[0].inbox_max_events: renamed max_buffered_events"),
                 std::string::npos);
  auto overflow = problems_of([](json& j) { j["tenants"][0]["overflow"] = "ignore"; });
  BOOST_CHECK_NE(overflow.find("tenants[0].overflow: 'ignore' is not one of: block, drop_oldest"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(metrics_listen_beyond_loopback_must_be_asked_for) {
  auto remote = problems_of([](json& j) { j["metrics"]["listen"] = "0.0.0.0:9464"; });
  BOOST_CHECK_NE(remote.find("metrics.listen: 0.0.0.0:9464 is not a loopback address"),
                 std::string::npos);
  BOOST_CHECK(problems_of([](json& j) {
                j["metrics"]["listen"] = "0.0.0.0:9464";
                j["metrics"]["allow_remote"] = true;
              }).empty());
  BOOST_CHECK(problems_of([](json& j) { j["metrics"]["listen"] = "[::1]:9464"; }).empty());
}

BOOST_AUTO_TEST_SUITE_END()
