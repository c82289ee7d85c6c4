#include "actors/connection_limiter.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <caf/all.hpp>

namespace gcstream {

using namespace std::chrono;

namespace {

int64_t now_ms(limiter_pointer self) {
  return duration_cast<milliseconds>(self->clock().now().time_since_epoch())
    .count();
}

double burst(const limiter_settings& cfg) {
  return std::max(1.0, cfg.connects_per_second);
}

limiter_state::bucket& bucket_of(limiter_pointer self, const std::string& key) {
  auto it = self->state.keys.find(key);
  if (it == self->state.keys.end()) {
    limiter_state::bucket b;
    b.tokens = burst(self->state.cfg);
    b.refilled_ms = now_ms(self);
    it = self->state.keys.emplace(key, std::move(b)).first;
  }
  return it->second;
}

void refill(limiter_pointer self, limiter_state::bucket& b) {
  auto now = now_ms(self);
  b.tokens = std::min(burst(self->state.cfg),
                      b.tokens
                        + double(now - b.refilled_ms) / 1000.0
                            * self->state.cfg.connects_per_second);
  b.refilled_ms = now;
}

uint64_t grant(limiter_pointer self, const std::string& key,
               limiter_state::bucket& b, const caf::actor_addr& holder) {
  auto& st = self->state;
  b.tokens -= 1.0;
  ++b.live;
  auto permit = ++st.next_permit;
  b.permits.insert(permit);
  if (holder) {
    if (st.holders.count(holder) == 0)
      self->monitor(holder);
    st.holders[holder].emplace(key, permit);
  }
  return permit;
}

// Grants what may be granted now, in order; arms the refill timer when the
// rate is what holds the queue.
void pump(limiter_pointer self, const std::string& key) {
  auto& st = self->state;
  auto& b = bucket_of(self, key);
  refill(self, b);
  while (!b.waiting.empty() && b.live < st.cfg.max_live && b.tokens >= 1.0) {
    auto w = std::move(b.waiting.front());
    b.waiting.pop_front();
    if (w.holder && st.dead.count(w.holder))
      continue;
    w.promise.deliver(grant(self, key, b, w.holder));
  }
  if (!b.waiting.empty() && b.live < st.cfg.max_live && !b.refill_scheduled
      && st.cfg.connects_per_second > 0) {
    b.refill_scheduled = true;
    auto wait = milliseconds{static_cast<int64_t>(
      std::ceil((1.0 - b.tokens) * 1000.0 / st.cfg.connects_per_second))};
    self->delayed_send(self, std::max(wait, milliseconds{1}), refill_atom::value,
                       key);
  }
}

void release(limiter_pointer self, const std::string& key, uint64_t permit) {
  auto& b = bucket_of(self, key);
  if (b.permits.erase(permit) == 0)
    return;
  --b.live;
  pump(self, key);
}

} // namespace

limiter_actor::behavior_type connection_limiter(limiter_pointer self,
                                                limiter_settings cfg) {
  self->state.cfg = cfg;
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& st = self->state;
    st.dead.insert(dm.source);
    auto it = st.holders.find(dm.source);
    if (it == st.holders.end())
      return;
    auto held = std::move(it->second);
    st.holders.erase(it);
    for (auto& [key, permit] : held)
      release(self, key, permit);
  });
  return {
    [=](acquire_atom, const std::string& key) -> caf::result<uint64_t> {
      auto& b = bucket_of(self, key);
      refill(self, b);
      auto holder = caf::actor_cast<caf::actor_addr>(self->current_sender());
      if (b.waiting.empty() && b.live < self->state.cfg.max_live
          && b.tokens >= 1.0)
        return grant(self, key, b, holder);
      auto promise = self->make_response_promise<uint64_t>();
      b.waiting.push_back({promise, holder});
      pump(self, key);
      return promise;
    },
    [=](release_atom, const std::string& key, uint64_t permit) {
      auto holder = caf::actor_cast<caf::actor_addr>(self->current_sender());
      if (auto it = self->state.holders.find(holder);
          it != self->state.holders.end())
        it->second.erase({key, permit});
      release(self, key, permit);
    },
    [=](refill_atom, const std::string& key) {
      bucket_of(self, key).refill_scheduled = false;
      pump(self, key);
    },
  };
}

} // namespace gcstream
