#pragma once

// The reorder buffer: events wait here until they can be released in
// timestamp order (ARCHITECTURE.md, orderer_actor). O(log n) per event.
//
// Release rule (a watermark): an event goes when its timestamp is at most
// the newest timestamp seen minus the allowed lateness, or when the event that
// has waited longest has waited max_hold (then everything up to its
// timestamp goes, so the order is kept), or when the buffer is over its cap
// (then the oldest timestamps go first: released early, never dropped).
//
// An event older than one already released is late: push() refuses it and
// the caller applies the late policy (deliver flagged, drop, or route).
//
// Keys are (timestamp, arrival number). Releases always take the smallest
// key, and a new event always has a key above every released one (it is not
// late and its arrival number is the highest), so "released" is simply "key
// at most the last released key". That lets the max-hold queue (arrival
// order) skip released events without any lookup.
//
// Most events come in order. Those whose key is not below the last one
// appended to the in-order run go there (a queue: O(1), sequential memory);
// only the others go to the heap. A release takes the smaller of the run's
// front and the heap's top, so the order is the same as with the heap alone.

#include <cstdint>
#include <queue>
#include <vector>

#include "messages/event.hpp"
#include "runtime/ring.hpp"

namespace gcstream {

/// A bounded, watermark-driven reorder buffer.
class reorder_buffer {
public:
  struct settings {
    int64_t allowed_lateness_ms = 250;
    int64_t max_hold_ms = 1000;
    size_t max_events = 100000;
  };

  explicit reorder_buffer(settings s) : cfg_(s) {}

  /// Adds an event that arrived at `now_ms` (the caller's steady clock).
  /// Returns false, leaving `e` untouched, when the event is late.
  bool push(event& e, int64_t now_ms);

  /// Appends the events due at `now_ms` to `out`, in timestamp order.
  /// Returns how many went early because the buffer was over its cap.
  size_t release(int64_t now_ms, std::vector<event>& out);

  /// Appends every waiting event to `out`, in timestamp order (a drain).
  void release_all(std::vector<event>& out);

  /// When the next event is due because of max_hold; -1 when empty.
  int64_t next_deadline();

  size_t size() const { return run_.size() + heap_.size(); }

  /// Events that went to the heap, not the in-order run, so far.
  uint64_t out_of_run() const { return out_of_run_; }

  /// The timestamp of the last released event (INT64_MIN before any).
  int64_t released_ts() const { return last_.ts; }

private:
  struct key {
    int64_t ts;
    uint64_t n;
    friend bool operator<=(const key& a, const key& b) {
      return a.ts < b.ts || (a.ts == b.ts && a.n <= b.n);
    }
  };
  // The heap orders small keys; the events stay put in a slab (moving a
  // whole event at each heap swap cost more than the rest of the orderer).
  struct held {
    key k;
    uint32_t slot;
  };
  struct later {
    bool operator()(const held& a, const held& b) const {
      return !(a.k <= b.k);
    }
  };
  struct waiting {
    key k;
    int64_t since_ms;
  };
  struct in_run {
    key k{};
    event e;
  };

  void pop_into(std::vector<event>& out);
  /// The smallest waiting key (the buffer must not be empty).
  const key& min_key() const;

  void skip_released();

  settings cfg_;
  uint64_t arrivals_ = 0;
  int64_t newest_ts_ = INT64_MIN;
  key last_{INT64_MIN, 0};
  ring<in_run> run_;
  uint64_t out_of_run_ = 0;
  std::priority_queue<held, std::vector<held>, later> heap_;
  std::vector<event> slab_;
  std::vector<uint32_t> free_slots_;
  ring<waiting> fifo_;
};

} // namespace gcstream
