#pragma once

// orderer_actor: one per tenant. Dedupes, reorders by timestamp within the
// allowed lateness, and delivers batches to every sink, one at a time, with
// acknowledgements (ARCHITECTURE.md, orderer_actor, invariants 1, 2, 4).
//
// Takes:
//   (ingest_atom, batch) -> seq   from sessions; the reply means the events
//                                 are in the kept state (and in the journal,
//                                 when there is one): the session may forget
//                                 them. An error (the journal failed) means
//                                 nothing of the batch was taken.
//   (tick_atom)                   its timer: max hold and linger
//   down of a sink (monitor)      starts it again (with backoff, within its
//                                 restart limit) and sends it the batch it
//                                 had not acknowledged, same seq
//   (resend_atom, sink, seq, gen) its retry timer for a refused batch
//   (stats_atom) -> orderer_stats
//   (drain_atom, timeout) -> bool releases everything and answers once every
//                                 sink acknowledged all (false on timeout)
//
// Delivery is stop and wait (runtime/sink_outbox.hpp): a sink has one batch
// at a time. A batch it refuses (an error, or no answer within
// sink_timeout_ms, or the sink dying with it) is offered again after a
// backoff, before any other; after max_refusals refusals in a row, or at
// once for a refusal the sink marks final (errc::sink_rejected), it goes to
// the tenant's dead-letter file (runtime/dead_letter.hpp), is counted and
// audited, and the next batch goes.
//
// Everything that must outlive a crash lives in an orderer_keep that the
// tenant holds: the dedupe window, the reorder buffer, the sink outboxes and
// handles, the journal. A restarted orderer adopts the keep and sends every
// unacknowledged batch again; sinks skip a seq they have already handled.
// Only one orderer uses a keep at a time: the next one is spawned after the
// previous one's down message.
//
// Late events (older than one already released): `deliver` (flagged late, to
// the normal sinks), `drop`, or `route` (to the sinks marked late_only).
// Always counted. Audit events: events_dropped, actor_restarted (kind sink),
// batch_refused, batch_dead_lettered, dead_letter_failed, journal_replayed,
// journal_failed, journal_recovered.
//
// With a journal (runtime/journal.hpp), an event is stored before the
// session's batch is acknowledged and removed once every sink that gets it
// acknowledged it (or dead-lettered it). A batch whose events cannot be
// stored is refused whole and offered again by the session: events stop
// flowing while the journal fails, and nothing is acknowledged that is not
// stored. Events dropped from a full sink queue stay in the journal and are
// delivered at the next start (a spill, not a loss).

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/actor_util.hpp"
#include "messages/orderer.hpp"
#include "messages/sink.hpp"
#include "runtime/backoff.hpp"
#include "runtime/dead_letter.hpp"
#include "runtime/dedupe_window.hpp"
#include "runtime/event_budget.hpp"
#include "runtime/http_transport.hpp"
#include "runtime/journal.hpp"
#include "runtime/rate_meter.hpp"
#include "runtime/reorder_buffer.hpp"
#include "runtime/restart_tracker.hpp"
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
  /// the sink has none out).
  int64_t linger_ms = 0;
  /// A sink that does not answer a batch within this refuses it.
  int64_t sink_timeout_ms = 30000;
  /// Refusals in a row after which a batch goes to the dead letters.
  uint32_t max_refusals = 10;
  /// The wait before a refused batch goes again (a sink's own policy, when
  /// its spec has one, wins).
  backoff_policy retry{std::chrono::milliseconds{100}, 2.0,
                       std::chrono::milliseconds{30000}};
  /// Where dead letters go (empty: they are counted and audited, and
  /// dropped).
  std::string dead_letter_path;
  /// A sink that died is started again after this delay (growing when it
  /// keeps dying, see sink_restarts).
  int64_t sink_restart_delay_ms = 100;
  /// How often a sink may die before the orderer gives up (and with it the
  /// tenant, loudly).
  restart_policy sink_restarts;
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
  /// The wait before a refused batch goes again (unset: the tenant's).
  std::optional<backoff_policy> retry = std::nullopt;
};

/// What outlives an orderer's crash (held by the tenant).
/// What the orderer last published of its counters, for readers on any
/// thread (a scrape, the metrics actor, a host): the orderer publishes after
/// each message that changed them, so nobody has to ask it, and an idle
/// tenant costs nothing (no periodic poll).
class orderer_board {
public:
  void publish(orderer_stats s, const rate_meter& rate) {
    std::lock_guard<std::mutex> g{mtx_};
    stats_ = std::move(s);
    rate_ = rate;
  }

  /// The counters as last published.
  orderer_stats stats() const {
    std::lock_guard<std::mutex> g{mtx_};
    return stats_;
  }

  /// Events received per second over the last ten seconds, at `now_ms`
  /// (epoch ms).
  double rate(int64_t now_ms) const {
    std::lock_guard<std::mutex> g{mtx_};
    return rate_.per_second(now_ms);
  }

private:
  mutable std::mutex mtx_;
  orderer_stats stats_;
  rate_meter rate_;
};

class orderer_keep {
public:
  orderer_keep(orderer_settings cfg, std::vector<sink_spec> sinks);

  struct slot {
    sink_spec spec;
    sink_outbox outbox;
    sink_actor handle;
    restart_tracker restarts;
    /// Bumped at each start, so that a retry meant for a dead sink is
    /// dropped (its successor gets the unacknowledged batch anyway).
    uint64_t gen = 0;
    int64_t linger_until = -1;
    /// When the batch out must be answered (actor clock ms; -1: none out),
    /// and which send it is (a refusal of an earlier send is stale).
    int64_t deadline_ms = -1;
    uint64_t send_gen = 0;
    uint64_t drops_unreported = 0;
    int64_t last_drop_audit_ms = INT64_MIN;
  };

  orderer_settings cfg;
  dedupe_window dedupe;
  reorder_buffer reorder;
  std::vector<slot> slots;
  orderer_stats counters;
  jitter_rng rng{std::random_device{}()};

  /// Optional: events are written here before delivery and removed once
  /// every sink that gets them acknowledged them.
  std::unique_ptr<journal> store;
  /// Journal id -> sinks that still have to acknowledge the event.
  std::unordered_map<uint64_t, uint32_t> unacked_by;
  /// Loaded from the journal at start; the first orderer delivers them.
  std::vector<event> replay;
  /// Whether journal appends are failing (since when, actor clock ms).
  int64_t journal_failing_since = -1;
  int64_t journal_last_audit_ms = INT64_MIN;
  /// Batches given up on.
  dead_letter_file dead_letters;
  /// Handed to sink factories (may be null).
  std::shared_ptr<http_transport> http;
  /// The tenant's event budget (may be null): the orderer reports its share.
  std::shared_ptr<event_budget> budget;
  /// Events received per second (wall clock).
  rate_meter rate;
  /// Where the counters are published.
  std::shared_ptr<orderer_board> board = std::make_shared<orderer_board>();

  /// Uses `j` from now on, and queues what it holds for replay.
  void attach_journal(std::unique_ptr<journal> j);

  /// Stops every sink (the tenant is going).
  void stop_sinks();

  /// Events held: the reorder buffer and every sink queue (batches out
  /// included).
  size_t held_events() const;

  /// The sinks' handles now (any thread); publish_sinks() updates them (the
  /// orderer, when a sink starts or dies).
  std::vector<caf::actor> sink_handles() const;
  void publish_sinks();

private:
  mutable std::mutex sinks_mtx_;
  std::vector<caf::actor> published_sinks_;
};

/// State of an orderer actor (what dies with it).
struct orderer_state {
  std::shared_ptr<orderer_keep> keep;
  audit_ref audit;
  int64_t tick_at = INT64_MAX;
  std::vector<std::pair<caf::typed_response_promise<bool>, int64_t>> drains;
  /// Scratch space reused by every batch (empty between messages).
  std::vector<event> released;
  std::vector<event*> fresh;
  std::vector<uint64_t> hashes; // dedupe hashes of the batch being admitted
  static inline const char* name = "gcstream.orderer";
};

using orderer_pointer = orderer_actor::stateful_pointer<orderer_state>;

/// The orderer's behavior. `audit` may be null.
orderer_actor::behavior_type orderer_actor_impl(orderer_pointer self,
                                                std::shared_ptr<orderer_keep> keep,
                                                audit_ref audit);

} // namespace gcstream
