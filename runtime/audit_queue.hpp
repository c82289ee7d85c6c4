#pragma once

// Audit events on their way to the actor that consumes them, kept OUTSIDE
// every actor (ARCHITECTURE.md, invariant 1: a crashed actor's mailbox is
// thrown away, and a message sent to a dead handle vanishes).
//
// Any actor, on any thread, posts; the consumer that adopted the queue (a
// tenant's metrics actor, the process's audit log actor) is poked once,
// however many events wait, reads a run from the front with peek(), handles
// it, and only then removes it with ack(). A consumer that dies between the
// two leaves the run at the front: its successor adopts the queue and reads
// the run again. So no event is lost to a restart of the consumer, nor to a
// restart of anyone who posts (there is no handle to go stale).
//
// Bounded: past max_events, the oldest event goes and is counted; the
// consumer reports the count (an audit_gap line), so a loss is never silent.

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "messages/audit.hpp"

namespace gcstream {

/// A thread-safe, bounded queue of audit events with one consumer at a time.
class audit_queue {
public:
  explicit audit_queue(size_t max_events = 100000)
    : max_events_(max_events == 0 ? 1 : max_events) {}

  audit_queue(const audit_queue&) = delete;
  audit_queue& operator=(const audit_queue&) = delete;

  /// Adds an event (any thread). Pokes the consumer unless a poke is
  /// pending.
  void post(audit_event e);

  /// Makes `poke` the way to tell the consumer that events wait; calls it at
  /// once when some do (the previous consumer may have died with them).
  void adopt(std::function<void()> poke);

  /// A run of events from the front, left in place until ack().
  struct run {
    /// Position of the first event since the queue began.
    uint64_t first = 0;
    std::vector<audit_event> events;
  };

  /// Up to `max` events from the front. Clears the pending poke: a post
  /// after this pokes again.
  run peek(size_t max = 1024);

  /// Removes the run peek() gave (what of it is still there: the cap may
  /// have dropped its oldest events meanwhile).
  void ack(const run& r);

  /// Events dropped at the cap since the last call (and resets the count).
  uint64_t take_lost();

  /// Events dropped at the cap so far.
  uint64_t lost_total() const;

  /// Events waiting.
  size_t size() const;

private:
  mutable std::mutex mtx_;
  size_t max_events_;
  std::function<void()> poke_;
  bool poke_pending_ = false;
  std::deque<audit_event> events_;
  uint64_t front_pos_ = 0; // position of events_.front()
  uint64_t lost_ = 0;
  uint64_t lost_total_ = 0;
};

} // namespace gcstream
