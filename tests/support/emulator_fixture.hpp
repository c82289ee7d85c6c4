#pragma once

// An in-process emulator on 127.0.0.1 with an OS-chosen port, for
// integration tests. Tests adjust `cfg` through the constructor argument.

#include <nlohmann/json.hpp>

#include "emulator/server.hpp"
#include "tests/support/probe_client.hpp"

namespace gcstream::test {

struct emulator_fixture {
  static emulator::config default_config() {
    emulator::config c;
    c.clients["app"] = "s3cret-Value";
    c.event_rate = 200;
    c.heartbeat_interval_ms = 30000;
    return c;
  }

  explicit emulator_fixture(emulator::config c = default_config())
    : srv(std::move(c)) {
    srv.start();
    base = srv.base_url();
  }

  nlohmann::json stats() { return nlohmann::json::parse(srv.stats_json()); }

  emulator::server srv;
  std::string base;
};

} // namespace gcstream::test
