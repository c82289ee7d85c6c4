// How many events per second the emulator can write to ONE socket, so that
// it is never the bottleneck when the client is measured. Target: at least
// 200,000.
//
// The reader is a raw TCP WebSocket reader (handshake, then frame headers
// only, no UTF-8 check), so that it costs far less than the emulator.
// Each run streams for 2 s at RATE events per second and measures:
//   - the rate that arrived (it must be the generated rate: the emulator
//     kept up);
//   - the emulator's CPU per event (the process's CPU minus the reader
//     thread's), and from it the capacity: 1 s / CPU per event.
// Prints medians. The rate is below the capacity on purpose: generating
// faster than the emulator writes grows its send queue until it closes the
// socket as a slow consumer, and on this shared machine a stall of a few
// hundred ms is enough to get there even a little under the capacity.
//
// Usage: bench_emulator_throughput [RUNS [RATE]] (default 5 runs, 150,000
// events per second on one topic).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/bench_stats.hpp"
#include "emulator/server.hpp"
#include "tests/support/probe_client.hpp"

using namespace gcstream;
using clk = std::chrono::steady_clock;
using bench::cpu_s;
using bench::median;

namespace {

// Connects to ws://127.0.0.1:port/path and completes the upgrade.
int open_ws(uint16_t port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0)
    throw std::runtime_error("connect failed");
  int big = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n";
  if (write(fd, req.data(), req.size()) != ssize_t(req.size()))
    throw std::runtime_error("write failed");
  std::string head;
  char c;
  while (head.find("\r\n\r\n") == std::string::npos && read(fd, &c, 1) == 1)
    head += c;
  if (head.find(" 101 ") == std::string::npos)
    throw std::runtime_error("upgrade refused: " + head);
  return fd;
}

// Counts the frames that arrive within `window`.
uint64_t count_frames(int fd, std::chrono::milliseconds window) {
  std::vector<unsigned char> buf(1 << 20);
  size_t have = 0;
  uint64_t frames = 0;
  auto end = clk::now() + window;
  while (clk::now() < end) {
    ssize_t n = read(fd, buf.data() + have, buf.size() - have);
    if (n <= 0)
      break;
    have += size_t(n);
    size_t pos = 0;
    for (;;) {
      if (have - pos < 2)
        break;
      uint64_t len = buf[pos + 1] & 0x7f;
      size_t hdr = 2;
      if (len == 126) {
        if (have - pos < 4)
          break;
        len = (uint64_t(buf[pos + 2]) << 8) | buf[pos + 3];
        hdr = 4;
      } else if (len == 127) {
        if (have - pos < 10)
          break;
        len = 0;
        for (int i = 0; i < 8; ++i)
          len = (len << 8) | buf[pos + 2 + i];
        hdr = 10;
      }
      if (have - pos < hdr + len)
        break;
      pos += hdr + len;
      ++frames;
    }
    std::memmove(buf.data(), buf.data() + pos, have - pos);
    have -= pos;
  }
  return frames;
}

} // namespace

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  emulator::config cfg;
  cfg.clients["bench"] = "bench-secret";
  cfg.event_rate = argc > 2 ? std::atof(argv[2]) : 150000;
  cfg.rate_limit_per_minute = 100000;
  if (runs < 1 || cfg.event_rate <= 0) {
    std::fprintf(stderr, "usage: bench_emulator_throughput [RUNS>=1 [RATE>0]]\n");
    return 2;
  }
  emulator::server srv{cfg};
  srv.start();
  auto base = srv.base_url();
  auto tok = probe::get_token(base, "bench", "bench-secret");
  auto ch = probe::create_channel(base, tok);
  probe::subscribe(base, tok, ch.id,
                   {"v2.detail.events.conversation.6d2c5a1e-0000-0000-0000-"
                    "000000000001.customer.start"});
  int fd = open_ws(srv.port(), "/channels/" + ch.id);
  count_frames(fd, std::chrono::milliseconds(500)); // warm up
  std::vector<double> rates, cpu_us;
  for (int i = 0; i < runs; ++i) {
    auto t0 = clk::now();
    double p0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
    double r0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
    auto n = count_frames(fd, std::chrono::milliseconds(2000));
    double emulator_cpu = (cpu_s(CLOCK_PROCESS_CPUTIME_ID) - p0)
                          - (cpu_s(CLOCK_THREAD_CPUTIME_ID) - r0);
    double s = std::chrono::duration<double>(clk::now() - t0).count();
    if (n == 0) {
      std::printf("emulator_write_rate  the socket closed in run %d (the emulator "
                  "fell behind %.0f events/s)  FAILED\n",
                  i + 1, cfg.event_rate);
      return 1;
    }
    rates.push_back(double(n) / s);
    cpu_us.push_back(emulator_cpu * 1e6 / double(n));
  }
  close(fd);
  double rate = median(rates);
  double capacity = 1e6 / median(cpu_us);
  bool kept_up = rate >= 0.98 * cfg.event_rate;
  std::printf("emulator_write_rate  capacity=%.0f events/s (%.2f us of emulator CPU "
              "per event)  kept up with %.0f of %.0f/s  runs=%d  target>=200000  %s\n",
              capacity, median(cpu_us), rate, cfg.event_rate, runs,
              capacity >= 200000 && kept_up ? "OK" : "BELOW TARGET");
  return 0;
}
