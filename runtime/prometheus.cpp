#include "runtime/prometheus.hpp"

#include <cmath>
#include <cstdio>

namespace gcstream {

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

namespace {

std::string number(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

std::string labels_text(const label_list& labels, const std::string& extra_name = {},
                        const std::string& extra_value = {}) {
  if (labels.empty() && extra_name.empty())
    return {};
  std::string out = "{";
  bool first = true;
  for (auto& [k, v] : labels) {
    out += first ? "" : ",";
    first = false;
    out += k + "=\"" + escape_label_value(v) + "\"";
  }
  if (!extra_name.empty())
    out += (first ? "" : ",") + extra_name + "=\"" + extra_value + "\"";
  return out + "}";
}

std::string escape_help(const std::string& h) {
  std::string out;
  for (char c : h) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

} // namespace

void exposition::family(const std::string& name, const std::string& help,
                        const std::string& type) {
  for (size_t i = 0; i < fams_.size(); ++i)
    if (fams_[i].name == name) {
      current_ = i;
      return;
    }
  fams_.push_back(fam{name, help, type, {}});
  current_ = fams_.size() - 1;
}

void exposition::sample(const label_list& labels, double value) {
  auto& f = fams_.at(current_);
  f.body += f.name + labels_text(labels) + " " + number(value) + "\n";
}

void exposition::sample(const label_list& labels, const histogram& h) {
  auto& f = fams_.at(current_);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    f.body += f.name + "_bucket" + labels_text(labels, "le", number(h.bounds[i]))
              + " " + std::to_string(cumulative) + "\n";
  }
  cumulative += h.counts.empty() ? 0 : h.counts.back();
  f.body += f.name + "_bucket" + labels_text(labels, "le", "+Inf") + " "
            + std::to_string(cumulative) + "\n";
  f.body += f.name + "_sum" + labels_text(labels) + " " + number(h.sum) + "\n";
  f.body += f.name + "_count" + labels_text(labels) + " " + std::to_string(h.count)
            + "\n";
}

std::string exposition::render() const {
  std::string out;
  for (auto& f : fams_) {
    out += "# HELP " + f.name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + f.name + " " + f.type + "\n";
    out += f.body;
  }
  return out;
}

} // namespace gcstream
