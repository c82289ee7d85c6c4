#include "runtime/restart_tracker.hpp"

namespace gcstream {

bool restart_tracker::note(int64_t now_ms) {
  ++total_;
  times_.push_back(now_ms);
  while (!times_.empty() && now_ms - times_.front() >= p_.window.count())
    times_.pop_front();
  return times_.size() <= p_.max_restarts;
}

std::chrono::milliseconds restart_tracker::delay(std::mt19937_64& rng) const {
  if (times_.size() <= 1)
    return std::chrono::milliseconds{0};
  return full_jitter(p_.backoff, static_cast<uint32_t>(times_.size() - 2), rng);
}

} // namespace gcstream
