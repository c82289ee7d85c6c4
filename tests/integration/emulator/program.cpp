// The gcstream-emulator program: the command line other tools rely on.

#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/probe_client.hpp"

extern char** environ;

using namespace gcstream;

namespace {

// Runs the program with stdout on a pipe.
struct child {
  pid_t pid = -1;
  int out = -1;

  explicit child(std::vector<std::string> args) {
    int fds[2];
    BOOST_REQUIRE_EQUAL(pipe(fds), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    BOOST_REQUIRE_EQUAL(posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ),
                        0);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    out = fds[0];
  }

  ~child() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    close(out);
  }

  // Reads one line, waiting at most `ms`.
  std::string line(int ms) {
    std::string s;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    char c;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0)
        continue;
      if (read(out, &c, 1) != 1)
        break;
      if (c == '\n')
        return s;
      s += c;
    }
    return s;
  }

  // Waits for exit; returns the exit status or -1.
  int wait_exit(int ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      pollfd p{out, 0, 0};
      poll(&p, 1, 10);
    }
    return -1;
  }
};

} // namespace

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

BOOST_AUTO_TEST_SUITE_END()
