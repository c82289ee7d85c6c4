#pragma once

// The audit log actor: every tenant's audit events, one JSON line each
// (runtime/audit_writer.hpp), in the order they arrive. Optionally forwards
// each event to another audit actor (the metrics actor, a test).
//
//   (audit_event)   writes it

#include <memory>
#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/audit.hpp"
#include "runtime/audit_writer.hpp"

namespace gcstream {

struct audit_log_state {
  std::unique_ptr<audit_writer> writer;
  audit_actor forward;
  uint64_t failed_writes = 0;
  static inline const char* name = "gcstream.audit_log";
};

/// The audit log's behavior; `writer` may be null (forward only).
audit_actor::behavior_type
audit_log(audit_actor::stateful_pointer<audit_log_state> self,
          std::shared_ptr<audit_writer> writer, audit_actor forward);

} // namespace gcstream
