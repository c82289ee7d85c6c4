#pragma once

// `gcstream demo`: the whole pipeline against an emulator in the same
// process, with faults injected on a schedule, and a summary computed from
// the emulator's accounting against what the sinks received.
//
// Each tenant has its own OAuth client and two topics. While it runs, a
// status line shows events per second, tenants connected, reconnects and the
// events the service generated while a tenant had no socket open (the gaps:
// the service has no replay, so those are visible, never hidden). At the end
// the events stop, the sinks get everything that was written, and the last
// line reads
//
//   summary: written=N delivered=N lost=N duplicated=N
//
// where written is what the emulator wrote to the tenants' sockets, delivered
// the distinct events the sinks got, lost the written events no sink got, and
// duplicated the deliveries beyond the first of an event.

#include <caf/actor_system.hpp>

#include <ostream>

namespace gcstream {

struct demo_options {
  int tenants = 3;
  int duration_s = 20;
  bool faults = false;
  /// Events per second per topic.
  double event_rate = 50;
  /// Seconds between two faults.
  double fault_interval_s = 1.5;
  /// Audit log ("" none, "-" stderr).
  std::string audit_log;
};

/// Runs the demo; returns 0 when nothing was lost or duplicated, 1
/// otherwise. Progress goes to `out` (a live line when it is a terminal).
int run_demo(caf::actor_system& sys, const demo_options& opts, std::ostream& out,
             bool live_line);

} // namespace gcstream
