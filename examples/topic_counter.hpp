#pragma once

// topic_counter: the sink of examples/custom_sink.cpp, in a header of its own
// so that the tests run the very sink the README shows.
//
// A sink is any actor with gcstream::sink_actor's interface: it receives
// (deliver_atom, event_batch) and replies with the batch's seq once it is
// done with the batch, or with an error when it cannot take the batch now
// (its downstream is busy): then the same batch comes again, before any
// other, after a backoff.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "messages/sink.hpp"

namespace example {

// What the sink saw, shared with main() (a real sink would write somewhere),
// and when its downstream is busy.
struct counts {
  std::mutex m;
  std::map<std::string, uint64_t> per_topic;
  uint64_t refused = 0;
  /// Whether the downstream is busy for this delivery of batch `seq`.
  std::function<bool(uint64_t seq)> busy = [](uint64_t) { return false; };
};

// The sink's state: which batches it has handled (a batch comes again after
// a refusal or a restart: acknowledge it, skip it) and where it counts.
struct topic_counter_state {
  std::shared_ptr<counts> out;
  gcstream::seen_batches handled;
  static inline const char* name = "example.topic_counter";
};

inline gcstream::sink_actor::behavior_type
topic_counter(gcstream::sink_actor::stateful_pointer<topic_counter_state> self,
              std::shared_ptr<counts> out) {
  self->state.out = std::move(out);
  return {[=](gcstream::deliver_atom,
              const gcstream::event_batch& batch) -> caf::result<uint64_t> {
    auto& st = self->state;
    if (st.handled.already(batch.seq))
      return batch.seq; // handled before: acknowledge again
    std::lock_guard<std::mutex> guard{st.out->m};
    if (st.out->busy(batch.seq)) {
      ++st.out->refused;
      // Refused: gcstream offers this batch again, before any other.
      return gcstream::make_error(gcstream::errc::sink_failed, "downstream busy");
    }
    for (auto& e : batch.events)
      ++st.out->per_topic[std::string{e.topic()}];
    st.handled.done(batch.seq);
    return batch.seq; // the acknowledgement
  }};
}

} // namespace example
