#include "runtime/dedupe_window.hpp"

#include <functional>

namespace gcstream {

dedupe_window::dedupe_window(size_t max_ids, int64_t max_age_ms)
  : max_ids_(max_ids == 0 ? 1 : max_ids), max_age_ms_(max_age_ms) {
  ids_.reserve(max_ids_ < 1'000'000 ? max_ids_ : 1'000'000);
}

void dedupe_window::evict_front() {
  auto it = ids_.find(order_.front().hash);
  if (it != ids_.end())
    ids_.erase(it);
  order_.pop_front();
}

bool dedupe_window::seen(std::string_view id, int64_t now_ms) {
  while (!order_.empty() && order_.front().at_ms + max_age_ms_ <= now_ms)
    evict_front();
  auto h = static_cast<uint64_t>(std::hash<std::string_view>{}(id));
  if (!ids_.insert(h).second)
    return true;
  order_.push_back(entry{h, now_ms});
  if (order_.size() > max_ids_) {
    evict_front();
    ++evicted_by_count_;
  }
  return false;
}

} // namespace gcstream
