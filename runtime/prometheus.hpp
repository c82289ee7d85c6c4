#pragma once

// Prometheus text exposition format (version 0.0.4), rendered by the project
// (Debian packages no C++ Prometheus client). One HELP and one TYPE line per
// family, then its samples; label values escaped (\\, \", \n); histograms as
// cumulative _bucket{le="..."} lines ending with le="+Inf", then _sum and
// _count. Times are in seconds, as the format's conventions ask.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "messages/histogram.hpp"

namespace gcstream {

using label_list = std::vector<std::pair<std::string, std::string>>;

/// Builds an exposition: families in the order they are opened.
class exposition {
public:
  /// Starts a family; type is "counter", "gauge" or "histogram". A family
  /// opened again (another tenant) adds to the first one.
  void family(const std::string& name, const std::string& help,
              const std::string& type);

  /// A sample of the current family.
  void sample(const label_list& labels, double value);

  /// A histogram sample of the current (histogram) family.
  void sample(const label_list& labels, const histogram& h);

  /// The whole text.
  std::string render() const;

private:
  struct fam {
    std::string name;
    std::string help;
    std::string type;
    std::string body;
  };
  std::vector<fam> fams_;
  size_t current_ = 0;
};

/// Escapes a label value for the text format.
std::string escape_label_value(const std::string& v);

} // namespace gcstream
