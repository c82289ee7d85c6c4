#pragma once

// A minimal client for tests of the emulator, written against the protocol
// and not with the gcstream library, so that a client bug cannot hide an
// emulator bug. Blocking calls with deadlines; no sleeps.
//
//   auto tok = probe::get_token(base, "app", "secret");
//   auto ch  = probe::create_channel(base, tok);
//   probe::ws_probe ws;
//   ws.connect(ch.connect_uri);
//   ws.wait_until([&] { return ws.frames().size() >= 10; }, 5s);

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gcstream::probe {

/// An HTTP answer. status 0 means no answer (see `error`).
struct http_result {
  long status = 0;
  std::map<std::string, std::string> headers; // lower-case names
  std::string body;
  std::string error;
  double seconds = 0;
};

/// Options of one HTTP call.
struct http_options {
  std::vector<std::string> headers;
  std::string user; // Basic auth
  std::string password;
  std::string ca_file;
  long timeout_ms = 10000;
};

/// Performs one HTTP request with libcurl.
http_result http(const std::string& method, const std::string& url,
                 const std::string& body = "", const http_options& opts = {});

/// Client credentials; returns the access token or throws.
std::string get_token(const std::string& base, const std::string& id,
                      const std::string& secret, const std::string& ca = "");

/// A created channel.
struct channel_info {
  std::string id;
  std::string connect_uri;
};

/// Creates a channel; throws on failure.
channel_info create_channel(const std::string& base, const std::string& token,
                            const std::string& ca = "");

/// Replaces the channel's topics; returns the HTTP result.
http_result subscribe(const std::string& base, const std::string& token,
                      const std::string& channel,
                      const std::vector<std::string>& topics,
                      bool ignore_errors = false, const std::string& ca = "");

/// POSTs a fault to the emulator's control endpoint; throws on refusal.
void inject(const std::string& base, const std::string& fault_json,
            const std::string& ca = "");

/// Polls `pred` every few milliseconds until it holds or the timeout passes;
/// returns whether it holds. For conditions with no event to wait on (such
/// as the emulator's accounting).
bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// A WebSocket client on its own Asio thread, collecting every text frame.
class ws_probe {
public:
  enum class state { idle, connecting, open, closed, failed };

  /// `ca_file`: trust this CA for wss (peer and host name are verified).
  explicit ws_probe(std::string ca_file = "");
  ~ws_probe();

  ws_probe(const ws_probe&) = delete;
  ws_probe& operator=(const ws_probe&) = delete;

  /// Connects and waits until open or failed; returns whether open.
  bool connect(const std::string& uri,
               std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// Sends a text frame.
  void send(const std::string& text);

  /// Starts a normal close.
  void close();

  /// Waits until `pred` holds (checked again after each change) or the
  /// timeout passes; returns whether it holds. `pred` may call the getters.
  bool wait_until(const std::function<bool()>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// Copies of what was received so far.
  std::vector<std::string> frames() const;
  size_t frame_count() const;
  state current() const;
  /// The remote close code (1006 when the TCP connection just ended).
  int close_code() const;
  std::string close_reason() const;
  std::string error() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace gcstream::probe
