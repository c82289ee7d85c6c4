#pragma once

// A webhook receiver on 127.0.0.1 (OS-chosen port) for integration tests:
// one thread, one request per connection, every request answered 200 and
// recorded (lower-case header names, the body whole). Waits have deadlines.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace gcstream::test {

class webhook_receiver {
public:
  struct request {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;
    std::string body;
  };

  webhook_receiver() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0
        || listen(fd_, 16) != 0)
      throw std::runtime_error("webhook_receiver: cannot listen");
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }

  ~webhook_receiver() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }

  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::vector<request> received() {
    std::lock_guard<std::mutex> g{m_};
    return got_;
  }

  /// Waits until `pred(received())` holds or the deadline passes.
  bool wait_for(const std::function<bool(const std::vector<request>&)>& pred,
                std::chrono::milliseconds deadline) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < until) {
      if (pred(received()))
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred(received());
  }

private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0)
        continue;
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0)
        continue;
      serve(c);
      close(c);
    }
  }

  // Reads one request (headers, then Content-Length bytes) within 2 s.
  void serve(int c) {
    std::string in;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    size_t head_end = std::string::npos;
    size_t need = 0;
    request r;
    char buf[4096];
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0)
        continue;
      auto n = read(c, buf, sizeof buf);
      if (n <= 0)
        return;
      in.append(buf, size_t(n));
      if (head_end == std::string::npos) {
        head_end = in.find("\r\n\r\n");
        if (head_end == std::string::npos)
          continue;
        parse_head(in.substr(0, head_end), r);
        auto it = r.headers.find("content-length");
        need = it == r.headers.end() ? 0 : std::stoul(it->second);
      }
      if (in.size() >= head_end + 4 + need) {
        r.body = in.substr(head_end + 4, need);
        {
          std::lock_guard<std::mutex> g{m_};
          got_.push_back(r);
        }
        const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        (void) !write(c, ok, sizeof ok - 1);
        return;
      }
    }
  }

  static void parse_head(const std::string& head, request& r) {
    size_t at = head.find("\r\n");
    auto first = head.substr(0, at);
    auto sp1 = first.find(' ');
    auto sp2 = first.find(' ', sp1 + 1);
    r.method = first.substr(0, sp1);
    r.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
    while (at != std::string::npos && at < head.size()) {
      auto next = head.find("\r\n", at + 2);
      auto line = head.substr(at + 2, next == std::string::npos ? std::string::npos
                                                                : next - at - 2);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char ch) { return char(std::tolower(ch)); });
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        r.headers[name] = value;
      }
      at = next;
    }
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex m_;
  std::vector<request> got_;
};

} // namespace gcstream::test
