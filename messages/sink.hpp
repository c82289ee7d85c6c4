#pragma once

// The one interface every sink implements, built in or the user's own:
// receive a batch, reply with its sequence number once the batch is safe.
//
//   orderer --(deliver_atom, event_batch)--> sink
//   orderer <--------- uint64_t seq ---------  sink   (the acknowledgement)
//
// A sink replies only when it is done with the batch (written, sent, counted).
// An error reply (or none within the tenant's sink_timeout_ms) refuses the
// batch: it is offered again, before any other, after a backoff; after
// max_refusals it goes to the tenant's dead letters (errc::sink_rejected
// sends it there at once). The orderer keeps every batch until the reply and
// sends it again to a restarted sink, so a sink must tolerate a batch it has
// seen (same seq).

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

/// For a sink's state: tells a batch sent again from a new one. The orderer
/// sends a sink one batch at a time, in seq order; a batch it sends again
/// (after a refusal, a timeout, or a restart of the sink or the orderer) is
/// always the last one it sent, so a seq at most the last one handled was
/// handled already: acknowledge it again and do nothing else.
///
///   if (handled.already(b.seq)) return b.seq;        // handled before
///   if (downstream_busy) return make_error(...);      // refused: it comes
///                                                     // again, before any other
///   ... handle the batch ...
///   handled.done(b.seq);
///   return b.seq;                                     // the acknowledgement
///
/// Mark a batch done only once it is handled: a batch marked and then
/// refused would be skipped when it comes again.
class seen_batches {
public:
  /// True when `seq` was handled already.
  bool already(uint64_t seq) const { return seq != 0 && seq <= last_; }

  /// Records that `seq` was handled.
  void done(uint64_t seq) {
    if (seq > last_)
      last_ = seq;
  }

  /// already() and, when false, done() at once: for a sink that never
  /// refuses a batch.
  bool seen(uint64_t seq) {
    if (already(seq))
      return true;
    done(seq);
    return false;
  }

  uint64_t last() const { return last_; }

private:
  uint64_t last_ = 0;
};

} // namespace gcstream
