#pragma once

// The atoms of gcstream's messages. They live in our namespace: caf already
// defines get, put, ok, tick, reset and flush atoms.

#include <caf/atom.hpp>

namespace gcstream {

/// Hands a batch of events to a sink.
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;

/// Asks an actor for its counters.
using stats_atom = caf::atom_constant<caf::atom("stats")>;

} // namespace gcstream
