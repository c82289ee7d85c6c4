#pragma once

// The process's small HTTP listener for /metrics, /healthz and /readyz: one
// thread, plain POSIX sockets, HTTP/1.0 semantics (one request per
// connection, Connection: close). Requests larger than 8 KiB or slower than
// 2 s are dropped. No TLS: bind it to loopback or a private interface.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include <caf/expected.hpp>

namespace gcstream {

class http_listener {
public:
  struct response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
  };
  /// Called on the listener's thread with the method and the path (query
  /// string removed).
  using handler = std::function<response(const std::string& method,
                                         const std::string& path)>;

  http_listener() = default;
  ~http_listener();

  http_listener(const http_listener&) = delete;
  http_listener& operator=(const http_listener&) = delete;

  /// Binds "host:port" (port 0: the OS picks) and starts serving.
  caf::error start(const std::string& address, handler h);

  /// The bound port (after start).
  uint16_t port() const { return port_; }

  /// Stops serving and joins the thread. Idempotent.
  void stop();

private:
  void run();
  void serve(int fd);

  handler handler_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread thread_;
};

} // namespace gcstream
