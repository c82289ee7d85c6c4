// The gcstream-emulator program: the command line other tools rely on.

#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include "tests/support/child_process.hpp"
#include "tests/support/probe_client.hpp"

using namespace gcstream;
using test::child;

BOOST_AUTO_TEST_SUITE(emulator_program)

BOOST_AUTO_TEST_CASE(prints_one_ready_line_serves_and_exits_on_sigterm) {
  child c({GCSTREAM_EMULATOR_PROGRAM, "--listen", "127.0.0.1:0", "--client",
           "app:pw", "--event-rate", "50", "--heartbeat-interval-ms", "100",
           "--token-ttl-s", "300", "--channel-ttl-s", "600"});
  auto ready = c.line(10000);
  const std::string prefix = "listening on http://127.0.0.1:";
  BOOST_REQUIRE_EQUAL(ready.rfind(prefix, 0), 0u);
  auto base = ready.substr(std::string{"listening on "}.size());
  auto tok = probe::get_token(base, "app", "pw");
  auto ch = probe::create_channel(base, tok);
  BOOST_REQUIRE_EQUAL(probe::subscribe(base, tok, ch.id, {"v2.users.u.presence"}).status,
                      200);
  probe::ws_probe ws;
  BOOST_REQUIRE(ws.connect(ch.connect_uri));
  BOOST_CHECK(ws.wait_until([&] { return ws.frame_count() >= 5; }));
  kill(c.pid, SIGTERM);
  BOOST_CHECK_EQUAL(c.wait_exit(10000), 0);
}

BOOST_AUTO_TEST_CASE(bad_arguments_exit_2_with_a_reason) {
  child c({GCSTREAM_EMULATOR_PROGRAM, "--event-rate", "fast"});
  BOOST_CHECK_EQUAL(c.wait_exit(10000), 2);
}

namespace {

// Whether `pid` still runs (a zombie has ended: its parent is gone and
// nobody may reap it here).
bool running(pid_t pid) {
  std::ifstream stat{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text;
  if (!std::getline(stat, text))
    return false;
  auto close_paren = text.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < text.size()
         && text[close_paren + 2] != 'Z';
}

} // namespace

BOOST_AUTO_TEST_CASE(a_started_emulator_dies_with_a_killed_parent) {
  // A test or benchmark that crashes, or is interrupted, leaves no emulator
  // behind (test::child). The parent here is a forked copy of this process,
  // killed with SIGKILL once its emulator is up.
  int p[2];
  BOOST_REQUIRE_EQUAL(pipe(p), 0);
  pid_t parent = fork();
  BOOST_REQUIRE_GE(parent, 0);
  if (parent == 0) {
    close(p[0]);
    try {
      child c({GCSTREAM_EMULATOR_PROGRAM, "--listen", "127.0.0.1:0"});
      if (c.line(10000).rfind("listening on", 0) == 0) {
        pid_t emulator = c.pid;
        if (write(p[1], &emulator, sizeof emulator) == sizeof emulator)
          for (;;)
            pause(); // until killed: no destructor runs
      }
    } catch (...) {
    }
    _exit(1);
  }
  close(p[1]);
  pid_t emulator = -1;
  pollfd pf{p[0], POLLIN, 0};
  bool told = poll(&pf, 1, 15000) == 1
              && read(p[0], &emulator, sizeof emulator) == sizeof emulator;
  close(p[0]);
  kill(parent, SIGKILL);
  waitpid(parent, nullptr, 0);
  BOOST_REQUIRE(told);
  BOOST_REQUIRE_GT(emulator, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (running(emulator) && std::chrono::steady_clock::now() < deadline)
    poll(nullptr, 0, 10);
  bool survived = running(emulator);
  if (survived)
    kill(emulator, SIGKILL); // do not leave it running either way
  BOOST_CHECK(!survived);
}

BOOST_AUTO_TEST_SUITE_END()
