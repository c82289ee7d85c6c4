#pragma once

// A program under test as a child process: stdout on a pipe (read line by
// line with a deadline), stderr to a file, extra environment variables.
// Every wait has a deadline; the destructor kills what still runs. Failing
// to start throws std::runtime_error (a test error under Boost.Test), so the
// benchmarks use it too.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
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
    // CLOEXEC: another child started meanwhile must not hold them open.
    if (pipe2(fds, O_CLOEXEC) != 0)
      throw std::runtime_error("child: pipe failed");
    char tmpl[] = "/tmp/gcstream-child-stderr-XXXXXX";
    int err_fd = mkostemp(tmpl, O_CLOEXEC);
    if (err_fd < 0)
      throw std::runtime_error("child: cannot create a stderr file");
    err_path = tmpl;
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
    // fork and exec rather than posix_spawn, for one thing posix_spawn
    // cannot do: the child is killed when this process dies, so that a
    // crashed or interrupted test or benchmark leaves no emulator running.
    // (The signal follows the thread that forks: every caller is a main
    // thread.) A CLOEXEC pipe carries exec's errno back; between fork and
    // exec only async-signal-safe calls.
    int status_pipe[2];
    if (pipe2(status_pipe, O_CLOEXEC) != 0)
      throw std::runtime_error("child: pipe failed");
    pid_t parent = getpid();
    pid = fork();
    if (pid < 0)
      throw std::runtime_error("child: fork failed");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent)
        _exit(127); // the parent is already gone
      dup2(fds[1], 1);
      dup2(err_fd, 2);
      close(fds[0]);
      execve(argv[0], argv.data(), envp.data());
      int e = errno;
      [[maybe_unused]] auto n = write(status_pipe[1], &e, sizeof e);
      _exit(127);
    }
    close(status_pipe[1]);
    int exec_errno = 0;
    ssize_t got;
    do
      got = read(status_pipe[0], &exec_errno, sizeof exec_errno);
    while (got < 0 && errno == EINTR);
    close(status_pipe[0]);
    if (got > 0) {
      waitpid(pid, nullptr, 0);
      pid = -1;
      close(fds[0]);
      close(fds[1]);
      close(err_fd);
      unlink(err_path.c_str());
      throw std::runtime_error("child: cannot start " + args[0] + ": "
                               + std::strerror(exec_errno));
    }
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
