#include "actors/runtime_supervisor.hpp"

#include <caf/all.hpp>

#include "actors/tenant_supervisor.hpp"
#include "messages/errors.hpp"

namespace gcstream {

std::shared_ptr<tenant_core> process_core::tenant(const std::string& id) const {
  std::lock_guard<std::mutex> g{mtx};
  auto it = tenants.find(id);
  return it == tenants.end() ? nullptr : it->second;
}

void abandon_tenant(caf::actor_system&, tenant_core& core, const std::string& why,
                    bool failed) {
  if (core.done())
    return;
  auto h = core.handles();
  auto st = core.status();
  st.state = failed ? "failed" : "stopped";
  st.reason = why;
  audit(core.audit, core.id, failed ? "tenant_failed" : "drain_incomplete",
        {{"reason", why}});
  // Done first: the runtime's supervisor must not start these again.
  core.publish(st, tenant_handles{nullptr, nullptr, nullptr, nullptr, h.metrics});
  core.finish();
  for (auto* a : {&h.supervisor, &h.session, &h.orderer, &h.token})
    if (*a)
      caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
  for (auto& a : h.sessions)
    if (a && a != h.session)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  if (core.sockets)
    core.sockets->close_left(1000, "tenant stopped");
  std::vector<std::shared_ptr<tenant_sockets>> lanes;
  {
    std::lock_guard<std::mutex> g{core.lanes_mtx}; // (its supervisor may add some)
    for (auto& l : core.lanes)
      if (l.sockets && l.sockets != core.sockets)
        lanes.push_back(l.sockets);
  }
  for (auto& l : lanes)
    l->close_left(1000, "tenant stopped");
}

namespace {

using pointer = runtime_supervisor_pointer;

void report(pointer self, const std::string& tenant, std::string event,
            audit_fields f) {
  audit(self->state.pc->audit, tenant, std::move(event), std::move(f));
}

// The permits the tenants hold now: one per live channel, as their books
// say (actors/channel_permits.hpp).
std::vector<limiter_hold> holdings(const process_core& pc) {
  std::vector<limiter_hold> out;
  std::lock_guard<std::mutex> g{pc.mtx};
  for (auto& [id, core] : pc.tenants)
    if (!core->done() && core->permits)
      for (auto& h : core->permits->held())
        out.push_back(limiter_hold{core->permits->key(), h});
  return out;
}

void spawn_limiter(pointer self) {
  auto& st = self->state;
  auto lim = self->spawn(connection_limiter, st.pc->limiter_cfg, holdings(*st.pc));
  st.pc->limiter->set(lim);
  st.limiter = caf::actor_cast<caf::actor>(lim);
  self->monitor(st.limiter);
}

void spawn_audit_log(pointer self) {
  auto& st = self->state;
  if (!st.pc->audit)
    return;
  auto a = self->spawn(audit_log, st.pc->writer, st.pc->audit, st.pc->observer);
  st.audit_log = caf::actor_cast<caf::actor>(a);
  self->monitor(st.audit_log);
  std::lock_guard<std::mutex> g{st.pc->mtx};
  st.pc->audit_log = st.audit_log;
}

// Each supervisor is monitored once: a tenant added while this actor
// starts is both in the list it reads and in a watch message, and two
// monitors would count one death twice.
void watch(pointer self, const std::shared_ptr<tenant_core>& core) {
  if (core->done())
    return;
  if (auto sup = core->handles().supervisor) {
    if (self->state.watched.emplace(sup.address(), core).second)
      self->monitor(sup);
  } else
    self->send(self, respawn_atom::value, std::string{"supervisor"}, core->id);
}

void start_supervisor(pointer self, const std::shared_ptr<tenant_core>& core) {
  if (core->done())
    return;
  if (auto cur = core->handles().supervisor; cur && self->state.watched.count(cur.address()))
    return; // one lives already
  auto sup = self->system().spawn(tenant_supervisor, core);
  core->set_supervisor(caf::actor_cast<caf::actor>(sup));
  self->state.watched.emplace(sup.address(), core);
  self->monitor(sup);
}

// A shared actor died: start it again, or, past its limit, fail the process.
void on_shared_exit(pointer self, const char* kind, restart_tracker& crashes,
                    const caf::error& reason) {
  auto why = self->system().render(reason);
  report(self, "", "actor_restarted",
         {{"kind", kind}, {"reason", why},
          {"restarts", std::to_string(crashes.total() + 1)}});
  if (!crashes.note(now_ms(self))) {
    auto msg = std::string{"the "} + kind + " died "
               + std::to_string(crashes.recent()) + " times within "
               + std::to_string(crashes.policy().window.count() / 1000)
               + " s (last: " + why + ")";
    report(self, "", "process_failed", {{"reason", msg}});
    if (self->state.pc->on_fatal)
      self->state.pc->on_fatal(msg);
    return;
  }
  self->delayed_send(self, crashes.delay(self->state.rng), respawn_atom::value,
                     std::string{kind}, std::string{});
}

void on_down(pointer self, const caf::down_msg& dm) {
  auto& st = self->state;
  if (st.limiter && dm.source == st.limiter.address()) {
    st.limiter = nullptr;
    on_shared_exit(self, "limiter", st.limiter_crashes, dm.reason);
    return;
  }
  if (st.audit_log && dm.source == st.audit_log.address()) {
    st.audit_log = nullptr;
    on_shared_exit(self, "audit", st.audit_crashes, dm.reason);
    return;
  }
  std::shared_ptr<tenant_core> core;
  if (auto it = st.watched.find(dm.source); it != st.watched.end()) {
    core = it->second.lock();
    st.watched.erase(it);
  }
  if (core) { // still a tenant, and this was its supervisor now
    auto sup = core->handles().supervisor;
    std::lock_guard<std::mutex> g{st.pc->mtx};
    auto t = st.pc->tenants.find(core->id);
    if (!sup || sup.address() != dm.source || t == st.pc->tenants.end()
        || t->second != core)
      core = nullptr;
  }
  if (!core || core->done())
    return; // it ended its tenant (stopped or failed), or was removed
  auto why = self->system().render(dm.reason);
  auto& crashes = st.supervisor_crashes
                    .try_emplace(core->id, st.pc->supervisor_restarts)
                    .first->second;
  audit(core->audit, core->id, "actor_restarted",
        {{"kind", "supervisor"}, {"reason", why},
         {"restarts", std::to_string(crashes.total() + 1)}});
  if (!crashes.note(now_ms(self))) {
    abandon_tenant(self->system(), *core,
                   "tenant " + core->id + ": its supervisor died "
                     + std::to_string(crashes.recent()) + " times within "
                     + std::to_string(crashes.policy().window.count() / 1000)
                     + " s (last: " + why + ")",
                   true);
    return;
  }
  self->delayed_send(self, crashes.delay(st.rng), respawn_atom::value,
                     std::string{"supervisor"}, core->id);
}

void respawn(pointer self, const std::string& kind, const std::string& id) {
  auto& st = self->state;
  if (kind == "limiter" && !st.limiter) {
    spawn_limiter(self);
    // The permits asked for and not granted are asked for again, on behalf
    // of whoever asked (a supervisor, a session's rollover).
    std::lock_guard<std::mutex> g{st.pc->mtx};
    for (auto& [tid, core] : st.pc->tenants)
      if (core->permits)
        core->permits->ask_again_all();
  } else if (kind == "audit" && !st.audit_log) {
    spawn_audit_log(self);
  } else if (kind == "supervisor") {
    if (auto core = st.pc->tenant(id))
      start_supervisor(self, core);
  }
}

} // namespace

runtime_supervisor_actor::behavior_type
runtime_supervisor(pointer self, std::shared_ptr<process_core> pc) {
  auto& st = self->state;
  st.pc = std::move(pc);
  st.limiter_crashes = restart_tracker{st.pc->shared_restarts};
  st.audit_crashes = restart_tracker{st.pc->shared_restarts};
  self->set_down_handler([=](const caf::down_msg& dm) { on_down(self, dm); });
  // Take over what lives, start what does not.
  if (auto lim = st.pc->limiter->get()) {
    st.limiter = caf::actor_cast<caf::actor>(lim);
    self->monitor(st.limiter);
  } else {
    spawn_limiter(self);
  }
  {
    std::unique_lock<std::mutex> g{st.pc->mtx};
    auto live = st.pc->audit_log;
    g.unlock();
    if (live) {
      st.audit_log = live;
      self->monitor(st.audit_log);
    } else {
      spawn_audit_log(self);
    }
  }
  std::vector<std::shared_ptr<tenant_core>> cores;
  {
    std::lock_guard<std::mutex> g{st.pc->mtx};
    for (auto& kv : st.pc->tenants)
      cores.push_back(kv.second);
  }
  for (auto& c : cores)
    watch(self, c);
  return {
    [=](watch_atom, const std::string& id) {
      if (auto core = self->state.pc->tenant(id))
        watch(self, core);
    },
    [=](respawn_atom, const std::string& kind, const std::string& id) {
      respawn(self, kind, id);
    },
  };
}

} // namespace gcstream
