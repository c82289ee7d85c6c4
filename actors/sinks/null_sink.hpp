#pragma once

// The null sink: acknowledges every batch at once and keeps nothing. For
// benchmarks, and for tenants that only want metrics.
//
//   (deliver_atom, event_batch) -> replies batch.seq

#include "messages/sink.hpp"

namespace gcstream {

/// State of a null sink: what it has acknowledged.
struct null_sink_state {
  uint64_t batches = 0;
  uint64_t events = 0;
  static inline const char* name = "gcstream.null_sink";
};

/// The null sink's behavior.
sink_actor::behavior_type
null_sink(sink_actor::stateful_pointer<null_sink_state> self);

} // namespace gcstream
