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

uint64_t timer_wheel::every(std::chrono::milliseconds period,
                            std::function<void(int64_t)> fire) {
  auto p = std::max<int64_t>(1, period.count());
  auto due = on_grid(steady_ms() + p, grid_of(p));
  bool earlier;
  uint64_t id;
  {
    std::lock_guard<std::mutex> g{mtx_};
    id = ++next_id_;
    entries_.emplace(id, entry{p, due, std::make_shared<const std::function<void(int64_t)>>(
                               std::move(fire))});
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
  // (shared, not copied: a fire is one reference count per call)
  std::vector<std::shared_ptr<const std::function<void(int64_t)>>> due_now;
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
      continue;
    }
    auto now = steady_ms();
    auto next = queue_.begin()->first;
    if (next > now) {
      waiting_until_ = next;
      cv_.wait_for(g, std::chrono::milliseconds{next - now});
      continue;
    }
    ++wakeups_;
    waiting_until_ = INT64_MAX;
    while (!queue_.empty() && queue_.begin()->first <= now) {
      auto id = queue_.begin()->second;
      auto due = queue_.begin()->first;
      queue_.erase(queue_.begin());
      auto it = entries_.find(id);
      if (it == entries_.end() || it->second.due_ms != due)
        continue;
      auto& e = it->second;
      // The next time on the grid, one period on (never in the past).
      auto grid = grid_of(e.period_ms);
      e.due_ms = on_grid(std::max(due + e.period_ms, now + 1), grid);
      queue_.emplace(e.due_ms, id);
      due_now.push_back(e.fire);
    }
    g.unlock();
    for (auto& f : due_now)
      (*f)(now);
    due_now.clear();
    g.lock();
  }
}

} // namespace gcstream
