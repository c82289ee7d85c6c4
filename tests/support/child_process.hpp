#pragma once

// A program under test as a child process: stdout on a pipe (read line by
// line with a deadline), stderr to a file, extra environment variables.
// Every wait has a deadline; the destructor kills what still runs. Failing
// to start throws std::runtime_error (a test error under Boost.Test), so the
// benchmarks use it too.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace gcstream::test {

struct child {
  pid_t pid = -1;
  int out = -1;
  std::string err_path;
  std::string seen; // everything read from stdout so far

  explicit child(std::vector<std::string> args, std::vector<std::string> env = {}) {
    int fds[2];
    if (pipe(fds) != 0)
      throw std::runtime_error("child: pipe failed");
    char tmpl[] = "/tmp/gcstream-child-stderr-XXXXXX";
    int err_fd = mkstemp(tmpl);
    if (err_fd < 0)
      throw std::runtime_error("child: cannot create a stderr file");
    err_path = tmpl;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e)
      env_strings.emplace_back(*e);
    env_strings.insert(env_strings.end(), env.begin(), env.end());
    std::vector<char*> envp;
    for (auto& e : env_strings)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    int spawned = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (spawned != 0)
      throw std::runtime_error("child: cannot start " + args[0]);
    close(fds[1]);
    close(err_fd);
    out = fds[0];
  }

  ~child() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
    close(out);
    unlink(err_path.c_str());
  }

  // Reads one line of stdout, waiting at most `ms`.
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
      seen += c;
      if (c == '\n')
        return s;
      s += c;
    }
    return s;
  }

  // Reads stdout to its end (the child exited or closed it), within `ms`.
  std::string rest(int ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0)
        continue;
      auto n = read(out, buf, sizeof(buf));
      if (n <= 0)
        break;
      seen.append(buf, static_cast<size_t>(n));
    }
    return seen;
  }

  std::string stderr_text() const {
    std::ifstream in{err_path};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Waits for exit; returns the exit status, 128 + signal, or -1 on timeout.
  int wait_exit(int ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        if (WIFEXITED(status))
          return WEXITSTATUS(status);
        return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
      }
      pollfd p{out, 0, 0};
      poll(&p, 1, 10);
    }
    return -1;
  }
};

} // namespace gcstream::test
