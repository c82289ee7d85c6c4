#include "actors/metrics_actor.hpp"

#include <algorithm>
#include <set>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/http_reply.hpp"
#include "runtime/hmac.hpp"

namespace gcstream {

using namespace std::chrono;

metrics_keep::metrics_keep(std::string tenant) {
  m.tenant = std::move(tenant);
  m.orderer.tenant = m.tenant;
  m.state_since_ms = wall_ms();
  published_ = m;
}

void metrics_keep::publish() {
  std::lock_guard<std::mutex> g{mtx_};
  published_ = m;
}

tenant_metrics metrics_keep::snapshot() const {
  tenant_metrics out;
  {
    std::lock_guard<std::mutex> g{mtx_};
    out = published_;
  }
  read_live(out);
  return out;
}

void metrics_keep::read_live(tenant_metrics& x) const {
  if (all_inboxes) {
    x.inbox_buffered = 0;
    x.inbox_dropped = 0;
    for (auto& in : all_inboxes()) {
      x.inbox_buffered += in->buffered_events();
      x.inbox_dropped += in->dropped_events();
      x.last_frame_ms = std::max(x.last_frame_ms, in->last_frame_ms());
    }
  } else if (inbox) {
    x.inbox_buffered = inbox->buffered_events();
    x.inbox_dropped = inbox->dropped_events();
    x.last_frame_ms = inbox->last_frame_ms();
  }
  if (budget) {
    x.held = budget->held();
    x.held_cap = budget->cap();
    x.reading_paused = budget->blocked();
    x.paused_s = double(budget->blocked_ms()) / 1000.0;
  }
  if (board) {
    auto os = board->stats();
    if (os.incarnations > 0) { // published by an orderer
      os.tenant = x.tenant;
      x.orderer = std::move(os);
    }
    if (x.gap_since_ms == 0)
      x.event_rate = board->rate(wall_ms());
  }
}

namespace {

std::string field(const audit_event& e, const char* name) {
  for (auto& [k, v] : e.fields)
    if (k == name)
      return v;
  return {};
}

void report(metrics_pointer self, std::string what, audit_fields fields) {
  audit(self->state.deps.forward, self->state.keep->m.tenant, std::move(what),
        std::move(fields));
}

void post_hook(metrics_pointer self) {
  auto& st = self->state;
  auto& k = *st.keep;
  if (st.hook_in_flight || st.hook_backing_off || k.hook_pending.empty()
      || !st.deps.http)
    return;
  k.hook_body = std::move(k.hook_pending);
  k.hook_pending.clear();
  http_request req;
  req.method = "POST";
  req.url = st.hook.url;
  req.headers.emplace_back("Content-Type", "application/json");
  if (!st.hook.signing_key.empty())
    req.headers.emplace_back("X-Gcstream-Signature",
                             "sha256=" + hmac_sha256_hex(st.hook.signing_key,
                                                         k.hook_body));
  req.body = k.hook_body;
  st.hook_in_flight = true;
  k.hook_last_sent = now_ms(self);
  st.deps.http->submit(std::move(req),
                       http_reply_to<metrics_actor>(self, ++st.hook_request));
}

// Queues the newest snapshot for the webhook (replacing one that waits).
void snapshot(metrics_pointer self) {
  auto& st = self->state;
  if (st.hook.url.empty())
    return;
  st.keep->read_live(st.keep->m);
  st.keep->hook_pending = health_snapshot_json(st.keep->m, wall_ms());
  post_hook(self);
}

void set_state(metrics_pointer self, std::string state, std::string reason) {
  auto& m = self->state.keep->m;
  if (m.state == state && m.reason == reason)
    return;
  // A new reason in the same state keeps the time it began (the health
  // budget counts from there).
  if (m.state != state)
    m.state_since_ms = wall_ms();
  m.state = std::move(state);
  m.reason = std::move(reason);
  snapshot(self);
}

// When an audit event happened, on the actor's clock: its at_ms field (epoch
// ms, set where it happened) taken back from now, or now.
int64_t happened_at(metrics_pointer self, const audit_event& e) {
  auto now = now_ms(self);
  auto at = field(e, "at_ms");
  if (at.empty())
    return now;
  int64_t wall = 0;
  try {
    wall = std::stoll(at);
  } catch (...) {
    return now;
  }
  return now - std::max<int64_t>(0, wall_ms() - wall);
}

// The channel an audit event is about: its lane ("0" for a tenant of one
// channel, whose events have none).
std::string lane_of(const audit_event& e) {
  auto lane = field(e, "lane");
  return lane.empty() ? "0" : lane;
}

// The tenant's gap figures from its channels' (the oldest gap's start, the
// topics in a gap now).
void sum_gaps(metrics_keep& k) {
  k.m.gap_since_ms = 0;
  k.m.topics_in_gap = 0;
  for (auto& [name, g] : k.lanes) {
    if (!g.in_gap || k.closed_lanes.count(name) != 0)
      continue;
    if (k.m.gap_since_ms == 0 || g.gap_start_wall < k.m.gap_since_ms)
      k.m.gap_since_ms = g.gap_start_wall;
    k.m.topics_in_gap += g.topics != 0 ? g.topics : k.m.topics;
  }
}

// A channel's gap starts when its last open socket is lost, whatever
// closed it.
void open_gap(metrics_pointer self, metrics_keep::lane_gap& g, int64_t at) {
  auto& k = *self->state.keep;
  if (g.in_gap)
    return;
  bool first = k.m.gap_since_ms == 0;
  if (k.board && first) // the rate before the gap, for its estimate
    k.m.event_rate = k.board->rate(wall_ms());
  g.in_gap = true;
  g.gap_start = at;
  g.gap_start_wall = wall_ms() - (now_ms(self) - at);
  sum_gaps(k);
}

// A socket of the channel opened: its gap (if any) ends, and its length is
// the reconnect's latency. The estimate of what it cost is the recent event
// rate times its length, times the channel's share of the tenant's topics.
void close_gap(metrics_pointer self, const std::string& lane,
               metrics_keep::lane_gap& g, int64_t at) {
  auto& k = *self->state.keep;
  if (!g.in_gap)
    return;
  auto len_ms = std::max<int64_t>(0, at - g.gap_start);
  k.m.last_reconnect_s = double(len_ms) / 1000.0;
  k.m.reconnect_latency.observe(k.m.last_reconnect_s);
  auto len_s = double(len_ms) / 1000.0;
  double share = 1.0;
  if (k.m.channels > 1 && g.topics > 0 && k.m.topics > 0)
    share = std::min(1.0, double(g.topics) / double(k.m.topics));
  auto missed = k.m.event_rate * len_s * share;
  k.m.gap_length.observe(len_s);
  k.m.last_gap_s = len_s;
  k.m.estimated_missed += missed;
  audit_fields f{{"start_ms", std::to_string(g.gap_start_wall)},
                 {"end_ms", std::to_string(g.gap_start_wall + len_ms)},
                 {"length_ms", std::to_string(len_ms)},
                 {"estimated_missed", std::to_string(static_cast<int64_t>(missed + 0.5))}};
  if (k.m.channels > 1) {
    f.emplace_back("lane", lane);
    f.emplace_back("channel", g.lost_channel);
    f.emplace_back("topics", std::to_string(g.topics));
  }
  report(self, "gap_closed", std::move(f));
  g.in_gap = false;
  sum_gaps(k);
}

void on_audit(metrics_pointer self, const audit_event& e) {
  auto& st = *self->state.keep;
  auto& m = st.m;
  const auto& what = e.event;
  if (what == "connected") {
    ++m.connects;
    auto lane = lane_of(e);
    auto& g = st.lanes[lane];
    if (!field(e, "topics").empty())
      g.topics = std::strtoull(field(e, "topics").c_str(), nullptr, 10);
    ++g.open_sockets;
    g.ever_open = true;
    close_gap(self, lane, g, happened_at(self, e));
  } else if (what == "disconnected") {
    // Sockets are counted where they open and close (the transport's
    // thread), so a session's restart is no gap while a socket it left
    // streams on.
    const auto& known = disconnect_reasons();
    auto reason = field(e, "reason");
    ++m.disconnects[std::find(known.begin(), known.end(), reason) != known.end()
                      ? reason : "other"];
    if (reason == "oversized")
      ++m.oversized_frames;
    auto lane = lane_of(e);
    auto& g = st.lanes[lane];
    if (field(e, "was_open") != "false" && g.open_sockets > 0)
      --g.open_sockets;
    if (g.open_sockets == 0 && g.ever_open && st.closed_lanes.count(lane) == 0) {
      g.lost_channel = field(e, "channel");
      open_gap(self, g, happened_at(self, e));
    }
  } else if (what == "topics_changed" && !field(e, "channels").empty()) {
    // The tenant's (from its supervisor; a session's has no channels).
    m.channels = static_cast<uint32_t>(std::strtoul(field(e, "channels").c_str(), nullptr, 10));
    m.topics = std::strtoull(field(e, "topics").c_str(), nullptr, 10);
    auto closed = field(e, "lanes_closed");
    for (size_t at = 0; at < closed.size();) {
      auto comma = closed.find(',', at);
      auto lane = closed.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      st.closed_lanes.insert(lane);
      st.lanes[lane].in_gap = false;
      at = comma == std::string::npos ? closed.size() : comma + 1;
    }
    sum_gaps(st);
  } else if (what == "session_started") {
    ++m.sessions;
  } else if (what == "rollover_finished") {
    ++m.rollovers;
  } else if (what == "subscribed") {
    // Each channel's last subscription, summed.
    auto n = field(e, "rejected");
    st.rejected[field(e, "lane")] = n.empty() ? 0 : std::stoull(n);
    m.topics_rejected = 0;
    for (auto& [lane, r] : st.rejected)
      m.topics_rejected += r;
  } else if (what == "malformed_frame") {
    ++m.malformed;
  } else if (what == "service_reply") {
    ++m.service_replies;
  } else if (what == "system_message_ignored") {
    ++m.foreign_system_messages;
  } else if (what == "token_refreshed") {
    auto s = field(e, "expires_in_s");
    if (!s.empty())
      m.token_expires_ms = wall_ms() + std::stoll(s) * 1000;
  } else if (what == "token_retry") {
    // A 429 is counted by its token_throttled line; its retry is not a
    // second failure.
    if (field(e, "cause") != "throttled")
      ++m.token_failures["retry"];
  } else if (what == "token_throttled") {
    ++m.token_failures["throttled"];
  } else if (what == "token_failed") {
    ++m.token_failures["fatal"];
  } else if (what == "tenant_connected") {
    set_state(self, "connected", "");
  } else if (what == "backoff_scheduled") {
    set_state(self, "reconnecting", field(e, "reason"));
  } else if (what == "tenant_failed") {
    set_state(self, "failed", field(e, "reason"));
  } else if (what == "tenant_stopped") {
    auto n = field(e, "undelivered");
    m.undelivered_at_stop = n.empty() ? 0 : std::stoull(n);
    if (field(e, "failed") != "true") // a failed tenant stays failed
      set_state(self, "stopped", "");
  } else if (what == "actor_restarted") {
    ++m.restarts[field(e, "kind")];
  } else if (what == "journal_failed" && field(e, "operation") == "append") {
    m.problem = "the journal cannot store events: " + field(e, "error");
    snapshot(self);
  } else if (what == "journal_recovered") {
    m.problem.clear();
    snapshot(self);
  }
}

// Reads the audit queue: each event counts, then goes to the process's
// queue; only then is it taken off (a successor reads what is left).
void take_audits(metrics_pointer self) {
  auto& st = self->state;
  if (!st.deps.queue)
    return;
  if (auto lost = st.deps.queue->take_lost(); lost > 0) {
    st.keep->m.audit_lost += lost;
    report(self, "audit_gap", {{"lost", std::to_string(lost)},
                               {"queue", "tenant"}});
  }
  for (;;) {
    auto run = st.deps.queue->peek();
    if (run.events.empty())
      break;
    for (auto& e : run.events) {
      on_audit(self, e);
      if (st.deps.forward)
        st.deps.forward->post(e);
    }
    st.deps.queue->ack(run);
  }
  st.keep->publish();
}

// A snapshot for the webhook every interval, as well as on each change.
void arm_hook_interval(metrics_pointer self) {
  auto& st = self->state;
  if (!st.hook.url.empty())
    self->delayed_send(self, st.hook.interval, tick_atom::value);
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
metrics_actor_impl(metrics_pointer self, std::shared_ptr<metrics_keep> keep,
                   metrics_deps deps, health_webhook_settings hook) {
  auto& st = self->state;
  st.keep = std::move(keep);
  st.deps = std::move(deps);
  st.hook = std::move(hook);
  // A snapshot the last incarnation had in flight goes again, unless a
  // newer one waits.
  if (!st.keep->hook_body.empty() && st.keep->hook_pending.empty())
    st.keep->hook_pending = std::move(st.keep->hook_body);
  st.keep->hook_body.clear();
  if (st.deps.queue) {
    auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
    st.deps.queue->adopt([weak] {
      if (auto strong = caf::actor_cast<caf::strong_actor_ptr>(weak))
        caf::anon_send(caf::actor_cast<metrics_actor>(strong), poke_atom::value);
    });
  }
  if (!st.keep->inbox)
    st.keep->inbox = st.deps.inbox;
  if (!st.keep->budget)
    st.keep->budget = st.deps.budget;
  arm_hook_interval(self);
  post_hook(self);
  return {
    [=](const audit_event& e) {
      on_audit(self, e);
      if (self->state.deps.forward)
        self->state.deps.forward->post(e);
      self->state.keep->publish();
    },
    [=](poke_atom) { take_audits(self); },
    [=](metrics_atom) -> tenant_metrics {
      auto& k = *self->state.keep;
      k.read_live(k.m);
      return k.m;
    },
    [=](tick_atom) {
      auto& st = self->state;
      if (!st.hook_in_flight
          && now_ms(self) - st.keep->hook_last_sent >= st.hook.interval.count()) {
        st.keep->read_live(st.keep->m);
        snapshot(self);
      }
      arm_hook_interval(self);
    },
    [=](http_done_atom, uint64_t id, const http_response& r) {
      auto& st = self->state;
      auto& k = *st.keep;
      if (id != st.hook_request)
        return;
      st.hook_in_flight = false;
      if (r.status >= 200 && r.status < 300) {
        k.hook_attempt = 0;
        ++k.hook_sent;
        k.hook_body.clear();
        post_hook(self);
        return;
      }
      ++k.hook_failures;
      if (k.hook_pending.empty())
        k.hook_pending = std::move(k.hook_body); // retry it unless newer waits
      k.hook_body.clear();
      auto delay = std::max(full_jitter(st.hook.backoff, k.hook_attempt++, st.rng),
                            milliseconds{r.retry_after_ms});
      st.hook_backing_off = true;
      self->delayed_send(self, delay, retry_atom::value, st.hook_request);
    },
    [=](http_done_atom, uint64_t id, const caf::error&) {
      auto& st = self->state;
      auto& k = *st.keep;
      if (id != st.hook_request)
        return;
      st.hook_in_flight = false;
      ++k.hook_failures;
      if (k.hook_pending.empty())
        k.hook_pending = std::move(k.hook_body);
      k.hook_body.clear();
      st.hook_backing_off = true;
      self->delayed_send(self, full_jitter(st.hook.backoff, k.hook_attempt++, st.rng),
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
