#include "messages/add_types.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "messages/audit.hpp"
#include "messages/errors.hpp"
#include "messages/event.hpp"
#include "messages/http.hpp"
#include "messages/metrics.hpp"
#include "messages/orderer.hpp"
#include "messages/session.hpp"
#include "messages/supervision.hpp"

namespace gcstream {

caf::actor_system_config& add_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<frame_ref>("gcstream::frame_ref");
  cfg.add_message_type<event>("gcstream::event");
  cfg.add_message_type<std::vector<event>>("std::vector<gcstream::event>");
  cfg.add_message_type<event_batch>("gcstream::event_batch");
  cfg.add_message_type<http_response>("gcstream::http_response");
  cfg.add_message_type<audit_event>("gcstream::audit_event");
  cfg.add_message_type<frame_notice>("gcstream::frame_notice");
  cfg.add_message_type<std::vector<frame_notice>>(
    "std::vector<gcstream::frame_notice>");
  cfg.add_message_type<ws_close_report>("gcstream::ws_close_report");
  cfg.add_message_type<channel_info>("gcstream::channel_info");
  cfg.add_message_type<tenant_status>("gcstream::tenant_status");
  cfg.add_message_type<ingest_actor>("gcstream::ingest_actor");
  cfg.add_message_type<sink_stats>("gcstream::sink_stats");
  cfg.add_message_type<std::vector<sink_stats>>("std::vector<gcstream::sink_stats>");
  cfg.add_message_type<orderer_stats>("gcstream::orderer_stats");
  cfg.add_message_type<histogram>("gcstream::histogram");
  cfg.add_message_type<tenant_metrics>("gcstream::tenant_metrics");
  // access_token is local only (CAF_ALLOW_UNSAFE_MESSAGE_TYPE): a token never
  // goes to another node.
  cfg.add_error_category(
    errc_category::value,
    [](uint8_t code, caf::atom_value, const caf::message& ctx) -> std::string {
      std::string out = "gcstream: ";
      out += to_string(static_cast<errc>(code));
      if (ctx.size() >= 1 && ctx.match_element<std::string>(0)) {
        out += " (";
        out += ctx.get_as<std::string>(0);
        out += ")";
      }
      return out;
    });
  return cfg;
}

caf::actor_system_config& io_driven_scheduler(caf::actor_system_config& cfg) {
  cfg.set("work-stealing.moderate-poll-attempts", size_t{0});
  // A sleeping worker also wakes when its wait times out, to steal: every
  // 10 ms by default, 100 wake-ups a second per idle worker. A wake-up costs
  // 30 to 45 us of CPU on a virtual machine (bench_wakeup), so that alone
  // was 0.3 to 1.8% of a core with nothing to do. Work sent to a worker
  // still wakes it at once; only stealing waits longer.
  cfg.set("work-stealing.relaxed-sleep-duration",
          caf::timespan{std::chrono::milliseconds{100}});
  // One worker per core (CAF starts at least 4): fewer threads to wake.
  cfg.set("scheduler.max-threads",
          size_t{std::max(2u, std::thread::hardware_concurrency())});
  return cfg;
}

} // namespace gcstream
