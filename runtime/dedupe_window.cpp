#include "runtime/dedupe_window.hpp"

#include <functional>

namespace gcstream {

dedupe_window::dedupe_window(size_t max_ids, int64_t max_age_ms)
  : max_ids_(max_ids == 0 ? 1 : max_ids), max_age_ms_(max_age_ms) {
  // Small at first (an idle tenant costs little); doubled as ids come,
  // never more than half full.
  slots_.assign(64, 0);
  mask_ = slots_.size() - 1;
}

void dedupe_window::grow() {
  std::vector<uint64_t> old(slots_.size() * 2, 0);
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  for (auto h : old)
    if (h != 0)
      insert(h);
}

bool dedupe_window::insert(uint64_t h) {
  for (size_t i = h & mask_;; i = (i + 1) & mask_) {
    if (slots_[i] == h)
      return false;
    if (slots_[i] == 0) {
      slots_[i] = h;
      return true;
    }
  }
}

void dedupe_window::erase(uint64_t h) {
  size_t i = h & mask_;
  while (slots_[i] != h) {
    if (slots_[i] == 0)
      return;
    i = (i + 1) & mask_;
  }
  // Backward shift: move later entries of the run into the hole when the
  // hole lies between their home slot and where they are.
  for (size_t j = (i + 1) & mask_; slots_[j] != 0; j = (j + 1) & mask_) {
    size_t home = slots_[j] & mask_;
    bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
    if (movable) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = 0;
}

void dedupe_window::evict_front() {
  erase(order_.front().hash);
  order_.pop_front();
}

uint64_t dedupe_window::hash_of(std::string_view id) {
  auto h = static_cast<uint64_t>(std::hash<std::string_view>{}(id));
  return h == 0 ? 1 : h;
}

void dedupe_window::expire(int64_t now_ms) {
  while (!order_.empty() && order_.front().at_ms + max_age_ms_ <= now_ms)
    evict_front();
}

bool dedupe_window::contains(uint64_t h) const {
  if (h == 0)
    h = 1;
  for (size_t i = h & mask_;; i = (i + 1) & mask_) {
    if (slots_[i] == h)
      return true;
    if (slots_[i] == 0)
      return false;
  }
}

bool dedupe_window::seen_hash(uint64_t h, int64_t now_ms) {
  if (h == 0)
    h = 1; // 0 marks a free slot
  expire(now_ms);
  // A full window evicts its oldest id per insert: fetch the slot of one a
  // few inserts ahead.
  constexpr size_t ahead = 8;
  if (order_.size() + ahead >= max_ids_ && order_.size() > ahead)
    prefetch(order_.at(ahead).hash);
  if (2 * (order_.size() + 1) > slots_.size())
    grow();
  if (!insert(h))
    return true;
  order_.push_back(entry{h, now_ms});
  if (order_.size() > max_ids_) {
    evict_front();
    ++evicted_by_count_;
  }
  return false;
}

} // namespace gcstream
