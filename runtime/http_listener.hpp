#pragma once

// The process's small HTTP listener for /metrics, /healthz and /readyz: one
// thread, plain POSIX sockets, HTTP/1.0 semantics (one request per
// connection, Connection: close). No TLS: bind it to loopback (the default)
// or a private interface.
//
// It survives slow and hostile clients: every connection is non-blocking
// and served side by side by one poll loop, so a client that never reads
// its answer, or sends half a request, holds up nobody else. Each has a read
// deadline for its request and a write deadline for the answer; at most
// max_connections are open (more wait in the kernel's backlog); a request
// over max_request_bytes gets 431, one that is not HTTP gets 400. Stopping
// never waits on a client: whatever is open is closed.

#include <chrono>
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
  /// string removed). It must not block: the listener serves everyone from
  /// this thread.
  using handler = std::function<response(const std::string& method,
                                         const std::string& path)>;

  struct settings {
    /// Connections open at once (more wait in the backlog).
    size_t max_connections = 64;
    /// A request must be complete within this...
    std::chrono::milliseconds read_timeout{2000};
    /// ...and its answer sent within this.
    std::chrono::milliseconds write_timeout{5000};
    /// Bigger requests (line and headers) get 431.
    size_t max_request_bytes = 8192;
  };

  http_listener() = default;
  ~http_listener();

  http_listener(const http_listener&) = delete;
  http_listener& operator=(const http_listener&) = delete;

  /// Binds "host:port" (port 0: the OS picks) and starts serving.
  caf::error start(const std::string& address, handler h, settings s);
  caf::error start(const std::string& address, handler h) {
    return start(address, std::move(h), settings{});
  }

  /// The bound port (after start).
  uint16_t port() const { return port_; }

  /// Stops serving, closes every connection, joins the thread. Idempotent.
  void stop();

  /// Parses a request's first line: the method and the path (query
  /// removed). False when it is not an HTTP request line.
  static bool parse_request_line(const std::string& head, std::string& method,
                                 std::string& path);

private:
  void run();

  handler handler_;
  settings cfg_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread thread_;
};

/// Whether a listen address ("host:port") is on a loopback interface.
bool is_loopback_listen(const std::string& address);

} // namespace gcstream
