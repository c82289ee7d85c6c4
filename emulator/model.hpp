#pragma once

// The emulated service's state and rules, with no socket in sight: OAuth
// clients and tokens, channels and their subscriptions, the rate limit, the
// event sources, the faults and the accounting. The server (server.hpp) feeds
// it HTTP requests, socket opens, closes and messages, and the passing of
// time, and carries out the socket actions it queues. Every method takes the
// current time, so that tests can drive it without a clock or a socket.
//
// Event model: a topic is a source of events in the world. Once some channel
// subscribed to it has had a socket, the topic generates events at the
// configured rate whether or not a socket is open, exactly like the real
// service, which has no replay. Each event is sent to every subscribed channel
// whose socket is open; an event generated while none is open is counted as
// generated_without_socket, the gap the client must keep short.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "emulator/config.hpp"

namespace gcstream::emulator {

/// A point in time as the model sees it.
struct instant {
  /// Monotonic milliseconds: timers, expiry, rate windows.
  int64_t steady_ms = 0;
  /// Milliseconds since the Unix epoch: timestamps in bodies.
  int64_t wall_ms = 0;
};

/// An HTTP request, reduced to what the service reads.
struct http_request {
  std::string method;
  /// Path and query, as on the request line.
  std::string target;
  std::string authorization;
  std::string content_type;
  std::string body;
};

/// The answer to an http_request.
struct http_response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Slow-response fault: answer after this long.
  uint32_t delay_ms = 0;
};

/// Something the server must do to a socket.
struct socket_action {
  enum kind_t {
    /// Write `payload` as one text frame.
    send,
    /// Close with a close frame (`code`, `reason`).
    close,
    /// Close the TCP connection without a close frame (FIN).
    drop,
    /// Abort the TCP connection (RST).
    reset,
    /// Stop reading and writing, keep the connection open.
    stall,
  };
  kind_t kind = send;
  uint64_t socket = 0;
  std::shared_ptr<const std::string> payload;
  uint16_t code = 0;
  std::string reason;
};

/// The result of a validated WebSocket upgrade.
struct socket_open_result {
  /// 0 when refused.
  uint64_t socket = 0;
  /// HTTP status of the refusal.
  int status = 0;
};

/// The emulated Genesys Cloud Notification service.
class model {
public:
  explicit model(config cfg, uint64_t seed = std::random_device{}());

  model(const model&) = delete;
  model& operator=(const model&) = delete;

  /// Sets the scheme, host and port that connectUri values start with, such
  /// as "ws://127.0.0.1:8080".
  void set_stream_base(std::string base);

  /// Handles one HTTP request to the login, API or control paths.
  http_response handle_http(const http_request& req, const instant& now);

  /// The HTTP status for a WebSocket upgrade to `resource`
  /// ("/channels/<id>"): 101 when it may go ahead, 404 when the channel is
  /// unknown or expired.
  int upgrade_status(const std::string& resource, const instant& now) const;

  /// Registers an opened socket; refuses it (socket 0) when the channel went
  /// away since the upgrade was validated.
  socket_open_result socket_open(const std::string& resource,
                                 const instant& now);

  /// Reports that a socket ended, for whatever reason.
  void socket_closed(uint64_t socket, const instant& now);

  /// Handles a text frame that a client sent.
  void socket_message(uint64_t socket, const std::string& payload,
                      const instant& now);

  /// Lets time pass: generates events, heartbeats, expiries and scheduled
  /// closes.
  void tick(const instant& now);

  /// Applies a fault described as JSON (see the README); returns an error
  /// text, empty on success.
  std::string inject(const std::string& fault_json, const instant& now);

  /// Reconfigures at run time from JSON; returns an error text or empty.
  std::string reconfigure(const std::string& json);

  /// The accounting, as JSON.
  std::string stats_json(const instant& now) const;

  /// Moves out the socket actions queued so far.
  std::vector<socket_action> take_actions();

  /// Number of sockets currently open.
  size_t open_sockets() const { return sockets_.size(); }

  const config& cfg() const { return cfg_; }

private:
  struct token_info {
    std::string client;
    int64_t expires_ms = 0;
    bool revoked = false;
    int64_t window_start_ms = 0;
    uint32_t window_count = 0;
  };

  struct held_event;

  struct channel {
    std::string id;
    std::string client;
    /// The token that made it (GET /channels lists by it by default).
    std::string token;
    int64_t created_ms = 0;
    /// Its last use: made, subscribed, listed, a socket opened or a frame
    /// from its socket. The 21st channel of a client evicts the one unused
    /// longest (one without a socket first).
    int64_t last_used_ms = 0;
    /// When its socket last sent something (the idle timeout's clock).
    int64_t last_client_frame_ms = 0;
    int64_t expires_ms = 0;
    int64_t expires_wall_ms = 0;
    std::vector<std::string> topics;
    uint64_t socket = 0;
    bool ever_connected = false;
    bool stalled = false;
    int64_t next_heartbeat_ms = 0;
    int64_t close_at_ms = -1;
    uint64_t connects = 0;
    uint64_t frames_written = 0;
    uint64_t heartbeats = 0;
    uint64_t pongs = 0;
    std::map<std::string, uint64_t> written_by_topic;
    // Send faults.
    uint64_t duplicate_remaining = 0;
    uint64_t reorder_remaining = 0;
    uint32_t reorder_window = 0;
    std::vector<std::shared_ptr<held_event>> reorder_held;
  };

  struct topic_source {
    uint64_t generated = 0;
    uint64_t written = 0;
    uint64_t generated_without_socket = 0;
    uint64_t duplicates_sent = 0;
    double credit = 0;
    int64_t last_subscribed_ms = 0;
    std::set<std::string> subscribers;
  };

  struct http_fault {
    std::string path_prefix;
    int status = 0;
    uint32_t retry_after_s = 0;
    uint32_t delay_ms = 0;
    uint64_t remaining = 0;
  };

  // -- HTTP routes --
  http_response on_token(const http_request& req, const instant& now);
  http_response on_api(const http_request& req, const std::string& path,
                       const std::string& query, const instant& now);
  http_response on_control(const http_request& req, const std::string& path,
                           const instant& now);
  http_response on_subscriptions(const http_request& req, channel& ch,
                                 bool ignore_errors, const instant& now);
  http_response available_topics(const std::string& query) const;
  http_response create_channel(const std::string& client, const std::string& token,
                               const instant& now);

  // -- helpers --
  std::string issue_token(const std::string& client, const instant& now);
  std::string new_channel_id();
  std::string channel_json(const channel& ch) const;
  bool forbidden(const std::string& topic) const;
  void remove_channel(const std::string& id, uint16_t code,
                      const std::string& reason);
  void set_topics(channel& ch, std::vector<std::string> topics,
                  const instant& now);
  void activate_topics(const channel& ch, const instant& now);
  void generate(const std::string& topic, topic_source& src,
                const instant& now);
  void emit(channel& ch, const std::shared_ptr<held_event>& ev);
  void write(channel& ch, const std::shared_ptr<held_event>& ev);
  void send_frame(uint64_t socket, std::string frame);
  socket_action& queue(socket_action::kind_t kind, uint64_t socket);
  /// Queues a close frame and ends the channel's socket.
  void close_socket(channel& ch, uint16_t code, std::string reason);
  /// A system message's body with the documented fields; `about_other`
  /// names another channel than `ch`.
  std::string system_body(const channel& ch, bool about_other, const std::string& type,
                          const std::string& reason, const std::string& message) const;
  void send_system(channel& ch, const std::string& topic,
                   const std::string& body_json);
  void flush_reorder(channel& ch);
  void end_socket(channel& ch);
  channel* channel_of_socket(uint64_t socket);
  const channel* channel_for_resource(const std::string& resource,
                                      const instant& now) const;
  std::string correlation_id();
  void count_http(const std::string& route, int status);

  config cfg_;
  std::mt19937_64 rng_;
  std::string stream_base_ = "ws://127.0.0.1";
  std::string id_prefix_;
  uint64_t next_id_ = 0;
  uint64_t next_socket_ = 0;
  int64_t last_tick_ms_ = -1;
  std::unordered_map<std::string, token_info> tokens_;
  std::map<std::string, channel> channels_;
  std::unordered_map<uint64_t, std::string> sockets_;
  std::map<std::string, topic_source> topics_;
  std::vector<http_fault> http_faults_;
  std::vector<socket_action> actions_;
  // Accounting not held by a channel or topic.
  std::map<std::string, uint64_t> token_requests_by_client_;
  std::map<std::string, std::map<std::string, uint64_t>> http_by_route_;
  uint64_t channels_evicted_ = 0;
  uint64_t live_channels_evicted_ = 0; // evicted with a socket open
  uint64_t channels_expired_ = 0;
  uint64_t sockets_accepted_ = 0;
  uint64_t sockets_refused_ = 0;
  uint64_t faults_applied_ = 0;
  uint64_t malformed_sent_ = 0;
};

} // namespace gcstream::emulator
