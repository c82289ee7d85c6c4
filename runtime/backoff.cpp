#include "runtime/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace gcstream {

std::chrono::milliseconds backoff_ceiling(const backoff_policy& p,
                                          uint32_t attempt) {
  const double cap = static_cast<double>(p.cap.count());
  double ceiling = static_cast<double>(p.initial.count())
                   * std::pow(std::max(p.factor, 1.0), double(attempt));
  if (!std::isfinite(ceiling) || ceiling > cap)
    ceiling = cap;
  return std::chrono::milliseconds{static_cast<int64_t>(ceiling)};
}

std::chrono::milliseconds full_jitter(const backoff_policy& p, uint32_t attempt,
                                      jitter_rng& rng) {
  auto ceiling = backoff_ceiling(p, attempt).count();
  if (ceiling <= 0)
    return std::chrono::milliseconds{0};
  std::uniform_int_distribution<int64_t> dist{0, ceiling};
  return std::chrono::milliseconds{dist(rng)};
}

} // namespace gcstream
