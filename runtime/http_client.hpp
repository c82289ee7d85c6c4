#pragma once

// The process's HTTP client for the control plane (token, channels,
// subscriptions), shared by all tenants.
//
// Design: a small pool of worker threads, each with its own libcurl easy
// handle, and one curl share (DNS cache and TLS sessions) between them. We
// chose threads over curl's multi interface on the Asio loop because curl's
// callbacks and TLS setup would then run on the thread that carries every
// WebSocket (a first TLS connect blocked it 43-50 ms when measured), and
// because a blocking easy handle per thread is half the code. The pool size
// bounds the concurrency; nothing here ever runs on a CAF scheduler thread:
// results go back to actors as messages sent from the workers.
//
// Security: TLS peer and host verification stay on (an optional CA file
// replaces the system store); http:// is refused for anything but loopback
// unless allow_insecure is set; no header, URL query or body is ever logged;
// curl's verbose output is never turned on.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/http_transport.hpp"

namespace gcstream {

/// Settings of the HTTP client.
struct http_settings {
  /// Worker threads: at most this many requests at once.
  size_t workers = 2;
  /// Requests waiting for a worker before new ones are refused.
  size_t max_queued = 10000;
  long connect_timeout_ms = 5000;
  long total_timeout_ms = 15000;
  /// PEM bundle to trust instead of the system store.
  std::string ca_file;
  /// Explicit proxy ("http://proxy:3128"); empty: the standard environment
  /// variables (http_proxy, https_proxy, no_proxy) as libcurl reads them.
  std::string proxy;
  /// Allows http:// to non-loopback hosts.
  bool allow_insecure = false;
  /// Larger response bodies fail with errc::http_response_too_large.
  size_t max_response_bytes = 1 << 20;
};

/// Parses a Retry-After value (delta seconds or an HTTP date) relative to
/// `now_epoch_s`; returns milliseconds, or -1 when it cannot be read.
int64_t parse_retry_after(const std::string& value, int64_t now_epoch_s);

/// A libcurl worker pool. Thread-safe; stops (and joins) in its destructor,
/// failing queued and running requests with errc::http_shutdown.
class http_client final : public http_transport {
public:
  explicit http_client(http_settings settings = {});
  ~http_client() override;

  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  void submit(http_request req, callback done) override;

  /// Fails what is queued, aborts what runs, joins the workers.
  void stop();

  const http_settings& settings() const { return settings_; }

  /// Requests finished so far, by HTTP status (0: no response at all).
  std::map<long, uint64_t> status_counts() const;

  class impl;

private:
  http_settings settings_;
  std::unique_ptr<impl> impl_;
};

} // namespace gcstream
