#pragma once

// The atoms of gcstream's messages. They live in our namespace: caf already
// defines get, put, ok, tick, reset and flush atoms.

#include <caf/atom.hpp>

namespace gcstream {

/// Hands a batch of events to a sink.
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;

/// Asks an actor for its counters.
using stats_atom = caf::atom_constant<caf::atom("stats")>;

/// Tells an actor that a queue it consumes, outside every actor (an inbox,
/// an audit queue), has something for it.
using poke_atom = caf::atom_constant<caf::atom("poke")>;

/// Asks an actor to stop in order (drain first, then end).
using stop_atom = caf::atom_constant<caf::atom("stop")>;
/// Topics: the answer of the check of a tenant's topics against the
/// service's list, and a change of a tenant's (or a session's) topics.
using topics_atom = caf::atom_constant<caf::atom("topics")>;

/// A timer asking to close something (a socket) now.
using close_atom = caf::atom_constant<caf::atom("close")>;

/// A restarted owner introduces itself to a child it takes over.
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;

/// A deadline passed.
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;

/// A timer asking an actor to check the deadlines of what it has out.
using expire_atom = caf::atom_constant<caf::atom("expire")>;

} // namespace gcstream
