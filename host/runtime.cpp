#include "host/runtime.hpp"

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "runtime/prometheus.hpp"

#include <stdexcept>

namespace gcstream {

using namespace std::chrono;

std::string limiter_key_of(const std::string& login_url,
                           const std::string& client_id) {
  auto host = login_url;
  if (auto p = host.find("://"); p != std::string::npos)
    host.erase(0, p + 3);
  if (auto p = host.find_first_of("/?#"); p != std::string::npos)
    host.erase(p);
  return host + "|" + client_id;
}

runtime::runtime(caf::actor_system& sys, runtime_settings settings)
  : sys_(sys),
    cfg_(std::move(settings)),
    http_(std::make_shared<http_client>(cfg_.http)),
    ws_(std::make_shared<ws_transport>(cfg_.ws)),
    limiter_(sys.spawn(connection_limiter, cfg_.limiter)) {
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

caf::expected<supervisor_actor> runtime::add_tenant(tenant_config c) {
  auto bad = [&](const std::string& what) {
    return make_error(errc::bad_config, "tenant " + c.id + ": " + what);
  };
  if (c.id.empty())
    return make_error(errc::bad_config, "a tenant needs an id");
  if (c.topics.empty())
    return bad("no topics");
  if (c.sinks.empty())
    return bad("no sinks");
  std::lock_guard<std::mutex> guard{mtx_};
  if (stopped_)
    return bad("the runtime is shut down");
  if (tenants_.count(c.id) != 0)
    return bad("a tenant with this id exists");
  c.token.tenant = c.id;
  c.token.login_url = c.login_url;
  c.token.client_id = c.client_id;
  c.token.client_secret = std::move(c.client_secret);
  c.session.tenant = c.id;
  c.session.api_url = c.api_url;
  c.session.topics = c.topics;
  c.supervisor.tenant = c.id;
  c.supervisor.limiter_key = limiter_key_of(c.login_url, c.client_id);
  c.orderer.tenant = c.id;
  tenant_entry t;
  t.inbox = std::make_shared<event_inbox>(c.inbox_max_events);
  t.keep = std::make_shared<orderer_keep>(c.orderer, std::move(c.sinks));
  t.keep->http = http_;
  if (!c.journal_path.empty()) {
    auto j = journal::open(c.journal_path);
    if (!j)
      return bad(reason_of(j.error()));
    t.keep->attach_journal(std::move(*j));
  }
  // The tenant's metrics actor observes all of its actors and forwards to
  // the process's audit log.
  t.metrics = sys_.spawn(metrics_actor_impl, c.id, t.inbox, cfg_.observer,
                         std::static_pointer_cast<http_transport>(http_),
                         cfg_.health_webhook);
  auto observer = caf::actor_cast<audit_actor>(t.metrics);
  t.token = sys_.spawn(token_actor_impl, c.token,
                       std::static_pointer_cast<http_transport>(http_), observer);
  auto deps = session_deps{t.token, http_, ws_, ingest_actor{}, t.inbox, {},
                           observer};
  auto session_cfg = c.session;
  session_factory make_session = [deps, session_cfg](supervisor_pointer self,
                                                     const channel_info& resume) {
    auto s = session_cfg;
    s.resume = resume;
    auto d = deps;
    d.ingest = caf::actor_cast<ingest_actor>(self->state.orderer);
    d.listener = self;
    return caf::actor_cast<caf::actor>(self->spawn(session_actor_impl, s, d));
  };
  t.supervisor = sys_.spawn(tenant_supervisor_with_orderer, c.supervisor, t.token,
                            limiter_, t.keep, make_session, observer);
  caf::anon_send(t.metrics, watch_atom::value, t.supervisor);
  // The token and metrics actors go with the supervisor (after its last
  // audit events: an exit message queues behind them).
  t.supervisor->attach_functor([tok = t.token, met = t.metrics](const caf::error&) {
    caf::anon_send_exit(tok, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(met, caf::exit_reason::user_shutdown);
  });
  auto out = t.supervisor;
  tenants_.emplace(c.id, std::move(t));
  return out;
}

std::optional<supervisor_actor> runtime::tenant(const std::string& id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = tenants_.find(id);
  if (it == tenants_.end())
    return std::nullopt;
  return it->second.supervisor;
}

std::vector<std::string> runtime::tenants() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<std::string> out;
  for (auto& kv : tenants_)
    out.push_back(kv.first);
  return out;
}

tenant_status runtime::status(const std::string& id, milliseconds timeout) {
  tenant_status out;
  out.tenant = id;
  auto sup = tenant(id);
  if (!sup)
    return out;
  caf::scoped_actor self{sys_};
  self->request(*sup, timeout, status_atom::value)
    .receive([&](const tenant_status& s) { out = s; }, [](caf::error&) {});
  return out;
}

orderer_stats runtime::stats(const std::string& id, milliseconds timeout) {
  orderer_stats out;
  out.tenant = id;
  auto sup = tenant(id);
  if (!sup)
    return out;
  caf::scoped_actor self{sys_};
  self->request(*sup, timeout, stats_atom::value)
    .receive([&](const orderer_stats& s) { out = s; }, [](caf::error&) {});
  return out;
}

void runtime::stop_tenants(std::vector<tenant_entry> entries,
                           milliseconds deadline) {
  if (entries.empty())
    return;
  caf::scoped_actor self{sys_};
  for (auto& t : entries) {
    self->monitor(t.supervisor);
    self->send(t.supervisor, stop_atom::value);
  }
  auto until = steady_clock::now() + deadline;
  size_t down = 0;
  bool timed_out = false;
  while (down < entries.size() && !timed_out) {
    auto left = duration_cast<milliseconds>(until - steady_clock::now());
    if (left.count() <= 0)
      break;
    self->receive([&](caf::down_msg&) { ++down; },
                  caf::after(left) >> [&] { timed_out = true; });
  }
  // Whatever did not stop in time is stopped now, without a drain.
  for (auto& t : entries)
    caf::anon_send_exit(t.supervisor, caf::exit_reason::kill);
}

bool runtime::remove_tenant(const std::string& id, milliseconds deadline) {
  tenant_entry t;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto it = tenants_.find(id);
    if (it == tenants_.end())
      return false;
    t = std::move(it->second);
    tenants_.erase(it);
  }
  auto sup = t.supervisor;
  caf::scoped_actor self{sys_};
  self->monitor(sup);
  self->send(sup, stop_atom::value);
  bool ended = false;
  self->receive([&](caf::down_msg&) { ended = true; },
                caf::after(deadline) >> [] {});
  if (!ended)
    caf::anon_send_exit(sup, caf::exit_reason::kill);
  return ended;
}

std::vector<tenant_metrics> runtime::metrics(milliseconds timeout) {
  std::vector<metrics_actor> actors;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& kv : tenants_)
      actors.push_back(kv.second.metrics);
  }
  std::vector<tenant_metrics> out;
  caf::scoped_actor self{sys_};
  for (auto& a : actors)
    self->request(a, timeout, metrics_atom::value)
      .receive([&](const tenant_metrics& m) { out.push_back(m); },
               [](caf::error&) {});
  return out;
}

health_report runtime::health() {
  health_report h;
  auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  for (auto& m : metrics()) {
    bool ok = m.state == "connected" || m.state == "starting"
              || (m.state == "reconnecting"
                  && now - m.state_since_ms < cfg_.health_budget.count());
    if (!ok) {
      h.ok = false;
      h.text += m.tenant + ": " + m.state + (m.reason.empty() ? "" : " (" + m.reason + ")")
                + " since " + std::to_string((now - m.state_since_ms) / 1000) + " s\n";
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

void runtime::shutdown(milliseconds deadline) {
  std::vector<tenant_entry> entries;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopped_)
      return;
    stopped_ = true;
    for (auto& kv : tenants_)
      entries.push_back(std::move(kv.second));
    tenants_.clear();
  }
  stop_tenants(std::move(entries), deadline);
  listener_.stop();
  caf::anon_send_exit(limiter_, caf::exit_reason::user_shutdown);
  ws_->stop();
  http_->stop();
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
  each("gcstream_connection_state",
       "1 for the tenant's current state (starting, connected, reconnecting, "
       "failed, stopped)",
       "gauge", [&](const tenant_metrics& m, label_list l) {
         for (auto s : {"starting", "connected", "reconnecting", "failed", "stopped"}) {
           auto ls = l;
           ls.emplace_back("state", s);
           x.sample(ls, m.state == s ? 1 : 0);
         }
       });
  each("gcstream_connects_total", "WebSockets opened", "counter",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.connects)); });
  each("gcstream_disconnects_total", "WebSockets closed, by close code", "counter",
       [&](const tenant_metrics& m, label_list l) {
         for (auto& [code, n] : m.disconnects) {
           auto ls = l;
           ls.emplace_back("code", code);
           x.sample(ls, double(n));
         }
       });
  each("gcstream_sessions_total", "Sessions started (restarts included)", "counter",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.sessions)); });
  each("gcstream_rollovers_total", "Make-before-break rollovers finished", "counter",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, double(m.rollovers)); });
  each("gcstream_reconnect_latency_seconds",
       "From losing a socket unasked to the next open socket", "histogram",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, m.reconnect_latency); });
  each("gcstream_gap_seconds", "Time with no open socket (the service has no replay)",
       "histogram",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, m.gap_length); });
  each("gcstream_gap_open_seconds", "Length of the gap in progress (0: none)", "gauge",
       [&](const tenant_metrics& m, label_list l) {
         x.sample(l, m.gap_since_ms == 0 ? 0 : now_s - double(m.gap_since_ms) / 1000.0);
       });
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
  each("gcstream_event_rate", "Events per second, smoothed", "gauge",
       [&](const tenant_metrics& m, label_list l) { x.sample(l, m.event_rate); });
  x.family("gcstream_http_requests_total", "HTTP requests of the process, by status",
           "counter");
  for (auto& [status, n] : http_->status_counts())
    x.sample({{"status", status == 0 ? "error" : std::to_string(status)}}, double(n));
  return x.render();
}

} // namespace gcstream
