#pragma once

// Registers every gcstream message type with an actor system config. A host
// calls it before it builds its actor_system; without it, events reach a
// remote node empty.

#include <caf/actor_system_config.hpp>

namespace gcstream {

/// Adds gcstream's message types to `cfg`; returns `cfg`.
caf::actor_system_config& add_types(caf::actor_system_config& cfg);

/// Optional, for hosts whose actors are mostly woken by I/O, as gcstream's
/// are: CAF's work-stealing workers skip the "moderate" polling phase (by
/// default 500 wake-ups 50 us apart per idle worker) and go from a short
/// spin straight to waiting on a condition variable, which an enqueue
/// signals. Measured end to end (bench_end_to_end, 40,000 events/s): about
/// half the client CPU per event. An idle worker wakes to steal every 100 ms
/// (CAF: 10 ms), and there is one worker per core (CAF: at least 4). Values
/// set later (a config file, the command line) win. Returns `cfg`.
caf::actor_system_config& io_driven_scheduler(caf::actor_system_config& cfg);

} // namespace gcstream
