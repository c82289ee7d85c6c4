#include "runtime/restart_tracker.hpp"

namespace gcstream {

bool restart_tracker::note(int64_t now_ms) {
  ++total_;
  times_.push_back(now_ms);
  size_t old = 0;
  while (old < times_.size() && now_ms - times_[old] >= p_.window.count())
    ++old;
  times_.erase(times_.begin(), times_.begin() + static_cast<std::ptrdiff_t>(old));
  return times_.size() <= p_.max_restarts;
}

std::chrono::milliseconds restart_tracker::delay(jitter_rng& rng) const {
  if (times_.size() <= 1)
    return std::chrono::milliseconds{0};
  return full_jitter(p_.backoff, static_cast<uint32_t>(times_.size() - 2), rng);
}

} // namespace gcstream
