#pragma once

// Exponential backoff with full jitter: the delay before retry n (n = 0 for
// the first retry) is uniform in [0, min(cap, initial * factor^n)]. Full
// jitter spreads a crowd of clients that failed together over the whole
// window, so that their retries do not arrive in waves.

#include <chrono>
#include <cstdint>
#include <random>

namespace gcstream {

/// The random engine of jitter and backoff: splitmix64, 8 bytes of state.
/// std::mt19937_64 holds 2.5 KiB, and a tenant had four of them (token,
/// supervisor, orderer, metrics): 10 KiB of resident memory per tenant, a
/// sixth of what an idle tenant holds (bench_tenants). Jitter needs no more.
class jitter_rng {
public:
  using result_type = uint64_t;
  explicit jitter_rng(uint64_t seed = 0) : s_(seed) {}
  void seed(uint64_t s) { s_ = s; }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~uint64_t{0}; }
  result_type operator()() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

private:
  uint64_t s_;
};

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
                                      jitter_rng& rng);

} // namespace gcstream
