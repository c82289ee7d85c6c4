#include "runtime/timer_wheel.hpp"

#include <algorithm>
#include <vector>

#include "runtime/frame_reader.hpp" // steady_ms

namespace gcstream {

namespace {

int64_t on_grid(int64_t due, int64_t grid) {
  return (due + grid - 1) / grid * grid;
}

} // namespace

int64_t timer_wheel::grid_of(int64_t period_ms) {
  return std::clamp<int64_t>(period_ms / 16, 1, 1000);
}

timer_wheel::timer_wheel() : thread_([this] { run(); }) {}

timer_wheel::~timer_wheel() {
  {
    std::lock_guard<std::mutex> g{mtx_};
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

uint64_t timer_wheel::every(std::chrono::milliseconds period, fire_fn fire) {
  auto p = std::max<int64_t>(1, period.count());
  auto due = on_grid(steady_ms() + p, grid_of(p));
  bool earlier;
  uint64_t id;
  {
    std::lock_guard<std::mutex> g{mtx_};
    id = ++next_id_;
    entries_.emplace(id, entry{p, due, std::make_shared<const fire_fn>(std::move(fire))});
    queue_.emplace(due, id);
    earlier = due < waiting_until_;
  }
  if (earlier) // (most timers fall due after the next wake-up: no signal)
    cv_.notify_one();
  return id;
}

void timer_wheel::cancel(uint64_t id) {
  if (id == 0)
    return;
  std::lock_guard<std::mutex> g{mtx_};
  entries_.erase(id); // its queue entry is skipped when it comes up
}

size_t timer_wheel::size() const {
  std::lock_guard<std::mutex> g{mtx_};
  return entries_.size();
}

uint64_t timer_wheel::wakeups() const {
  std::lock_guard<std::mutex> g{mtx_};
  return wakeups_;
}

void timer_wheel::run() {
  struct firing {
    uint64_t id;
    int64_t due;
    std::shared_ptr<const fire_fn> fire; // shared: one reference per call
    int64_t next;
  };
  std::vector<firing> due_now;
  std::unique_lock<std::mutex> g{mtx_};
  while (!stop_) {
    // Stale queue entries (cancelled timers) go first.
    while (!queue_.empty()) {
      auto it = entries_.find(queue_.begin()->second);
      if (it != entries_.end() && it->second.due_ms == queue_.begin()->first)
        break;
      queue_.erase(queue_.begin());
    }
    if (queue_.empty()) {
      waiting_until_ = INT64_MAX;
      cv_.wait(g);
      ++wakeups_;
      continue;
    }
    auto now = steady_ms();
    auto next = queue_.begin()->first;
    if (next > now) {
      // Until the due millisecond itself: a relative wait of whole
      // milliseconds may end a fraction early, and then wake again for it.
      waiting_until_ = next;
      cv_.wait_until(g, std::chrono::steady_clock::time_point{
                          std::chrono::milliseconds{next}});
      ++wakeups_;
      continue;
    }
    waiting_until_ = INT64_MAX;
    while (!queue_.empty() && queue_.begin()->first <= now) {
      auto id = queue_.begin()->second;
      auto due = queue_.begin()->first;
      queue_.erase(queue_.begin());
      auto it = entries_.find(id);
      if (it == entries_.end() || it->second.due_ms != due)
        continue;
      due_now.push_back({id, due, it->second.fire, 0});
    }
    g.unlock();
    for (auto& f : due_now)
      f.next = (*f.fire)(now);
    g.lock();
    for (auto& f : due_now) {
      auto it = entries_.find(f.id);
      if (it == entries_.end() || it->second.due_ms != f.due)
        continue; // cancelled meanwhile
      auto& e = it->second;
      auto want = f.next > 0 ? f.next : f.due + e.period_ms;
      e.due_ms = on_grid(std::max(want, now + 1), grid_of(e.period_ms));
      queue_.emplace(e.due_ms, f.id);
    }
    due_now.clear();
  }
}

} // namespace gcstream
