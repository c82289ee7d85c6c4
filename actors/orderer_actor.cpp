#include "actors/orderer_actor.hpp"

#include <algorithm>

#include <caf/all.hpp>

namespace gcstream {

using namespace std::chrono;

orderer_keep::orderer_keep(orderer_settings c, std::vector<sink_spec> sinks)
  : cfg(std::move(c)),
    dedupe(cfg.dedupe_max_ids, cfg.dedupe_max_age_ms),
    reorder(cfg.reorder) {
  counters.tenant = cfg.tenant;
  slots.reserve(sinks.size());
  for (auto& s : sinks)
    slots.push_back(slot{std::move(s), sink_outbox{cfg.tenant, cfg.outbox}, {}});
}

void orderer_keep::attach_journal(std::unique_ptr<journal> j) {
  store = std::move(j);
  if (store)
    replay = store->load();
}

void orderer_keep::stop_sinks() {
  for (auto& s : slots)
    if (s.handle) {
      caf::anon_send_exit(s.handle, caf::exit_reason::user_shutdown);
      s.handle = nullptr;
    }
}

namespace {

int64_t now_ms(orderer_pointer self) {
  return duration_cast<milliseconds>(self->clock().now().time_since_epoch())
    .count();
}

void audit(orderer_pointer self, std::string what,
           std::vector<std::pair<std::string, std::string>> fields) {
  auto& st = self->state;
  if (st.observer)
    self->send(st.observer,
               audit_event{st.keep->cfg.tenant, std::move(what), std::move(fields)});
}

void pump(orderer_pointer self, size_t i);

// One more sink has these events: remove from the journal what every sink
// has now.
void release_journaled(orderer_pointer self, const event_batch& b) {
  auto& k = *self->state.keep;
  std::vector<uint64_t> done;
  for (auto& e : b.events) {
    if (e.journal_id == 0)
      continue;
    auto it = k.unacked_by.find(e.journal_id);
    if (it == k.unacked_by.end())
      continue;
    if (--it->second == 0) {
      done.push_back(e.journal_id);
      k.unacked_by.erase(it);
    }
  }
  if (!k.store->remove(done))
    audit(self, "journal_failed", {{"operation", "remove"},
                                   {"error", k.store->last_error()}});
}

// Sends the outbox's own message (deliver_atom, event_batch): shared, not
// copied (see sink_outbox.hpp).
void send_batch(orderer_pointer self, size_t i, const outbox_batch& b) {
  auto& slot = self->state.keep->slots[i];
  if (!slot.handle)
    return; // it restarts, and then gets every unacknowledged batch
  auto to = caf::actor_cast<caf::actor>(slot.handle);
  auto seq = b->seq;
  auto gen = slot.gen;
  self->request(to, caf::infinite, b.message())
    .then(
      [=](uint64_t acked) {
        auto& k = *self->state.keep;
        if (k.store)
          if (auto* b = k.slots[i].outbox.find(acked))
            release_journaled(self, **b);
        k.slots[i].outbox.ack(acked);
        pump(self, i);
      },
      [=](caf::error& err) {
        // A dead sink gets everything again when it restarts (down handler).
        if (err == caf::sec::request_receiver_down)
          return;
        // It refused the batch: offer it again later (unless it died).
        self->delayed_send(self,
                           milliseconds{self->state.keep->cfg.sink_restart_delay_ms},
                           resend_atom::value, i, seq, gen);
      });
}

void check_drains(orderer_pointer self, int64_t now);

// Sends what the sink has credit for.
void pump(orderer_pointer self, size_t i) {
  auto& st = self->state;
  auto& slot = st.keep->slots[i];
  auto now = now_ms(self);
  bool partial = st.keep->cfg.linger_ms <= 0 || !st.drains.empty()
                 || (slot.linger_until >= 0 && slot.linger_until <= now);
  while (auto b = slot.outbox.next(partial))
    send_batch(self, i, b);
  if (slot.outbox.waiting_events() == 0)
    slot.linger_until = -1;
  else if (slot.linger_until < 0)
    slot.linger_until = now + st.keep->cfg.linger_ms;
  check_drains(self, now);
}

void note_drops(orderer_pointer self, size_t i, size_t n, int64_t now) {
  auto& slot = self->state.keep->slots[i];
  slot.drops_unreported += n;
  if (slot.drops_unreported == 0)
    return;
  // INT64_MIN means "never audited"; compare without subtracting it.
  if (slot.last_drop_audit_ms != INT64_MIN
      && now - slot.last_drop_audit_ms < 1000)
    return;
  audit(self, "events_dropped",
        {{"sink", slot.spec.name},
         {"count", std::to_string(slot.drops_unreported)},
         {"reason", "the sink's queue is full"}});
  slot.drops_unreported = 0;
  slot.last_drop_audit_ms = now;
}

// Hands released events to every sink of the kind, moving them into the
// last one (one copy per extra sink; the frames are shared, not copied).
void distribute(orderer_pointer self, std::vector<event>& evs, bool late_only,
                int64_t now) {
  if (evs.empty())
    return;
  auto& slots = self->state.keep->slots;
  size_t last = slots.size();
  for (size_t i = 0; i < slots.size(); ++i)
    if (slots[i].spec.late_only == late_only)
      last = i;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (slots[i].spec.late_only != late_only)
      continue;
    if (i == last) {
      for (auto& e : evs)
        slots[i].outbox.add(std::move(e));
    } else {
      slots[i].outbox.add(evs);
    }
    pump(self, i); // what has credit goes first; the cap applies to the rest
    // Journaled events dropped here stay in the journal (the next start
    // delivers them); they are no longer waited for.
    std::vector<uint64_t> spilled;
    note_drops(self, i, slots[i].outbox.trim(&spilled), now);
    for (auto id : spilled)
      self->state.keep->unacked_by.erase(id);
  }
  evs.clear();
}

void schedule(orderer_pointer self, int64_t now) {
  auto& st = self->state;
  int64_t due = st.keep->reorder.next_deadline();
  if (due < 0)
    due = INT64_MAX;
  for (auto& s : st.keep->slots)
    if (s.linger_until >= 0)
      due = std::min(due, s.linger_until);
  for (auto& d : st.drains)
    due = std::min(due, d.second);
  if (due >= st.tick_at)
    return;
  st.tick_at = due;
  self->delayed_send(self, milliseconds{std::max<int64_t>(0, due - now)},
                     tick_atom::value);
}

void release(orderer_pointer self, int64_t now) {
  auto& k = *self->state.keep;
  auto& out = self->state.released; // distribute() leaves it empty
  k.counters.released_early += k.reorder.release(now, out);
  distribute(self, out, false, now);
}

void check_drains(orderer_pointer self, int64_t now) {
  auto& st = self->state;
  if (st.drains.empty())
    return;
  bool idle = st.keep->reorder.size() == 0
              && std::all_of(st.keep->slots.begin(), st.keep->slots.end(),
                             [](auto& s) { return s.outbox.idle(); });
  auto drains = std::move(st.drains);
  st.drains.clear();
  for (auto& d : drains) {
    if (idle)
      d.first.deliver(true);
    else if (d.second <= now)
      d.first.deliver(false);
    else
      st.drains.push_back(std::move(d));
  }
}

void start_sink(orderer_pointer self, size_t i) {
  auto& slot = self->state.keep->slots[i];
  if (!slot.handle) {
    auto& k = *self->state.keep;
    slot.handle = slot.spec.make(sink_context{self->system(), k.cfg.tenant, k.http});
    if (!slot.handle)
      return;
  }
  ++slot.gen;
  self->monitor(slot.handle);
  for (auto& b : slot.outbox.unacknowledged())
    send_batch(self, i, b);
  pump(self, i);
}

size_t sinks_of_kind(const orderer_keep& k, bool late_only) {
  return static_cast<size_t>(std::count_if(
    k.slots.begin(), k.slots.end(),
    [&](const orderer_keep::slot& s) { return s.spec.late_only == late_only; }));
}

// Dedupes, journals, reorders and hands out new events.
void admit(orderer_pointer self, std::vector<event>& events) {
  auto& k = *self->state.keep;
  auto now = now_ms(self);
  auto& fresh = self->state.fresh;
  fresh.clear();
  // Every id's hash first, fetching its slot of the dedupe table, so that
  // the table's cache misses overlap (dedupe_window::prefetch); and before
  // that, the ids themselves: they are in frames another core just parsed.
  for (auto& e : events)
    __builtin_prefetch(e.id().data());
  auto& hashes = self->state.hashes;
  hashes.clear();
  for (auto& e : events) {
    auto h = e.id().empty() ? 0 : dedupe_window::hash_of(e.id());
    k.dedupe.prefetch(h);
    hashes.push_back(h);
  }
  for (size_t i = 0; i < events.size(); ++i) {
    auto& e = events[i];
    ++k.counters.received;
    // An event without an id cannot be deduplicated; it is kept.
    if (hashes[i] != 0 && k.dedupe.seen_hash(hashes[i], now)) {
      ++k.counters.duplicates;
      continue;
    }
    fresh.push_back(&e);
    k.counters.event_latency.observe(
      e.received_ms > e.ts_ms ? double(e.received_ms - e.ts_ms) / 1000.0 : 0.0);
  }
  if (k.store) {
    std::vector<event*> unstored;
    for (auto* e : fresh)
      if (e->journal_id == 0)
        unstored.push_back(e); // replayed events are stored already
    if (!k.store->append(unstored))
      audit(self, "journal_failed",
            {{"operation", "append"}, {"error", k.store->last_error()}});
  }
  std::vector<event> late;
  for (auto* e : fresh) {
    bool on_time = e->ts_ms >= k.reorder.released_ts();
    bool routed = !on_time && k.cfg.late == late_policy::route;
    if (e->journal_id != 0) {
      auto n = static_cast<uint32_t>(sinks_of_kind(k, routed));
      if (!on_time && k.cfg.late == late_policy::drop)
        n = 0;
      if (n > 0)
        k.unacked_by[e->journal_id] = n;
      else
        k.store->remove({e->journal_id});
    }
    if (k.reorder.push(*e, now))
      continue;
    ++k.counters.late;
    e->late = true;
    if (k.cfg.late == late_policy::drop)
      ++k.counters.late_dropped;
    else
      late.push_back(std::move(*e));
  }
  release(self, now);
  distribute(self, late, k.cfg.late == late_policy::route, now);
  schedule(self, now);
}

} // namespace

orderer_actor::behavior_type
orderer_actor_impl(orderer_pointer self, std::shared_ptr<orderer_keep> keep,
                   audit_actor observer) {
  auto& st = self->state;
  st.keep = std::move(keep);
  st.observer = std::move(observer);
  ++st.keep->counters.incarnations;
  // A planned stop takes the sinks along; a crash leaves them to the next
  // orderer, with everything they have not acknowledged.
  self->attach_functor([keep = st.keep](const caf::error& reason) {
    if (!reason || reason == caf::exit_reason::user_shutdown)
      keep->stop_sinks();
  });
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& slots = self->state.keep->slots;
    for (size_t i = 0; i < slots.size(); ++i) {
      if (!slots[i].handle || slots[i].handle.address() != dm.source)
        continue;
      slots[i].handle = nullptr;
      ++slots[i].gen;
      ++slots[i].restarts;
      audit(self, "sink_restarted",
            {{"sink", slots[i].spec.name}, {"reason", caf::to_string(dm.reason)}});
      self->delayed_send(self,
                         milliseconds{self->state.keep->cfg.sink_restart_delay_ms},
                         sink_down_atom::value, i);
    }
  });
  for (size_t i = 0; i < st.keep->slots.size(); ++i)
    start_sink(self, i);
  if (!st.keep->replay.empty()) {
    auto replay = std::move(st.keep->replay);
    st.keep->replay.clear();
    audit(self, "journal_replayed", {{"events", std::to_string(replay.size())}});
    admit(self, replay);
  }
  return {
    [=](ingest_atom, event_batch& b) -> uint64_t {
      admit(self, b.events);
      return b.seq;
    },
    [=](tick_atom) {
      auto now = now_ms(self);
      self->state.tick_at = INT64_MAX;
      release(self, now);
      for (size_t i = 0; i < self->state.keep->slots.size(); ++i)
        pump(self, i);
      check_drains(self, now);
      schedule(self, now);
    },
    [=](sink_down_atom, size_t i) {
      if (i < self->state.keep->slots.size())
        start_sink(self, i);
    },
    [=](resend_atom, size_t i, uint64_t seq, uint64_t gen) {
      auto& slots = self->state.keep->slots;
      if (i >= slots.size() || slots[i].gen != gen || !slots[i].handle)
        return;
      if (auto b = slots[i].outbox.find(seq))
        send_batch(self, i, *b);
    },
    [=](stats_atom) -> orderer_stats {
      auto& k = *self->state.keep;
      auto out = k.counters;
      out.reordering = k.reorder.size();
      for (auto& s : k.slots)
        out.sinks.push_back(sink_stats{s.spec.name, s.outbox.waiting_events(),
                                       s.outbox.in_flight_batches(),
                                       s.outbox.acknowledged_events(),
                                       s.outbox.dropped_events(), s.restarts});
      return out;
    },
    [=](drain_atom, caf::timespan timeout) -> caf::result<bool> {
      auto& st = self->state;
      auto now = now_ms(self);
      std::vector<event> out;
      st.keep->reorder.release_all(out);
      auto rp = self->make_response_promise<bool>();
      st.drains.emplace_back(
        rp, now + duration_cast<milliseconds>(timeout).count());
      distribute(self, out, false, now);
      for (size_t i = 0; i < st.keep->slots.size(); ++i)
        pump(self, i);
      check_drains(self, now);
      schedule(self, now);
      return rp;
    },
  };
}

} // namespace gcstream
