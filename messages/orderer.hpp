#pragma once

// The orderer's interface: what sessions hand it, what its timers and a host
// ask of it.
//
//   session --(ingest_atom, event_batch)-----> orderer -> batch.seq (the ack:
//                                                          the events are in
//                                                          its kept state), or
//                                                          an error (nothing
//                                                          taken: offer again)
//   orderer --(deliver_atom, event_batch)----> sink    -> seq (see sink.hpp)
//   anyone  --(stats_atom)-------------------> orderer -> orderer_stats
//   itself  --(sink_down_atom, i), (resend_atom, i, seq, gen): its restart and
//              retry timers
//   host    --(drain_atom)-------------------> orderer -> true when every
//                                                          sink acknowledged
//                                                          all (false: timeout)

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/histogram.hpp"
#include "messages/session.hpp"

namespace gcstream {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using sink_down_atom = caf::atom_constant<caf::atom("sink_down")>;

/// One sink as the orderer sees it.
struct sink_stats {
  std::string name;
  /// Released events not yet sent (no credit left).
  uint64_t waiting = 0;
  /// Batches sent and not yet acknowledged.
  uint64_t unacked_batches = 0;
  uint64_t delivered = 0;
  /// Dropped because the sink's queue was full.
  uint64_t dropped = 0;
  /// Times the sink was started again after it died.
  uint64_t restarts = 0;
  /// Refusals so far (errors, or no answer within the sink timeout).
  uint64_t refused = 0;
  /// Refusals in a row of the batch out now (0: none).
  uint64_t refusing = 0;
  /// Events given up on (to the dead-letter file, or dropped without one).
  uint64_t dead_lettered = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sink_stats& x) {
  return f(caf::meta::type_name("gcstream::sink_stats"), x.name, x.waiting,
           x.unacked_batches, x.delivered, x.dropped, x.restarts, x.refused,
           x.refusing, x.dead_lettered);
}

/// The orderer's counters (they survive its restarts).
struct orderer_stats {
  std::string tenant;
  uint64_t received = 0;
  uint64_t duplicates = 0;
  /// Older than an event already released.
  uint64_t late = 0;
  uint64_t late_dropped = 0;
  /// Released before their time because the reorder buffer was full.
  uint64_t released_early = 0;
  /// Waiting in the reorder buffer.
  uint64_t reordering = 0;
  /// Times the orderer was started on kept state (its restarts).
  uint64_t incarnations = 0;
  /// Journal writes that failed (appends are retried).
  uint64_t journal_errors = 0;
  /// Held in the reorder buffer and the sink queues.
  uint64_t held = 0;
  std::vector<sink_stats> sinks;
  /// Arrival minus event time, seconds, for every new event.
  histogram event_latency{duration_bounds()};
  /// A sink's acknowledgement minus the frame's arrival, seconds, for every
  /// event every sink acknowledged (the reorder wait included).
  histogram delivery_latency{delivery_bounds()};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, orderer_stats& x) {
  return f(caf::meta::type_name("gcstream::orderer_stats"), x.tenant,
           x.received, x.duplicates, x.late, x.late_dropped, x.released_early,
           x.reordering, x.incarnations, x.journal_errors, x.held, x.sinks,
           x.event_latency, x.delivery_latency);
}

/// The typed interface of an orderer. It is also an ingest_actor.
using orderer_actor = caf::typed_actor<
  caf::replies_to<ingest_atom, event_batch>::with<uint64_t>,
  caf::reacts_to<tick_atom>,
  caf::reacts_to<sink_down_atom, size_t>,
  caf::reacts_to<resend_atom, size_t, uint64_t, uint64_t>,
  caf::replies_to<stats_atom>::with<orderer_stats>,
  caf::replies_to<drain_atom, caf::timespan>::with<bool>>;

} // namespace gcstream
