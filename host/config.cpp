#include "host/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/sinks/null_sink.hpp"
#include "actors/sinks/webhook_sink.hpp"
#include "messages/errors.hpp"
#include "runtime/endpoints.hpp"
#include "runtime/http_listener.hpp"
#include "runtime/topics.hpp"

namespace gcstream {

using json = nlohmann::json;
using namespace std::chrono;

env_lookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (auto v = std::getenv(name.c_str()))
      return std::string{v};
    return std::nullopt;
  };
}

sink_spec file_sink_spec(std::string name, file_sink_settings cfg) {
  // What the sink's restarts share: the last batch its file holds.
  auto keep = std::make_shared<file_sink_keep>();
  return sink_spec{std::move(name), [cfg, keep](const sink_context& ctx) {
                     return ctx.sys.spawn(file_sink, cfg, keep);
                   }};
}

sink_spec webhook_sink_spec(std::string name, webhook_sink_settings cfg) {
  sink_spec s{std::move(name), [cfg](const sink_context& ctx) {
                return caf::actor_cast<sink_actor>(
                  ctx.sys.spawn(webhook_sink, cfg, ctx.http));
              }};
  s.retry = cfg.backoff;
  return s;
}

sink_spec null_sink_spec(std::string name) {
  return sink_spec{std::move(name), [](const sink_context& ctx) {
                     return ctx.sys.spawn(null_sink);
                   }};
}

namespace {

std::string list_of(std::initializer_list<const char*> xs) {
  std::string out;
  for (auto x : xs)
    out += (out.empty() ? "" : ", ") + std::string{x};
  return out;
}

// Collects problems with their paths; reads values within their bounds.
class checker {
public:
  std::vector<std::string> problems;
  const env_lookup& env;
  std::string base_dir;

  checker(const env_lookup& e, std::string dir) : env(e), base_dir(std::move(dir)) {}

  void fail(const std::string& path, const std::string& what) {
    problems.push_back((path.empty() ? "(top level)" : path) + ": " + what);
  }

  static std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

  // True when `j` is an object; reports keys not in `allowed`.
  bool object(const json& j, const std::string& path,
              std::initializer_list<const char*> allowed) {
    if (!j.is_object()) {
      fail(path, "expected an object");
      return false;
    }
    for (auto& item : j.items()) {
      if (std::none_of(allowed.begin(), allowed.end(),
                       [&](const char* a) { return item.key() == a; }))
        fail(join(path, item.key()),
             "unknown key (expected one of: " + list_of(allowed) + ")");
    }
    return true;
  }

  void integer(const json& j, const std::string& path, const char* key,
               int64_t lo, int64_t hi, int64_t& out) {
    if (!j.contains(key))
      return;
    auto& v = j[key];
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
      fail(join(path, key), "expected an integer from " + std::to_string(lo)
                              + " to " + std::to_string(hi));
      return;
    }
    out = v.get<int64_t>();
  }

  template <class T>
  void number(const json& j, const std::string& path, const char* key,
              int64_t lo, int64_t hi, T& out) {
    auto tmp = static_cast<int64_t>(out);
    integer(j, path, key, lo, hi, tmp);
    out = static_cast<T>(tmp);
  }

  void millis(const json& j, const std::string& path, const char* key,
              int64_t lo, int64_t hi, milliseconds& out) {
    int64_t tmp = out.count();
    integer(j, path, key, lo, hi, tmp);
    out = milliseconds{tmp};
  }

  void real(const json& j, const std::string& path, const char* key, double lo,
            double hi, double& out) {
    if (!j.contains(key))
      return;
    auto& v = j[key];
    if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi) {
      std::ostringstream os;
      os << "expected a number from " << lo << " to " << hi;
      fail(join(path, key), os.str());
      return;
    }
    out = v.get<double>();
  }

  void boolean(const json& j, const std::string& path, const char* key,
               bool& out) {
    if (!j.contains(key))
      return;
    if (!j[key].is_boolean()) {
      fail(join(path, key), "expected true or false");
      return;
    }
    out = j[key].get<bool>();
  }

  bool string(const json& j, const std::string& path, const char* key,
              std::string& out, bool required = false) {
    if (!j.contains(key)) {
      if (required)
        fail(join(path, key), "missing (expected a string)");
      return false;
    }
    if (!j[key].is_string() || j[key].get<std::string>().empty()) {
      fail(join(path, key), "expected a non-empty string");
      return false;
    }
    out = j[key].get<std::string>();
    return true;
  }

  std::string choice(const json& j, const std::string& path, const char* key,
                     std::initializer_list<const char*> options,
                     const std::string& fallback) {
    std::string v;
    if (!string(j, path, key, v))
      return fallback;
    if (std::any_of(options.begin(), options.end(),
                    [&](const char* o) { return v == o; }))
      return v;
    fail(join(path, key), "'" + v + "' is not one of: " + list_of(options));
    return fallback;
  }

  std::string path_of(const std::string& p) const {
    if (p.empty() || p == "-" || p[0] == '/' || base_dir.empty()
        || base_dir == ".")
      return p;
    return base_dir + "/" + p;
  }

  // A secret from `<key>_env` or `<key>_file`, exactly one of them. No
  // message repeats its value.
  std::string secret(const json& j, const std::string& path,
                     const std::string& key, bool required) {
    auto env_key = key + "_env";
    auto file_key = key + "_file";
    bool has_env = j.contains(env_key);
    bool has_file = j.contains(file_key);
    if (j.contains(key)) {
      fail(join(path, key),
           "secrets are never inline: use " + env_key + " or " + file_key);
      return {};
    }
    if (has_env && has_file) {
      fail(path, "give " + env_key + " or " + file_key + ", not both");
      return {};
    }
    if (!has_env && !has_file) {
      if (required)
        fail(join(path, env_key), "missing (or give " + file_key + ")");
      return {};
    }
    std::string name;
    if (has_env) {
      if (!string(j, path, env_key.c_str(), name))
        return {};
      auto v = env(name);
      if (!v || v->empty()) {
        fail(join(path, env_key),
             "the environment variable " + name + " is not set or empty");
        return {};
      }
      return *v;
    }
    if (!string(j, path, file_key.c_str(), name))
      return {};
    std::ifstream in{path_of(name)};
    if (!in) {
      fail(join(path, file_key), "cannot read " + name);
      return {};
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto v = ss.str();
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' '))
      v.pop_back();
    if (v.empty())
      fail(join(path, file_key), name + " is empty");
    return v;
  }
};

constexpr int64_t day_ms = 86400000;

void read_timestamp_rules(checker& c, const json& j, const std::string& path,
                          std::vector<timestamp_rule>& out) {
  if (!j.is_array()) {
    c.fail(path, "expected an array of {\"topic\", \"pointer\", \"format\"}");
    return;
  }
  // (The envelope parser reads at most 64 paths, five of them its own.)
  if (j.size() > 32) {
    c.fail(path, "at most 32 rules (got " + std::to_string(j.size()) + ")");
    return;
  }
  std::vector<timestamp_rule> rules;
  for (size_t i = 0; i < j.size(); ++i) {
    auto p = path + "[" + std::to_string(i) + "]";
    if (!c.object(j[i], p, {"topic", "pointer", "format"}))
      continue;
    timestamp_rule r;
    c.string(j[i], p, "topic", r.topic_pattern, true);
    if (c.string(j[i], p, "pointer", r.pointer, true) && r.pointer[0] != '/')
      c.fail(p + ".pointer", "expected a JSON pointer starting with '/'");
    auto f = c.choice(j[i], p, "format", {"epoch_ms", "iso8601"}, "epoch_ms");
    r.format = f == "iso8601" ? timestamp_format::iso8601 : timestamp_format::epoch_ms;
    rules.push_back(std::move(r));
  }
  // The user's rules first; the defaults still cover the other topics.
  rules.insert(rules.end(), out.begin(), out.end());
  out = std::move(rules);
}

void read_sinks(checker& c, const json& j, const std::string& path,
                bool insecure, tenant_config& t) {
  if (!j.is_array() || j.empty()) {
    c.fail(path, "expected a non-empty array of sinks");
    return;
  }
  for (size_t i = 0; i < j.size(); ++i) {
    auto p = path + "[" + std::to_string(i) + "]";
    if (!j[i].is_object()) {
      c.fail(p, "expected an object with a \"type\"");
      continue;
    }
    if (!j[i].contains("type")) {
      c.fail(p + ".type", "missing (expected stdout, file, webhook or null)");
      continue;
    }
    auto type = c.choice(j[i], p, "type", {"stdout", "file", "webhook", "null"}, "");
    if (type.empty())
      continue;
    std::string name = type + "-" + std::to_string(i);
    bool late_only = false;
    file_sink_settings fs;
    webhook_sink_settings ws;
    if (type == "webhook") {
      c.object(j[i], p, {"type", "name", "late_only", "url", "authorization_env",
                         "authorization_file", "initial_backoff_ms",
                         "max_backoff_ms"});
      if (c.string(j[i], p, "url", ws.url, true))
        if (auto err = check_url(ws.url, insecure))
          c.fail(p + ".url", reason_of(err));
      auto auth = c.secret(j[i], p, "authorization", false);
      if (!auth.empty())
        ws.headers.emplace_back("Authorization", auth);
      c.millis(j[i], p, "initial_backoff_ms", 1, 3600000, ws.backoff.initial);
      c.millis(j[i], p, "max_backoff_ms", 1, 3600000, ws.backoff.cap);
    } else if (type == "file") {
      c.object(j[i], p, {"type", "name", "late_only", "path", "fsync",
                         "rotate_bytes", "keep"});
      if (c.string(j[i], p, "path", fs.path, true))
        fs.path = c.path_of(fs.path);
      fs.fsync = c.choice(j[i], p, "fsync", {"never", "batch"}, "never") == "batch"
                   ? fsync_policy::batch
                   : fsync_policy::never;
      c.number(j[i], p, "rotate_bytes", 0, int64_t{1} << 50, fs.rotate_bytes);
      c.number(j[i], p, "keep", 0, 1000, fs.keep);
    } else {
      c.object(j[i], p, {"type", "name", "late_only"});
    }
    c.string(j[i], p, "name", name);
    c.boolean(j[i], p, "late_only", late_only);
    auto s = type == "null"      ? null_sink_spec(name)
             : type == "webhook" ? webhook_sink_spec(name, ws)
                                 : file_sink_spec(name, fs);
    s.late_only = late_only;
    t.sinks.push_back(std::move(s));
  }
}

void read_endpoints(checker& c, const json& j, const std::string& p,
                    bool insecure, tenant_config& t) {
  if (j.contains("environment")) {
    if (j.contains("login_url") || j.contains("api_url"))
      c.fail(p, "give environment or login_url and api_url, not both");
    std::string env;
    if (!c.string(j, p, "environment", env))
      return;
    if (auto ep = endpoints_for(env)) {
      t.login_url = ep->login_url;
      t.api_url = ep->api_url;
    } else {
      c.fail(p + ".environment", reason_of(ep.error()));
    }
    return;
  }
  for (auto [key, dst] : {std::pair{"login_url", &t.login_url},
                          std::pair{"api_url", &t.api_url}}) {
    if (!j.contains(key)) {
      c.fail(p + "." + key, "missing (or give environment)");
      continue;
    }
    if (!c.string(j, p, key, *dst))
      continue;
    while (!dst->empty() && dst->back() == '/')
      dst->pop_back();
    if (auto err = check_url(*dst, insecure))
      c.fail(p + "." + key, reason_of(err));
  }
}

void read_tenant_knobs(checker& c, const json& j, const std::string& p,
                       tenant_config& t) {
  if (j.contains("session")
      && c.object(j["session"], p + ".session",
                  {"ping_interval_ms", "heartbeat_timeout_ms", "token_timeout_ms",
                   "resubscribe_fraction", "id_body_key"})) {
    auto& s = j["session"];
    auto sp = p + ".session";
    c.millis(s, sp, "ping_interval_ms", 100, day_ms, t.session.ping_interval);
    c.millis(s, sp, "heartbeat_timeout_ms", 200, day_ms, t.session.heartbeat_timeout);
    c.millis(s, sp, "token_timeout_ms", 1000, 600000, t.session.token_timeout);
    c.real(s, sp, "resubscribe_fraction", 0.1, 0.95, t.session.resubscribe_fraction);
    c.string(s, sp, "id_body_key", t.session.id_body_key);
    if (t.session.heartbeat_timeout <= t.session.ping_interval)
      c.fail(sp + ".heartbeat_timeout_ms", "expected more than ping_interval_ms");
  }
  if (j.contains("backoff")
      && c.object(j["backoff"], p + ".backoff", {"initial_ms", "max_ms", "factor"})) {
    auto& b = j["backoff"];
    auto bp = p + ".backoff";
    c.millis(b, bp, "initial_ms", 0, 3600000, t.supervisor.backoff.initial);
    c.millis(b, bp, "max_ms", 0, 3600000, t.supervisor.backoff.cap);
    c.real(b, bp, "factor", 1.0, 10.0, t.supervisor.backoff.factor);
    if (t.supervisor.backoff.cap < t.supervisor.backoff.initial)
      c.fail(bp + ".max_ms", "expected at least initial_ms");
  }
  if (j.contains("supervisor")
      && c.object(j["supervisor"], p + ".supervisor",
                  {"stable_after_ms", "max_restarts", "restart_window_ms",
                   "child_max_restarts", "token_threshold_ms",
                   "drain_timeout_ms"})) {
    auto& s = j["supervisor"];
    auto sp = p + ".supervisor";
    c.millis(s, sp, "stable_after_ms", 0, day_ms, t.supervisor.stable_after);
    c.number(s, sp, "max_restarts", 0, 1000000, t.supervisor.max_restarts);
    c.millis(s, sp, "restart_window_ms", 1000, day_ms, t.supervisor.restart_window);
    c.number(s, sp, "child_max_restarts", 0, 1000000,
             t.supervisor.child_restarts.max_restarts);
    c.millis(s, sp, "token_threshold_ms", 0, day_ms, t.supervisor.token_threshold);
    c.millis(s, sp, "drain_timeout_ms", 0, 600000, t.supervisor.drain_timeout);
  }
  if (j.contains("ordering")
      && c.object(j["ordering"], p + ".ordering",
                  {"allowed_lateness_ms", "max_hold_ms", "max_buffered", "late",
                   "timestamps"})) {
    auto& o = j["ordering"];
    auto op = p + ".ordering";
    auto& r = t.orderer.reorder;
    c.number(o, op, "allowed_lateness_ms", 0, 3600000, r.allowed_lateness_ms);
    c.number(o, op, "max_hold_ms", 0, 3600000, r.max_hold_ms);
    c.number(o, op, "max_buffered", 1, 100000000, r.max_events);
    auto late = c.choice(o, op, "late", {"deliver", "drop", "route"}, "deliver");
    t.orderer.late = late == "drop"    ? late_policy::drop
                     : late == "route" ? late_policy::route
                                       : late_policy::deliver;
    if (o.contains("timestamps"))
      read_timestamp_rules(c, o["timestamps"], op + ".timestamps",
                           t.session.timestamp_rules);
  }
  if (j.contains("dedupe")
      && c.object(j["dedupe"], p + ".dedupe", {"max_ids", "max_age_ms"})) {
    auto dp = p + ".dedupe";
    c.number(j["dedupe"], dp, "max_ids", 1, 100000000, t.orderer.dedupe_max_ids);
    c.number(j["dedupe"], dp, "max_age_ms", 1000, 7 * day_ms,
             t.orderer.dedupe_max_age_ms);
  }
  if (j.contains("delivery") && j["delivery"].is_object()
      && j["delivery"].contains("window"))
    c.fail(p + ".delivery.window",
           "removed: a sink gets one batch at a time, so that a refused batch "
           "is always the next it gets (README, Delivery guarantees); "
           "max_batch sets the batch size");
  if (j.contains("delivery")
      && c.object(j["delivery"], p + ".delivery",
                  {"window", "max_batch", "linger_ms", "max_queued",
                   "sink_restart_delay_ms", "sink_timeout_ms", "max_refusals",
                   "retry_initial_ms", "retry_max_ms"})) {
    auto& d = j["delivery"];
    auto dp = p + ".delivery";
    c.number(d, dp, "max_batch", 1, 100000, t.orderer.outbox.max_batch);
    c.number(d, dp, "sink_timeout_ms", 100, day_ms, t.orderer.sink_timeout_ms);
    c.number(d, dp, "max_refusals", 1, 1000000, t.orderer.max_refusals);
    c.millis(d, dp, "retry_initial_ms", 1, 3600000, t.orderer.retry.initial);
    c.millis(d, dp, "retry_max_ms", 1, 3600000, t.orderer.retry.cap);
    if (t.orderer.retry.cap < t.orderer.retry.initial)
      c.fail(dp + ".retry_max_ms", "expected at least retry_initial_ms");
    c.number(d, dp, "linger_ms", 0, 60000, t.orderer.linger_ms);
    c.number(d, dp, "max_queued", 1, 100000000, t.orderer.outbox.max_events);
    c.number(d, dp, "sink_restart_delay_ms", 0, 600000,
             t.orderer.sink_restart_delay_ms);
  }
  // The token, orderer, metrics and sink actors share the window.
  t.supervisor.child_restarts.window = t.supervisor.restart_window;
  t.orderer.sink_restarts.max_restarts = t.supervisor.child_restarts.max_restarts;
  t.orderer.sink_restarts.window = t.supervisor.restart_window;
  if (j.contains("inbox_max_events"))
    c.fail(p + ".inbox_max_events",
           "renamed max_buffered_events: one cap now covers every event the "
           "tenant holds");
  c.number(j, p, "max_buffered_events", 1, 100000000, t.max_buffered_events);
  auto overflow = c.choice(j, p, "overflow", {"block", "drop_oldest"}, "block");
  t.overflow = overflow == "drop_oldest" ? overflow_policy::drop_oldest
                                         : overflow_policy::block;
}

void read_tenant(checker& c, const json& j, const std::string& p,
                 std::set<std::string>& ids, program_config& out) {
  if (!c.object(j, p, {"id", "environment", "login_url", "api_url", "client_id",
                       "client_secret_env", "client_secret_file", "topics",
                       "session", "backoff", "supervisor", "ordering", "dedupe",
                       "delivery", "sinks", "inbox_max_events",
                       "max_buffered_events", "overflow", "journal",
                       "dead_letter", "combine_topics", "check_topics"}))
    return;
  tenant_config t;
  if (c.string(j, p, "id", t.id, true) && !ids.insert(t.id).second)
    c.fail(p + ".id", "'" + t.id + "' is used by another tenant");
  read_endpoints(c, j, p, out.runtime.http.allow_insecure, t);
  c.string(j, p, "client_id", t.client_id, true);
  t.client_secret = c.secret(j, p, "client_secret", true);
  if (!j.contains("topics") || !j["topics"].is_array() || j["topics"].empty()) {
    c.fail(p + ".topics", "expected a non-empty array of topic names");
  } else {
    for (size_t i = 0; i < j["topics"].size(); ++i) {
      auto& v = j["topics"][i];
      auto at = p + ".topics[" + std::to_string(i) + "]";
      if (!v.is_string() || v.get<std::string>().empty()) {
        c.fail(at, "expected a topic name");
      } else if (auto bad = topic_problem(v.get<std::string>()); !bad.empty()) {
        c.fail(at, bad);
      } else {
        t.topics.push_back(v.get<std::string>());
      }
    }
    // Names asked for twice (among the well-formed ones).
    for (auto& problem : topic_list_problems(t.topics))
      c.fail(p + ".topics", problem);
  }
  c.boolean(j, p, "combine_topics", t.combine_topics);
  c.boolean(j, p, "check_topics", t.check_topics);
  read_tenant_knobs(c, j, p, t);
  if (c.string(j, p, "journal", t.journal_path))
    t.journal_path = c.path_of(t.journal_path);
  // Dead letters go next to the configuration unless told otherwise.
  t.orderer.dead_letter_path = c.path_of((t.id.empty() ? "tenant" : t.id)
                                         + ".dead-letter.jsonl");
  if (c.string(j, p, "dead_letter", t.orderer.dead_letter_path))
    t.orderer.dead_letter_path = c.path_of(t.orderer.dead_letter_path);
  if (!j.contains("sinks"))
    c.fail(p + ".sinks", "missing (expected a non-empty array of sinks)");
  else
    read_sinks(c, j["sinks"], p + ".sinks", out.runtime.http.allow_insecure, t);
  if (t.orderer.late == late_policy::route
      && std::none_of(t.sinks.begin(), t.sinks.end(),
                      [](const sink_spec& s) { return s.late_only; }))
    c.fail(p + ".ordering.late", "'route' needs a sink with \"late_only\": true");
  out.tenants.push_back(std::move(t));
}

void read_runtime(checker& c, const json& j, program_config& out) {
  if (!c.object(j, "runtime",
                {"io_threads", "coalesce_ms", "http_workers", "connect_timeout_ms",
                 "http_timeout_ms", "max_message_bytes", "ca_file",
                 "allow_insecure", "proxy", "max_live_channels",
                 "connects_per_second", "max_restarts", "restart_window_ms"}))
    return;
  auto& r = out.runtime;
  const std::string p = "runtime";
  c.number(j, p, "io_threads", 1, 64, r.ws.io_threads);
  c.number(j, p, "coalesce_ms", 0, 100, r.ws.coalesce_ms);
  c.number(j, p, "http_workers", 1, 64, r.http.workers);
  c.number(j, p, "connect_timeout_ms", 100, 600000, r.ws.connect_timeout_ms);
  r.http.connect_timeout_ms = r.ws.connect_timeout_ms;
  c.number(j, p, "http_timeout_ms", 100, 600000, r.http.total_timeout_ms);
  c.number(j, p, "max_message_bytes", 1024, 64 << 20, r.ws.max_message_bytes);
  if (c.string(j, p, "ca_file", r.http.ca_file))
    r.ws.ca_file = r.http.ca_file = c.path_of(r.http.ca_file);
  c.boolean(j, p, "allow_insecure", r.http.allow_insecure);
  r.ws.allow_insecure = r.http.allow_insecure;
  c.string(j, p, "proxy", r.http.proxy);
  c.number(j, p, "max_live_channels", 1, 1000, r.limiter.max_live);
  c.real(j, p, "connects_per_second", 0.01, 10000, r.limiter.connects_per_second);
  // The limiter, the audit log and each tenant's supervisor.
  c.number(j, p, "max_restarts", 0, 1000000, r.shared_restarts.max_restarts);
  c.millis(j, p, "restart_window_ms", 1000, day_ms, r.shared_restarts.window);
  r.supervisor_restarts.max_restarts = r.shared_restarts.max_restarts;
  r.supervisor_restarts.window = r.shared_restarts.window;
}

void read_metrics(checker& c, const json& j, program_config& out) {
  if (!c.object(j, "metrics", {"listen", "allow_remote", "webhook_url",
                               "webhook_interval_ms", "signing_key_env",
                               "signing_key_file", "health_budget_ms"}))
    return;
  bool allow_remote = false;
  c.boolean(j, "metrics", "allow_remote", allow_remote);
  auto& m = out.metrics;
  if (c.string(j, "metrics", "listen", m.listen) && m.listen != "off") {
    auto colon = m.listen.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == m.listen.size()
        || m.listen.find_first_not_of("0123456789", colon + 1) != std::string::npos)
      c.fail("metrics.listen", "expected address:port, such as 127.0.0.1:9464");
    else if (!allow_remote && !is_loopback_listen(m.listen))
      c.fail("metrics.listen",
             m.listen + " is not a loopback address: /metrics and /healthz have "
                        "no TLS and no authentication; set metrics.allow_remote "
                        "to true to serve them beyond this host");
  }
  if (c.string(j, "metrics", "webhook_url", m.webhook_url))
    if (auto err = check_url(m.webhook_url, out.runtime.http.allow_insecure))
      c.fail("metrics.webhook_url", reason_of(err));
  c.integer(j, "metrics", "webhook_interval_ms", 1000, day_ms,
            m.webhook_interval_ms);
  c.millis(j, "metrics", "health_budget_ms", 1000, day_ms, out.runtime.health_budget);
  m.signing_key = c.secret(j, "metrics", "signing_key", false);
  if (m.listen == "off")
    m.listen.clear();
  out.runtime.metrics_listen = m.listen;
  out.runtime.health_webhook.url = m.webhook_url;
  out.runtime.health_webhook.interval = milliseconds{m.webhook_interval_ms};
  out.runtime.health_webhook.signing_key = m.signing_key;
}

// Each OAuth client's tenants, one channel per 1,000 topics each, within
// its budget of live channels (runtime.max_live_channels): checked before
// anything connects, with the numbers.
void check_channel_budget(checker& c, const program_config& out) {
  struct use {
    size_t channels = 0;
    std::string who;
    std::string first_path;
  };
  std::map<std::string, use> by_client;
  std::vector<std::string> order;
  for (size_t i = 0; i < out.tenants.size(); ++i) {
    auto& t = out.tenants[i];
    auto key = limiter_key_of(t.login_url, t.client_id);
    auto n = std::max<size_t>(1, tenant_channels(t.topics, t.combine_topics).size());
    auto [it, fresh] = by_client.try_emplace(key);
    if (fresh) {
      order.push_back(key);
      it->second.first_path = "tenants[" + std::to_string(i) + "]";
    }
    it->second.channels += n;
    it->second.who += (it->second.who.empty() ? "" : ", ") + t.id + " ("
                      + std::to_string(n) + ")";
  }
  auto max = out.runtime.limiter.max_live;
  for (auto& key : order) {
    auto& u = by_client[key];
    if (u.channels <= max)
      continue;
    c.fail("tenants", "the tenants of OAuth client '" + key.substr(key.find('|') + 1)
                        + "' at " + key.substr(0, key.find('|')) + " need "
                        + std::to_string(u.channels) + " channels (" + u.who
                        + "; one per " + std::to_string(max_topics_per_channel)
                        + " topics), but runtime.max_live_channels is "
                        + std::to_string(max)
                        + " (the service allows 20 a client): fewer topics, "
                          "another OAuth client, or a higher max_live_channels");
  }
}

} // namespace

caf::expected<program_config> parse_config(const std::string& text,
                                           const env_lookup& env,
                                           const std::string& base_dir) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    // A syntax error, or a number too big for a double (out_of_range 406,
    // found by the fuzzer: it ended `validate-config` with terminate).
    // Where and what, but not nlohmann's "last read" excerpt: it is the
    // file's own text, and a secret written inline by mistake (refused
    // below, but only once the text parses) would reach stderr.
    std::string why = e.what();
    if (auto at = why.find("] "); why.rfind("[json.exception", 0) == 0 && at != std::string::npos)
      why.erase(0, at + 2);
    // "number overflow parsing '<the number>'": the number is the file's
    // text too.
    if (auto q = why.find(" '"); e.id == 406 && q != std::string::npos)
      why.erase(q);
    if (auto lr = why.find("; last read: '"); lr != std::string::npos) {
      auto expected = why.rfind("'; expected ");
      why.erase(lr, expected != std::string::npos && expected > lr
                      ? expected + 1 - lr
                      : std::string::npos);
    }
    return make_error(errc::bad_config, "the configuration is not valid JSON: " + why);
  }
  checker c{env, base_dir};
  program_config out;
  if (c.object(j, "", {"tenants", "runtime", "metrics", "audit_log",
                       "audit_rotate_bytes", "audit"})) {
    // The runtime first: allow_insecure changes which URLs are accepted.
    if (j.contains("runtime"))
      read_runtime(c, j["runtime"], out);
    if (!j.contains("tenants") || !j["tenants"].is_array() || j["tenants"].empty()) {
      c.fail("tenants", "expected a non-empty array of tenants");
    } else {
      std::set<std::string> ids;
      for (size_t i = 0; i < j["tenants"].size(); ++i)
        read_tenant(c, j["tenants"][i], "tenants[" + std::to_string(i) + "]",
                    ids, out);
    }
    check_channel_budget(c, out);
    read_metrics(c, j.contains("metrics") ? j["metrics"] : json::object(), out);
    if (c.string(j, "", "audit_log", out.audit_log))
      out.audit_log = c.path_of(out.audit_log);
    c.number(j, "", "audit_rotate_bytes", 0, int64_t{1} << 50,
             out.audit_rotate_bytes);
    if (j.contains("audit") && c.object(j["audit"], "audit", {"frame_excerpts"})) {
      bool excerpts = false;
      c.boolean(j["audit"], "audit", "frame_excerpts", excerpts);
      for (auto& t : out.tenants)
        t.session.frame_excerpts = excerpts;
    }
  }
  if (!c.problems.empty()) {
    std::string msg = "invalid configuration:";
    for (auto& p : c.problems)
      msg += "\n  " + p;
    return make_error(errc::bad_config, msg);
  }
  return out;
}

caf::expected<program_config> load_config(const std::string& path,
                                          const env_lookup& env) {
  std::ifstream in{path};
  if (!in)
    return make_error(errc::bad_config,
                      "cannot read the configuration file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto slash = path.rfind('/');
  return parse_config(ss.str(), env,
                      slash == std::string::npos ? "." : path.substr(0, slash));
}

caf::expected<program_config> config_from_env(const env_lookup& env,
                                              std::vector<std::string> topics) {
  std::vector<std::string> problems;
  auto need = [&](const char* name) {
    auto v = env(name);
    if (!v || v->empty())
      problems.push_back(std::string{name} + " is not set");
    return v.value_or("");
  };
  auto id = need("GENESYSCLOUD_OAUTHCLIENT_ID");
  auto secret = need("GENESYSCLOUD_OAUTHCLIENT_SECRET");
  auto region = need("GENESYSCLOUD_REGION");
  if (topics.empty())
    problems.push_back("no topics given");
  service_endpoints ep;
  if (!region.empty()) {
    if (auto env_name = environment_for_region(region))
      ep = *endpoints_for(*env_name);
    else
      problems.push_back(reason_of(env_name.error()));
  }
  if (!problems.empty()) {
    std::string msg = "cannot start from the environment:";
    for (auto& p : problems)
      msg += "\n  " + p;
    return make_error(errc::bad_config, msg);
  }
  program_config out;
  tenant_config t;
  t.id = "default";
  t.login_url = ep.login_url;
  t.api_url = ep.api_url;
  t.client_id = id;
  t.client_secret = secret;
  t.topics = std::move(topics);
  t.sinks.push_back(file_sink_spec("stdout", file_sink_settings{}));
  out.tenants.push_back(std::move(t));
  out.audit_log = "-";
  out.runtime.metrics_listen = out.metrics.listen;
  return out;
}

} // namespace gcstream
