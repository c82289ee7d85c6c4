#pragma once

// The audit events actors under test reported: an audit queue nobody
// consumes, read whole.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/audit_queue.hpp"

namespace gcstream::test {

struct audit_capture {
  std::shared_ptr<audit_queue> queue = std::make_shared<audit_queue>(1000000);

  std::vector<audit_event> all() const { return queue->peek(SIZE_MAX).events; }

  std::vector<audit_event> of(const std::string& event) const {
    std::vector<audit_event> out;
    for (auto& e : all())
      if (e.event == event)
        out.push_back(e);
    return out;
  }

  static std::string field(const audit_event& e, const std::string& name) {
    for (auto& [k, v] : e.fields)
      if (k == name)
        return v;
    return {};
  }
};

} // namespace gcstream::test
