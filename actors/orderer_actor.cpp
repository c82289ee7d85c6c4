#include "actors/orderer_actor.hpp"

#include <algorithm>
#include <unordered_set>

#include <caf/all.hpp>

#include "messages/errors.hpp"

namespace gcstream {

using namespace std::chrono;

orderer_keep::orderer_keep(orderer_settings c, std::vector<sink_spec> sinks)
  : cfg(std::move(c)),
    dedupe(cfg.dedupe_max_ids, cfg.dedupe_max_age_ms),
    reorder(cfg.reorder),
    dead_letters(cfg.dead_letter_path) {
  counters.tenant = cfg.tenant;
  slots.reserve(sinks.size());
  for (auto& s : sinks)
    slots.push_back(slot{std::move(s), sink_outbox{cfg.tenant, cfg.outbox}, {},
                         restart_tracker{cfg.sink_restarts}});
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
  publish_sinks();
}

std::vector<caf::actor> orderer_keep::sink_handles() const {
  std::lock_guard<std::mutex> g{sinks_mtx_};
  return published_sinks_;
}

void orderer_keep::publish_sinks() {
  std::vector<caf::actor> hs;
  for (auto& s : slots)
    if (s.handle)
      hs.push_back(caf::actor_cast<caf::actor>(s.handle));
  std::lock_guard<std::mutex> g{sinks_mtx_};
  published_sinks_ = std::move(hs);
}

size_t orderer_keep::held_events() const {
  size_t n = reorder.size();
  for (auto& s : slots)
    n += s.outbox.held_events();
  return n;
}

namespace {

void report(orderer_pointer self, std::string what, audit_fields fields) {
  auto& st = self->state;
  audit(st.audit, st.keep->cfg.tenant, std::move(what), std::move(fields));
}

// Tells the tenant's budget what the orderer holds now.
orderer_stats stats_of(const orderer_keep& k);

// After each message that changed something: the held events to the
// budget, the counters to the board.
void publish_held(orderer_pointer self) {
  auto& k = *self->state.keep;
  if (k.budget)
    k.budget->set_orderer(k.held_events());
  k.board->publish(stats_of(k), k.rate);
}

void pump(orderer_pointer self, size_t i);

// One more sink is done with these events (acknowledged or dead-lettered):
// remove from the journal what every sink is done with.
void release_journaled(orderer_pointer self, const event_batch& b) {
  auto& k = *self->state.keep;
  if (!k.store)
    return;
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
  if (!k.store->remove(done)) {
    ++k.counters.journal_errors;
    report(self, "journal_failed",
           {{"operation", "remove"},
            {"error", k.store->last_error()},
            {"effect", "the events stay in the journal and are delivered "
                       "again at the next start"}});
  }
}

void on_refusal(orderer_pointer self, size_t i, uint64_t gen, uint64_t seq,
                const caf::error& err);

void schedule(orderer_pointer self, int64_t now);

// Sends the outbox's own message (deliver_atom, event_batch): shared, not
// copied (see sink_outbox.hpp). Its deadline (sink_timeout_ms) is watched by
// the orderer's own timer, not by a request timeout: that would cost a clock
// entry, and a wake-up of the clock thread, per batch.
void send_batch(orderer_pointer self, size_t i, const outbox_batch& b) {
  auto& k = *self->state.keep;
  auto& slot = k.slots[i];
  if (!slot.handle)
    return; // it restarts, and then gets the batch again
  auto to = caf::actor_cast<caf::actor>(slot.handle);
  auto seq = b->seq;
  auto gen = slot.gen;
  auto send = ++slot.send_gen;
  auto now = now_ms(self);
  slot.deadline_ms = now + k.cfg.sink_timeout_ms;
  schedule(self, now);
  self->request(to, caf::infinite, b.message())
    .then(
      [=](uint64_t acked) {
        // A late answer still counts: the sink did take the batch.
        auto& k = *self->state.keep;
        auto& slot = k.slots[i];
        if (auto* b = slot.outbox.find(acked)) {
          auto wall = wall_ms();
          for (auto& e : (*b)->events)
            k.counters.delivery_latency.observe(
              wall > e.received_ms ? double(wall - e.received_ms) / 1000.0 : 0.0);
          release_journaled(self, **b);
          slot.deadline_ms = -1;
        }
        slot.outbox.ack(acked);
        pump(self, i);
        publish_held(self);
      },
      [=](caf::error& err) {
        if (self->state.keep->slots[i].send_gen != send)
          return; // an answer to a send that timed out (and went again)
        on_refusal(self, i, gen, seq, err);
      });
}

// A sink that did not answer its batch in time refused it.
void check_sink_deadlines(orderer_pointer self, int64_t now) {
  auto& k = *self->state.keep;
  for (size_t i = 0; i < k.slots.size(); ++i) {
    auto& slot = k.slots[i];
    if (slot.deadline_ms < 0 || slot.deadline_ms > now)
      continue;
    slot.deadline_ms = -1;
    ++slot.send_gen; // its answer, if it comes, is too late to refuse
    if (auto& b = slot.outbox.unacknowledged(); b && slot.handle)
      on_refusal(self, i, slot.gen, b->seq, caf::sec::request_timeout);
  }
}

// Gives up on the batch out: to the dead-letter file (or, without one,
// counted and dropped), then the stream goes on.
void dead_letter(orderer_pointer self, size_t i, uint64_t seq,
                 const std::string& reason) {
  auto& k = *self->state.keep;
  auto& slot = k.slots[i];
  auto* b = slot.outbox.find(seq);
  if (!b)
    return;
  bool to_file = !k.cfg.dead_letter_path.empty();
  if (to_file && !k.dead_letters.append(**b, slot.spec.name, reason, wall_ms())) {
    // Nowhere to put it: it stays out, and is offered to the sink again
    // (and to the file after the next refusal).
    report(self, "dead_letter_failed",
           {{"sink", slot.spec.name},
            {"batch", std::to_string(seq)},
            {"error", k.dead_letters.error()}});
    self->delayed_send(self, k.cfg.retry.cap, resend_atom::value, i, seq,
                       slot.gen);
    return;
  }
  auto events = (*b)->events.size();
  auto batch = slot.outbox.give_up(seq);
  release_journaled(self, *batch);
  report(self, "batch_dead_lettered",
         {{"sink", slot.spec.name},
          {"batch", std::to_string(seq)},
          {"events", std::to_string(events)},
          {"reason", reason},
          {"file", to_file ? k.cfg.dead_letter_path : std::string{"none (dropped)"}}});
  pump(self, i);
  publish_held(self);
}

// The sink refused batch `seq` (an error, or no answer in time): offer it
// again after a backoff, before anything else, or give up on it.
void on_refusal(orderer_pointer self, size_t i, uint64_t gen, uint64_t seq,
                const caf::error& err) {
  // A dead sink gets the batch again when it restarts (down handler).
  if (err == caf::sec::request_receiver_down)
    return;
  auto& k = *self->state.keep;
  auto& slot = k.slots[i];
  if (slot.gen != gen)
    return; // meant for a sink that has restarted since
  auto reason = err == caf::sec::request_timeout
                  ? "no answer within " + std::to_string(k.cfg.sink_timeout_ms)
                      + " ms"
                  : (code_of(err) != errc::none ? reason_of(err)
                                                : self->system().render(err));
  auto n = slot.outbox.refused(seq, reason);
  if (n == 0)
    return;
  slot.deadline_ms = -1;
  bool final = code_of(err) == errc::sink_rejected;
  report(self, "batch_refused",
         {{"sink", slot.spec.name},
          {"batch", std::to_string(seq)},
          {"refusals", std::to_string(n)},
          {"final", final ? "true" : "false"},
          {"reason", reason}});
  if (final || n >= k.cfg.max_refusals) {
    dead_letter(self, i, seq, reason);
    return;
  }
  const auto& policy = slot.spec.retry ? *slot.spec.retry : k.cfg.retry;
  auto delay = std::max(full_jitter(policy, n - 1, k.rng),
                        milliseconds{retry_after_of(err)});
  self->delayed_send(self, delay, resend_atom::value, i, seq, gen);
}

void check_drains(orderer_pointer self, int64_t now);

// Sends the next batch when the sink has none out.
void pump(orderer_pointer self, size_t i) {
  auto& st = self->state;
  auto& slot = st.keep->slots[i];
  auto now = now_ms(self);
  bool partial = st.keep->cfg.linger_ms <= 0 || !st.drains.empty()
                 || (slot.linger_until >= 0 && slot.linger_until <= now);
  if (auto b = slot.outbox.next(partial))
    send_batch(self, i, b);
  // A partial batch lingers only while the sink could take it: with a batch
  // out, the next goes when that one is acknowledged (no timer needed).
  if (slot.outbox.waiting_events() == 0 || slot.outbox.in_flight_batches() > 0)
    slot.linger_until = -1;
  else if (slot.linger_until < 0)
    slot.linger_until = now + st.keep->cfg.linger_ms;
  check_drains(self, now);
}

void note_drops(orderer_pointer self, size_t i, size_t n, int64_t now,
                const char* why) {
  auto& slot = self->state.keep->slots[i];
  slot.drops_unreported += n;
  if (slot.drops_unreported == 0)
    return;
  // INT64_MIN means "never audited"; compare without subtracting it.
  if (slot.last_drop_audit_ms != INT64_MIN
      && now - slot.last_drop_audit_ms < 1000)
    return;
  report(self, "events_dropped",
         {{"sink", slot.spec.name},
          {"count", std::to_string(slot.drops_unreported)},
          {"reason", why}});
  slot.drops_unreported = 0;
  slot.last_drop_audit_ms = now;
}

// Under drop_oldest, the tenant's budget caps what the sink queues hold:
// the oldest waiting events of the longest queues go first.
void enforce_budget(orderer_pointer self, int64_t now) {
  auto& k = *self->state.keep;
  if (!k.budget || k.budget->policy() != overflow_policy::drop_oldest)
    return;
  k.budget->set_orderer(k.held_events());
  auto excess = k.budget->excess();
  while (excess > 0) {
    auto longest = std::max_element(k.slots.begin(), k.slots.end(),
                                     [](auto& a, auto& b) {
                                       return a.outbox.waiting_events()
                                              < b.outbox.waiting_events();
                                     });
    if (longest == k.slots.end() || longest->outbox.waiting_events() == 0)
      return; // what is left is out or reordering: nothing to drop here
    auto keep_n = longest->outbox.waiting_events() - std::min(
                    excess, longest->outbox.waiting_events());
    std::vector<uint64_t> spilled;
    auto n = longest->outbox.trim_to(keep_n, &spilled);
    for (auto id : spilled)
      k.unacked_by.erase(id);
    note_drops(self, static_cast<size_t>(longest - k.slots.begin()), n, now,
               "the tenant's buffer is full (overflow: drop_oldest)");
    excess -= std::min(excess, n);
  }
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
    pump(self, i); // what can go goes first; the cap applies to the rest
    // Journaled events dropped here stay in the journal (the next start
    // delivers them); they are no longer waited for.
    std::vector<uint64_t> spilled;
    note_drops(self, i, slots[i].outbox.trim(&spilled), now,
               "the sink's queue is full");
    for (auto id : spilled)
      self->state.keep->unacked_by.erase(id);
  }
  evs.clear();
  enforce_budget(self, now);
}

void schedule(orderer_pointer self, int64_t now) {
  auto& st = self->state;
  int64_t due = st.keep->reorder.next_deadline();
  if (due < 0)
    due = INT64_MAX;
  for (auto& s : st.keep->slots) {
    if (s.linger_until >= 0)
      due = std::min(due, s.linger_until);
    if (s.deadline_ms >= 0)
      due = std::min(due, s.deadline_ms);
  }
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
  auto& k = *self->state.keep;
  auto& slot = k.slots[i];
  if (!slot.handle) {
    slot.handle = slot.spec.make(sink_context{self->system(), k.cfg.tenant, k.http});
    if (!slot.handle)
      return;
  }
  ++slot.gen;
  self->monitor(slot.handle);
  k.publish_sinks();
  if (auto& b = slot.outbox.unacknowledged())
    send_batch(self, i, b);
  pump(self, i);
}

// A sink died: the batch it had out counts as refused by it (a batch that
// kills its sink every time ends in the dead letters, not in a loop), and it
// starts again after a delay that grows while it keeps dying. Past its
// restart limit the orderer gives up, and so the tenant fails loudly.
void on_sink_down(orderer_pointer self, size_t i, const caf::error& reason) {
  auto& k = *self->state.keep;
  auto& slot = k.slots[i];
  slot.handle = nullptr;
  ++slot.gen;
  slot.deadline_ms = -1;
  k.publish_sinks();
  auto now = now_ms(self);
  bool within = slot.restarts.note(now);
  report(self, "actor_restarted",
         {{"kind", "sink"},
          {"sink", slot.spec.name},
          {"reason", self->system().render(reason)},
          {"restarts", std::to_string(slot.restarts.total())}});
  if (!within) {
    self->quit(make_error(
      errc::restart_limit,
      "tenant " + k.cfg.tenant + ": sink " + slot.spec.name + " died "
        + std::to_string(slot.restarts.recent()) + " times within "
        + std::to_string(slot.restarts.policy().window.count() / 1000)
        + " s (last: " + self->system().render(reason) + ")"));
    return;
  }
  if (auto& b = slot.outbox.unacknowledged()) {
    auto seq = b->seq;
    auto why = "the sink died with it (" + self->system().render(reason) + ")";
    auto n = slot.outbox.refused(seq, why);
    report(self, "batch_refused",
           {{"sink", slot.spec.name},
            {"batch", std::to_string(seq)},
            {"refusals", std::to_string(n)},
            {"final", "false"},
            {"reason", why}});
    if (n >= k.cfg.max_refusals)
      dead_letter(self, i, seq, why);
  }
  auto delay = milliseconds{k.cfg.sink_restart_delay_ms} + slot.restarts.delay(k.rng);
  self->delayed_send(self, delay, sink_down_atom::value, i);
}

size_t sinks_of_kind(const orderer_keep& k, bool late_only) {
  return static_cast<size_t>(std::count_if(
    k.slots.begin(), k.slots.end(),
    [&](const orderer_keep::slot& s) { return s.spec.late_only == late_only; }));
}

// Which events of the batch are new, by their dedupe hashes: first every
// id's hash, fetching its slot of the dedupe table, so that the table's
// cache misses overlap (dedupe_window::prefetch); and before that, the ids
// themselves: they are in frames another core just parsed.
void hash_ids(orderer_pointer self, std::vector<event>& events) {
  auto& k = *self->state.keep;
  for (auto& e : events)
    __builtin_prefetch(e.id().data());
  auto& hashes = self->state.hashes;
  hashes.clear();
  for (auto& e : events) {
    auto h = e.id().empty() ? 0 : dedupe_window::hash_of(e.id());
    k.dedupe.prefetch(h);
    hashes.push_back(h);
  }
}

// Without a journal: dedupe as it goes.
void pick_fresh(orderer_pointer self, std::vector<event>& events, int64_t now) {
  auto& k = *self->state.keep;
  auto& hashes = self->state.hashes;
  auto& fresh = self->state.fresh;
  for (size_t i = 0; i < events.size(); ++i) {
    // An event without an id cannot be deduplicated; it is kept.
    if (hashes[i] != 0 && k.dedupe.seen_hash(hashes[i], now))
      continue;
    fresh.push_back(&events[i]);
  }
}

// With a journal: the new events are stored first, and only then recorded
// as seen, so that a batch the journal could not take is new again when it
// comes back. False when the journal failed.
bool pick_and_store_fresh(orderer_pointer self, std::vector<event>& events,
                          int64_t now) {
  auto& k = *self->state.keep;
  auto& hashes = self->state.hashes;
  auto& fresh = self->state.fresh;
  k.dedupe.expire(now);
  std::unordered_set<uint64_t> in_batch;
  std::vector<size_t> picked;
  for (size_t i = 0; i < events.size(); ++i) {
    auto h = hashes[i];
    if (h != 0 && (k.dedupe.contains(h) || !in_batch.insert(h).second))
      continue;
    picked.push_back(i);
  }
  std::vector<event*> unstored;
  for (auto i : picked)
    if (events[i].journal_id == 0)
      unstored.push_back(&events[i]); // replayed events are stored already
  if (!k.store->append(unstored)) {
    ++k.counters.journal_errors;
    if (k.journal_failing_since < 0
        || now - k.journal_last_audit_ms >= 10000) {
      report(self, "journal_failed",
             {{"operation", "append"},
              {"error", k.store->last_error()},
              {"effect", "events wait in the inbox until the journal takes "
                         "them; nothing is acknowledged unstored"}});
      k.journal_last_audit_ms = now;
    }
    if (k.journal_failing_since < 0)
      k.journal_failing_since = now;
    return false;
  }
  if (k.journal_failing_since >= 0) {
    report(self, "journal_recovered",
           {{"failed_ms", std::to_string(now - k.journal_failing_since)}});
    k.journal_failing_since = -1;
  }
  for (auto i : picked) {
    if (hashes[i] != 0)
      k.dedupe.seen_hash(hashes[i], now);
    fresh.push_back(&events[i]);
  }
  return true;
}

// Dedupes, journals, reorders and hands out new events. False when the
// journal could not store them: then nothing of the batch was taken.
bool admit(orderer_pointer self, std::vector<event>& events) {
  auto& k = *self->state.keep;
  auto now = now_ms(self);
  auto& fresh = self->state.fresh;
  fresh.clear();
  hash_ids(self, events);
  if (k.store) {
    if (!pick_and_store_fresh(self, events, now))
      return false;
  } else {
    pick_fresh(self, events, now);
  }
  k.counters.received += events.size();
  k.rate.add(wall_ms(), events.size());
  k.counters.duplicates += events.size() - fresh.size();
  for (auto* e : fresh)
    k.counters.event_latency.observe(
      e->received_ms > e->ts_ms ? double(e->received_ms - e->ts_ms) / 1000.0
                                : 0.0);
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
  publish_held(self);
  return true;
}

orderer_stats stats_of(const orderer_keep& k) {
  auto out = k.counters;
  out.reordering = k.reorder.size();
  out.held = k.held_events();
  for (auto& s : k.slots)
    out.sinks.push_back(sink_stats{s.spec.name, s.outbox.waiting_events(),
                                   s.outbox.in_flight_batches(),
                                   s.outbox.acknowledged_events(),
                                   s.outbox.dropped_events(), s.restarts.total(),
                                   s.outbox.refused_batches(), s.outbox.refusals(),
                                   s.outbox.dead_lettered_events()});
  return out;
}

} // namespace

orderer_actor::behavior_type orderer_actor_impl(orderer_pointer self,
                                                std::shared_ptr<orderer_keep> keep,
                                                audit_ref audit) {
  auto& st = self->state;
  st.keep = std::move(keep);
  st.audit = std::move(audit);
  ++st.keep->counters.incarnations;
  // A planned stop takes the sinks along; a crash leaves them to the next
  // orderer, with everything they have not acknowledged.
  self->attach_functor([keep = st.keep](const caf::error& reason) {
    if (!reason || reason == caf::exit_reason::user_shutdown)
      keep->stop_sinks();
  });
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& slots = self->state.keep->slots;
    for (size_t i = 0; i < slots.size(); ++i)
      if (slots[i].handle && slots[i].handle.address() == dm.source) {
        on_sink_down(self, i, dm.reason);
        return;
      }
  });
  for (size_t i = 0; i < st.keep->slots.size(); ++i)
    start_sink(self, i);
  if (!st.keep->replay.empty()) {
    auto replay = std::move(st.keep->replay);
    st.keep->replay.clear();
    report(self, "journal_replayed", {{"events", std::to_string(replay.size())}});
    if (!admit(self, replay))
      self->state.keep->replay = std::move(replay); // stored already: cannot fail
  }
  // What a predecessor held in the reorder buffer is released on time, even
  // if nothing new comes.
  schedule(self, now_ms(self));
  publish_held(self);
  return {
    [=](ingest_atom, event_batch& b) -> caf::result<uint64_t> {
      if (!admit(self, b.events))
        return make_error(errc::journal_failed,
                          "tenant " + self->state.keep->cfg.tenant
                            + ": the journal could not store the batch: "
                            + self->state.keep->store->last_error());
      return b.seq;
    },
    [=](tick_atom) {
      auto now = now_ms(self);
      self->state.tick_at = INT64_MAX;
      check_sink_deadlines(self, now);
      release(self, now);
      for (size_t i = 0; i < self->state.keep->slots.size(); ++i)
        pump(self, i);
      check_drains(self, now);
      schedule(self, now);
      publish_held(self);
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
    [=](stats_atom) -> orderer_stats { return stats_of(*self->state.keep); },
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
      publish_held(self);
      return rp;
    },
  };
}

} // namespace gcstream
