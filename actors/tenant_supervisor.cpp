#include "actors/tenant_supervisor.hpp"

#include <algorithm>

#include <caf/all.hpp>

#include "messages/errors.hpp"

namespace gcstream {

using namespace std::chrono;

namespace {

int64_t now_ms(supervisor_pointer self) {
  return duration_cast<milliseconds>(self->clock().now().time_since_epoch())
    .count();
}

void audit(supervisor_pointer self, std::string event,
           std::vector<std::pair<std::string, std::string>> f = {}) {
  if (self->state.observer)
    self->send(self->state.observer,
               audit_event{self->state.cfg.tenant, std::move(event), std::move(f)});
}

void set_state(supervisor_pointer self, std::string state, std::string reason) {
  auto& s = self->state.status;
  s.state = std::move(state);
  s.reason = std::move(reason);
}

void fail_tenant(supervisor_pointer self, caf::error err) {
  auto why = reason_of(err).empty() ? caf::to_string(err) : reason_of(err);
  set_state(self, "failed", why);
  audit(self, "tenant_failed", {{"reason", why}});
  if (self->state.session)
    self->send_exit(self->state.session, caf::exit_reason::user_shutdown);
  self->quit(std::move(err));
}

void schedule_restart(supervisor_pointer self, const std::string& why,
                      int64_t at_least_ms = -1);

void spawn_session(supervisor_pointer self) {
  auto& st = self->state;
  // Take a live-channel permit first: the limiter paces the whole process.
  self->request(st.limiter, caf::infinite, acquire_atom::value, st.cfg.limiter_key)
    .then(
      [=](uint64_t permit) {
        auto& st = self->state;
        if (st.stopping) {
          self->send(st.limiter, release_atom::value, st.cfg.limiter_key, permit);
          return;
        }
        st.permit = permit;
        st.started_ms = now_ms(self);
        ++st.status.sessions;
        st.session = st.make_session(self, st.last_channel);
        // A monitor, not a link: a session killed with exit_reason::kill
        // must not take its supervisor along (a kill cannot be trapped).
        self->monitor(st.session);
        *st.child = st.session;
        audit(self, "session_started",
              {{"attempt", std::to_string(st.status.attempt)},
               {"resume", st.last_channel.id}});
      },
      [=](caf::error& err) { schedule_restart(self, caf::to_string(err)); });
}

// Starts a session, with a token that will not expire right away.
void launch(supervisor_pointer self) {
  auto& st = self->state;
  if (st.stopping || st.session)
    return;
  auto threshold = caf::timespan{st.cfg.token_threshold};
  self->request(st.token, seconds{30}, expiring_atom::value, threshold)
    .then(
      [=](bool expiring) {
        if (!expiring) {
          spawn_session(self);
          return;
        }
        self->request(self->state.token, seconds{60}, token_atom::value, threshold)
          .then([=](const access_token&) { spawn_session(self); },
                [=](caf::error& err) {
                  if (!is_retriable(err))
                    fail_tenant(self, std::move(err));
                  else
                    schedule_restart(self, reason_of(err));
                });
      },
      [=](caf::error& err) { schedule_restart(self, caf::to_string(err)); });
}

void schedule_restart(supervisor_pointer self, const std::string& why,
                      int64_t at_least_ms) {
  auto& st = self->state;
  if (st.stopping)
    return;
  // The service's Retry-After, when it gave one, is a floor.
  auto delay = std::max(full_jitter(st.cfg.backoff, st.status.attempt, st.rng),
                        milliseconds{at_least_ms});
  ++st.status.attempt;
  set_state(self, "reconnecting", why);
  audit(self, "backoff_scheduled",
        {{"delay_ms", std::to_string(delay.count())},
         {"attempt", std::to_string(st.status.attempt)},
         {"reason", why}});
  self->delayed_send(self, delay, restart_atom::value, ++st.restart_gen);
}

// Counts a crash; true when the tenant is past its restart intensity (and
// has been failed).
bool crash_limit_hit(supervisor_pointer self, const std::string& what,
                     const caf::error& reason) {
  auto& st = self->state;
  auto now = now_ms(self);
  st.crashes.push_back(now);
  while (!st.crashes.empty()
         && now - st.crashes.front() > st.cfg.restart_window.count())
    st.crashes.pop_front();
  if (st.crashes.size() <= st.cfg.max_restarts)
    return false;
  fail_tenant(self, make_error(errc::api_failed,
                               "tenant " + st.cfg.tenant + ": "
                                 + std::to_string(st.crashes.size()) + " " + what
                                 + " crashes within "
                                 + std::to_string(st.cfg.restart_window.count()
                                                  / 1000)
                                 + " s (last: " + caf::to_string(reason) + ")"));
  return true;
}

void spawn_orderer(supervisor_pointer self) {
  auto& st = self->state;
  st.orderer = self->spawn(orderer_actor_impl, st.keep, st.observer);
  self->monitor(st.orderer);
  *st.orderer_child = caf::actor_cast<caf::actor>(st.orderer);
  if (st.session)
    caf::anon_send(st.session, ingest_atom::value,
                   caf::actor_cast<ingest_actor>(st.orderer));
}

// The session is gone and the tenant stops: drain the orderer, then stop it
// (which stops its sinks), then quit.
void finish_stop(supervisor_pointer self) {
  auto& st = self->state;
  auto done = [=] {
    auto& st = self->state;
    if (st.orderer) {
      self->demonitor(st.orderer.address());
      self->send_exit(st.orderer, caf::exit_reason::user_shutdown);
      *st.orderer_child = nullptr;
    }
    set_state(self, "stopped", "");
    audit(self, "tenant_stopped");
    self->quit();
  };
  if (!st.orderer) {
    done();
    return;
  }
  auto timeout = caf::timespan{st.cfg.drain_timeout};
  self->request(st.orderer, timeout + seconds{1}, drain_atom::value, timeout)
    .then(
      [=](bool complete) {
        if (!complete)
          audit(self, "drain_incomplete", {});
        done();
      },
      [=](caf::error&) {
        audit(self, "drain_incomplete", {});
        done();
      });
}

void on_session_exit(supervisor_pointer self, const caf::error& reason) {
  auto& st = self->state;
  st.session = nullptr;
  if (st.permit != 0) {
    self->send(st.limiter, release_atom::value, st.cfg.limiter_key, st.permit);
    st.permit = 0;
  }
  auto now = now_ms(self);
  if (now - st.started_ms >= st.cfg.stable_after.count())
    st.status.attempt = 0; // it was stable: start the backoff over
  if (st.stopping) {
    finish_stop(self);
    return;
  }
  if (code_of(reason) != errc::none) {
    if (!is_retriable(reason)) {
      fail_tenant(self, reason);
      return;
    }
    schedule_restart(self, reason_of(reason), retry_after_of(reason));
    return;
  }
  // Not a gcstream error: an exception, a kill, a crash. Count it.
  if (crash_limit_hit(self, "session", reason))
    return;
  schedule_restart(self, "session crashed: " + caf::to_string(reason));
}

} // namespace

supervisor_actor::behavior_type
tenant_supervisor(supervisor_pointer self, supervisor_settings cfg,
                  token_actor token, limiter_actor limiter,
                  session_factory make_session, audit_actor observer) {
  return tenant_supervisor_with_orderer(self, std::move(cfg), std::move(token),
                                        std::move(limiter), nullptr,
                                        std::move(make_session),
                                        std::move(observer));
}

supervisor_actor::behavior_type
tenant_supervisor_with_orderer(supervisor_pointer self, supervisor_settings cfg,
                               token_actor token, limiter_actor limiter,
                               std::shared_ptr<orderer_keep> keep,
                               session_factory make_session,
                               audit_actor observer) {
  auto& st = self->state;
  st.keep = std::move(keep);
  st.rng.seed(cfg.seed != 0 ? cfg.seed : std::random_device{}());
  st.cfg = std::move(cfg);
  st.token = std::move(token);
  st.limiter = std::move(limiter);
  st.make_session = std::move(make_session);
  st.observer = std::move(observer);
  st.status.tenant = st.cfg.tenant;
  st.status.state = "starting";
  self->monitor(st.token);
  // The session dies with its supervisor, whatever the reason.
  st.child = std::make_shared<caf::actor>();
  st.orderer_child = std::make_shared<caf::actor>();
  self->attach_functor([child = st.child, orderer = st.orderer_child](
                         const caf::error& reason) {
    for (auto* c : {child.get(), orderer.get()})
      if (*c)
        caf::anon_send_exit(*c, reason ? caf::exit_reason::user_shutdown
                                       : caf::exit_reason::normal);
  });
  self->set_down_handler([=](const caf::down_msg& msg) {
    auto& st = self->state;
    if (st.session && msg.source == st.session.address()) {
      *st.child = nullptr;
      on_session_exit(self, msg.reason);
      return;
    }
    if (st.orderer && msg.source == st.orderer.address()) {
      // Its kept state is intact: start the next one at once.
      *st.orderer_child = nullptr;
      st.orderer = nullptr;
      audit(self, "orderer_restarted", {{"reason", caf::to_string(msg.reason)}});
      if (crash_limit_hit(self, "orderer", msg.reason))
        return;
      spawn_orderer(self);
      return;
    }
    if (msg.source != st.token.address())
      return;
    // The token actor only stops on a fatal error (or with the tenant).
    fail_tenant(self, msg.reason ? msg.reason
                                 : make_error(errc::bad_credentials,
                                              "the token actor stopped"));
  });
  if (st.keep)
    spawn_orderer(self);
  launch(self);
  return {
    [=](channel_atom, const channel_info& ch) {
      auto& st = self->state;
      st.last_channel = ch;
      if (st.status.state != "connected") {
        set_state(self, "connected", "");
        audit(self, "tenant_connected", {{"channel", ch.id}});
      }
    },
    [=](restart_atom, uint64_t gen) {
      if (gen == self->state.restart_gen)
        launch(self);
    },
    [=](status_atom) { return self->state.status; },
    [=](stats_atom) -> caf::result<orderer_stats> {
      auto& st = self->state;
      if (!st.orderer) {
        orderer_stats none;
        none.tenant = st.cfg.tenant;
        return none;
      }
      return self->delegate(st.orderer, stats_atom::value);
    },
    [=](children_atom) {
      auto& st = self->state;
      return std::make_tuple(st.session, caf::actor_cast<caf::actor>(st.orderer));
    },
    [=](stop_atom) {
      auto& st = self->state;
      st.stopping = true;
      ++st.restart_gen; // cancels a pending restart
      if (st.session) {
        self->send_exit(st.session, caf::exit_reason::user_shutdown);
        return;
      }
      finish_stop(self);
    },
  };
}

} // namespace gcstream
