#include "actors/tenant_supervisor.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "runtime/redact.hpp"
#include "runtime/topics.hpp"

namespace gcstream {

using namespace std::chrono;

namespace {

supervisor_keep& keep_of(supervisor_pointer self) {
  return self->state.core->sup;
}

void publish(supervisor_pointer self) {
  auto& k = keep_of(self);
  auto h = k.live;
  h.supervisor = caf::actor_cast<caf::actor>(self);
  // "The session": the first channel's that lives (a tenant of one has one).
  h.session = nullptr;
  h.sessions.clear();
  for (auto& l : k.lanes) {
    h.sessions.push_back(l.session);
    if (!h.session)
      h.session = l.session;
  }
  self->state.core->publish(k.status, h);
}

void report(supervisor_pointer self, std::string event, audit_fields f = {}) {
  auto& core = *self->state.core;
  audit(core.audit, core.id, std::move(event), std::move(f));
}

// The fields that say which channel of a tenant with several an event is
// about (none for a tenant with one).
audit_fields lane_fields(supervisor_pointer self, size_t i, audit_fields f = {}) {
  auto& core = *self->state.core;
  if (core.lanes.size() > 1) {
    f.emplace_back("lane", std::to_string(i));
    f.emplace_back("topics", std::to_string(topics_weight(core.lanes[i].topics)));
  }
  return f;
}

lane_keep* lane_of_session(supervisor_pointer self, const caf::actor_addr& a,
                           size_t* index = nullptr) {
  auto& k = keep_of(self);
  for (size_t i = 0; i < k.lanes.size(); ++i)
    if (k.lanes[i].session && k.lanes[i].session.address() == a) {
      if (index)
        *index = i;
      return &k.lanes[i];
    }
  return nullptr;
}

bool any_session(supervisor_pointer self) {
  for (auto& l : keep_of(self).lanes)
    if (l.session)
      return true;
  return false;
}

void send_sessions(supervisor_pointer self, const caf::message& msg) {
  for (auto& l : keep_of(self).lanes)
    if (l.session)
      caf::anon_send(l.session, msg);
}

std::shared_ptr<event_inbox> inbox_of(tenant_core& core, size_t i) {
  return core.lanes.empty() ? core.inbox : core.lanes[i].inbox;
}

void set_state(supervisor_pointer self, std::string state, std::string reason) {
  auto& s = keep_of(self).status;
  s.state = std::move(state);
  s.reason = std::move(reason);
  publish(self);
}

ingest_actor ingest_of(supervisor_pointer self) {
  auto& core = *self->state.core;
  if (core.orderer)
    return caf::actor_cast<ingest_actor>(core.sup.live.orderer);
  return core.ingest;
}

void begin_stop(supervisor_pointer self);
void continue_stop(supervisor_pointer self);
void launch(supervisor_pointer self, size_t i);
void drain_orderer(supervisor_pointer self);

// -- failing ------------------------------------------------------------------

void fail_tenant(supervisor_pointer self, caf::error err) {
  auto& k = keep_of(self);
  if (k.failed)
    return;
  auto why = reason_of(err).empty() ? self->system().render(err) : reason_of(err);
  k.failed = true;
  k.failure = std::move(err);
  set_state(self, "failed", why);
  report(self, "tenant_failed", {{"reason", why}});
  begin_stop(self);
}

caf::error past_limit(supervisor_pointer self, const char* kind,
                      const restart_tracker& t, const caf::error& last) {
  auto& core = *self->state.core;
  return make_error(errc::restart_limit,
                    "tenant " + core.id + ": the " + kind + " died "
                      + std::to_string(t.recent()) + " times within "
                      + std::to_string(t.policy().window.count() / 1000)
                      + " s (last: " + self->system().render(last) + ")");
}

// -- children -----------------------------------------------------------------

void spawn_token(supervisor_pointer self) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  auto tok = core.make_token(self->system());
  k.live.token = caf::actor_cast<caf::actor>(tok);
  self->monitor(k.live.token);
  send_sessions(self, caf::make_message(token_atom::value, tok));
  publish(self);
}

void spawn_orderer(supervisor_pointer self) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  if (!core.orderer)
    return;
  auto o = self->spawn(orderer_actor_impl, core.orderer, core.audit);
  k.live.orderer = caf::actor_cast<caf::actor>(o);
  self->monitor(k.live.orderer);
  send_sessions(self, caf::make_message(ingest_atom::value,
                                        caf::actor_cast<ingest_actor>(o)));
  publish(self);
}

void spawn_metrics(supervisor_pointer self) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  if (!core.make_metrics)
    return;
  k.live.metrics = core.make_metrics(self->system());
  self->monitor(k.live.metrics);
  publish(self);
}

void spawn_session(supervisor_pointer self, size_t i, bool drain_only,
                   std::string permit = {}) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  auto& lane = k.lanes[i];
  session_start s;
  s.lane = static_cast<uint32_t>(i);
  s.lanes = static_cast<uint32_t>(k.lanes.size());
  if (!core.lanes.empty()) {
    s.topics = core.lanes[i].topics;
    s.inbox = core.lanes[i].inbox;
    s.sockets = core.lanes[i].sockets;
  }
  s.permit = std::move(permit);
  s.resume = drain_only ? channel_info{} : lane.last_channel;
  s.token = caf::actor_cast<token_actor>(k.live.token);
  s.ingest = ingest_of(self);
  s.listener = caf::actor_cast<channel_listener>(self);
  s.drain_only = drain_only;
  lane.session = core.make_session(self->system(), s);
  lane.stop_sent = false;
  lane.connected = false;
  self->monitor(lane.session);
  if (!drain_only) {
    lane.session_started_ms = now_ms(self);
    ++k.status.sessions;
    report(self, "session_started",
           lane_fields(self, i, {{"attempt", std::to_string(lane.attempt)},
                                 {"resume", channel_tag(lane.last_channel.id)}}));
  }
  publish(self);
}

// -- the session's permit -----------------------------------------------------
//
// One permit per live channel (actors/channel_permits.hpp): the supervisor
// asks for the first channel's, and a granted one becomes the session's,
// which gives it back when its socket is gone (or leaves it with a socket
// to the next session).

void ask_permit(supervisor_pointer self, size_t i) {
  auto& core = *self->state.core;
  auto& lane = core.sup.lanes[i];
  auto me = caf::actor_cast<caf::actor>(self);
  if (lane.permit_wait.empty())
    lane.permit_wait = core.permits->ask(me);
  else
    core.permits->ask_again(lane.permit_wait, me); // a restarted supervisor
}

void release_permit(supervisor_pointer self, size_t i) {
  auto& core = *self->state.core;
  auto& lane = core.sup.lanes[i];
  if (lane.permit_wait.empty())
    return;
  core.permits->release(lane.permit_wait);
  lane.permit_wait.clear();
}

uint32_t max_attempt(const supervisor_keep& k) {
  uint32_t n = 0;
  for (auto& l : k.lanes)
    n = std::max(n, l.attempt);
  return n;
}

// -- starting sessions ---------------------------------------------------------

// Each channel has its own backoff: one channel's trouble does not hold
// the others back.
void schedule_restart(supervisor_pointer self, size_t i, const std::string& why,
                      int64_t at_least_ms = -1) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  if (k.stopping)
    return;
  auto& lane = k.lanes[i];
  // The service's Retry-After, when it gave one, is a floor.
  auto delay = std::max(full_jitter(core.cfg.backoff, lane.attempt, k.rng),
                        milliseconds{at_least_ms});
  ++lane.attempt;
  lane.connected = false;
  k.status.attempt = max_attempt(k);
  set_state(self, "reconnecting", why);
  report(self, "backoff_scheduled",
         lane_fields(self, i, {{"delay_ms", std::to_string(delay.count())},
                               {"attempt", std::to_string(lane.attempt)},
                               {"reason", why}}));
  lane.restart_pending = ++k.restart_gen;
  self->delayed_send(self, delay, restart_atom::value, lane.restart_pending);
}

// Starts a channel's session, with a token that will not expire right away.
void launch(supervisor_pointer self, size_t i) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  auto& lane = k.lanes[i];
  lane.restart_pending = 0;
  if (k.stopping || lane.session || lane.retired || !lane.permit_wait.empty())
    return;
  auto threshold = caf::timespan{core.cfg.token_threshold};
  auto token = caf::actor_cast<token_actor>(k.live.token);
  self->request(token, seconds{30}, expiring_atom::value, threshold)
    .then(
      [=](bool expiring) {
        if (!expiring) {
          ask_permit(self, i);
          return;
        }
        auto tok = caf::actor_cast<token_actor>(keep_of(self).live.token);
        self->request(tok, seconds{60}, token_atom::value, threshold)
          .then([=](const access_token&) { ask_permit(self, i); },
                [=](caf::error& err) {
                  if (!is_retriable(err))
                    fail_tenant(self, std::move(err));
                  else
                    schedule_restart(self, i, reason_of(err).empty()
                                                ? self->system().render(err)
                                                : reason_of(err));
                });
      },
      [=](caf::error& err) { schedule_restart(self, i, self->system().render(err)); });
}

// Starts every channel that has no session and waits for nothing.
void launch_all(supervisor_pointer self) {
  auto& k = keep_of(self);
  for (size_t i = 0; i < k.lanes.size(); ++i) {
    auto& l = k.lanes[i];
    if (l.session || l.retired)
      continue;
    if (!l.permit_wait.empty())
      ask_permit(self, i);
    else
      launch(self, i); // (a restart the old supervisor had scheduled, too)
  }
}

// -- the topics, checked once against the service's list --------------------
//
// Before the first channel is made: a topic of no family the service lists,
// or one that needs a user context, fails the tenant with every such topic
// named. A list that cannot be read is audited (topics_unchecked) and the
// tenant goes on: the subscription says what it rejects.

void check_topics(supervisor_pointer self) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  if (k.stopping)
    return;
  auto gen = ++k.restart_gen;
  k.check_pending = gen;
  auto token = caf::actor_cast<token_actor>(k.live.token);
  self->request(token, seconds{60}, token_atom::value,
                caf::timespan{core.cfg.token_threshold})
    .then(
      [=](const access_token& t) {
        auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
        self->state.core->check_topics(
          t.reveal(), [weak, gen](std::vector<std::string> refused, std::string unchecked) {
            if (auto strong = caf::actor_cast<caf::strong_actor_ptr>(weak))
              caf::anon_send(caf::actor_cast<supervisor_actor>(strong), topics_atom::value,
                             gen, std::move(refused), std::move(unchecked));
          });
      },
      [=](caf::error& err) {
        auto& k = keep_of(self);
        if (k.stopping || k.check_pending != gen)
          return;
        if (!is_retriable(err)) {
          fail_tenant(self, std::move(err));
          return;
        }
        auto why = reason_of(err).empty() ? self->system().render(err) : reason_of(err);
        auto delay = full_jitter(self->state.core->cfg.backoff, k.check_attempt++, k.rng);
        set_state(self, "reconnecting", why);
        report(self, "backoff_scheduled", {{"delay_ms", std::to_string(delay.count())},
                                           {"attempt", std::to_string(k.check_attempt)},
                                           {"reason", why}});
        k.check_pending = ++k.restart_gen;
        self->delayed_send(self, delay, restart_atom::value, k.check_pending);
      });
}

void on_topics_checked(supervisor_pointer self, uint64_t gen,
                       std::vector<std::string>& refused, std::string& unchecked) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  if (gen != k.check_pending || k.stopping)
    return;
  k.check_pending = 0;
  if (!refused.empty()) {
    std::string why = "tenant " + core.id + ": the service's topic list (availabletopics) "
                      "refuses " + std::to_string(refused.size()) + " topic"
                      + (refused.size() == 1 ? "" : "s") + ": ";
    for (size_t i = 0; i < refused.size() && i < 10; ++i)
      why += (i == 0 ? "" : "; ") + refused[i];
    if (refused.size() > 10)
      why += "; and " + std::to_string(refused.size() - 10) + " more";
    fail_tenant(self, make_error(errc::topics_refused, why));
    return;
  }
  if (!unchecked.empty())
    report(self, "topics_unchecked", {{"reason", unchecked}});
  k.topics_checked = true;
  launch_all(self);
}

// -- topics changed while running (runtime::set_topics) ----------------------
//
// By difference (reassign_topics): a channel whose topics change is
// subscribed again on its socket; a channel left with none closes (its
// session stops, drained); new channels are made for what the others have no
// room for. Audited: topics_changed.

void on_set_topics(supervisor_pointer self, std::vector<std::string>& topics) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  if (k.stopping || core.lanes.empty())
    return;
  auto wanted = core.combine_topics ? combine_topics(topics) : topics;
  auto now = core.lane_topics();
  auto next = reassign_topics(now, wanted);
  if (next.size() > now.size() && !core.make_lane)
    return;
  std::string closed;
  size_t changed = 0;
  for (size_t i = 0; i < next.size(); ++i) {
    if (i >= now.size()) {
      auto lane = core.make_lane();
      lane.topics = next[i];
      {
        std::lock_guard<std::mutex> g{core.lanes_mtx};
        core.lanes.push_back(std::move(lane));
      }
      k.lanes.emplace_back();
      ++changed;
      continue;
    }
    if (next[i] == now[i])
      continue;
    ++changed;
    {
      std::lock_guard<std::mutex> g{core.lanes_mtx};
      core.lanes[i].topics = next[i];
    }
    auto& l = k.lanes[i];
    if (next[i].empty()) {
      l.retired = true;
      l.restart_pending = 0;
      release_permit(self, i);
      closed += (closed.empty() ? "" : ",") + std::to_string(i);
      if (l.session) // it unsubscribes, reads what is on its way, then stops
        caf::anon_send(l.session, topics_atom::value, next[i]);
    } else if (l.session) {
      caf::anon_send(l.session, topics_atom::value, next[i]);
    }
  }
  report(self, "topics_changed",
         {{"topics", std::to_string(topics_weight(wanted))},
          {"channels", std::to_string(channels_in_use(next))},
          {"lanes_changed", std::to_string(changed)},
          {"lanes_closed", closed}});
  publish(self);
  if (k.topics_checked || !core.check_topics)
    launch_all(self); // the new channels
}

void on_granted(supervisor_pointer self, const std::string& holder) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  size_t i = 0;
  while (i < k.lanes.size() && k.lanes[i].permit_wait != holder)
    ++i;
  if (holder.empty() || i == k.lanes.size()) {
    // Not one waited for (any more): a grant that crossed a release.
    if (!core.permits->granted(holder))
      return;
    core.permits->release(holder);
    return;
  }
  auto& lane = k.lanes[i];
  lane.permit_wait.clear();
  if (!core.permits->granted(holder))
    return; // held already: this is a second answer
  if (k.stopping || lane.session) {
    core.permits->release(holder); // nobody needs it any more
    return;
  }
  spawn_session(self, i, false, holder);
}

// -- children that end ---------------------------------------------------------

void on_session_exit(supervisor_pointer self, size_t i, const caf::error& reason) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  auto& lane = k.lanes[i];
  lane.session = nullptr;
  lane.connected = false;
  publish(self);
  release_permit(self, i);
  if (k.stopping) {
    continue_stop(self);
    return;
  }
  if (lane.retired)
    return; // its topics went: it closed for good
  auto now = now_ms(self);
  if (now - lane.session_started_ms >= core.cfg.stable_after.count())
    lane.attempt = 0; // it was stable: start the backoff over
  if (code_of(reason) != errc::none) {
    if (!is_retriable(reason)) {
      fail_tenant(self, reason);
      return;
    }
    schedule_restart(self, i, reason_of(reason), retry_after_of(reason));
    return;
  }
  // Not a gcstream error: an exception, a kill, a crash. Count it.
  report(self, "actor_restarted",
         lane_fields(self, i, {{"kind", "session"},
                               {"reason", self->system().render(reason)},
                               {"restarts",
                                std::to_string(k.session_crashes.total() + 1)}}));
  if (!k.session_crashes.note(now)) {
    fail_tenant(self, past_limit(self, "session", k.session_crashes, reason));
    return;
  }
  schedule_restart(self, i, "session crashed: " + self->system().render(reason));
}

// A token, orderer or metrics actor died: start it again after the backoff
// of its kind, within its restart limit.
void on_child_exit(supervisor_pointer self, const char* kind,
                   restart_tracker& crashes, const caf::error& reason) {
  auto& k = keep_of(self);
  if (code_of(reason) != errc::none && !is_retriable(reason)) {
    // It gave up for good (refused credentials; a sink past its restart
    // limit): so does the tenant.
    if (std::string{kind} == "orderer")
      k.orderer_gave_up = true; // nothing left to drain to
    fail_tenant(self, reason);
    return;
  }
  report(self, "actor_restarted",
         {{"kind", kind},
          {"reason", self->system().render(reason)},
          {"restarts", std::to_string(crashes.total() + 1)}});
  if (!crashes.note(now_ms(self))) {
    if (std::string{kind} == "orderer")
      k.orderer_gave_up = true;
    fail_tenant(self, past_limit(self, kind, crashes, reason));
    return;
  }
  auto delay = crashes.delay(k.rng);
  self->delayed_send(self, delay, respawn_atom::value, std::string{kind},
                     k.restart_gen);
}

void on_down(supervisor_pointer self, const caf::down_msg& msg) {
  auto& k = keep_of(self);
  size_t lane = 0;
  if (lane_of_session(self, msg.source, &lane)) {
    on_session_exit(self, lane, msg.reason);
  } else if (k.live.token && msg.source == k.live.token.address()) {
    k.live.token = nullptr;
    publish(self);
    if (!k.stopping)
      on_child_exit(self, "token", k.token_crashes, msg.reason);
  } else if (k.live.orderer && msg.source == k.live.orderer.address()) {
    k.live.orderer = nullptr;
    publish(self);
    if (k.orderer_stopping) {
      continue_stop(self);
      return;
    }
    on_child_exit(self, "orderer", k.orderer_crashes, msg.reason);
  } else if (k.live.metrics && msg.source == k.live.metrics.address()) {
    k.live.metrics = nullptr;
    publish(self);
    on_child_exit(self, "metrics", k.metrics_crashes, msg.reason);
  }
}

void respawn(supervisor_pointer self, const std::string& kind) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  if (kind == "token" && !k.live.token && !k.stopping) {
    spawn_token(self);
  } else if (kind == "orderer" && !k.live.orderer && !k.orderer_stopping
             && !k.orderer_gave_up) {
    spawn_orderer(self);
    if (k.draining)
      drain_orderer(self); // the drain goes on with the new one
  } else if (kind == "metrics" && !k.live.metrics && !core.done()) {
    spawn_metrics(self);
  }
}

// -- stopping -----------------------------------------------------------------

// The last step: what did not make it is counted, everything stops.
void complete_stop(supervisor_pointer self) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  // No actor uses the kept state any more: it can be read here.
  uint64_t undelivered = 0;
  for (auto& in : core.inboxes())
    undelivered += in->buffered_events();
  if (core.orderer)
    undelivered += core.orderer->held_events();
  k.status.undelivered = undelivered;
  if (undelivered > 0 || (core.orderer && !k.drain_complete))
    report(self, "drain_incomplete",
           {{"undelivered", std::to_string(undelivered)},
            {"journal", core.orderer && core.orderer->store
                          ? "kept in the journal for the next start"
                          : "none: lost with the process"}});
  for (size_t i = 0; i < k.lanes.size(); ++i)
    release_permit(self, i);
  if (core.sockets)
    core.sockets->close_left(1000, "tenant stopped");
  for (auto& l : core.lanes)
    if (l.sockets && l.sockets != core.sockets)
      l.sockets->close_left(1000, "tenant stopped");
  core.permits->release_all(); // no channel of the tenant is left
  if (k.live.token) {
    self->demonitor(k.live.token.address());
    self->send_exit(k.live.token, caf::exit_reason::user_shutdown);
    k.live.token = nullptr;
  }
  if (k.failed) {
    report(self, "tenant_stopped", {{"undelivered", std::to_string(undelivered)},
                                    {"failed", "true"}});
  } else {
    set_state(self, "stopped", "");
    report(self, "tenant_stopped", {{"undelivered", std::to_string(undelivered)}});
  }
  // The metrics actor stays: it reads the last audit events, and whoever
  // removes the tenant stops it (a failed tenant stays visible meanwhile).
  if (k.live.metrics)
    self->demonitor(k.live.metrics.address());
  publish(self);
  core.finish();
  self->quit(k.failed ? k.failure : caf::error{});
}

void stop_orderer(supervisor_pointer self) {
  auto& k = keep_of(self);
  k.orderer_stopping = true;
  if (!k.live.orderer) {
    complete_stop(self);
    return;
  }
  // A planned stop: the orderer takes its sinks along; its down message
  // completes the stop.
  self->send_exit(k.live.orderer, caf::exit_reason::user_shutdown);
}

void drain_orderer(supervisor_pointer self) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  if (k.orderer_stopping) {
    if (!k.live.orderer)
      complete_stop(self);
    return; // its down message completes the stop
  }
  if (!core.orderer || (!k.live.orderer && k.orderer_gave_up)) {
    stop_orderer(self);
    return;
  }
  if (!k.live.orderer)
    spawn_orderer(self);
  k.draining = true;
  auto timeout = caf::timespan{core.cfg.drain_timeout};
  auto orderer = caf::actor_cast<orderer_actor>(k.live.orderer);
  self->request(orderer, timeout + seconds{1}, drain_atom::value, timeout)
    .then(
      [=](bool complete) {
        keep_of(self).drain_complete = complete;
        stop_orderer(self);
      },
      [=](caf::error& err) {
        if (err == caf::sec::request_receiver_down)
          return; // it died: its successor is asked again (respawn)
        keep_of(self).drain_complete = false;
        stop_orderer(self);
      });
}

// Where a stop goes next: the sessions drain their inboxes first, then the
// orderer drains to the sinks.
void continue_stop(supervisor_pointer self) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  auto deadline = caf::timespan{core.cfg.drain_timeout};
  if (any_session(self)) {
    for (auto& l : k.lanes)
      if (l.session && !l.stop_sent) {
        l.stop_sent = true;
        caf::anon_send(l.session, stop_atom::value, deadline);
      }
    return;
  }
  if (!k.draining && (core.orderer ? bool(k.live.orderer) : bool(core.ingest))) {
    // No session left, but events wait: a session that only drains, for
    // each channel whose inbox holds some.
    k.draining = true;
    for (size_t i = 0; i < k.lanes.size(); ++i) {
      auto in = inbox_of(core, i);
      if (!in || in->empty())
        continue;
      spawn_session(self, i, true);
      k.lanes[i].stop_sent = true;
      caf::anon_send(k.lanes[i].session, stop_atom::value, deadline);
    }
    if (any_session(self))
      return;
  }
  drain_orderer(self);
}

void begin_stop(supervisor_pointer self) {
  auto& k = keep_of(self);
  if (k.stopping)
    return;
  k.stopping = true;
  ++k.restart_gen; // cancels the pending restarts
  for (auto& l : k.lanes)
    l.restart_pending = 0;
  if (!k.failed)
    set_state(self, "stopping", "");
  continue_stop(self);
}

// -- starting (or taking over) --------------------------------------------------

void start(supervisor_pointer self) {
  auto& core = *self->state.core;
  auto& k = core.sup;
  if (!k.started) {
    k.started = true;
    if (!core.permits) // (tests build cores by hand)
      core.permits = std::make_shared<channel_permits>(core.id, core.cfg.limiter_key,
                                                       core.limiter);
    k.rng.seed(core.cfg.seed != 0 ? core.cfg.seed : std::random_device{}());
    k.status.tenant = core.id;
    k.status.state = "starting";
    restart_policy sessions = core.cfg.child_restarts;
    sessions.max_restarts = core.cfg.max_restarts;
    sessions.window = core.cfg.restart_window;
    k.session_crashes = restart_tracker{sessions};
    k.token_crashes = restart_tracker{core.cfg.child_restarts};
    k.orderer_crashes = restart_tracker{core.cfg.child_restarts};
    k.metrics_crashes = restart_tracker{core.cfg.child_restarts};
    k.lanes.resize(std::max<size_t>(1, core.lanes.size()));
  }
  publish(self);
  // Adopt what lives (a monitor of a dead actor reports it at once: it is
  // then started again like any crashed child), start what does not.
  auto adopt_or = [&](caf::actor& h, void (*spawn)(supervisor_pointer)) {
    if (h)
      self->monitor(h);
    else
      spawn(self);
  };
  if (!k.stopping || k.live.token)
    adopt_or(k.live.token, spawn_token);
  if (core.make_metrics)
    adopt_or(k.live.metrics, spawn_metrics);
  if (core.orderer && (!k.orderer_stopping || k.live.orderer))
    adopt_or(k.live.orderer, spawn_orderer);
  for (auto& l : k.lanes)
    if (l.session) {
      self->monitor(l.session);
      caf::anon_send(l.session, adopt_atom::value,
                     caf::actor_cast<channel_listener>(self));
    }
  if (k.stopping) {
    if (k.orderer_stopping || (k.draining && !any_session(self)))
      drain_orderer(self); // again: the request died with the old supervisor
    else
      continue_stop(self);
    return;
  }
  if (!k.topics_checked && core.check_topics) {
    check_topics(self); // (again, when the answer died with the old supervisor)
    return;
  }
  launch_all(self);
}

} // namespace

supervisor_actor::behavior_type tenant_supervisor(supervisor_pointer self,
                                                  std::shared_ptr<tenant_core> core) {
  self->state.core = std::move(core);
  self->set_down_handler([=](const caf::down_msg& msg) { on_down(self, msg); });
  start(self);
  return {
    [=](channel_atom, const channel_info& ch) {
      auto& k = keep_of(self);
      // From a session (a test may send it anonymously to a tenant of one
      // channel).
      size_t i = 0;
      auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
      if (!lane_of_session(self, sender, &i) && k.lanes.size() > 1)
        return; // a session that is gone by now
      auto& lane = k.lanes[i];
      lane.last_channel = ch;
      lane.connected = true;
      bool all = std::all_of(k.lanes.begin(), k.lanes.end(),
                             [](const lane_keep& l) { return l.connected || l.retired; });
      if (all && k.status.state != "connected" && !k.stopping) {
        k.status.attempt = max_attempt(k);
        set_state(self, "connected", "");
        audit_fields f{{"channel", channel_tag(ch.id)}};
        if (k.lanes.size() > 1)
          f.emplace_back("channels", std::to_string(k.lanes.size()));
        report(self, "tenant_connected", std::move(f));
      }
    },
    [=](restart_atom, uint64_t gen) {
      auto& k = keep_of(self);
      if (gen != 0 && gen == k.check_pending) {
        check_topics(self);
        return;
      }
      for (size_t i = 0; i < k.lanes.size(); ++i)
        if (gen != 0 && k.lanes[i].restart_pending == gen)
          launch(self, i);
    },
    [=](respawn_atom, const std::string& kind, uint64_t) { respawn(self, kind); },
    [=](granted_atom, const std::string&, const std::string& holder) {
      on_granted(self, holder);
    },
    [=](topics_atom, std::vector<std::string>& topics) { on_set_topics(self, topics); },
    [=](topics_atom, uint64_t gen, std::vector<std::string>& refused,
        std::string& unchecked) { on_topics_checked(self, gen, refused, unchecked); },
    [=](status_atom) { return keep_of(self).status; },
    [=](stats_atom) -> caf::result<orderer_stats> {
      auto& k = keep_of(self);
      if (!k.live.orderer) {
        orderer_stats none;
        none.tenant = self->state.core->id;
        return none;
      }
      return self->delegate(caf::actor_cast<orderer_actor>(k.live.orderer),
                            stats_atom::value);
    },
    [=](children_atom) {
      auto& k = keep_of(self);
      caf::actor session;
      for (auto& l : k.lanes)
        if (!session)
          session = l.session;
      return std::make_tuple(session, k.live.orderer);
    },
    [=](stop_atom) { begin_stop(self); },
  };
}

} // namespace gcstream
