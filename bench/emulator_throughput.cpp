// How many events per second the emulator writes to ONE socket, so that it is
// never the bottleneck when the client is measured. Target: at least 200,000.
//
// The reader is a raw TCP WebSocket reader (handshake, then frame headers
// only, no UTF-8 check), so that it costs far less than the emulator.
// Prints the median of several runs of a few seconds each.
//
// Usage: bench_emulator_throughput [RUNS [RATE]]. RATE is the generated rate
// (default 250,000 events per second on one topic); past what the emulator
// can write, its send queue grows until it closes the socket as a slow
// consumer, so the default asks for a little more than the target.

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

#include "emulator/server.hpp"
#include "tests/support/probe_client.hpp"

using namespace gcstream;
using clk = std::chrono::steady_clock;

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
  cfg.event_rate = argc > 2 ? std::atof(argv[2]) : 250000;
  cfg.rate_limit_per_minute = 100000;
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
  std::vector<double> rates;
  for (int i = 0; i < runs; ++i) {
    auto t0 = clk::now();
    auto n = count_frames(fd, std::chrono::milliseconds(2000));
    double s = std::chrono::duration<double>(clk::now() - t0).count();
    rates.push_back(double(n) / s);
  }
  close(fd);
  std::sort(rates.begin(), rates.end());
  double median = rates[rates.size() / 2];
  std::printf("emulator_write_rate  median=%.0f events/s  min=%.0f  max=%.0f  "
              "runs=%d  target>=200000  %s\n",
              median, rates.front(), rates.back(), runs,
              median >= 200000 ? "OK" : "BELOW TARGET");
  return 0;
}
