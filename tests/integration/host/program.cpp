// The gcstream program: its commands, exit codes, a run against the
// emulator (this process hosts it) that stops cleanly on SIGTERM with every
// written event in its file sink, and the demo's summary line.

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/journal.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/emulator_fixture.hpp"

using namespace gcstream;
using test::child;
using json = nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string program = GCSTREAM_PROGRAM;
const std::string topic = "v2.users.6d2c5a1e-0000-0000-0000-000000000031.presence";

struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/gcstream-program-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { fs::remove_all(path); }
};

std::vector<json> json_lines(const fs::path& p) {
  std::vector<json> out;
  std::ifstream in{p};
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(json::parse(line));
  return out;
}

std::string file_text(const fs::path& p) {
  std::ifstream in{p};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A tenant of the emulator at `base`, on client "app", reading `topic`, with
// its secret in the environment variable `secret_env` and `sink` (a file
// path, or "null").
json tenant_json(const std::string& base, const std::string& id,
                 const std::string& secret_env, const std::string& sink) {
  json sinks = sink == "null" ? json{{{"type", "null"}}}
                              : json{{{"type", "file"}, {"path", sink}}};
  return json{{"id", id},
              {"login_url", base},
              {"api_url", base},
              {"client_id", "app"},
              {"client_secret_env", secret_env},
              {"topics", {topic}},
              {"sinks", sinks}};
}

// An emulator at 50 events/s and a directory, with the configuration of a
// tenant that streams ("acme", into acme.jsonl) and one whose secret is
// refused ("bad"), and the environment that gives those secrets.
struct good_and_bad {
  static emulator::config at_50() {
    auto ec = test::emulator_fixture::default_config();
    ec.event_rate = 50;
    return ec;
  }
  test::emulator_fixture emu{at_50()};
  temp_dir dir;
  const std::vector<std::string> secrets{"ACME_SECRET=s3cret-Value",
                                         "BAD_SECRET=wrong-Value"};
  json tenant(const std::string& id, const std::string& secret_env) {
    return tenant_json(emu.base, id, secret_env, id + ".jsonl");
  }
  json config() {
    return {{"tenants", {tenant("acme", "ACME_SECRET"), tenant("bad", "BAD_SECRET")}},
            {"metrics", {{"listen", "127.0.0.1:0"}}}};
  }
};

size_t line_count(const fs::path& p) {
  std::ifstream in{p};
  size_t n = 0;
  for (std::string line; std::getline(in, line);)
    ++n;
  return n;
}

} // namespace

BOOST_AUTO_TEST_SUITE(gcstream_program)

BOOST_AUTO_TEST_CASE(help_and_version_and_usage_errors) {
  child help({program, "--help"});
  BOOST_CHECK_NE(help.rest(5000).find("gcstream run --config FILE"), std::string::npos);
  BOOST_CHECK_EQUAL(help.wait_exit(5000), 0);
  child version({program, "--version"});
  BOOST_CHECK_EQUAL(version.line(5000).rfind("gcstream ", 0), 0u);
  BOOST_CHECK_EQUAL(version.wait_exit(5000), 0);
  child bad({program, "demo", "--tenants", "many"});
  BOOST_CHECK_EQUAL(bad.wait_exit(5000), 2);
  BOOST_CHECK_NE(bad.stderr_text().find("--tenants: expected an integer"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(validate_config_names_the_bad_fields_and_exits_3) {
  temp_dir dir;
  auto cfg = dir.path / "bad.json";
  std::ofstream{cfg} << R"({"tenants":[{"id":"a","environment":"mypurecloud.com",
    "client_id":"x","client_secret_env":"NOPE_NOT_SET_ANYWHERE","topics":[],
    "sinks":[{"type":"file"}]}],"extra":1})";
  child c({program, "validate-config", cfg.string()});
  BOOST_CHECK_EQUAL(c.wait_exit(10000), 3);
  auto err = c.stderr_text();
  for (auto expected : {"tenants[0].client_secret_env: the environment variable",
                        "tenants[0].topics: expected a non-empty array",
                        "tenants[0].sinks[0].path: missing", "extra: unknown key"})
    BOOST_CHECK_MESSAGE(err.find(expected) != std::string::npos,
                        "missing '" << expected << "' in: " << err);
}

BOOST_AUTO_TEST_CASE(validate_config_counts_channels_and_refuses_what_the_client_cannot_hold) {
  temp_dir dir;
  auto with_users = [&](const std::string& name, int users) {
    auto t = tenant_json("http://127.0.0.1:9", "acme", "ACME_SECRET", "events.jsonl");
    t["topics"] = json::array();
    for (int u = 0; u < users; ++u) {
      char id[80];
      std::snprintf(id, sizeof id, "v2.users.6d2c5a1e-0000-0000-0000-%012d.presence", u);
      t["topics"].push_back(id);
    }
    auto path = (dir.path / name).string();
    std::ofstream{path} << json{{"tenants", {t}}}.dump();
    return path;
  };
  // 2,500 topics: three channels, said.
  child ok({program, "validate-config", with_users("ok.json", 2500)},
           {"ACME_SECRET=s3cret-Value"});
  BOOST_CHECK_NE(ok.rest(10000).find("valid, 1 tenant on 3 channels"), std::string::npos);
  BOOST_CHECK_EQUAL(ok.wait_exit(10000), 0);
  // 20,001: 21 channels of the client's 20, refused with the numbers.
  child big({program, "validate-config", with_users("big.json", 20001)},
            {"ACME_SECRET=s3cret-Value"});
  BOOST_CHECK_EQUAL(big.wait_exit(10000), 3);
  BOOST_CHECK_NE(big.stderr_text().find("need 21 channels (acme (21); one per 1000 topics), "
                                        "but runtime.max_live_channels is 20"),
                 std::string::npos);
}

BOOST_AUTO_TEST_CASE(validate_config_online_checks_topics_against_the_services_list) {
  test::emulator_fixture emu;
  temp_dir dir;
  auto write = [&](const std::string& name, std::vector<std::string> topics,
                   const std::string& client) {
    auto t = tenant_json(emu.base, "acme", "ACME_SECRET", "null");
    t["topics"] = topics;
    t["client_id"] = client;
    std::ofstream{dir.path / name} << json{{"tenants", {t}}}.dump();
    return (dir.path / name).string();
  };
  const std::vector<std::string> env = {"ACME_SECRET=s3cret-Value"};
  auto bad = write("bad.json",
                   {topic, "v2.userz.abc.presence", "v2.users.abc?routingStatus&conversations"},
                   "app");
  // Offline, the syntax is fine.
  child offline({program, "validate-config", bad}, env);
  BOOST_CHECK_EQUAL(offline.wait_exit(10000), 0);
  child c({program, "validate-config", "--online", bad}, env);
  BOOST_CHECK_EQUAL(c.wait_exit(20000), 3);
  auto err = c.stderr_text();
  for (auto expected :
       {"tenants[0].topics[1]: topic 'v2.userz.abc.presence' is of no topic family",
        "tenants[0].topics[2]: topic 'v2.users.abc.conversations' (of "
        "'v2.users.abc?routingStatus&conversations') needs a user context"})
    BOOST_CHECK_MESSAGE(err.find(expected) != std::string::npos,
                        "missing '" << expected << "' in: " << err);
  BOOST_CHECK_EQUAL(err.find("topics[0]"), std::string::npos);
  // Nothing was made: no channel.
  BOOST_CHECK_EQUAL(emu.stats()["totals"]["channels"], 0);
  // Topics the list has: 0.
  child good({program, "validate-config", "--online", write("good.json", {topic}, "app")},
             env);
  BOOST_CHECK_EQUAL(good.wait_exit(20000), 0);
  // A tenant that cannot be checked: 4, with the reason and no secret.
  child refused(
    {program, "validate-config", "--online", write("nobody.json", {topic}, "nobody")}, env);
  BOOST_CHECK_EQUAL(refused.wait_exit(20000), 4);
  auto why = refused.stderr_text();
  BOOST_CHECK_NE(why.find("could not check tenant acme: no token: the login service answered 401"),
                 std::string::npos);
  BOOST_CHECK_EQUAL(why.find("s3cret"), std::string::npos);
  child usage({program, "validate-config", "--online"}, env);
  BOOST_CHECK_EQUAL(usage.wait_exit(10000), 2);
}

BOOST_AUTO_TEST_CASE(run_streams_to_a_file_and_stops_cleanly_on_sigterm) {
  auto ec = test::emulator_fixture::default_config();
  ec.event_rate = 100;
  test::emulator_fixture emu{ec};
  temp_dir dir;
  auto events = dir.path / "events.jsonl";
  auto audit = dir.path / "audit.jsonl";
  json cfg = {
    {"tenants",
     {{{"id", "acme"},
       {"login_url", emu.base},
       {"api_url", emu.base},
       {"client_id", "app"},
       {"client_secret_env", "ACME_SECRET"},
       {"topics", {topic}},
       {"session", {{"ping_interval_ms", 500}, {"heartbeat_timeout_ms", 2000}}},
       {"backoff", {{"initial_ms", 10}, {"max_ms", 200}}},
       {"sinks", {{{"type", "file"}, {"path", "events.jsonl"}}}}}}},
    {"metrics", {{"listen", "127.0.0.1:0"}}},
    {"audit_log", "audit.jsonl"}};
  std::ofstream{dir.path / "gcstream.json"} << cfg.dump(2);
  {
    child c({program, "validate-config", (dir.path / "gcstream.json").string()},
            {"ACME_SECRET=s3cret-Value"});
    BOOST_REQUIRE_EQUAL(c.wait_exit(10000), 0);
  }
  child c({program, "run", "--config", (dir.path / "gcstream.json").string()},
          {"ACME_SECRET=s3cret-Value"});
  BOOST_REQUIRE(probe::eventually([&] { return line_count(events) >= 50; }, 20s));
  emu.srv.inject(R"({"kind":"drop"})");
  BOOST_REQUIRE(probe::eventually([&] { return line_count(events) >= 150; }, 20s));
  // Stop the events, let everything written arrive, then stop the program.
  emu.srv.reconfigure(R"({"event_rate":0})");
  size_t written = 0;
  BOOST_CHECK(probe::eventually([&] {
    written = emu.stats()["topics"][topic]["written"].get<size_t>();
    return line_count(events) >= written;
  }, 20s));
  kill(c.pid, SIGTERM);
  BOOST_CHECK_EQUAL(c.wait_exit(20000), 0);
  auto lines = json_lines(events);
  std::set<std::string> ids;
  for (auto& l : lines) {
    BOOST_CHECK_EQUAL(l["tenant"], "acme");
    BOOST_CHECK_EQUAL(l["topic"], topic);
    BOOST_CHECK_EQUAL(l["event"]["topicName"], topic);
    ids.insert(l["id"].get<std::string>());
  }
  BOOST_CHECK_EQUAL(lines.size(), written);
  BOOST_CHECK_EQUAL(ids.size(), written);
  // The audit log: 0600, transitions in order, no secret anywhere.
  struct stat sb;
  BOOST_REQUIRE_EQUAL(::stat(audit.c_str(), &sb), 0);
  BOOST_CHECK_EQUAL(sb.st_mode & 0777, 0600u);
  std::vector<std::string> kinds;
  uint64_t last_seq = 0;
  for (auto& l : json_lines(audit)) {
    BOOST_CHECK_GT(l["seq"].get<uint64_t>(), last_seq);
    last_seq = l["seq"].get<uint64_t>();
    kinds.push_back(l["event"].get<std::string>());
  }
  auto at = [&](const std::string& k) {
    return std::find(kinds.begin(), kinds.end(), k) - kinds.begin();
  };
  BOOST_CHECK_LT(at("connected"), at("disconnected"));
  BOOST_CHECK_LT(at("disconnected"), at("tenant_stopped"));
  BOOST_CHECK_LT(at("tenant_stopped"), static_cast<long>(kinds.size()));
  for (auto text : {file_text(audit), c.stderr_text(), c.seen})
    BOOST_CHECK_EQUAL(text.find("s3cret-Value"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(after_sigkill_the_journal_delivers_what_it_held) {
  auto ec = test::emulator_fixture::default_config();
  ec.event_rate = 200;
  test::emulator_fixture emu{ec};
  temp_dir dir;
  auto events = dir.path / "events.jsonl";
  json cfg = {{"tenants",
               {{{"id", "acme"},
                 {"login_url", emu.base},
                 {"api_url", emu.base},
                 {"client_id", "app"},
                 {"client_secret_env", "ACME_SECRET"},
                 {"topics", {topic}},
                 {"journal", "acme.db"},
                 {"sinks", {{{"type", "file"}, {"path", "events.jsonl"}}}}}}},
             {"metrics", {{"listen", "off"}}}};
  auto cfg_path = (dir.path / "gcstream.json").string();
  std::ofstream{cfg_path} << cfg.dump(2);
  std::set<std::string> journaled;
  {
    child c({program, "run", "--config", cfg_path}, {"ACME_SECRET=s3cret-Value"});
    BOOST_REQUIRE(probe::eventually([&] { return line_count(events) >= 300; }, 20s));
    kill(c.pid, SIGKILL);
    BOOST_REQUIRE_EQUAL(c.wait_exit(10000), 128 + SIGKILL);
    // What the journal held at the kill: received, not yet in every sink.
    auto j = journal::open((dir.path / "acme.db").string());
    BOOST_REQUIRE(j);
    for (auto& e : (*j)->load())
      journaled.insert(std::string{e.id()});
  }
  // Events wait in the reorder buffer (250 ms of lateness at 200/s), so the
  // journal held some at the kill.
  BOOST_CHECK_GT(journaled.size(), 0u);
  child again({program, "run", "--config", cfg_path}, {"ACME_SECRET=s3cret-Value"});
  auto delivered = [&] {
    std::set<std::string> ids;
    std::ifstream in{events};
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line.back() == '}')
        ids.insert(json::parse(line)["id"].get<std::string>());
    return ids;
  };
  BOOST_CHECK(probe::eventually([&] {
    auto ids = delivered();
    return std::all_of(journaled.begin(), journaled.end(),
                       [&](auto& id) { return ids.count(id) == 1; });
  }, 20s));
  kill(again.pid, SIGTERM);
  BOOST_CHECK_EQUAL(again.wait_exit(20000), 0);
}

BOOST_AUTO_TEST_CASE(sigterm_with_events_no_sink_took_exits_5_and_says_so) {
  auto ec = test::emulator_fixture::default_config();
  ec.event_rate = 100;
  test::emulator_fixture emu{ec};
  temp_dir dir;
  auto audit = dir.path / "audit.jsonl";
  // /dev/full takes no write: the file sink refuses every batch.
  json cfg = {
    {"tenants",
     {{{"id", "acme"},
       {"login_url", emu.base},
       {"api_url", emu.base},
       {"client_id", "app"},
       {"client_secret_env", "ACME_SECRET"},
       {"topics", {topic}},
       {"supervisor", {{"drain_timeout_ms", 500}}},
       {"delivery", {{"max_refusals", 1000}, {"retry_initial_ms", 10},
                     {"retry_max_ms", 50}}},
       {"sinks", {{{"type", "file"}, {"path", "/dev/full"}}}}}}},
    {"metrics", {{"listen", "off"}}},
    {"audit_log", "audit.jsonl"}};
  std::ofstream{dir.path / "gcstream.json"} << cfg.dump(2);
  child c({program, "run", "--config", (dir.path / "gcstream.json").string()},
          {"ACME_SECRET=s3cret-Value"});
  BOOST_REQUIRE(probe::eventually([&] {
    return file_text(audit).find("\"batch_refused\"") != std::string::npos;
  }, 20s));
  kill(c.pid, SIGTERM);
  BOOST_CHECK_EQUAL(c.wait_exit(20000), 5);
  BOOST_CHECK_NE(c.stderr_text().find("not delivered to every sink"), std::string::npos);
  // Counted and audited: drain_incomplete with the number, and the stop.
  uint64_t undelivered = 0;
  for (auto& l : json_lines(audit))
    if (l["event"] == "drain_incomplete")
      undelivered = l["undelivered"].get<uint64_t>();
  BOOST_CHECK_GT(undelivered, 0u);
  BOOST_CHECK_NE(file_text(audit).find("\"tenant_stopped\""), std::string::npos);
}

BOOST_AUTO_TEST_CASE(undelivered_events_outrank_a_failed_tenant_and_both_are_said) {
  // Where several exit codes apply, 5 (events not delivered) comes before 7
  // (some tenants failed); stderr says both.
  auto ec = test::emulator_fixture::default_config();
  ec.event_rate = 100;
  test::emulator_fixture emu{ec};
  temp_dir dir;
  auto audit = dir.path / "audit.jsonl";
  auto tenant = [&](const std::string& id, const std::string& secret_env,
                    const std::string& path) {
    auto t = tenant_json(emu.base, id, secret_env, path);
    t["supervisor"] = {{"drain_timeout_ms", 500}};
    t["delivery"] = {{"max_refusals", 1000}, {"retry_initial_ms", 10}, {"retry_max_ms", 50}};
    return t;
  };
  json cfg = {{"tenants", {tenant("acme", "ACME_SECRET", "/dev/full"),
                           tenant("bad", "BAD_SECRET", "bad.jsonl")}},
              {"metrics", {{"listen", "off"}}},
              {"audit_log", "audit.jsonl"}};
  std::ofstream{dir.path / "gcstream.json"} << cfg.dump(2);
  child c({program, "run", "--config", (dir.path / "gcstream.json").string()},
          {"ACME_SECRET=s3cret-Value", "BAD_SECRET=wrong-Value"});
  BOOST_REQUIRE(probe::eventually([&] {
    return c.stderr_text().find("gcstream: tenant bad failed: ") != std::string::npos
           && file_text(audit).find("\"batch_refused\"") != std::string::npos;
  }, 20s));
  kill(c.pid, SIGTERM);
  BOOST_CHECK_EQUAL(c.wait_exit(20000), 5);
  auto text = c.stderr_text();
  BOOST_CHECK_NE(text.find("not delivered to every sink"), std::string::npos);
  BOOST_CHECK_NE(text.find("1 of 2 tenants had failed"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_refused_tenant_is_named_at_once_and_the_exit_code_says_so) {
  good_and_bad g;
  auto& dir = g.dir;
  auto tenant = [&](const std::string& id, const std::string& env) { return g.tenant(id, env); };
  std::ofstream{dir.path / "two.json"} << g.config().dump(2);
  child c({program, "run", "--config", (dir.path / "two.json").string()}, g.secrets);
  // Named on stderr while the good one goes on streaming.
  BOOST_REQUIRE(probe::eventually([&] {
    return c.stderr_text().find("gcstream: tenant bad failed: ") != std::string::npos;
  }, 20s));
  BOOST_REQUIRE(probe::eventually([&] { return line_count(dir.path / "acme.jsonl") >= 5; },
                                  20s));
  std::smatch port;
  auto err = c.stderr_text();
  BOOST_REQUIRE(std::regex_search(err, port, std::regex("metrics on port ([0-9]+)")));
  auto health = probe::http("GET", "http://127.0.0.1:" + port[1].str() + "/healthz");
  BOOST_CHECK_EQUAL(health.status, 503);
  BOOST_CHECK_NE(health.body.find("bad: failed ("), std::string::npos);
  kill(c.pid, SIGTERM);
  BOOST_CHECK_EQUAL(c.wait_exit(20000), 7);
  BOOST_CHECK_NE(c.stderr_text().find("1 of 2 tenants had failed"), std::string::npos);
  for (auto text : {c.stderr_text(), c.seen})
    BOOST_CHECK_EQUAL(text.find("wrong-Value"), std::string::npos);
  // Every tenant refused: exit 4, each one named with its reason.
  json all_bad = {{"tenants", {tenant("one", "BAD_SECRET"), tenant("two", "BAD_SECRET")}},
                  {"metrics", {{"listen", "off"}}}};
  std::ofstream{dir.path / "bad.json"} << all_bad.dump(2);
  child b({program, "run", "--config", (dir.path / "bad.json").string()},
          {"BAD_SECRET=wrong-Value"});
  BOOST_CHECK_EQUAL(b.wait_exit(20000), 4);
  auto text = b.stderr_text();
  BOOST_CHECK_NE(text.find("every tenant failed"), std::string::npos);
  for (auto id : {"one", "two"}) {
    BOOST_CHECK_NE(text.find(std::string("gcstream: tenant ") + id + " failed: "),
                   std::string::npos);
    BOOST_CHECK_NE(text.find(std::string("  ") + id + ": "), std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(json_logs_at_warn_say_failures_and_deferred_settings_and_no_secret) {
  good_and_bad g;
  auto& dir = g.dir;
  auto tenant = [&](const std::string& id, const std::string& env) { return g.tenant(id, env); };
  json cfg = g.config();
  cfg["audit_log"] = "audit.jsonl";
  auto path = (dir.path / "gcstream.json").string();
  std::ofstream{path} << cfg.dump(2);
  child c({program, "run", "--config", path, "--log-format", "json", "--log-level", "warn"},
          g.secrets);
  BOOST_REQUIRE(probe::eventually([&] {
    return c.stderr_text().find("\"tenant_failed\"") != std::string::npos;
  }, 20s));
  BOOST_REQUIRE(probe::eventually([&] { return line_count(dir.path / "acme.jsonl") >= 5; },
                                  20s));
  // A reload that changes a runtime setting: the tenants are kept, and the
  // setting waits for the next start, which is said (a warning).
  cfg["runtime"] = {{"coalesce_ms", 5}};
  std::ofstream{path} << cfg.dump(2);
  kill(c.pid, SIGHUP);
  BOOST_REQUIRE(probe::eventually([&] {
    return c.stderr_text().find("\"config_reload_deferred\"") != std::string::npos;
  }, 20s));
  kill(c.pid, SIGTERM);
  BOOST_CHECK_EQUAL(c.wait_exit(20000), 7);

  // Every line of stderr is one JSON record; nothing below warn is said.
  std::map<std::string, json> by_event;
  std::istringstream err{c.stderr_text()};
  size_t lines = 0;
  for (std::string line; std::getline(err, line); ++lines) {
    auto j = json::parse(line, nullptr, false);
    BOOST_REQUIRE_MESSAGE(j.is_object(), "not a JSON line: " + line);
    BOOST_CHECK(std::regex_match(j.value("ts", ""),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
    auto level = j.value("level", "");
    BOOST_CHECK_MESSAGE(level == "warn" || level == "error", "said at " + level + ": " + line);
    BOOST_CHECK(j["msg"].is_string());
    by_event[j.value("event", "")] = j;
  }
  BOOST_CHECK_GE(lines, 3u);
  BOOST_REQUIRE_EQUAL(by_event.count("tenant_failed"), 1u);
  BOOST_CHECK_EQUAL(by_event["tenant_failed"]["tenant"], "bad");
  BOOST_CHECK_EQUAL(by_event["tenant_failed"]["level"], "error");
  BOOST_CHECK_EQUAL(by_event["config_reload_deferred"]["level"], "warn");
  BOOST_REQUIRE_EQUAL(by_event.count("stopped_with_failed_tenants"), 1u);
  BOOST_CHECK_EQUAL(by_event["stopped_with_failed_tenants"]["details"].size(), 1u);
  for (auto info : {"listening", "started", "config_reload", "config_reloaded", "stopping",
                    "stopped"})
    BOOST_CHECK_MESSAGE(by_event.count(info) == 0, std::string(info) + " said at warn");
  for (auto secret : {"wrong-Value", "s3cret-Value"})
    BOOST_CHECK_EQUAL(c.stderr_text().find(secret), std::string::npos);
  // The audit log is apart, and has the reload the warn level did not say.
  auto audit = file_text(dir.path / "audit.jsonl");
  BOOST_CHECK_NE(audit.find("\"config_reloaded\""), std::string::npos);

  // debug says each tenant as it is added; text stays "gcstream: ..." lines.
  json all_bad = {{"tenants", {tenant("one", "BAD_SECRET")}}, {"metrics", {{"listen", "off"}}}};
  std::ofstream{dir.path / "bad.json"} << all_bad.dump(2);
  child d({program, "run", "--config", (dir.path / "bad.json").string(), "--log-level",
           "debug"},
          {"BAD_SECRET=wrong-Value"});
  BOOST_CHECK_EQUAL(d.wait_exit(20000), 4);
  BOOST_CHECK_NE(d.stderr_text().find("gcstream: tenant one: 1 topic, 1 sink\n"),
                 std::string::npos);
  BOOST_CHECK_NE(d.stderr_text().find("gcstream: running 1 tenant;"), std::string::npos);

  // Bad values are usage errors.
  for (auto [flag, value] : {std::pair{"--log-format", "xml"}, std::pair{"--log-level", "loud"}}) {
    child u({program, "run", "--config", path, flag, value});
    BOOST_CHECK_EQUAL(u.wait_exit(5000), 2);
    BOOST_CHECK_NE(u.stderr_text().find(std::string(flag) + ": expected"), std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(sighup_reloads_by_difference_and_the_untouched_lose_nothing) {
  auto ec = test::emulator_fixture::default_config();
  ec.event_rate = 20;
  test::emulator_fixture emu{ec};
  temp_dir dir;
  auto user = [](int n) {
    char id[80];
    std::snprintf(id, sizeof id, "v2.users.6d2c5a1e-0000-0000-0000-%012d.presence", n);
    return std::string{id};
  };
  auto tenant = [&](const std::string& id, std::vector<int> users) {
    auto t = tenant_json(emu.base, id, "ACME_SECRET", id + ".jsonl");
    t["topics"] = json::array();
    for (auto u : users)
      t["topics"].push_back(user(u));
    return t;
  };
  auto path = (dir.path / "gcstream.json").string();
  auto write = [&](json tenants) {
    json cfg = {{"tenants", tenants},
                {"metrics", {{"listen", "off"}}},
                {"audit_log", "audit.jsonl"}};
    std::ofstream{path + ".new"} << cfg.dump(2);
    fs::rename(path + ".new", path);
  };
  write({tenant("a", {100, 101}), tenant("b", {200, 201}), tenant("c", {300, 301}),
         tenant("e", {500})});
  child c({program, "run", "--config", path}, {"ACME_SECRET=s3cret-Value"});
  auto channel_of = [&](const std::string& topic) {
    auto all = emu.stats()["channels"];
    for (auto& [id, ch] : all.items())
      if (ch["socket_open"].get<bool>()
          && std::find(ch["topics"].begin(), ch["topics"].end(), topic) != ch["topics"].end())
        return id;
    return std::string{};
  };
  BOOST_REQUIRE(probe::eventually([&] {
    for (auto id : {"a", "b", "c", "e"})
      if (line_count(dir.path / (std::string{id} + ".jsonl")) < 5)
        return false;
    return true;
  }, 20s));
  auto b_channel = channel_of(user(200));
  auto c_channel = channel_of(user(300));
  auto e_channel = channel_of(user(500));
  BOOST_REQUIRE(!b_channel.empty() && !c_channel.empty() && !e_channel.empty());
  // An invalid file is refused whole, each problem said; nothing changes.
  write({tenant("a", {100}), json{{"id", "broken"}}});
  kill(c.pid, SIGHUP);
  BOOST_REQUIRE(probe::eventually([&] {
    return c.stderr_text().find("reload refused, the running configuration is kept")
           != std::string::npos;
  }, 10s));
  BOOST_CHECK_NE(c.stderr_text().find("tenants[1].client_id"), std::string::npos);
  // d added, a removed, b's topics changed (one gone, one new), c untouched,
  // e given another setting (restarted: a new session on a new channel).
  auto e_changed = tenant("e", {500});
  e_changed["session"] = {{"ping_interval_ms", 20000}};
  write({tenant("b", {200, 202}), tenant("c", {300, 301}), tenant("d", {400}), e_changed});
  auto e_lines = line_count(dir.path / "e.jsonl");
  kill(c.pid, SIGHUP);
  BOOST_REQUIRE(probe::eventually([&] {
    return c.stderr_text().find("reloaded: 1 added, 1 removed, 1 restarted, 1 with new "
                                "topics, 1 unchanged") != std::string::npos;
  }, 20s));
  BOOST_REQUIRE(probe::eventually([&] {
    auto now = channel_of(user(500));
    return !now.empty() && now != e_channel
           && line_count(dir.path / "e.jsonl") >= e_lines + 5;
  }, 20s));
  BOOST_REQUIRE(probe::eventually([&] {
    return line_count(dir.path / "d.jsonl") >= 5 && channel_of(user(100)).empty()
           && channel_of(user(202)) == b_channel;
  }, 20s));
  // b and c kept their sockets: the same channels, connected once each.
  BOOST_CHECK_EQUAL(channel_of(user(200)), b_channel);
  BOOST_CHECK_EQUAL(channel_of(user(300)), c_channel);
  BOOST_CHECK_EQUAL(emu.stats()["channels"][b_channel]["connects"].get<int>(), 1);
  BOOST_CHECK_EQUAL(emu.stats()["channels"][c_channel]["connects"].get<int>(), 1);
  // Stop the events; c (untouched) and b (changed) have each event written
  // to them exactly once.
  emu.srv.reconfigure(R"({"event_rate":0})");
  auto written = [&](std::vector<int> users) {
    size_t n = 0;
    auto topics = emu.stats()["topics"];
    for (auto u : users)
      if (topics.contains(user(u)))
        n += topics[user(u)]["written"].get<size_t>();
    return n;
  };
  BOOST_CHECK(probe::eventually([&] {
    return line_count(dir.path / "c.jsonl") == written({300, 301})
           && line_count(dir.path / "b.jsonl") == written({200, 201, 202});
  }, 20s));
  kill(c.pid, SIGTERM);
  BOOST_CHECK_EQUAL(c.wait_exit(20000), 0);
  for (auto id : {"b", "c"}) {
    std::set<std::string> ids;
    auto lines = json_lines(dir.path / (std::string{id} + ".jsonl"));
    for (auto& l : lines)
      ids.insert(l["id"].get<std::string>());
    BOOST_CHECK_EQUAL(ids.size(), lines.size());
  }
  // Each reload is audited.
  std::vector<std::string> kinds;
  json reloaded;
  for (auto& l : json_lines(dir.path / "audit.jsonl")) {
    auto k = l["event"].get<std::string>();
    if (k.rfind("config_reload", 0) == 0)
      kinds.push_back(k);
    if (k == "config_reloaded")
      reloaded = l;
  }
  BOOST_CHECK(kinds == (std::vector<std::string>{"config_reload_refused", "config_reloaded"}));
  BOOST_CHECK_EQUAL(reloaded["added"], "d");
  BOOST_CHECK_EQUAL(reloaded["removed"], "a");
  BOOST_CHECK_EQUAL(reloaded["topics_changed"], "b");
  BOOST_CHECK_EQUAL(reloaded["restarted"], "e");
  for (auto text : {file_text(dir.path / "audit.jsonl"), c.stderr_text()})
    BOOST_CHECK_EQUAL(text.find("s3cret-Value"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_demo_ends_with_a_clean_summary) {
  child c({program, "demo", "--tenants", "2", "--duration-s", "4", "--faults"});
  auto out = c.rest(60000);
  BOOST_CHECK_EQUAL(c.wait_exit(30000), 0);
  std::smatch m;
  BOOST_REQUIRE_MESSAGE(
    std::regex_search(out, m,
                      std::regex{"summary: written=(\\d+) delivered=(\\d+) lost=0 "
                                 "duplicated=0\\n$"}),
    out);
  BOOST_CHECK_GT(std::stoul(m[1]), 100u);
  BOOST_CHECK_EQUAL(m[1], m[2]);
}

BOOST_AUTO_TEST_CASE(the_open_file_limit_is_raised_or_named_before_anything_connects) {
  test::emulator_fixture emu;
  temp_dir dir;
  auto config = [&](int tenants) {
    json list = json::array();
    for (int i = 0; i < tenants; ++i)
      list.push_back(tenant_json(emu.base, "t" + std::to_string(i), "ACME_SECRET", "null"));
    auto path = dir.path / ("t" + std::to_string(tenants) + ".json");
    std::ofstream{path} << json{{"tenants", list}, {"metrics", {{"listen", "off"}}}}.dump(2);
    return path.string();
  };
  // Too low even raised: exit 3, the numbers on stderr, nothing connected.
  child low({"/usr/bin/prlimit", "--nofile=40:40", program, "run", "--config", config(20)},
            {"ACME_SECRET=s3cret-Value"});
  BOOST_CHECK_EQUAL(low.wait_exit(20000), 3);
  auto text = low.stderr_text();
  BOOST_CHECK_NE(text.find("the open-file limit is 40 (hard limit 40), too low for the "
                           "20 tenants configured"),
                 std::string::npos);
  BOOST_CHECK(emu.stats()["token_requests"].empty());
  // A soft limit below the hard one is raised to it.
  child ok({"/usr/bin/prlimit", "--nofile=200:4096", program, "run", "--config", config(1)},
           {"ACME_SECRET=s3cret-Value"});
  BOOST_REQUIRE(probe::eventually(
    [&] { return ok.stderr_text().find("running 1 tenant") != std::string::npos; }, 20s));
  auto limits = file_text("/proc/" + std::to_string(ok.pid) + "/limits");
  BOOST_CHECK_MESSAGE(std::regex_search(limits, std::regex("Max open files +4096 +4096")),
                      limits);
  kill(ok.pid, SIGTERM);
  BOOST_CHECK_EQUAL(ok.wait_exit(20000), 0);
}

BOOST_AUTO_TEST_SUITE_END()
