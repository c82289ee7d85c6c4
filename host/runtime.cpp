#include "host/runtime.hpp"

#include "host/online_check.hpp"

#include "actors/tenant_supervisor.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "host/health.hpp"
#include "messages/errors.hpp"
#include "runtime/prometheus.hpp"
#include "runtime/topics.hpp"

#include <stdexcept>

namespace gcstream {

using namespace std::chrono;

namespace {

// Stops `a` after what it was sent so far (a poke first: the audit
// consumers read what waits), and waits until it is gone.
void stop_and_wait(caf::actor_system& sys, const caf::actor& a,
                   milliseconds deadline = seconds(5)) {
  if (!a)
    return;
  caf::scoped_actor self{sys};
  self->monitor(a);
  self->send(a, poke_atom::value);
  self->send_exit(a, caf::exit_reason::user_shutdown);
  self->receive([](const caf::down_msg&) {}, caf::after(deadline) >> [] {});
}

// Hands what waits in `from` (a tenant's audit queue whose metrics actor is
// gone) to `to` (the process's), after the reader stopped.
void forward_rest(const audit_ref& from, const audit_ref& to) {
  if (!from || !to)
    return;
  for (auto run = from->peek(); !run.events.empty(); run = from->peek()) {
    for (auto& e : run.events)
      to->post(e);
    from->ack(run);
  }
}

// Starts the runtime's supervisor; when it dies while the runtime runs, a
// new one takes over (it keeps nothing a restart needs).
void spawn_root(caf::actor_system& sys, std::shared_ptr<process_core> pc,
                std::shared_ptr<std::atomic<bool>> stopping) {
  auto root = sys.spawn(runtime_supervisor, pc);
  root->attach_functor([&sys, pc, stopping](const caf::error& reason) {
    if (!stopping->load() && reason)
      spawn_root(sys, pc, stopping);
  });
  std::lock_guard<std::mutex> g{pc->mtx};
  pc->root = caf::actor_cast<caf::actor>(root);
}

} // namespace

runtime::runtime(caf::actor_system& sys, runtime_settings settings)
  : sys_(sys),
    cfg_(std::move(settings)),
    http_(std::make_shared<http_client>(cfg_.http)),
    ws_(std::make_shared<ws_transport>(cfg_.ws)),
    wheel_(cfg_.shared_timers ? std::make_shared<timer_wheel>() : nullptr),
    pc_(std::make_shared<process_core>()) {
  pc_->limiter_cfg = cfg_.limiter;
  if (cfg_.audit_log || cfg_.observer)
    pc_->audit = std::make_shared<audit_queue>();
  pc_->writer = cfg_.audit_log;
  pc_->observer = cfg_.observer;
  pc_->shared_restarts = cfg_.shared_restarts;
  pc_->supervisor_restarts = cfg_.supervisor_restarts;
  pc_->on_fatal = [this](const std::string& why) {
    {
      std::lock_guard<std::mutex> g{mtx_};
      if (!fatal_.empty())
        return;
      fatal_ = why;
    }
    if (cfg_.on_fatal)
      cfg_.on_fatal(why);
  };
  // The shared actors exist before any tenant asks for them; the runtime's
  // supervisor takes them over.
  pc_->limiter->set(sys_.spawn(connection_limiter, cfg_.limiter,
                               std::vector<limiter_hold>{}));
  if (pc_->audit)
    pc_->audit_log = caf::actor_cast<caf::actor>(
      sys_.spawn(audit_log, pc_->writer, pc_->audit, pc_->observer));
  spawn_root(sys_, pc_, stopping_);
  if (!cfg_.metrics_listen.empty()) {
    auto err = listener_.start(cfg_.metrics_listen, [this](const std::string& method,
                                                           const std::string& path) {
      http_listener::response r;
      if (method != "GET")
        return http_listener::response{405, r.content_type, "GET only\n"};
      if (path == "/metrics") {
        r.content_type = "text/plain; version=0.0.4; charset=utf-8";
        r.body = prometheus_text();
      } else if (path == "/healthz" || path == "/readyz") {
        auto h = path == "/healthz" ? health() : readiness();
        r.status = h.ok ? 200 : 503;
        r.body = h.ok ? "ok\n" : h.text;
      } else {
        r.status = 404;
        r.body = "not found: try /metrics, /healthz or /readyz\n";
      }
      return r;
    });
    if (err)
      throw std::runtime_error(reason_of(err));
  }
}

runtime::~runtime() {
  shutdown();
}

namespace {

// What over_budget says, with pc.mtx held by the caller.
std::string budget_problem(const process_core& pc, const std::string& key,
                           const std::string& id, size_t need, size_t topics) {
  size_t taken = 0;
  std::string others;
  for (auto& [other, core] : pc.tenants) {
    if (other == id || core->cfg.limiter_key != key || core->done())
      continue;
    auto n = std::max<size_t>(1, channels_in_use(core->lane_topics()));
    taken += n;
    others += (others.empty() ? "" : ", ") + other + " (" + std::to_string(n) + ")";
  }
  auto max = pc.limiter_cfg.max_live;
  if (taken + need <= max)
    return {};
  return channel_budget_text(need, topics, taken, others, max);
}

} // namespace

caf::expected<supervisor_actor> runtime::add_tenant(tenant_config c) {
  auto bad = [&](const std::string& what) {
    return make_error(errc::bad_config, "tenant " + c.id + ": " + what);
  };
  if (c.id.empty())
    return make_error(errc::bad_config, "a tenant needs an id");
  if (c.topics.empty())
    return bad("no topics");
  if (auto problems = topic_list_problems(c.topics); !problems.empty()) {
    std::string all;
    for (auto& p : problems)
      all += (all.empty() ? "" : "; ") + p;
    return bad(all);
  }
  if (c.sinks.empty())
    return bad("no sinks");
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopped_)
      return bad("the runtime is shut down");
  }
  if (pc_->tenant(c.id))
    return bad("a tenant with this id exists");
  // One channel per 1,000 topics, from the OAuth client's budget of live
  // channels, which every tenant on that client shares.
  auto channels = tenant_channels(c.topics, c.combine_topics);
  auto key = limiter_key_of(c.login_url, c.client_id);
  if (auto why = over_budget(key, c.id, channels.size(), topics_weight(c.topics));
      !why.empty())
    return bad(why);
  c.token.tenant = c.id;
  c.token.login_url = c.login_url;
  c.token.client_id = c.client_id;
  c.token.client_secret = std::move(c.client_secret);
  c.session.tenant = c.id;
  c.session.api_url = c.api_url;
  c.session.topics = channels.front();
  c.session.lanes = static_cast<uint32_t>(channels.size());
  c.supervisor.tenant = c.id;
  c.supervisor.limiter_key = key;
  c.orderer.tenant = c.id;
  auto core = std::make_shared<tenant_core>(c.id);
  core->cfg = c.supervisor;
  core->audit = std::make_shared<audit_queue>();
  core->budget = std::make_shared<event_budget>(c.max_buffered_events, c.overflow);
  core->inbox = std::make_shared<event_inbox>(c.max_buffered_events, 1024, core->budget);
  core->orderer = std::make_shared<orderer_keep>(c.orderer, std::move(c.sinks));
  core->orderer->http = http_;
  core->orderer->budget = core->budget;
  if (!c.journal_path.empty()) {
    auto j = journal::open(c.journal_path);
    if (!j)
      return bad(reason_of(j.error()));
    core->orderer->attach_journal(std::move(*j));
  }
  core->token = std::make_shared<token_keep>();
  core->metrics = std::make_shared<metrics_keep>(c.id);
  core->limiter = pc_->limiter;
  core->permits = std::make_shared<channel_permits>(c.id, c.supervisor.limiter_key,
                                                    pc_->limiter);
  core->sockets = std::make_shared<tenant_sockets>(
    ws_, [permits = core->permits](const std::string& p) { permits->release(p); });
  // One lane per channel: each its own inbox (a session owns one) and its
  // own sockets left behind (a session closes only its channel's), all
  // under the one budget. Lanes are added when the topics grow.
  core->combine_topics = c.combine_topics;
  core->make_lane = [ws = ws_, max = c.max_buffered_events, budget = core->budget,
                     permits = core->permits] {
    channel_lane lane;
    lane.inbox = std::make_shared<event_inbox>(max, 1024, budget);
    lane.sockets = std::make_shared<tenant_sockets>(
      ws, [permits](const std::string& p) { permits->release(p); });
    return lane;
  };
  for (size_t i = 0; i < channels.size(); ++i) {
    channel_lane lane = i == 0 ? channel_lane{{}, core->inbox, core->sockets}
                               : core->make_lane();
    lane.topics = channels[i];
    core->lanes.push_back(std::move(lane));
  }
  core->heartbeat_timeout_ms = c.session.heartbeat_timeout.count();
  core->on_failed = cfg_.on_tenant_failed;
  // Reading stops and starts again with the budget; both are audited.
  auto ws = ws_;
  core->budget->on_resume([ws](uint64_t conn) { ws->resume(conn); });
  core->budget->on_block([q = core->audit, id = c.id](bool blocked, int64_t ms) {
    if (blocked)
      audit(q, id, "reading_paused",
            {{"reason", "the tenant's buffer is full (overflow: block)"}});
    else
      audit(q, id, "reading_resumed", {{"paused_ms", std::to_string(ms)}});
  });
  auto http = std::static_pointer_cast<http_transport>(http_);
  core->make_token = [tc = c.token, http, core_w = std::weak_ptr<tenant_core>(core)](
                       caf::actor_system& sys) -> token_actor {
    auto core = core_w.lock();
    if (!core)
      return {};
    return sys.spawn(token_actor_impl, tc, http, core->audit, core->token);
  };
  if (c.check_topics) {
    core->check_topics = [http, url = c.api_url,
                          topics = c.topics](const std::string& token, auto done) {
      http->submit(topic_list_request(url, token), [topics, done](
                                                     caf::expected<http_response> r) {
        std::string unchecked;
        auto families = topic_list_of(r, unchecked);
        std::vector<std::string> refused;
        if (unchecked.empty())
          for (auto& t : topics)
            if (auto p = topic_family_problem(t, families); !p.empty())
              refused.push_back(std::move(p));
        done(std::move(refused), std::move(unchecked));
      });
    };
  }
  session_deps deps{token_actor{}, http, ws_, ingest_actor{}, core->inbox, {},
                    core->audit, core->budget, core->sockets, core->permits, wheel_};
  core->make_session = [deps, scfg = c.session](caf::actor_system& sys,
                                                 const session_start& s) {
    auto cfg = scfg;
    cfg.lane = s.lane;
    cfg.lanes = s.lanes;
    if (!s.topics.empty())
      cfg.topics = s.topics;
    cfg.resume = s.resume;
    cfg.drain_only = s.drain_only;
    cfg.permit = s.permit;
    auto d = deps;
    d.token = s.token;
    d.ingest = s.ingest;
    d.listener = s.listener;
    if (s.inbox)
      d.inbox = s.inbox;
    if (s.sockets)
      d.sockets = s.sockets;
    return caf::actor_cast<caf::actor>(sys.spawn(session_actor_impl, cfg, d));
  };
  metrics_deps md;
  md.queue = core->audit;
  md.forward = pc_->audit;
  md.inbox = core->inbox;
  md.budget = core->budget;
  md.http = http;
  core->metrics->inbox = core->inbox;
  core->metrics->all_inboxes = [core_w = std::weak_ptr<tenant_core>(core)] {
    auto core = core_w.lock();
    return core ? core->inboxes() : std::vector<std::shared_ptr<event_inbox>>{};
  };
  core->metrics->m.channels = static_cast<uint32_t>(channels.size());
  core->metrics->m.topics = topics_weight(c.topics);
  core->metrics->budget = core->budget;
  core->metrics->board = core->orderer->board;
  core->make_metrics = [md, hook = cfg_.health_webhook,
                        keep = core->metrics](caf::actor_system& sys) {
    return caf::actor_cast<caf::actor>(sys.spawn(metrics_actor_impl, keep, md, hook));
  };
  // The core becomes visible (to the runtime's supervisor) with its
  // supervisor set, never without: it would start one of its own.
  supervisor_actor sup;
  caf::actor root;
  {
    std::lock_guard<std::mutex> g{pc_->mtx};
    if (pc_->tenants.count(c.id) != 0)
      return bad("a tenant with this id exists");
    // Again where the tenant is inserted: two add_tenant calls on one OAuth
    // client at once both passed the check above (nothing is started yet).
    if (auto why = budget_problem(*pc_, key, c.id, channels.size(), topics_weight(c.topics));
        !why.empty())
      return bad(why);
    sup = sys_.spawn(tenant_supervisor, core);
    core->set_supervisor(caf::actor_cast<caf::actor>(sup));
    pc_->tenants.emplace(c.id, core);
    root = pc_->root;
  }
  caf::anon_send(caf::actor_cast<runtime_supervisor_actor>(root), watch_atom::value,
                 c.id);
  return sup;
}


std::string runtime::over_budget(const std::string& key, const std::string& id,
                                 size_t need, size_t topics) const {
  std::lock_guard<std::mutex> g{pc_->mtx};
  return budget_problem(*pc_, key, id, need, topics);
}

caf::error runtime::set_topics(const std::string& id, std::vector<std::string> topics) {
  auto bad = [&](const std::string& what) {
    return make_error(errc::bad_config, "tenant " + id + ": " + what);
  };
  auto core = pc_->tenant(id);
  if (!core)
    return bad("no such tenant");
  if (topics.empty())
    return bad("no topics (remove the tenant instead)");
  if (auto problems = topic_list_problems(topics); !problems.empty()) {
    std::string all;
    for (auto& p : problems)
      all += (all.empty() ? "" : "; ") + p;
    return bad(all);
  }
  auto wanted = core->combine_topics ? combine_topics(topics) : topics;
  auto next = reassign_topics(core->lane_topics(), wanted);
  if (auto why = over_budget(core->cfg.limiter_key, id, channels_in_use(next),
                             topics_weight(topics));
      !why.empty())
    return bad(why);
  auto sup = core->handles().supervisor;
  if (!sup || core->done())
    return bad("the tenant has stopped");
  caf::anon_send(caf::actor_cast<supervisor_actor>(sup), topics_atom::value,
                 std::move(topics));
  return {};
}

void runtime::audit_event(std::string event,
                          std::vector<std::pair<std::string, std::string>> fields) {
  audit(pc_->audit, "", std::move(event), std::move(fields));
}

std::optional<supervisor_actor> runtime::tenant(const std::string& id) const {
  auto core = pc_->tenant(id);
  if (!core)
    return std::nullopt;
  return caf::actor_cast<supervisor_actor>(core->handles().supervisor);
}

caf::expected<tenant_actors> runtime::actors(const std::string& id) const {
  auto core = pc_->tenant(id);
  if (!core)
    return make_error(errc::bad_config, "no tenant " + id);
  auto h = core->handles();
  tenant_actors out;
  out.token = h.token;
  out.supervisor = h.supervisor;
  out.session = h.session;
  out.sessions = h.sessions;
  out.orderer = h.orderer;
  out.metrics = h.metrics;
  out.limiter = caf::actor_cast<caf::actor>(pc_->limiter->get());
  {
    std::lock_guard<std::mutex> g{pc_->mtx};
    out.audit = pc_->audit_log;
  }
  if (core->orderer)
    out.sinks = core->orderer->sink_handles();
  return out;
}

caf::actor actor_of(const tenant_actors& a, const std::string& kind) {
  if (kind == "token")
    return a.token;
  if (kind == "supervisor")
    return a.supervisor;
  if (kind == "session")
    return a.session;
  if (kind == "orderer")
    return a.orderer;
  if (kind == "metrics")
    return a.metrics;
  if (kind == "limiter")
    return a.limiter;
  if (kind == "audit")
    return a.audit;
  if (kind == "sink" && !a.sinks.empty())
    return a.sinks.front();
  return {};
}

std::vector<std::string> runtime::tenants() const {
  std::lock_guard<std::mutex> guard{pc_->mtx};
  std::vector<std::string> out;
  for (auto& kv : pc_->tenants)
    out.push_back(kv.first);
  return out;
}

tenant_status runtime::status(const std::string& id) const {
  auto core = pc_->tenant(id);
  if (!core) {
    tenant_status out;
    out.tenant = id;
    return out;
  }
  return core->status();
}

orderer_stats runtime::stats(const std::string& id, milliseconds timeout) {
  orderer_stats out;
  out.tenant = id;
  auto core = pc_->tenant(id);
  if (!core)
    return out;
  auto orderer = caf::actor_cast<orderer_actor>(core->handles().orderer);
  if (!orderer)
    return out;
  caf::scoped_actor self{sys_};
  self->request(orderer, timeout, stats_atom::value)
    .receive([&](const orderer_stats& s) { out = s; }, [](caf::error&) {});
  return out;
}

stop_report runtime::stop_tenants(std::vector<std::shared_ptr<tenant_core>> cores,
                                  milliseconds deadline) {
  stop_report out;
  for (auto& core : cores)
    if (auto sup = core->handles().supervisor)
      caf::anon_send(caf::actor_cast<supervisor_actor>(sup), stop_atom::value);
  auto until = steady_clock::now() + deadline;
  for (auto& core : cores) {
    auto left = duration_cast<milliseconds>(until - steady_clock::now());
    if (!core->wait_done(std::max(left, milliseconds{0}))) {
      // Not in time: stopped now, without a drain (its supervisor may be
      // stuck); what it held is counted as undelivered.
      out.not_stopped.push_back(core->id);
      uint64_t held = 0;
      for (auto& in : core->inboxes())
        held += in->buffered_events();
      abandon_tenant(sys_, *core, "did not stop within "
                                    + std::to_string(deadline.count()) + " ms",
                     false);
      auto st = core->status();
      st.undelivered = held;
      core->publish(st, tenant_handles{});
    }
    auto st = core->status();
    out.undelivered += st.undelivered;
    if (st.state == "failed")
      out.failed.push_back(core->id);
    if (auto lim = pc_->limiter->get())
      caf::anon_send(lim, forget_atom::value, core->id + "/");
  }
  return out;
}

bool runtime::remove_tenant(const std::string& id, milliseconds deadline) {
  auto core = pc_->tenant(id);
  if (!core)
    return false;
  auto report = stop_tenants({core}, deadline);
  {
    std::lock_guard<std::mutex> g{pc_->mtx};
    pc_->tenants.erase(id);
  }
  stop_and_wait(sys_, core->handles().metrics);
  forward_rest(core->audit, pc_->audit);
  return report.not_stopped.empty();
}

std::vector<tenant_metrics> runtime::metrics(milliseconds) const {
  std::vector<std::shared_ptr<tenant_core>> cores;
  {
    std::lock_guard<std::mutex> g{pc_->mtx};
    for (auto& kv : pc_->tenants)
      cores.push_back(kv.second);
  }
  std::vector<tenant_metrics> out;
  for (auto& core : cores) {
    auto m = core->metrics ? core->metrics->snapshot() : tenant_metrics{};
    m.tenant = core->id;
    // The supervisor's status is the truth about the state, and the inbox
    // about the last frame (the snapshot is up to a second old).
    auto st = core->status();
    m.state = st.state;
    m.reason = st.reason;
    m.state_since_ms = st.since_ms;
    for (auto& in : core->inboxes())
      m.last_frame_ms = std::max(m.last_frame_ms, in->last_frame_ms());
    m.heartbeat_timeout_ms = core->heartbeat_timeout_ms;
    out.push_back(std::move(m));
  }
  return out;
}

std::string runtime::fatal_error() const {
  std::lock_guard<std::mutex> g{mtx_};
  return fatal_;
}

health_report runtime::health() {
  health_report h;
  if (auto f = fatal_error(); !f.empty()) {
    h.ok = false;
    h.text += "process: " + f + "\n";
  }
  auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  for (auto& m : metrics()) {
    auto t = judge_health(m, now, cfg_.health_budget.count());
    if (!t.ok) {
      h.ok = false;
      h.text += t.text;
    }
  }
  return h;
}

health_report runtime::readiness() {
  health_report h;
  auto all = metrics();
  if (all.empty()) {
    h.ok = false;
    h.text = "no tenants\n";
  }
  for (auto& m : all)
    if (m.state != "connected") {
      h.ok = false;
      h.text += m.tenant + ": " + m.state + "\n";
    }
  return h;
}

stop_report runtime::shutdown(milliseconds deadline) {
  std::vector<std::shared_ptr<tenant_core>> cores;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopped_)
      return {};
    stopped_ = true;
  }
  {
    std::lock_guard<std::mutex> g{pc_->mtx};
    for (auto& kv : pc_->tenants)
      cores.push_back(kv.second);
  }
  auto report = stop_tenants(cores, deadline);
  // The metrics actors read the tenants' last audit events and hand them to
  // the audit log, which then writes what waits.
  for (auto& core : cores) {
    stop_and_wait(sys_, core->handles().metrics);
    forward_rest(core->audit, pc_->audit);
  }
  listener_.stop();
  stopping_->store(true);
  caf::actor root, audit_log;
  {
    std::lock_guard<std::mutex> g{pc_->mtx};
    pc_->tenants.clear();
    root = pc_->root;
    audit_log = pc_->audit_log;
  }
  if (root)
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
  if (auto lim = pc_->limiter->get())
    caf::anon_send_exit(lim, caf::exit_reason::user_shutdown);
  stop_and_wait(sys_, audit_log);
  // If the audit log had died (its restart pending when the runtime's
  // supervisor stopped), what waits is written here: no actor writes any
  // more.
  if (pc_->audit) {
    if (auto lost = pc_->audit->take_lost(); lost > 0 && pc_->writer)
      pc_->writer->write("", "audit_gap",
                         {{"lost", std::to_string(lost)}, {"queue", "process"}},
                         wall_ms());
    for (auto run = pc_->audit->peek(); !run.events.empty(); run = pc_->audit->peek()) {
      for (auto& e : run.events) {
        if (pc_->writer)
          pc_->writer->write(e.tenant, e.event, e.fields, wall_ms());
        if (pc_->observer)
          caf::anon_send(pc_->observer, e);
      }
      pc_->audit->ack(run);
    }
  }
  ws_->stop();
  http_->stop();
  return report;
}

} // namespace gcstream

namespace gcstream {

std::string runtime::prometheus_text() {
  using std::chrono::system_clock;
  auto now_s = double(duration_cast<milliseconds>(system_clock::now().time_since_epoch())
                        .count())
               / 1000.0;
  auto all = metrics();
  exposition x;
  auto each = [&](const char* name, const char* help, const char* type, auto f) {
    x.family(name, help, type);
    for (auto& m : all)
      f(m, label_list{{"tenant", m.tenant}});
  };
  // A label's values from a fixed set, each at 0 until it happens (so that
  // rates and alerts have a series from the start), then any other counted.
  auto by_label = [&](const label_list& l, const char* label,
                      const std::vector<std::string>& fixed,
                      const std::map<std::string, uint64_t>& counts) {
    auto one = [&](const std::string& value, uint64_t n) {
      auto ls = l;
      ls.emplace_back(label, value);
      x.sample(ls, double(n));
    };
    for (auto& value : fixed) {
      auto it = counts.find(value);
      one(value, it == counts.end() ? 0 : it->second);
    }
    for (auto& [value, n] : counts)
      if (std::find(fixed.begin(), fixed.end(), value) == fixed.end())
        one(value, n);
  };
  each("gcstream_tenant_up",
       "1 while the tenant runs, 0 once it failed for good (it stays until "
       "removed) or stopped",
       "gauge", [&](const tenant_metrics& m, label_list l) {
         x.sample(l, m.state == "failed" || m.state == "stopped" ? 0 : 1);
       });
  auto now_ms = static_cast<int64_t>(now_s * 1000.0);
  each("gcstream_tenant_healthy", "1 when /healthz finds the tenant healthy", "gauge",
       [&](const tenant_metrics& m, label_list l) {
         x.sample(l, judge_health(m, now_ms, cfg_.health_budget.count()).ok ? 1 : 0);
       });
  each("gcstream_connection_state",
       "1 for the tenant's current state (starting, connected, reconnecting, "
       "stopping, failed, stopped)",
       "gauge", [&](const tenant_metrics& m, label_list l) {
         for (auto s : {"starting", "connected", "reconnecting", "stopping", "failed",
                        "stopped"}) {
           auto ls = l;
           ls.emplace_back("state", s);
           x.sample(ls, m.state == s ? 1 : 0);
         }
       });
  each("gcstream_connects_total", "WebSockets opened", "counter",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.connects)); });
  each("gcstream_disconnects_total",
       "WebSockets ended, by reason (connect_failed, oversized, heartbeat_timeout, "
       "rollover, client, server_closed, replaced, server_error, dropped)",
       "counter", [&](const tenant_metrics& m, label_list l) {
         by_label(l, "reason", disconnect_reasons(), m.disconnects);
       });
  each("gcstream_sessions_total", "Sessions started (restarts included)", "counter",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.sessions)); });
  each("gcstream_rollovers_total", "Make-before-break rollovers finished", "counter",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.rollovers)); });
  each("gcstream_reconnect_latency_seconds",
       "From losing the last open socket (for any reason) to the next open socket",
       "histogram",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, m.reconnect_latency); });
  each("gcstream_gap_seconds", "Time with no open socket (the service has no replay)",
       "histogram",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, m.gap_length); });
  each("gcstream_gap_open_seconds",
       "Length of the oldest gap in progress, of any of the tenant's channels (0: none)",
       "gauge",
       [&](const tenant_metrics& m, label_list l) {
         x.sample(l, m.gap_since_ms == 0 ? 0 : now_s - double(m.gap_since_ms) / 1000.0);
       });
  each("gcstream_channels", "Channels the tenant's topics are spread over (at most "
       "1,000 topics each)", "gauge",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.channels)); });
  each("gcstream_topics", "Topics the tenant subscribes (a combined topic counted as "
       "its parts)", "gauge",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.topics)); });
  each("gcstream_gap_open_topics", "Topics whose channel has no open socket now", "gauge",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.topics_in_gap)); });
  each("gcstream_gap_missed_events_estimate_total",
       "Events probably missed during gaps: recent event rate times gap length",
       "counter",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, m.estimated_missed); });
  each("gcstream_heartbeat_age_seconds", "Since the last frame of any kind", "gauge",
       [&](const tenant_metrics& m, label_list l) {
         x.sample(l, m.last_frame_ms == 0 ? 0 : now_s - double(m.last_frame_ms) / 1000.0);
       });
  each("gcstream_token_expiry_seconds", "Until the current access token expires",
       "gauge", [&](const tenant_metrics& m, label_list l) {
         x.sample(l, m.token_expires_ms == 0
                       ? 0
                       : double(m.token_expires_ms) / 1000.0 - now_s);
       });
  each("gcstream_topics_rejected", "Topics the service refused at the last subscription",
       "gauge", [&](const tenant_metrics& m, label_list l) {
         x.sample(l, double(m.topics_rejected));
       });
  each("gcstream_oversized_frames_total",
       "Frames over the maximum message size (each closed its socket with 1009)",
       "counter", [&](const tenant_metrics& m, label_list l) {
         x.sample(l, double(m.oversized_frames));
       });
  each("gcstream_events_received_total", "Events handed to the orderer", "counter",
       [&](const tenant_metrics& m, label_list l) {
         x.sample(l, double(m.orderer.received));
       });
  each("gcstream_events_duplicate_total", "Events dropped as duplicates", "counter",
       [&](const tenant_metrics& m, label_list l) {
         x.sample(l, double(m.orderer.duplicates));
       });
  each("gcstream_events_late_total",
       "Events older than one already released (delivered flagged, dropped or "
       "routed by policy)",
       "counter",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.orderer.late)); });
  each("gcstream_events_malformed_total", "Frames that could not be parsed", "counter",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.malformed)); });
  each("gcstream_service_replies_total",
       "Frames of the service that are no notification ({\"result\": ...}; a 404 "
       "moves the session to a new channel)",
       "counter",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.service_replies)); });
  each("gcstream_system_messages_ignored_total",
       "System messages about a channel other than the socket's own", "counter",
       [&](const tenant_metrics& m, label_list l) {
         x.sample(l, double(m.foreign_system_messages));
       });
  each("gcstream_events_buffered", "Events held: inbox, reorder buffer, sink queues",
       "gauge", [&](const tenant_metrics& m, label_list l) {
         double n = double(m.inbox_buffered + m.orderer.reordering);
         for (auto& s : m.orderer.sinks)
           n += double(s.waiting);
         x.sample(l, n);
       });
  each("gcstream_events_dropped_total",
       "Events dropped at a full buffer (inbox or a sink's queue)", "counter",
       [&](const tenant_metrics& m, label_list l) {
         auto ls = l;
         ls.emplace_back("buffer", "inbox");
         x.sample(ls, double(m.inbox_dropped));
         for (auto& s : m.orderer.sinks) {
           auto lk = l;
           lk.emplace_back("buffer", "sink:" + s.name);
           x.sample(lk, double(s.dropped));
         }
       });
  each("gcstream_events_delivered_total", "Events acknowledged by each sink", "counter",
       [&](const tenant_metrics& m, label_list l) {
         for (auto& s : m.orderer.sinks) {
           auto ls = l;
           ls.emplace_back("sink", s.name);
           x.sample(ls, double(s.delivered));
         }
       });
  each("gcstream_sink_unacked_batches", "Batches sent and not yet acknowledged",
       "gauge", [&](const tenant_metrics& m, label_list l) {
         for (auto& s : m.orderer.sinks) {
           auto ls = l;
           ls.emplace_back("sink", s.name);
           x.sample(ls, double(s.unacked_batches));
         }
       });
  each("gcstream_sink_restarts_total", "Sinks started again after dying", "counter",
       [&](const tenant_metrics& m, label_list l) {
         for (auto& s : m.orderer.sinks) {
           auto ls = l;
           ls.emplace_back("sink", s.name);
           x.sample(ls, double(s.restarts));
         }
       });
  each("gcstream_event_latency_seconds", "Arrival minus event time", "histogram",
       [&](const tenant_metrics& m, label_list l) {
         x.sample(l, m.orderer.event_latency);
       });
  each("gcstream_delivery_latency_seconds",
       "A sink's acknowledgement minus the frame's arrival", "histogram",
       [&](const tenant_metrics& m, label_list l) {
         x.sample(l, m.orderer.delivery_latency);
       });
  each("gcstream_event_rate", "Events per second over the last 10 s", "gauge",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, m.event_rate); });
  auto per_sink = [&](const char* name, const char* help, const char* type,
                      auto value) {
    each(name, help, type, [&](const tenant_metrics& m, label_list l) {
      for (auto& s : m.orderer.sinks) {
        auto ls = l;
        ls.emplace_back("sink", s.name);
        x.sample(ls, double(value(s)));
      }
    });
  };
  per_sink("gcstream_batches_refused_total",
           "Batches a sink refused (an error, or no answer within sink_timeout_ms)",
           "counter", [](const sink_stats& s) { return s.refused; });
  per_sink("gcstream_sink_refusing",
           "Refusals in a row of the batch a sink has now (0: none)", "gauge",
           [](const sink_stats& s) { return s.refusing; });
  per_sink("gcstream_events_dead_lettered_total",
           "Events given up on after max_refusals (or a final refusal): in the "
           "dead-letter file",
           "counter", [](const sink_stats& s) { return s.dead_lettered; });
  each("gcstream_token_failures_total",
       "Token requests that failed: retry (transport error or 5xx, tried again), "
       "throttled (429), fatal (credentials refused; the tenant fails)",
       "counter", [&](const tenant_metrics& m, label_list l) {
         static const std::vector<std::string> kinds{"retry", "throttled", "fatal"};
         by_label(l, "kind", kinds, m.token_failures);
       });
  each("gcstream_actor_restarts_total", "Actors started again after they died, by kind",
       "counter", [&](const tenant_metrics& m, label_list l) {
         by_label(l, "kind", actor_kinds(), m.restarts);
       });
  each("gcstream_events_held", "Events held against the tenant's buffer cap", "gauge",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.held)); });
  each("gcstream_events_held_cap", "The tenant's buffer cap (max_buffered_events)",
       "gauge",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.held_cap)); });
  each("gcstream_reading_paused", "1 while reading stops because the buffer is full",
       "gauge", [&](const tenant_metrics& m, label_list l) {
         x.sample(l, m.reading_paused ? 1 : 0);
       });
  each("gcstream_reading_paused_seconds_total",
       "Time reading was stopped because the buffer was full (overflow: block)",
       "counter",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, m.paused_s); });
  each("gcstream_journal_errors_total", "Journal writes that failed (retried)",
       "counter", [&](const tenant_metrics& m, label_list l) {
         x.sample(l, double(m.orderer.journal_errors));
       });
  each("gcstream_audit_events_lost_total",
       "Audit events lost at a full audit queue (each loss is an audit_gap line)",
       "counter",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.audit_lost)); });
  each("gcstream_events_undelivered_at_stop",
       "Events that did not reach every sink when the tenant stopped", "gauge",
       [&](const tenant_metrics& m, label_list l) {
         x.sample(l, double(m.undelivered_at_stop));
       });
  x.family("gcstream_http_requests_total", "HTTP requests of the process, by status",
           "counter");
  for (auto& [status, n] : http_->status_counts())
    x.sample({{"status", status == 0 ? "error" : std::to_string(status)}}, double(n));
  return x.render();
}

} // namespace gcstream
