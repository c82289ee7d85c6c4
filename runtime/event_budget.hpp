#pragma once

// One tenant's cap on the events it holds between its sockets and its sinks
// (ARCHITECTURE.md, invariant 4): the inbox (waiting, and in flight to the
// orderer), the orderer's reorder buffer and every sink queue, batches out
// included, all count against one number.
//
// The inbox reports its share under its own lock; the orderer reports its
// share after every step. When the sum reaches the cap, the overflow policy
// applies:
//   block        the sockets stop reading (each connection is paused by the
//                transport when it hands over frames and finds the budget
//                over); TCP then pushes back on the service. Reading resumes
//                when the sum falls to three quarters of the cap. The time
//                spent blocked is counted, and on_block reports when a block
//                starts and ends.
//   drop_oldest  the inbox drops its oldest waiting events, then the orderer
//                its oldest queued ones; counted and audited by them.
//
// Thread-safe. The counts are atomics: reporting them and asking whether to
// pause take no lock while the budget is under its cap (the Asio thread and
// the actors report on every read and every step); the lock is taken only
// around a block and its end.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace gcstream {

enum class overflow_policy { block, drop_oldest };

class event_budget {
public:
  event_budget(size_t cap, overflow_policy policy)
    : cap_(cap == 0 ? 1 : cap), policy_(policy) {}

  event_budget(const event_budget&) = delete;
  event_budget& operator=(const event_budget&) = delete;

  /// Called (outside the lock) when reading stops (blocked = true) and when
  /// it starts again, with how long it was stopped (ms).
  void on_block(std::function<void(bool blocked, int64_t blocked_ms)> f);

  /// Resumes one paused connection (called outside the lock, any thread).
  void on_resume(std::function<void(uint64_t conn)> f);

  /// The inbox's share grew (or shrank) by `delta` events. Deltas, so that
  /// callers on several threads need not order their reports.
  void add_inbox(int64_t delta);

  /// The orderer's share.
  void set_orderer(size_t n);

  /// Whether connection `conn` must stop reading now (block policy, the cap
  /// reached); if so it is remembered as paused, and resumed later.
  bool pause_reading(uint64_t conn);

  /// Whether reading is stopped.
  bool blocked() const;

  /// Events held, and the cap.
  size_t held() const;
  size_t cap() const { return cap_; }
  overflow_policy policy() const { return policy_; }

  /// Events over the cap right now (0 when under it).
  size_t excess() const;

  /// Milliseconds spent blocked so far (the block in progress included).
  int64_t blocked_ms() const;

  /// Blocks so far.
  uint64_t blocks() const;

private:
  void changed();
  size_t total() const {
    return static_cast<size_t>(std::max<int64_t>(0, inbox_.load(std::memory_order_relaxed)))
           + orderer_.load(std::memory_order_relaxed);
  }

  mutable std::mutex mtx_;
  size_t cap_;
  overflow_policy policy_;
  std::atomic<int64_t> inbox_{0};
  std::atomic<size_t> orderer_{0};
  std::atomic<bool> blocked_{false};
  int64_t blocked_since_ = 0;
  int64_t blocked_total_ = 0;
  uint64_t blocks_ = 0;
  std::vector<uint64_t> paused_;
  std::function<void(bool, int64_t)> on_block_;
  std::function<void(uint64_t)> on_resume_;
};

} // namespace gcstream
