#pragma once

// How often an actor kind may crash before its owner gives up, and how long
// to wait before each restart: the intensity limit and the backoff that
// every supervisor of gcstream applies (the tenant supervisor to its
// children, the orderer to its sinks, the runtime's supervisor to the
// tenant supervisors and the shared actors).
//
// A crash is noted with the time; more than max_restarts crashes within
// window is past the limit. The delay before a restart grows with the
// crashes still within the window (exponential with full jitter), so a kind
// that crashes once restarts at once and one that keeps crashing slows down.

#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "runtime/backoff.hpp"

namespace gcstream {

/// The restart intensity and backoff of one actor kind.
struct restart_policy {
  backoff_policy backoff{std::chrono::milliseconds{100}, 2.0,
                         std::chrono::milliseconds{5000}};
  /// More crashes than this within `window` are past the limit.
  uint32_t max_restarts = 10;
  std::chrono::milliseconds window{60000};
};

/// The crashes of one actor (or kind) within its policy's window.
class restart_tracker {
public:
  explicit restart_tracker(restart_policy p = {}) : p_(p) {}

  /// Notes a crash at `now_ms`; false when it is past the limit.
  bool note(int64_t now_ms);

  /// The delay before the restart after the crashes noted so far: none
  /// after the first within the window, then growing.
  std::chrono::milliseconds delay(jitter_rng& rng) const;

  /// Crashes within the window as of the last note.
  size_t recent() const { return times_.size(); }

  /// Crashes ever noted.
  uint64_t total() const { return total_; }

  const restart_policy& policy() const { return p_; }

private:
  restart_policy p_;
  // A vector, not a deque: an empty deque still allocates 576 bytes, and a
  // tenant keeps four trackers that are almost always empty.
  std::vector<int64_t> times_;
  uint64_t total_ = 0;
};

} // namespace gcstream
