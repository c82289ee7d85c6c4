#include "actors/metrics_actor.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/http_reply.hpp"
#include "runtime/hmac.hpp"

namespace gcstream {

using namespace std::chrono;

namespace {

int64_t clock_ms(metrics_pointer self) {
  return duration_cast<milliseconds>(self->clock().now().time_since_epoch()).count();
}

int64_t wall_ms() {
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string field(const audit_event& e, const char* name) {
  for (auto& [k, v] : e.fields)
    if (k == name)
      return v;
  return {};
}

void report(metrics_pointer self, std::string what,
            std::vector<std::pair<std::string, std::string>> fields) {
  auto& st = self->state;
  if (st.forward)
    self->send(st.forward, audit_event{st.m.tenant, std::move(what), std::move(fields)});
}

void post_hook(metrics_pointer self) {
  auto& st = self->state;
  if (st.hook_in_flight || st.hook_backing_off || st.hook_pending.empty()
      || !st.http)
    return;
  st.hook_body = std::move(st.hook_pending);
  st.hook_pending.clear();
  http_request req;
  req.method = "POST";
  req.url = st.hook.url;
  req.headers.emplace_back("Content-Type", "application/json");
  if (!st.hook.signing_key.empty())
    req.headers.emplace_back("X-Gcstream-Signature",
                             "sha256=" + hmac_sha256_hex(st.hook.signing_key,
                                                         st.hook_body));
  req.body = st.hook_body;
  st.hook_in_flight = true;
  st.hook_last_sent = clock_ms(self);
  st.http->submit(std::move(req),
                  http_reply_to<metrics_actor>(self, ++st.hook_request));
}

// Queues the newest snapshot for the webhook (replacing one that waits).
void snapshot(metrics_pointer self) {
  auto& st = self->state;
  if (st.hook.url.empty())
    return;
  st.hook_pending = health_snapshot_json(st.m, wall_ms());
  post_hook(self);
}

void set_state(metrics_pointer self, std::string state, std::string reason) {
  auto& m = self->state.m;
  if (m.state == state && m.reason == reason)
    return;
  m.state = std::move(state);
  m.reason = std::move(reason);
  m.state_since_ms = wall_ms();
  snapshot(self);
}

void open_gap(metrics_pointer self) {
  auto& st = self->state;
  if (st.in_gap)
    return;
  st.in_gap = true;
  st.gap_start = clock_ms(self);
  st.gap_start_wall = wall_ms();
  st.m.gap_since_ms = st.gap_start_wall;
}

void close_gap(metrics_pointer self) {
  auto& st = self->state;
  auto now = clock_ms(self);
  if (st.lost_socket_at >= 0) {
    st.m.last_reconnect_s = double(now - st.lost_socket_at) / 1000.0;
    st.m.reconnect_latency.observe(st.m.last_reconnect_s);
    st.lost_socket_at = -1;
  }
  if (!st.in_gap)
    return;
  auto len_ms = now - st.gap_start;
  auto len_s = double(len_ms) / 1000.0;
  auto missed = st.m.event_rate * len_s;
  st.m.gap_length.observe(len_s);
  st.m.last_gap_s = len_s;
  st.m.estimated_missed += missed;
  report(self, "gap_closed",
         {{"start_ms", std::to_string(st.gap_start_wall)},
          {"end_ms", std::to_string(st.gap_start_wall + len_ms)},
          {"length_ms", std::to_string(len_ms)},
          {"estimated_missed", std::to_string(static_cast<int64_t>(missed + 0.5))}});
  st.in_gap = false;
  st.m.gap_since_ms = 0;
}

void on_audit(metrics_pointer self, const audit_event& e) {
  auto& st = self->state;
  auto& m = st.m;
  const auto& what = e.event;
  if (what == "connected") {
    ++m.connects;
    ++st.open_sockets;
    close_gap(self);
  } else if (what == "disconnected") {
    auto code = field(e, "code");
    ++m.disconnects[code.empty() ? "unknown" : code];
    if (field(e, "local_code") == "1009") // we closed it: a frame too big
      ++m.oversized_frames;
    if (st.open_sockets > 0)
      --st.open_sockets;
    if (field(e, "requested") != "true" && st.lost_socket_at < 0)
      st.lost_socket_at = clock_ms(self);
    if (st.open_sockets == 0)
      open_gap(self);
  } else if (what == "session_started") {
    ++m.sessions;
    // The previous session's sockets are going; a restart after having been
    // connected is a gap until the next socket opens.
    st.open_sockets = 0;
    if (m.connects > 0)
      open_gap(self);
  } else if (what == "rollover_finished") {
    ++m.rollovers;
  } else if (what == "subscribed") {
    auto n = field(e, "rejected");
    m.topics_rejected = n.empty() ? 0 : std::stoull(n);
  } else if (what == "malformed_frame") {
    ++m.malformed;
  } else if (what == "token_refreshed") {
    auto s = field(e, "expires_in_s");
    if (!s.empty())
      m.token_expires_ms = wall_ms() + std::stoll(s) * 1000;
  } else if (what == "tenant_connected") {
    set_state(self, "connected", "");
  } else if (what == "backoff_scheduled") {
    set_state(self, "reconnecting", field(e, "reason"));
  } else if (what == "tenant_failed") {
    set_state(self, "failed", field(e, "reason"));
  } else if (what == "tenant_stopped") {
    set_state(self, "stopped", "");
  }
}

void poll(metrics_pointer self) {
  auto& st = self->state;
  if (st.inbox) {
    st.m.inbox_buffered = st.inbox->buffered_events();
    st.m.inbox_dropped = st.inbox->dropped_events();
    st.m.last_frame_ms = st.inbox->last_frame_ms();
  }
  if (!st.supervisor)
    return;
  self->request(st.supervisor, seconds{2}, stats_atom::value)
    .then(
      [=](const orderer_stats& os) {
        auto& st = self->state;
        auto now = clock_ms(self);
        if (st.last_tick != 0 && now > st.last_tick
            && os.received >= st.last_received) {
          auto rate = double(os.received - st.last_received) * 1000.0
                      / double(now - st.last_tick);
          // A smoothed rate: a gap's estimate uses the rate before it.
          if (!st.in_gap)
            st.m.event_rate = st.m.event_rate == 0 ? rate
                                                   : 0.7 * st.m.event_rate + 0.3 * rate;
        }
        st.last_tick = now;
        st.last_received = os.received;
        st.m.orderer = os;
      },
      [](caf::error&) {});
}

} // namespace

std::string health_snapshot_json(const tenant_metrics& m, int64_t now_ms) {
  uint64_t delivered = 0, dropped = 0, unacked = 0;
  for (auto& s : m.orderer.sinks) {
    delivered += s.delivered;
    dropped += s.dropped;
    unacked += s.unacked_batches;
  }
  auto& lat = m.orderer.event_latency;
  nlohmann::json j = {
    {"tenant", m.tenant},
    {"state", m.state},
    {"reason", m.reason},
    {"since_ms", m.state_since_ms},
    {"reconnect_latency_ms", static_cast<int64_t>(m.last_reconnect_s * 1000)},
    {"gap_ms", static_cast<int64_t>(m.last_gap_s * 1000)},
    {"event_latency_ms",
     lat.count == 0 ? 0 : static_cast<int64_t>(lat.sum / double(lat.count) * 1000)},
    {"counts",
     {{"connects", m.connects},
      {"sessions", m.sessions},
      {"received", m.orderer.received},
      {"delivered", delivered},
      {"duplicates", m.orderer.duplicates},
      {"late", m.orderer.late},
      {"malformed", m.malformed},
      {"dropped", dropped + m.inbox_dropped},
      {"unacked_batches", unacked},
      {"gaps", m.gap_length.count},
      {"estimated_missed", static_cast<uint64_t>(m.estimated_missed + 0.5)}}},
    {"timestamp_ms", now_ms}};
  return j.dump();
}

metrics_actor::behavior_type
metrics_actor_impl(metrics_pointer self, std::string tenant,
                   std::shared_ptr<event_inbox> inbox, audit_actor forward,
                   std::shared_ptr<http_transport> http,
                   health_webhook_settings hook) {
  auto& st = self->state;
  st.m.tenant = std::move(tenant);
  st.m.orderer.tenant = st.m.tenant;
  st.m.state_since_ms = wall_ms();
  st.inbox = std::move(inbox);
  st.forward = std::move(forward);
  st.http = std::move(http);
  st.hook = std::move(hook);
  self->send(self, tick_atom::value);
  return {
    [=](const audit_event& e) {
      on_audit(self, e);
      if (self->state.forward)
        self->send(self->state.forward, e);
    },
    [=](metrics_atom) -> caf::result<tenant_metrics> {
      // Fresh counters for a scrape: ask the orderer (through the
      // supervisor), answer with what is known if it does not answer.
      auto& st = self->state;
      if (st.inbox) {
        st.m.inbox_buffered = st.inbox->buffered_events();
        st.m.inbox_dropped = st.inbox->dropped_events();
        st.m.last_frame_ms = st.inbox->last_frame_ms();
      }
      if (!st.supervisor)
        return st.m;
      auto rp = self->make_response_promise<tenant_metrics>();
      self->request(st.supervisor, seconds{1}, stats_atom::value)
        .then(
          [=](const orderer_stats& os) mutable {
            self->state.m.orderer = os;
            rp.deliver(self->state.m);
          },
          [=](caf::error&) mutable { rp.deliver(self->state.m); });
      return rp;
    },
    [=](watch_atom, supervisor_actor sup) { self->state.supervisor = std::move(sup); },
    [=](tick_atom) {
      poll(self);
      auto& st = self->state;
      if (!st.hook.url.empty() && !st.hook_in_flight
          && clock_ms(self) - st.hook_last_sent >= st.hook.interval.count())
        snapshot(self);
      self->delayed_send(self, seconds{1}, tick_atom::value);
    },
    [=](http_done_atom, uint64_t id, const http_response& r) {
      auto& st = self->state;
      if (id != st.hook_request)
        return;
      st.hook_in_flight = false;
      if (r.status >= 200 && r.status < 300) {
        st.hook_attempt = 0;
        ++st.hook_sent;
        post_hook(self);
        return;
      }
      ++st.hook_failures;
      if (st.hook_pending.empty())
        st.hook_pending = std::move(st.hook_body); // retry it unless newer waits
      auto delay = std::max(full_jitter(st.hook.backoff, st.hook_attempt++, st.rng),
                            milliseconds{r.retry_after_ms});
      st.hook_backing_off = true;
      self->delayed_send(self, delay, retry_atom::value, st.hook_request);
    },
    [=](http_done_atom, uint64_t id, const caf::error&) {
      auto& st = self->state;
      if (id != st.hook_request)
        return;
      st.hook_in_flight = false;
      ++st.hook_failures;
      if (st.hook_pending.empty())
        st.hook_pending = std::move(st.hook_body);
      st.hook_backing_off = true;
      self->delayed_send(self, full_jitter(st.hook.backoff, st.hook_attempt++, st.rng),
                         retry_atom::value, st.hook_request);
    },
    [=](retry_atom, uint64_t id) {
      if (id != self->state.hook_request)
        return;
      self->state.hook_backing_off = false;
      post_hook(self);
    },
  };
}

} // namespace gcstream
