#pragma once

// CPU clocks and medians for the benchmarks (no CAF: for benchmarks that
// have no actor system).

#include <time.h>

#include <algorithm>
#include <vector>

namespace gcstream::bench {

/// Seconds of CPU time on `clock` (CLOCK_PROCESS_CPUTIME_ID, ...).
inline double cpu_s(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

/// The median of `v` (0 when empty).
inline double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace gcstream::bench
