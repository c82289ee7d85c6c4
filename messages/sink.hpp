#pragma once

// The one interface every sink implements, built in or the user's own:
// receive a batch, reply with its sequence number once the batch is safe.
//
//   orderer --(deliver_atom, event_batch)--> sink
//   orderer <--------- uint64_t seq ---------  sink   (the acknowledgement)
//
// A sink replies only when it is done with the batch (written, sent, counted).
// The orderer keeps every batch until that reply and sends it again to a
// restarted sink, so a sink must tolerate a batch it has seen (same seq).

#include <cstdint>

#include <caf/replies_to.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/event.hpp"

namespace gcstream {

/// The typed interface of a sink actor.
using sink_actor = caf::typed_actor<
  caf::replies_to<deliver_atom, event_batch>::with<uint64_t>>;

/// For a sink's state: tells a batch sent again after an orderer restart
/// from a new one. An orderer sends a sink its batches in seq order (resends
/// first), so a seq at most the last one handled was handled already:
/// acknowledge it again and do nothing else.
class seen_batches {
public:
  /// True when `seq` was handled already; otherwise records it.
  bool seen(uint64_t seq) {
    if (seq != 0 && seq <= last_)
      return true;
    last_ = seq;
    return false;
  }

  uint64_t last() const { return last_; }

private:
  uint64_t last_ = 0;
};

} // namespace gcstream
