// gcstream: the program. See `gcstream --help` and the README.
//
// Exit codes: 0 done (clean shutdown, everything drained; demo: nothing lost
// or duplicated), 1 demo found lost or duplicated events, 2 usage error, 3
// invalid configuration, 4 every tenant failed with a fatal error, 5 stopped
// with events that did not reach every sink (counted and audited), 6 a
// shared actor (connection limiter, audit log) died past its restart limit,
// 7 stopped by a signal while one or more tenants (not all) had failed,
// 130 a second signal cut the shutdown short. Where several apply: 6, then
// 4, then 5, then 7.

#include <algorithm>
#include <csignal>
#include <functional>
#include <fstream>
#include <map>
#include <sstream>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "host/config.hpp"
#include "host/online_check.hpp"
#include "host/oplog.hpp"
#include "host/demo.hpp"
#include "messages/add_types.hpp"
#include "messages/errors.hpp"
#include "runtime/topics.hpp"

namespace {

using namespace gcstream;

constexpr int exit_demo_failed = 1;
constexpr int exit_usage = 2;
constexpr int exit_config = 3;
constexpr int exit_all_failed = 4;
constexpr int exit_undelivered = 5;
constexpr int exit_process_failed = 6;
constexpr int exit_some_failed = 7;
constexpr int exit_second_signal = 130;

const char* usage =
  "usage:\n"
  "  gcstream run --config FILE          run the tenants of FILE until SIGINT\n"
  "                                      or SIGTERM (a second one: at once);\n"
  "                                      SIGHUP reloads FILE\n"
  "  gcstream run --topic TOPIC ...      one tenant from GENESYSCLOUD_OAUTHCLIENT_ID,\n"
  "                                      GENESYSCLOUD_OAUTHCLIENT_SECRET and\n"
  "                                      GENESYSCLOUD_REGION; events to stdout\n"
  "      run options: --log-format text|json (default text)\n"
  "                   --log-level debug|info|warn|error (default info; errors\n"
  "                   are always said): what gcstream says of itself on stderr\n"
  "  gcstream demo [--tenants N] [--duration-s N] [--faults] [--event-rate N]\n"
  "                [--audit-log FILE]    the pipeline against a built-in\n"
  "                                      emulator, with a summary at the end\n"
  "  gcstream validate-config FILE       check FILE; print every problem\n"
  "  gcstream validate-config --online FILE\n"
  "                                      also check each tenant's topics against\n"
  "                                      the service's list (a token is fetched;\n"
  "                                      nothing is subscribed)\n"
  "  gcstream --help | --version\n"
  "exit codes: 0 ok, 1 demo lost or duplicated events, 2 usage,\n"
  "  3 invalid configuration, 4 every tenant failed, 5 stopped with events\n"
  "  not delivered, 6 a shared actor failed past its restart limit,\n"
  "  7 stopped while some tenants had failed, 130 second signal\n";

[[noreturn]] void usage_error(const std::string& what) {
  std::cerr << "gcstream: " << what << "\n" << usage;
  std::exit(exit_usage);
}

int to_int(const std::string& flag, const std::string& v, int lo, int hi) {
  try {
    size_t used = 0;
    auto n = std::stoi(v, &used);
    if (used == v.size() && n >= lo && n <= hi)
      return n;
  } catch (...) {
  }
  usage_error(flag + ": expected an integer from " + std::to_string(lo) + " to "
              + std::to_string(hi) + ", got '" + v + "'");
}

struct system_config : caf::actor_system_config {
  system_config() {
    add_types(*this);
    io_driven_scheduler(*this);
    set("logger.console-verbosity", caf::atom("quiet"));
    set("logger.file-verbosity", caf::atom("quiet"));
  }
};

// SIGINT and SIGTERM are blocked in every thread and taken here.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

int cmd_validate(const std::string& path, bool online) {
  auto cfg = load_config(path, process_env());
  if (!cfg) {
    std::cerr << reason_of(cfg.error()) << "\n";
    return exit_config;
  }
  if (online) {
    // Each tenant's topics against the service's own list; nothing is
    // subscribed or made.
    auto r = check_topics_online(*cfg);
    if (!r.refused.empty()) {
      std::cerr << "topics the service would refuse:\n";
      for (auto& p : r.refused)
        std::cerr << "  " << p << "\n";
    }
    for (auto& u : r.unchecked)
      std::cerr << "could not check " << u << "\n";
    if (!r.refused.empty())
      return exit_config;
    if (!r.unchecked.empty())
      return exit_all_failed;
  }
  size_t channels = 0;
  for (auto& t : cfg->tenants)
    channels += tenant_channels(t.topics, t.combine_topics).size();
  std::cout << path << ": valid" << (online ? ", topics checked online" : "") << ", "
            << cfg->tenants.size() << " tenant" << (cfg->tenants.size() == 1 ? "" : "s")
            << " on " << channels << " channel" << (channels == 1 ? "" : "s") << "\n";
  return 0;
}

// File descriptors a tenant may hold at once: up to three sockets (its
// channel's, a rollover's new one, one left to the next session), its sinks'
// files, the dead-letter file, and the journal (SQLite's file, WAL and shared
// memory); plus what the process has anyway (stdio, listener, audit log,
// HTTP connections, Asio's and CAF's own).
constexpr size_t fds_per_tenant_base = 4;
constexpr size_t fds_process = 64;

size_t descriptors_needed(const program_config& cfg) {
  size_t n = fds_process;
  for (auto& t : cfg.tenants)
    n += fds_per_tenant_base + t.sinks.size() + (t.journal_path.empty() ? 0 : 3);
  return n;
}

// Raises the open-file limit to the hard limit, and says (false) when even
// that is too low for the tenants configured: before anything connects, not
// as a failed socket an hour later.
bool open_file_limit_ok(const program_config& cfg) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return true; // (nothing known: nothing to say)
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
      rl = raised;
  }
  auto need = descriptors_needed(cfg);
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
    return true;
  std::ostringstream msg;
  msg << "the open-file limit is " << rl.rlim_cur << " (hard limit "
      << rl.rlim_max << "), too low for the " << cfg.tenants.size() << " tenant"
      << (cfg.tenants.size() == 1 ? "" : "s") << " configured, which need about "
      << need << " (" << fds_process << " for the process, "
      << fds_per_tenant_base << " per tenant for its sockets and files, plus one "
      << "per sink and three per journal); raise it (ulimit -n, or LimitNOFILE= "
      << "in a systemd unit)";
  oplog::say(oplog::level::error, "open_file_limit", msg.str(),
             {{"limit", std::to_string(rl.rlim_cur)}, {"needed", std::to_string(need)}});
  return false;
}

// -- reloading on SIGHUP -------------------------------------------------------

// Each tenant's object in the file, by id, without its topics (those change
// live), and the rest of the file: what a reload compares.
struct file_view {
  std::map<std::string, nlohmann::json> tenants;
  nlohmann::json rest;
};

file_view view_of(const std::string& path) {
  file_view out;
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (!j.is_object())
    return out;
  if (j.contains("tenants") && j["tenants"].is_array())
    for (auto& t : j["tenants"])
      if (t.is_object() && t.contains("id") && t["id"].is_string()) {
        auto copy = t;
        copy.erase("topics");
        out.tenants[t["id"].get<std::string>()] = copy;
      }
  j.erase("tenants");
  out.rest = j;
  return out;
}

std::string joined(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out;
}

// The running tenants of `gcstream run` and how a new file changes them.
struct running_set {
  std::map<std::string, tenant_config> configs;
  file_view file;
};

// Applies the file at `path` to the running tenants by difference: tenants
// added, removed, restarted (credentials, URLs or any other setting
// changed), or given new topics (set_topics: their sockets stay). An
// invalid file is refused whole, every problem said, and nothing changes.
void reload(runtime& rt, const std::string& path, running_set& now,
            std::vector<std::string>& ids, const std::function<void(const std::string&)>& forget) {
  oplog::say(oplog::level::info, "config_reload", "SIGHUP: reloading " + path,
             {{"file", path}});
  auto next = load_config(path, process_env());
  if (!next) {
    oplog::say(oplog::level::error, "config_reload_refused",
               "reload refused, the running configuration is kept: "
                 + reason_of(next.error()),
               {{"file", path}});
    rt.audit_event("config_reload_refused", {{"file", path}, {"reason", reason_of(next.error())}});
    return;
  }
  auto view = view_of(path);
  std::vector<std::string> added, removed, restarted, retopiced, failures;
  size_t unchanged = 0;
  std::map<std::string, tenant_config> wanted;
  for (auto& t : next->tenants)
    wanted[t.id] = t;
  for (auto& [id, cfg] : now.configs)
    if (wanted.count(id) == 0)
      removed.push_back(id);
  for (auto& t : next->tenants) {
    auto it = now.configs.find(t.id);
    if (it == now.configs.end())
      added.push_back(t.id);
    else if (view.tenants[t.id] != now.file.tenants[t.id]
             || t.client_secret != it->second.client_secret)
      restarted.push_back(t.id);
    else if (t.topics != it->second.topics)
      retopiced.push_back(t.id);
    else
      ++unchanged;
  }
  for (auto* list : {&removed, &restarted})
    for (auto& id : *list) {
      rt.remove_tenant(id);
      forget(id);
    }
  for (auto& id : retopiced)
    if (auto err = rt.set_topics(id, wanted[id].topics))
      failures.push_back(reason_of(err));
  for (auto* list : {&added, &restarted})
    for (auto& id : *list)
      if (auto r = rt.add_tenant(wanted[id]); !r)
        failures.push_back(reason_of(r.error()));
  ids.clear();
  for (auto& t : next->tenants)
    ids.push_back(t.id);
  now.configs = std::move(wanted);
  bool rest_changed = view.rest != now.file.rest;
  now.file = std::move(view);
  oplog::say(oplog::level::info, "config_reloaded",
             "reloaded: " + std::to_string(added.size()) + " added, "
               + std::to_string(removed.size()) + " removed, "
               + std::to_string(restarted.size()) + " restarted, "
               + std::to_string(retopiced.size()) + " with new topics, "
               + std::to_string(unchanged) + " unchanged",
             {{"file", path}, {"added", joined(added)}, {"removed", joined(removed)},
              {"restarted", joined(restarted)}, {"topics_changed", joined(retopiced)}});
  for (auto& f : failures)
    oplog::say(oplog::level::error, "config_reload_failure", "reload: " + f);
  if (rest_changed)
    oplog::say(oplog::level::warn, "config_reload_deferred",
               "reload: the runtime, metrics and audit settings take effect "
               "at the next start");
  rt.audit_event("config_reloaded", {{"file", path},
                                     {"added", joined(added)},
                                     {"removed", joined(removed)},
                                     {"restarted", joined(restarted)},
                                     {"topics_changed", joined(retopiced)},
                                     {"unchanged", std::to_string(unchanged)},
                                     {"failures", std::to_string(failures.size())}});
}

// "<id>: <reason>" for each failed tenant, as the stop lines list them.
std::vector<std::string>
failure_lines(const std::vector<std::pair<std::string, std::string>>& failed) {
  std::vector<std::string> out;
  for (auto& [id, why] : failed)
    out.push_back(id + ": " + why);
  return out;
}

int cmd_run(program_config cfg, const std::string& path = {}) {
  if (!open_file_limit_ok(cfg))
    return exit_config;
  auto signals = stop_signals();
  // SIGUSR1 wakes the main thread when a tenant or the process fails (no
  // periodic polling: an idle process sleeps until something happens);
  // SIGHUP reloads the configuration.
  sigset_t wake = signals;
  sigaddset(&wake, SIGUSR1);
  sigaddset(&wake, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &wake, nullptr); // before any thread starts
  auto wake_main = [] { ::kill(::getpid(), SIGUSR1); };
  system_config scfg;
  caf::actor_system sys{scfg};
  if (!cfg.audit_log.empty()) {
    auto writer = std::make_shared<audit_writer>(cfg.audit_log, cfg.audit_rotate_bytes);
    if (!writer->ok()) {
      oplog::say(oplog::level::error, "audit_log_failed", writer->error());
      return exit_config;
    }
    cfg.runtime.audit_log = writer;
  }
  // A shared actor past its restart limit: the process fails, loudly.
  std::atomic<bool> fatal{false};
  cfg.runtime.on_fatal = [&fatal, wake_main](const std::string& why) {
    oplog::say(oplog::level::error, "process_failed", "fatal: " + why);
    fatal = true;
    wake_main();
  };
  // A tenant that fails says so at once; it stays visible (status, /healthz,
  // /metrics) and the others go on.
  std::mutex failed_mtx;
  std::vector<std::pair<std::string, std::string>> failed;
  cfg.runtime.on_tenant_failed = [&](const std::string& id, const std::string& reason) {
    // The reason may name the tenant already ("tenant acme: ...").
    auto why = reason;
    if (auto named = "tenant " + id + ": "; why.rfind(named, 0) == 0)
      why.erase(0, named.size());
    oplog::say(oplog::level::error, "tenant_failed",
               "tenant " + id + " failed: " + why, {{"tenant", id}, {"reason", why}});
    {
      std::lock_guard<std::mutex> g{failed_mtx};
      failed.emplace_back(id, why);
    }
    wake_main();
  };
  auto failed_now = [&] {
    std::lock_guard<std::mutex> g{failed_mtx};
    return failed;
  };
  int code = 0;
  std::unique_ptr<runtime> rtp;
  try {
    rtp = std::make_unique<runtime>(sys, cfg.runtime);
  } catch (const std::exception& e) {
    oplog::say(oplog::level::error, "start_failed", e.what());
    return exit_config;
  }
  {
    auto& rt = *rtp;
    if (rt.metrics_port() != 0)
      oplog::say(oplog::level::info, "listening",
                 "metrics on port " + std::to_string(rt.metrics_port())
                   + " (/metrics, /healthz, /readyz)",
                 {{"port", std::to_string(rt.metrics_port())}});
    std::vector<std::string> ids;
    running_set running;
    if (!path.empty())
      running.file = view_of(path);
    for (auto& t : cfg.tenants) {
      ids.push_back(t.id);
      running.configs[t.id] = t;
      oplog::say(oplog::level::debug, "tenant_added",
                 "tenant " + t.id + ": " + std::to_string(t.topics.size()) + " topic"
                   + (t.topics.size() == 1 ? "" : "s") + ", " + std::to_string(t.sinks.size())
                   + " sink" + (t.sinks.size() == 1 ? "" : "s"),
                 {{"tenant", t.id}});
      if (auto added = rt.add_tenant(std::move(t)); !added) {
        oplog::say(oplog::level::error, "config_invalid", reason_of(added.error()));
        rt.shutdown();
        return exit_config;
      }
    }
    oplog::say(oplog::level::info, "started",
               "running " + std::to_string(ids.size()) + " tenant"
                 + (ids.size() == 1 ? "" : "s") + "; SIGINT or SIGTERM stops"
                 + (path.empty() ? "" : ", SIGHUP reloads"),
               {{"tenants", std::to_string(ids.size())}});
    for (;;) {
      int sig = sigwaitinfo(&wake, nullptr);
      if (sig == SIGINT || sig == SIGTERM) {
        oplog::say(oplog::level::info, "stopping", "stopping (again to exit at once)",
                   {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
        break;
      }
      if (sig == SIGHUP) {
        if (path.empty()) {
          oplog::say(oplog::level::warn, "config_reload_refused",
                     "SIGHUP: no file to reload (started without --config)");
          continue;
        }
        reload(rt, path, running, ids, [&](const std::string& id) {
          std::lock_guard<std::mutex> g{failed_mtx};
          failed.erase(std::remove_if(failed.begin(), failed.end(),
                                      [&](auto& f) { return f.first == id; }),
                       failed.end());
        });
        continue;
      }
      if (fatal) {
        code = exit_process_failed;
        break;
      }
      // Every tenant failed for good: nothing left to run.
      if (auto f = failed_now(); f.size() >= ids.size()) {
        oplog::say(oplog::level::error, "all_tenants_failed", "every tenant failed:",
                   {{"failed", std::to_string(f.size())}}, failure_lines(f));
        code = exit_all_failed;
        break;
      }
    }
    // A second signal during the shutdown ends the process at once.
    std::thread([signals] {
      int sig = 0;
      sigwait(&signals, &sig);
      std::_Exit(exit_second_signal);
    }).detach();
    auto report = rt.shutdown();
    if (report.undelivered > 0 || !report.not_stopped.empty()) {
      std::ostringstream msg;
      msg << "stopped with " << report.undelivered << " event"
          << (report.undelivered == 1 ? "" : "s") << " not delivered to every sink";
      if (!report.not_stopped.empty())
        msg << " (" << report.not_stopped.size() << " tenant(s) did not stop in time)";
      msg << "; see drain_incomplete in the audit log";
      oplog::say(oplog::level::error, "drain_incomplete", msg.str(),
                 {{"undelivered", std::to_string(report.undelivered)}});
      if (code == 0)
        code = exit_undelivered;
    }
    // (Said whatever the exit code: 4 has said it already.)
    if (auto f = failed_now(); code != exit_all_failed && !f.empty()) {
      oplog::say(oplog::level::error, "stopped_with_failed_tenants",
                 "stopped; " + std::to_string(f.size()) + " of "
                   + std::to_string(ids.size()) + " tenants had failed:",
                 {{"failed", std::to_string(f.size())}}, failure_lines(f));
      if (code == 0)
        code = exit_some_failed;
    }
  }
  rtp.reset();
  oplog::say(oplog::level::info, "stopped", "stopped (exit " + std::to_string(code) + ")",
             {{"exit_code", std::to_string(code)}});
  return code;
}

int cmd_demo(const demo_options& opts) {
  system_config scfg;
  caf::actor_system sys{scfg};
  return run_demo(sys, opts, std::cout, ::isatty(STDOUT_FILENO) != 0);
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty())
    usage_error("a command is needed");
  const auto& cmd = args[0];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << usage;
    return 0;
  }
  if (cmd == "--version") {
    std::cout << "gcstream " << GCSTREAM_VERSION << "\n";
    return 0;
  }
  auto value = [&](size_t& i) -> std::string {
    if (i + 1 >= args.size())
      usage_error(args[i] + ": a value is needed");
    return args[++i];
  };
  if (cmd == "validate-config") {
    bool online = args.size() == 3 && args[1] == "--online";
    if ((args.size() != 2 && !online) || args.back().rfind("--", 0) == 0)
      usage_error("validate-config takes [--online] FILE");
    return cmd_validate(args.back(), online);
  }
  if (cmd == "run") {
    std::string config_path;
    std::vector<std::string> topics;
    auto log_format = oplog::format::text;
    auto log_level = oplog::level::info;
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--config")
        config_path = value(i);
      else if (args[i] == "--log-format") {
        auto v = value(i);
        auto f = oplog::parse_format(v);
        if (!f)
          usage_error("--log-format: expected text or json, not '" + v + "'");
        log_format = *f;
      } else if (args[i] == "--log-level") {
        auto v = value(i);
        auto l = oplog::parse_level(v);
        if (!l)
          usage_error("--log-level: expected debug, info, warn or error, not '" + v + "'");
        log_level = *l;
      }
      else if (args[i] == "--topic")
        topics.push_back(value(i));
      else
        usage_error("run: unknown option " + args[i]);
    }
    if (!config_path.empty() && !topics.empty())
      usage_error("run: give --config or --topic, not both");
    oplog::configure(log_format, log_level);
    auto cfg = !config_path.empty() ? load_config(config_path, process_env())
                                    : config_from_env(process_env(), topics);
    if (!cfg) {
      oplog::say(oplog::level::error, "config_invalid", reason_of(cfg.error()),
                 {{"file", config_path}});
      return exit_config;
    }
    return cmd_run(std::move(*cfg), config_path);
  }
  if (cmd == "demo") {
    demo_options opts;
    for (size_t i = 1; i < args.size(); ++i) {
      const std::string flag = args[i];
      if (flag == "--tenants")
        opts.tenants = to_int(flag, value(i), 1, 1000);
      else if (flag == "--duration-s")
        opts.duration_s = to_int(flag, value(i), 1, 86400);
      else if (flag == "--faults")
        opts.faults = true;
      else if (flag == "--event-rate")
        opts.event_rate = to_int(flag, value(i), 1, 100000);
      else if (flag == "--audit-log")
        opts.audit_log = value(i);
      else
        usage_error("demo: unknown option " + flag);
    }
    return cmd_demo(opts);
  }
  usage_error("unknown command '" + cmd + "'");
}
