#include "actors/audit_log.hpp"

#include <chrono>

#include <caf/all.hpp>

namespace gcstream {

audit_actor::behavior_type
audit_log(audit_actor::stateful_pointer<audit_log_state> self,
          std::shared_ptr<audit_writer> writer, audit_actor forward) {
  self->state.forward = std::move(forward);
  return {[=](const audit_event& e) {
    using namespace std::chrono;
    if (writer) {
      auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch());
      if (!writer->write(e.tenant, e.event, e.fields, now.count()))
        ++self->state.failed_writes;
    }
    if (self->state.forward)
      self->send(self->state.forward, e);
  }};
}

} // namespace gcstream
