#pragma once

// The WebSocket transport: websocketpp clients (plain and TLS) on one Asio
// io_context with a configurable number of threads, shared by every tenant of
// the process.
//
// Frames reach the owner in batches, on an Asio thread: every frame a read
// brought in goes out in one call, so that events cross into the actors in
// batches and not one message each. Each frame string has at least
// envelope_parser::padding() spare bytes of capacity, so the parser reads it
// in place.
//
// websocketpp checks the UTF-8 of every text frame byte by byte (2.36 us of
// its 3.5 us per 860-byte frame, measured here). This transport's config type
// turns that check off (an explicit specialization of the hybi13 processor's
// payload step, in ws_transport.cpp only); the envelope parser's first stage
// validates the same bytes anyway and reports invalid UTF-8 as a malformed
// frame. So every frame is checked once.
//
// TLS: the peer's certificate AND host name are verified (websocketpp
// verifies neither by default), SNI is sent, and the CA file, when set,
// replaces the system store. ws:// is refused for anything but loopback
// unless allow_insecure is set.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "messages/event.hpp"

namespace gcstream {

/// Settings of the process's WebSocket transport.
struct ws_settings {
  /// Threads running the io_context.
  size_t io_threads = 1;
  /// Coalescing window, ms: once a socket thread has handled what was
  /// ready, it lets the next frames gather this long before it reads again,
  /// so that one wake-up (of it and of every actor downstream) carries the
  /// frames of the whole window instead of one each. An idle thread sleeps
  /// until something arrives. 0: read as soon as anything arrives.
  long coalesce_ms = 10;
  /// Time for TCP, TLS and the upgrade together.
  long connect_timeout_ms = 10000;
  /// Time for a close handshake before the socket is dropped.
  long close_timeout_ms = 2000;
  /// Bigger frames close the socket (local close code 1009).
  size_t max_message_bytes = 1 << 20;
  /// PEM bundle to trust instead of the system store.
  std::string ca_file;
  /// Allows ws:// to non-loopback hosts.
  bool allow_insecure = false;
};

/// How a connection ended.
struct ws_close_info {
  /// Whether the connection was ever open (false: the connect failed).
  bool was_open = false;
  /// Whether close() or abort() asked for it.
  bool requested = false;
  /// The server's close frame (1006 when there was none).
  int remote_code = 0;
  std::string remote_reason;
  /// The close code we sent (1009 for a frame over the size limit).
  int local_code = 0;
  std::string local_reason;
  /// The transport's reason (TLS verify result, "End of File", ...).
  std::string error;
  /// The HTTP status when the upgrade was refused.
  long http_status = 0;
};

/// Why a socket ended, as one of a fixed set (the `reason` label of
/// gcstream_disconnects_total, so its cardinality is bounded):
///   connect_failed     it never opened (refused, 404, TLS, timeout)
///   oversized          we closed it: a frame over the size limit (1009)
///   heartbeat_timeout  we cut it: no frame within the heartbeat timeout
///   rollover           we closed it: the old socket of a rollover
///   client             we closed it otherwise (stopping, a session ending)
///   server_closed      the service closed it (1000, 1001)
///   replaced           the service closed it for another socket (4000)
///   server_error       the service closed it with another code
///   dropped            no close frame: FIN, RST, a transport error (1006)
std::string disconnect_class(const ws_close_info& info);

/// What a connection reports, always on an Asio thread, one call at a time.
struct ws_handlers {
  std::function<void()> on_open;
  /// Frames of connection `conn` in arrival order, with their arrival time
  /// (epoch ms). Each frame's buffer has envelope_parser::padding() bytes of
  /// room past its end, and shares ownership with the library's message:
  /// taking a frame allocates nothing. Returning true pauses reading the
  /// connection (until resume(conn)): TCP then pushes back on the sender.
  std::function<bool(uint64_t conn, std::vector<frame_ref>&& frames,
                     int64_t arrival_ms)>
    on_frames;
  /// Exactly once, after on_open or instead of it.
  std::function<void(const ws_close_info&)> on_closed;
};

/// The process's WebSocket clients. Thread-safe.
class ws_transport {
public:
  explicit ws_transport(ws_settings settings = {});
  ~ws_transport();

  ws_transport(const ws_transport&) = delete;
  ws_transport& operator=(const ws_transport&) = delete;

  /// Starts connecting to `uri`; returns the connection id, or an error when
  /// the URI cannot be used (bad scheme, ws:// to a remote host).
  caf::expected<uint64_t> connect(const std::string& uri, ws_handlers handlers);

  /// Sends a text frame; false when the connection is gone.
  bool send(uint64_t id, std::string text);

  /// Starts a close handshake.
  void close(uint64_t id, uint16_t code, std::string reason);

  /// Drops the TCP connection at once (for a socket that stopped answering);
  /// `why` is reported as the local reason ("heartbeat timeout").
  void abort(uint64_t id, std::string why = "aborted");

  /// Starts reading a paused connection again (any thread).
  void resume(uint64_t id);

  /// Closes every connection and joins the Asio threads.
  void stop();

  /// Connections not yet ended.
  size_t live_connections() const;

  class impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace gcstream
