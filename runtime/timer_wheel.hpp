#pragma once

// One thread for the timers of every session of a runtime (issue 15): pings
// and watchdog checks. A timer is registered once and fires until cancelled;
// after each firing it is due again one period on, or when its callback
// says (a watchdog: when the silence would reach the timeout). Due times lie
// on a grid (a sixteenth of the period, at most one second), so that the
// timers of thousands of sessions fire together: one wake-up of this thread
// for all of them, no CAF clock entry and no actor message per timer.
//
// `fire` runs on the wheel's thread with the time of the wake-up (steady
// clock, ms) and must be quick: it may read atomics, post to a transport,
// or send a message. It returns when it wants to run next (steady ms; put
// on the grid, never before the next millisecond), or 0 for one period on.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace gcstream {

class timer_wheel {
public:
  timer_wheel();
  ~timer_wheel();

  timer_wheel(const timer_wheel&) = delete;
  timer_wheel& operator=(const timer_wheel&) = delete;

  /// What a timer runs: given the time, it returns its next due time, or 0.
  using fire_fn = std::function<int64_t(int64_t now_ms)>;

  /// Calls `fire` every `period` (at least 1 ms), the first time one period
  /// from now (rounded up to the grid). Returns the timer's id (never 0).
  uint64_t every(std::chrono::milliseconds period, fire_fn fire);

  /// Stops timer `id` (0 and unknown ids are ignored). A call of its `fire`
  /// already under way may still finish.
  void cancel(uint64_t id);

  /// Timers registered.
  size_t size() const;

  /// Times this thread woke up, to fire timers or not (for tests).
  uint64_t wakeups() const;

  /// The grid of a period: period/16, from 1 ms to 1 s.
  static int64_t grid_of(int64_t period_ms);

private:
  struct entry {
    int64_t period_ms = 0;
    int64_t due_ms = 0;
    std::shared_ptr<const fire_fn> fire;
  };

  void run();

  mutable std::mutex mtx_;
  std::condition_variable cv_;
  bool stop_ = false;
  uint64_t next_id_ = 0;
  uint64_t wakeups_ = 0;
  int64_t waiting_until_ = INT64_MAX;
  std::multimap<int64_t, uint64_t> queue_; // due -> id (stale ones skipped)
  std::unordered_map<uint64_t, entry> entries_;
  std::thread thread_;
};

} // namespace gcstream
