#pragma once

// The gcstream-emulator program as a child process of a benchmark, so that
// the benchmark's CPU time and resident memory are the client's alone.
// Listens on an OS-chosen loopback port; the destructor stops it.

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace gcstream::bench {

class emulator_child {
public:
  explicit emulator_child(std::vector<std::string> extra_args) {
    std::vector<std::string> args{GCSTREAM_EMULATOR_PATH, "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0)
      throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0)
      throw std::runtime_error("cannot start " + args[0]);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    out_ = fds[0];
    // "listening on http://127.0.0.1:PORT", within 10 s.
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (line.find('\n') == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
      pollfd p{out_, POLLIN, 0};
      if (left <= 0 || poll(&p, 1, int(left)) <= 0)
        throw std::runtime_error("the emulator did not start");
      char buf[256];
      auto n = read(out_, buf, sizeof buf);
      if (n <= 0)
        throw std::runtime_error("the emulator exited");
      line.append(buf, size_t(n));
    }
    auto at = line.find("http://");
    if (at == std::string::npos)
      throw std::runtime_error("unexpected first line: " + line);
    base_ = line.substr(at, line.find('\n') - at);
  }

  ~emulator_child() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (out_ >= 0)
      close(out_);
  }

  emulator_child(const emulator_child&) = delete;
  emulator_child& operator=(const emulator_child&) = delete;

  const std::string& base_url() const { return base_; }

private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string base_;
};

} // namespace gcstream::bench
