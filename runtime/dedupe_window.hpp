#pragma once

// The dedupe window: which event ids were seen recently, bounded by count and
// by age, O(1) per event (ARCHITECTURE.md, invariants 2 and 4).
//
// Ids are kept as 64-bit hashes, not strings: one allocation less per event
// and a flat memory cost (about 40 bytes an id). Two different ids share a
// hash with a probability of about n / 2^64 per event for a window of n ids
// (5e-15 at 100,000), which is far below any other way of losing an event.
//
// Eviction is first in, first out: the oldest id goes when the window is
// over its count, and every id older than max_age goes on the next insert.

#include <cstdint>
#include <string_view>
#include <vector>

#include "runtime/ring.hpp"

namespace gcstream {

/// A bounded set of recently seen event ids.
class dedupe_window {
public:
  dedupe_window(size_t max_ids, int64_t max_age_ms);

  /// Records `id` seen at `now_ms` and returns true when it was already in
  /// the window (a duplicate). Ids older than max_age are evicted first.
  bool seen(std::string_view id, int64_t now_ms) { return seen_hash(hash_of(id), now_ms); }

  /// seen() in two steps, for a batch: hash every id and prefetch() its
  /// slot first, then call seen_hash() for each in order. The result is the
  /// same as seen() on each id; the slots' cache misses overlap instead of
  /// coming one after the other (the table is megabytes at 100,000 ids).
  static uint64_t hash_of(std::string_view id);
  void prefetch(uint64_t hash) const { __builtin_prefetch(&slots_[hash & mask_]); }
  bool seen_hash(uint64_t hash, int64_t now_ms);

  /// Evicts the ids older than max_age as of `now_ms`.
  void expire(int64_t now_ms);

  /// Whether `hash` is in the window (nothing is recorded; call expire()
  /// first for the age limit to apply).
  bool contains(uint64_t hash) const;

  /// Ids currently in the window.
  size_t size() const { return order_.size(); }

  /// Ids evicted so far because the window was full (not by age).
  uint64_t evicted_by_count() const { return evicted_by_count_; }

private:
  struct entry {
    uint64_t hash;
    int64_t at_ms;
  };

  void evict_front();

  // An open-addressing set of hashes (linear probing, backward-shift
  // deletion): no allocation per id, at most half full. 0 marks a free slot,
  // so a hash of 0 is stored as 1.
  bool insert(uint64_t h);
  void erase(uint64_t h);
  void grow();

  size_t max_ids_;
  int64_t max_age_ms_;
  uint64_t evicted_by_count_ = 0;
  std::vector<uint64_t> slots_;
  size_t mask_ = 0;
  ring<entry> order_;
};

} // namespace gcstream
