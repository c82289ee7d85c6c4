// demo: what `gcstream demo` runs, narrated. The code is host/demo.cpp; this
// program calls it with small numbers so that it finishes in seconds.
//
// 1. An emulator of the Genesys Cloud Notification service starts in this
//    process on a free loopback port, with one OAuth client per tenant.
// 2. A gcstream::runtime starts on this program's actor system: one Asio
//    thread for every WebSocket, a pool of libcurl workers, the connection
//    limiter.
// 3. Each tenant is added with two topics and a counting sink. Its
//    supervisor gets a token, creates a channel, subscribes, connects; its
//    orderer dedupes and reorders the events and hands them to the sink in
//    batches, keeping each batch until the sink acknowledges it.
// 4. Faults are injected on a schedule, one tenant at a time: dropped and
//    reset sockets (reconnect to the same channel), socket_closing (a new
//    channel is connected before the old one goes), duplicates and
//    out-of-order frames (removed and sorted by the orderer), a stalled
//    socket (the heartbeat watchdog catches it), no_longer_subscribed (a new
//    channel), a revoked token (a new token).
// 5. The events stop, the sinks get everything that was written, and the
//    summary compares the emulator's accounting with what the sinks got:
//    written, delivered, lost, duplicated. Events the service generated
//    while a tenant had no socket open are shown apart: the service has no
//    replay, so they are measured, never hidden.
//
//   ./demo [tenants=2] [seconds=6]

#include <cstdlib>
#include <iostream>

#include <caf/all.hpp>

#include "host/demo.hpp"
#include "messages/add_types.hpp"

int main(int argc, char** argv) {
  gcstream::demo_options opts;
  opts.tenants = argc > 1 ? std::atoi(argv[1]) : 2;
  opts.duration_s = argc > 2 ? std::atoi(argv[2]) : 6;
  opts.faults = true;
  caf::actor_system_config cfg;
  gcstream::add_types(cfg);
  gcstream::io_driven_scheduler(cfg);
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  return gcstream::run_demo(sys, opts, std::cout, false);
}
