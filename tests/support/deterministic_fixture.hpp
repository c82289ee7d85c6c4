#pragma once

// The deterministic CAF fixture of CAF-0.17.md: an actor system on CAF's test
// scheduler, so that a test decides when mailboxes drain and when time passes.
// caf/test/dsl.hpp crashes under Boost.Test; this does not.
//
//   sched.run();                              // drain every mailbox
//   sched.clock().advance_time(30s);          // fire due timers...
//   sched.run();                              // ...and handle them

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "messages/add_types.hpp"

namespace gcstream::test {

struct deterministic_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;

  static caf::actor_system_config& init(caf::actor_system_config& c) {
    c.set("scheduler.policy", caf::atom("testing"));
    c.set("logger.file-verbosity", caf::atom("quiet"));
    c.set("logger.console-verbosity", caf::atom("quiet"));
    gcstream::add_types(c);
    return c;
  }

  deterministic_fixture()
    : sys(init(cfg)),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
  }
};

} // namespace gcstream::test
