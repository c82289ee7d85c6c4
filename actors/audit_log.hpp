#pragma once

// The audit log actor: one per process. It consumes the process's audit
// queue (runtime/audit_queue.hpp: every tenant's metrics actor forwards
// there), writes each event as one JSON line (runtime/audit_writer.hpp), in
// the order they came, and hands each to the host's observer when there is
// one.
//
//   (poke_atom)     the queue has events
//   (audit_event)   an event handed over directly (written the same way)
//
// It keeps nothing a restart needs: the queue and the writer outlive it
// (the runtime's supervisor starts a new one on the same two), an event is
// taken off the queue only once written, and the writer's sequence numbers
// go on. Events the queue had to drop while nobody read it (it is bounded)
// are counted and written as one audit_gap line, so a loss is never silent.

#include <memory>
#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/actor_util.hpp"
#include "messages/atoms.hpp"
#include "runtime/audit_writer.hpp"

namespace gcstream {

/// The audit log's interface.
using audit_log_actor = caf::typed_actor<caf::reacts_to<audit_event>,
                                         caf::reacts_to<poke_atom>>;

struct audit_log_state {
  std::shared_ptr<audit_writer> writer;
  audit_ref queue;
  audit_actor forward;
  uint64_t failed_writes = 0;
  static inline const char* name = "gcstream.audit_log";
};

/// The audit log's behavior. `writer` may be null (forward only), `queue`
/// may be null (direct events only), `forward` may be null.
audit_log_actor::behavior_type
audit_log(audit_log_actor::stateful_pointer<audit_log_state> self,
          std::shared_ptr<audit_writer> writer, audit_ref queue,
          audit_actor forward);

} // namespace gcstream
