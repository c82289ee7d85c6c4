#pragma once

// What the benchmarks share: CPU clocks, resident memory, a quiet actor
// system config, and the gcstream-emulator program as a child process (so
// that a benchmark's CPU time and memory are the client's alone).

#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>

#include "bench/bench_stats.hpp"
#include "messages/add_types.hpp"
#include "tests/support/child_process.hpp"

namespace gcstream::bench {

/// This process's resident memory in KiB (-1 when unknown).
inline long rss_kib() {
  std::ifstream in{"/proc/self/status"};
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

/// gcstream's types, no log output, and the I/O-driven scheduler.
struct quiet_config : caf::actor_system_config {
  explicit quiet_config(bool io_driven = true) {
    add_types(*this);
    if (io_driven)
      io_driven_scheduler(*this);
    set("logger.console-verbosity", caf::atom("quiet"));
    set("logger.file-verbosity", caf::atom("quiet"));
  }
};

/// The gcstream-emulator program on an OS-chosen loopback port.
class emulator_child {
public:
  explicit emulator_child(std::vector<std::string> extra_args)
    : proc_(with_program(std::move(extra_args))) {
    // "listening on http://127.0.0.1:PORT", within 10 s.
    auto line = proc_.line(10000);
    auto at = line.find("http://");
    if (at == std::string::npos)
      throw std::runtime_error("the emulator did not start: '" + line + "' "
                               + proc_.stderr_text());
    base_ = line.substr(at);
  }

  const std::string& base_url() const { return base_; }

private:
  static std::vector<std::string> with_program(std::vector<std::string> extra) {
    std::vector<std::string> args{GCSTREAM_EMULATOR_PATH, "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  test::child proc_;
  std::string base_;
};

} // namespace gcstream::bench
