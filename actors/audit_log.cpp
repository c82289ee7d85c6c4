#include "actors/audit_log.hpp"

#include <caf/all.hpp>

namespace gcstream {

namespace {

using pointer = audit_log_actor::stateful_pointer<audit_log_state>;

void write(pointer self, const audit_event& e) {
  auto& st = self->state;
  if (st.writer && !st.writer->write(e.tenant, e.event, e.fields, wall_ms()))
    ++st.failed_writes;
  if (st.forward)
    self->send(st.forward, e);
}

void take(pointer self) {
  auto& st = self->state;
  if (auto lost = st.queue->take_lost(); lost > 0)
    write(self, audit_event{"", "audit_gap",
                            {{"lost", std::to_string(lost)},
                             {"queue", "process"}}});
  for (;;) {
    auto run = st.queue->peek();
    if (run.events.empty())
      return;
    for (auto& e : run.events)
      write(self, e);
    st.queue->ack(run);
  }
}

} // namespace

audit_log_actor::behavior_type audit_log(pointer self,
                                         std::shared_ptr<audit_writer> writer,
                                         audit_ref queue, audit_actor forward) {
  auto& st = self->state;
  st.writer = std::move(writer);
  st.queue = std::move(queue);
  st.forward = std::move(forward);
  if (st.queue) {
    auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
    st.queue->adopt([weak] {
      if (auto strong = caf::actor_cast<caf::strong_actor_ptr>(weak))
        caf::anon_send(caf::actor_cast<audit_log_actor>(strong), poke_atom::value);
    });
  }
  return {
    [=](const audit_event& e) { write(self, e); },
    [=](poke_atom) {
      if (self->state.queue)
        take(self);
    },
  };
}

} // namespace gcstream
