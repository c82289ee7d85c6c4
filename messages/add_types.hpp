#pragma once

// Registers every gcstream message type with an actor system config. A host
// calls it before it builds its actor_system; without it, events reach a
// remote node empty.

#include <caf/actor_system_config.hpp>

namespace gcstream {

/// Adds gcstream's message types to `cfg`; returns `cfg`.
caf::actor_system_config& add_types(caf::actor_system_config& cfg);

} // namespace gcstream
