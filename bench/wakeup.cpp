// What one thread wake-up costs on this machine, in CPU (issue 15's
// profile): a sleep of 2 ms that ends, and a condition-variable hand-off
// between two threads (how a CAF worker is woken). On bare metal a wake-up
// costs a few microseconds; on a virtual machine each one may exit to the
// hypervisor, and the client's cost per event at ordinary rates is then
// mostly the wake-ups per second times this figure.
//
// Usage: bench_wakeup [RUNS=5]

#include <time.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 5;
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
  return 0;
}
