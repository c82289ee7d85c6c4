#include "actors/connection_limiter.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <caf/all.hpp>

#include "actors/actor_util.hpp"

namespace gcstream {

using namespace std::chrono;

namespace {

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

void tell(limiter_pointer, const caf::actor& asker, const std::string& key,
          const std::string& holder) {
  if (asker)
    caf::anon_send(asker, granted_atom::value, key, holder);
}

// Grants what may be granted now, in order; arms the refill timer when the
// rate is what holds the queue.
void pump(limiter_pointer self, const std::string& key) {
  auto& st = self->state;
  auto& b = bucket_of(self, key);
  refill(self, b);
  while (!b.waiting.empty() && b.holders.size() < st.cfg.max_live
         && b.tokens >= 1.0) {
    auto w = std::move(b.waiting.front());
    b.waiting.pop_front();
    b.tokens -= 1.0;
    b.holders.insert(w.holder);
    tell(self, w.asker, key, w.holder);
  }
  if (!b.waiting.empty() && b.holders.size() < st.cfg.max_live
      && !b.refill_scheduled && st.cfg.connects_per_second > 0) {
    b.refill_scheduled = true;
    auto wait = milliseconds{static_cast<int64_t>(
      std::ceil((1.0 - b.tokens) * 1000.0 / st.cfg.connects_per_second))};
    self->delayed_send(self, std::max(wait, milliseconds{1}), refill_atom::value,
                       key);
  }
}

// `holder` neither holds nor waits at `key` any more.
void unindex(limiter_pointer self, const std::string& key, const std::string& holder) {
  auto& idx = self->state.holder_keys;
  if (auto it = idx.find(holder); it != idx.end()) {
    it->second.erase(key);
    if (it->second.empty())
      idx.erase(it);
  }
}

} // namespace

limiter_actor::behavior_type connection_limiter(limiter_pointer self,
                                                limiter_settings cfg,
                                                std::vector<limiter_hold> held) {
  self->state.cfg = cfg;
  for (auto& h : held) {
    bucket_of(self, h.key).holders.insert(h.holder);
    self->state.holder_keys[h.holder].insert(h.key);
  }
  return {
    [=](acquire_atom, const std::string& key, const std::string& holder) {
      auto asker = caf::actor_cast<caf::actor>(self->current_sender());
      auto& b = bucket_of(self, key);
      if (b.holders.count(holder) != 0) {
        tell(self, asker, key, holder); // granted already
        return;
      }
      for (auto& w : b.waiting)
        if (w.holder == holder) {
          w.asker = asker; // keeps its place; the answer goes to the newest
          return;
        }
      b.waiting.push_back({holder, asker});
      self->state.holder_keys[holder].insert(key);
      pump(self, key);
    },
    [=](release_atom, const std::string& key, const std::string& holder) {
      auto& b = bucket_of(self, key);
      b.waiting.erase(std::remove_if(b.waiting.begin(), b.waiting.end(),
                                     [&](auto& w) { return w.holder == holder; }),
                      b.waiting.end());
      unindex(self, key, holder);
      if (b.holders.erase(holder) != 0)
        pump(self, key);
    },
    [=](forget_atom, const std::string& prefix) {
      auto& idx = self->state.holder_keys;
      std::set<std::string> touched;
      auto it = idx.lower_bound(prefix);
      while (it != idx.end() && it->first.compare(0, prefix.size(), prefix) == 0) {
        auto& holder = it->first;
        for (auto& key : it->second) {
          auto& b = bucket_of(self, key);
          b.waiting.erase(std::remove_if(b.waiting.begin(), b.waiting.end(),
                                         [&](auto& w) { return w.holder == holder; }),
                          b.waiting.end());
          b.holders.erase(holder);
          touched.insert(key);
        }
        it = idx.erase(it);
      }
      for (auto& key : touched)
        pump(self, key);
    },
    [=](refill_atom, const std::string& key) {
      bucket_of(self, key).refill_scheduled = false;
      pump(self, key);
    },
  };
}

} // namespace gcstream
