#pragma once

// A histogram with fixed bounds, for the metrics (runtime/prometheus.hpp
// renders it).

#include <cstdint>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace gcstream {

/// A histogram with fixed upper bounds (counts per bucket, not cumulative).
struct histogram {
  /// Upper bounds, increasing.
  std::vector<double> bounds;
  /// counts[i] for bounds[i]; counts.back() above the last bound.
  std::vector<uint64_t> counts;
  double sum = 0;
  uint64_t count = 0;

  histogram() = default;
  explicit histogram(std::vector<double> b)
    : bounds(std::move(b)), counts(bounds.size() + 1, 0) {}

  void observe(double v) {
    size_t i = 0;
    while (i < bounds.size() && v > bounds[i])
      ++i;
    ++counts[i];
    sum += v;
    ++count;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, histogram& x) {
  return f(caf::meta::type_name("gcstream::histogram"), x.bounds, x.counts,
           x.sum, x.count);
}

/// The bounds gcstream uses for durations, in seconds (5 ms to 5 min).
inline std::vector<double> duration_bounds() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
          1,     2.5,  5,     10,   30,  60,   300};
}

/// Finer where deliveries fall: around the default allowed lateness (250 ms).
inline std::vector<double> delivery_bounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,  0.15, 0.2,
          0.25,  0.26,   0.27,  0.28, 0.3,   0.35, 0.4,  0.5,  0.75,
          1,     2.5,    5,     10,   30,    60};
}

} // namespace gcstream
