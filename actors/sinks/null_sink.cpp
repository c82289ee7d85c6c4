#include "actors/sinks/null_sink.hpp"

namespace gcstream {

sink_actor::behavior_type
null_sink(sink_actor::stateful_pointer<null_sink_state> self) {
  return {
    [=](deliver_atom, const event_batch& batch) -> uint64_t {
      ++self->state.batches;
      self->state.events += batch.events.size();
      return batch.seq;
    },
  };
}

} // namespace gcstream
