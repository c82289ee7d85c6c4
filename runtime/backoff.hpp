#pragma once

// Exponential backoff with full jitter: the delay before retry n (n = 0 for
// the first retry) is uniform in [0, min(cap, initial * factor^n)]. Full
// jitter spreads a crowd of clients that failed together over the whole
// window, so that their retries do not arrive in waves.

#include <chrono>
#include <cstdint>
#include <random>

namespace gcstream {

/// Settings of a backoff policy.
struct backoff_policy {
  std::chrono::milliseconds initial{1000};
  double factor = 2.0;
  std::chrono::milliseconds cap{30000};
};

/// The upper bound of the delay before retry `attempt` (0-based).
std::chrono::milliseconds backoff_ceiling(const backoff_policy& p,
                                          uint32_t attempt);

/// A delay drawn uniformly from [0, backoff_ceiling(p, attempt)].
std::chrono::milliseconds full_jitter(const backoff_policy& p, uint32_t attempt,
                                      std::mt19937_64& rng);

} // namespace gcstream
