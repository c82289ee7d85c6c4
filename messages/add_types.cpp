#include "messages/add_types.hpp"

#include "messages/event.hpp"

namespace gcstream {

caf::actor_system_config& add_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<frame_ref>("gcstream::frame_ref");
  cfg.add_message_type<event>("gcstream::event");
  cfg.add_message_type<std::vector<event>>("std::vector<gcstream::event>");
  cfg.add_message_type<event_batch>("gcstream::event_batch");
  return cfg;
}

} // namespace gcstream
