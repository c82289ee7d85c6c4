// What the machine charges for the two things the client cannot avoid at
// ordinary rates (issue 15's profile), with no gcstream code involved:
//   - a thread wake-up, in CPU: a sleep of 2 ms that ends, and a
//     condition-variable hand-off between two threads (how a CAF worker is
//     woken). On bare metal a few microseconds; on a virtual machine each may
//     exit to the hypervisor, and the client's cost per event at ordinary
//     rates is then mostly the wake-ups per second times this figure;
//   - writing into the page cache (what the file sink does), in CPU per KiB,
//     for the first 128 MiB and the last 128 MiB of WRITE_MIB written in
//     64 KiB blocks to a file next to TMPDIR (deleted after): a long stream
//     of writes gets dearer once the kernel throttles dirty pages.
//
// Usage: bench_wakeup [RUNS=5] [WRITE_MIB=1024]

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

double cpu_s() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

double sleep_wake_us(int n) {
  auto c0 = cpu_s();
  for (int i = 0; i < n; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return (cpu_s() - c0) * 1e6 / n;
}

double handoff_us(int n) {
  std::mutex m;
  std::condition_variable cv;
  int turn = 0;
  auto c0 = cpu_s();
  std::thread peer([&] {
    for (int i = 0; i < n; ++i) {
      std::unique_lock<std::mutex> g{m};
      cv.wait(g, [&] { return turn == 1; });
      turn = 0;
      cv.notify_one();
    }
  });
  for (int i = 0; i < n; ++i) {
    std::unique_lock<std::mutex> g{m};
    turn = 1;
    cv.notify_one();
    cv.wait(g, [&] { return turn == 0; });
  }
  peer.join();
  return (cpu_s() - c0) * 1e6 / (2.0 * n); // two wake-ups per round
}

// CPU per KiB of the first and of the last 128 MiB written.
std::pair<double, double> page_cache_us_per_kib(int mib) {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string{dir ? dir : "/tmp"} + "/gcstream-bench-write-XXXXXX";
  int fd = mkstemp(path.data());
  if (fd < 0)
    return {-1, -1};
  unlink(path.c_str());
  std::string block(64 * 1024, 'x');
  const int per_chunk = 128 * 1024 / 64; // blocks in 128 MiB
  int chunks = std::max(1, mib / 128);
  double first = 0, last = 0;
  for (int c = 0; c < chunks; ++c) {
    auto c0 = cpu_s();
    for (int i = 0; i < per_chunk; ++i)
      if (write(fd, block.data(), block.size()) < 0)
        break;
    auto us = (cpu_s() - c0) * 1e6 / (128.0 * 1024.0);
    if (c == 0)
      first = us;
    last = us;
  }
  close(fd);
  return {first, last};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  int write_mib = argc > 2 ? std::atoi(argv[2]) : 1024;
  if (runs < 1)
    runs = 1;
  std::vector<double> sleeps, handoffs;
  for (int r = 0; r < runs; ++r) {
    sleeps.push_back(sleep_wake_us(500));
    handoffs.push_back(handoff_us(5000));
  }
  std::printf("wakeup               %.1f us CPU per timed sleep's wake-up, %.1f us per "
              "condition-variable wake-up (medians of %d)\n",
              median(sleeps), median(handoffs), runs);
  auto [first, last] = page_cache_us_per_kib(write_mib);
  std::printf("page cache writes    %.2f us CPU per KiB for the first 128 MiB, %.2f for the "
              "last of %d MiB\n", first, last, write_mib);
  return 0;
}
