#pragma once

// Events per second over the last ten whole seconds, kept as counts per
// second: adding costs a compare and an add, and nothing runs while nothing
// comes (no timer, no tick). Read it at any time; the rate decays as the
// seconds without events enter the window.

#include <array>
#include <cstdint>

namespace gcstream {

class rate_meter {
public:
  static constexpr int64_t window_s = 10;

  /// `n` events at `now_ms` (epoch ms, never going back by much).
  void add(int64_t now_ms, uint64_t n) {
    auto sec = now_ms / 1000;
    auto& b = buckets_[static_cast<size_t>(sec % slots)];
    if (b.sec != sec)
      b = bucket{sec, 0};
    b.count += n;
    if (first_sec_ < 0)
      first_sec_ = sec;
  }

  /// The mean rate over the whole seconds before `now_ms`'s: the last ten,
  /// or as many as there were since the first event (at least one).
  double per_second(int64_t now_ms) const {
    if (first_sec_ < 0)
      return 0;
    auto cur = now_ms / 1000;
    uint64_t sum = 0;
    for (auto& b : buckets_)
      if (b.sec < cur && b.sec >= cur - window_s)
        sum += b.count;
    auto span = cur - first_sec_;
    if (span > window_s)
      span = window_s;
    if (span < 1)
      span = 1;
    return double(sum) / double(span);
  }

private:
  static constexpr int64_t slots = window_s + 2;
  struct bucket {
    int64_t sec = -1;
    uint64_t count = 0;
  };
  std::array<bucket, slots> buckets_{};
  int64_t first_sec_ = -1;
};

} // namespace gcstream
