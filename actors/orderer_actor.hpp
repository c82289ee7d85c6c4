#pragma once

// orderer_actor: one per tenant. Dedupes, reorders by timestamp within the
// allowed lateness, and delivers batches to every sink with a credit window
// and acknowledgements (ARCHITECTURE.md, orderer_actor, invariants 1, 2, 4).
//
// Takes:
//   (ingest_atom, batch) -> seq   from sessions; the reply means the events
//                                 are in the kept state (the session may
//                                 forget them)
//   (tick_atom)                   its timer: max hold and linger
//   down of a sink (monitor)      starts it again from its factory and sends
//                                 it every unacknowledged batch, same seqs
//   (stats_atom) -> orderer_stats
//   (drain_atom, timeout) -> bool releases everything and answers once every
//                                 sink acknowledged all (false on timeout)
//
// Everything that must outlive a crash lives in an orderer_keep that the
// tenant (its supervisor) holds: the dedupe window, the reorder buffer, the
// sink outboxes and the sink handles. A restarted orderer adopts the keep
// and sends every unacknowledged batch again; sinks skip a seq they have
// already acknowledged. Only one orderer uses a keep at a time: the next one
// is spawned after the previous one's down message.
//
// Late events (older than one already released): `deliver` (flagged late, to
// the normal sinks), `drop`, or `route` (to the sinks marked late_only).
// Always counted. Audit events: events_dropped (a sink's queue was full),
// sink_restarted, journal_replayed, journal_failed.
//
// With a journal (runtime/journal.hpp), an event is stored before the
// session's batch is acknowledged and removed once every sink that gets it
// acknowledged it. Events dropped from a full sink queue stay in the journal
// and are delivered at the next start (a spill, not a loss).

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/audit.hpp"
#include "messages/orderer.hpp"
#include "messages/sink.hpp"
#include "runtime/dedupe_window.hpp"
#include "runtime/http_transport.hpp"
#include "runtime/journal.hpp"
#include "runtime/reorder_buffer.hpp"
#include "runtime/sink_outbox.hpp"

namespace gcstream {

enum class late_policy { deliver, drop, route };

/// Settings of a tenant's orderer.
struct orderer_settings {
  std::string tenant;
  size_t dedupe_max_ids = 100000;
  int64_t dedupe_max_age_ms = 600000;
  reorder_buffer::settings reorder;
  late_policy late = late_policy::deliver;
  sink_outbox::settings outbox;
  /// A partial batch waits this long for more events (0: sent at once when
  /// the sink has credit).
  int64_t linger_ms = 0;
  /// A sink that died is started again after this delay.
  int64_t sink_restart_delay_ms = 100;
};

/// What a sink factory gets: where to spawn, and the process's shared parts.
struct sink_context {
  caf::actor_system& sys;
  std::string tenant;
  /// The process's HTTP client (for sinks that POST).
  std::shared_ptr<http_transport> http;
};

/// Starts a sink; called again after the sink died.
using sink_factory = std::function<sink_actor(const sink_context&)>;

/// A sink of a tenant.
struct sink_spec {
  std::string name;
  sink_factory make;
  /// Receives only late events (late_policy::route).
  bool late_only = false;
};

/// What outlives an orderer's crash (held by the tenant).
class orderer_keep {
public:
  orderer_keep(orderer_settings cfg, std::vector<sink_spec> sinks);

  struct slot {
    sink_spec spec;
    sink_outbox outbox;
    sink_actor handle;
    uint64_t restarts = 0;
    /// Bumped at each start, so that a retry meant for a dead sink is
    /// dropped (its successor gets every unacknowledged batch anyway).
    uint64_t gen = 0;
    int64_t linger_until = -1;
    uint64_t drops_unreported = 0;
    int64_t last_drop_audit_ms = INT64_MIN;
  };

  orderer_settings cfg;
  dedupe_window dedupe;
  reorder_buffer reorder;
  std::vector<slot> slots;
  orderer_stats counters;

  /// Optional: events are written here before delivery and removed once
  /// every sink that gets them acknowledged them.
  std::unique_ptr<journal> store;
  /// Journal id -> sinks that still have to acknowledge the event.
  std::unordered_map<uint64_t, uint32_t> unacked_by;
  /// Loaded from the journal at start; the first orderer delivers them.
  std::vector<event> replay;
  /// Handed to sink factories (may be null).
  std::shared_ptr<http_transport> http;

  /// Uses `j` from now on, and queues what it holds for replay.
  void attach_journal(std::unique_ptr<journal> j);

  /// Stops every sink (the tenant is going).
  void stop_sinks();
};

/// State of an orderer actor (what dies with it).
struct orderer_state {
  std::shared_ptr<orderer_keep> keep;
  audit_actor observer;
  int64_t tick_at = INT64_MAX;
  std::vector<std::pair<caf::typed_response_promise<bool>, int64_t>> drains;
  /// Scratch space reused by every batch (empty between messages).
  std::vector<event> released;
  std::vector<event*> fresh;
  std::vector<uint64_t> hashes; // dedupe hashes of the batch being admitted
  static inline const char* name = "gcstream.orderer";
};

using orderer_pointer = orderer_actor::stateful_pointer<orderer_state>;

/// The orderer's behavior.
orderer_actor::behavior_type
orderer_actor_impl(orderer_pointer self, std::shared_ptr<orderer_keep> keep,
                   audit_actor observer);

} // namespace gcstream
