#pragma once

// The small helpers every actor uses, in one place: its clock, the wall
// clock, and how it reports an audit event (to a queue outside every actor,
// runtime/audit_queue.hpp, so that no report dies with an actor).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "messages/audit.hpp"
#include "runtime/audit_queue.hpp"

namespace gcstream {

/// An audit event's fields: names and values.
using audit_fields = std::vector<std::pair<std::string, std::string>>;

/// Where a tenant's (or the process's) actors report; may be null.
using audit_ref = std::shared_ptr<audit_queue>;

/// The actor's clock in milliseconds (the test scheduler's clock in
/// deterministic tests).
template <class Self>
int64_t now_ms(Self* self) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(self->clock().now().time_since_epoch())
    .count();
}

/// Wall-clock time, epoch milliseconds.
inline int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

/// Reports `event` of `tenant` to `q` (nothing when q is null).
inline void audit(const audit_ref& q, const std::string& tenant,
                  std::string event, audit_fields fields = {}) {
  if (q)
    q->post(audit_event{tenant, std::move(event), std::move(fields)});
}

} // namespace gcstream
