#pragma once

// For integration tests of the client: a real (threaded) actor system, the
// process's HTTP client, an in-process emulator on loopback, and a recorder of
// audit events. Blocking waits always have a deadline.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/all.hpp>

#include "messages/add_types.hpp"
#include "messages/audit.hpp"
#include "runtime/http_client.hpp"
#include "tests/support/audit_capture.hpp"
#include "tests/support/emulator_fixture.hpp"

namespace gcstream::test {

struct live_fixture : emulator_fixture {
  struct config : caf::actor_system_config {
    config() {
      add_types(*this);
      set("logger.console-verbosity", caf::atom("quiet"));
      set("logger.file-verbosity", caf::atom("quiet"));
      set("scheduler.max-threads", 2);
    }
  };

  config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<http_client> http;
  std::mutex audit_mtx;
  std::vector<audit_event> audits;
  /// Gets every audit event of a runtime (its observer).
  audit_actor recorder;
  /// Where actors spawned directly by a test report.
  audit_capture direct;

  explicit live_fixture(emulator::config c = default_config(),
                        http_settings hs = {})
    : emulator_fixture(std::move(c)), http(std::make_shared<http_client>(hs)) {
    recorder = sys.spawn(
      [this](audit_actor::pointer) -> audit_actor::behavior_type {
        return {[this](const audit_event& e) {
          std::lock_guard<std::mutex> g{audit_mtx};
          audits.push_back(e);
        }};
      });
  }

  ~live_fixture() {
    stop_actors({});
    http->stop();
  }

  /// Stops `actors` and the recorder, and waits (with a deadline) until no
  /// actor runs any more. A fixture that owns state its actors touch calls
  /// this in its destructor, before that state goes.
  void stop_actors(std::vector<caf::actor> actors) {
    actors.push_back(caf::actor_cast<caf::actor>(recorder));
    for (auto& a : actors)
      if (a)
        caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (sys.registry().running() > 0
           && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  /// What the recorder got, then what was reported directly.
  std::vector<audit_event> audit_copy() {
    std::vector<audit_event> out;
    {
      std::lock_guard<std::mutex> g{audit_mtx};
      out = audits;
    }
    auto more = direct.all();
    out.insert(out.end(), more.begin(), more.end());
    return out;
  }

  /// Performs one request through the HTTP client and waits for it.
  caf::expected<http_response> call(http_request req,
                                    std::chrono::seconds timeout =
                                      std::chrono::seconds(20)) {
    std::mutex m;
    std::condition_variable cv;
    std::optional<caf::expected<http_response>> out;
    http->submit(std::move(req), [&](caf::expected<http_response> r) {
      std::lock_guard<std::mutex> g{m};
      out.emplace(std::move(r));
      cv.notify_all();
    });
    std::unique_lock<std::mutex> g{m};
    if (!cv.wait_for(g, timeout, [&] { return out.has_value(); }))
      return caf::make_error(caf::sec::request_timeout);
    return std::move(*out);
  }
};

} // namespace gcstream::test
