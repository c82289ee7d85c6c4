#pragma once

// The emulator's settings. Every field has the default that PROTOCOL.md gives
// for the real service (or a test-friendly one where the service's value is a
// day long); the README's emulator table lists them all.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gcstream::emulator {

/// Settings of one emulator instance.
struct config {
  /// Address to listen on. Only loopback is sensible for tests.
  std::string listen_host = "127.0.0.1";
  /// TCP port; 0 lets the OS choose.
  uint16_t port = 0;
  /// OAuth clients: id to secret.
  std::map<std::string, std::string> clients;
  /// Events per second generated for each live topic.
  double event_rate = 10.0;
  /// Interval between server heartbeats on each socket.
  uint32_t heartbeat_interval_ms = 30000;
  /// Lifetime of an issued access token.
  uint32_t token_ttl_s = 86400;
  /// Lifetime of a channel; subscribing again extends it.
  uint32_t channel_ttl_s = 86400;
  /// Channels per OAuth client before the oldest is evicted.
  uint32_t max_channels_per_client = 20;
  /// Topics per channel; more gives 400.
  uint32_t max_topics_per_channel = 1000;
  /// A socket from which nothing (no ping) came for this long is closed
  /// with 1001 "idle timeout", as users report of the service; 0: never.
  uint32_t idle_timeout_ms = 0;
  /// Whether a combined topic counts as its parts against that limit (the
  /// safe reading; the service does not document it) or as one.
  bool combined_topic_counts_parts = true;
  /// API requests per minute per token before 429.
  uint32_t rate_limit_per_minute = 300;
  /// Seconds announced in Retry-After when the rate limit is hit.
  uint32_t rate_limit_retry_after_s = 1;
  /// Topic patterns ('*' matches any run of characters) no token may read.
  std::vector<std::string> forbidden_topics;
  /// Delay between v2.system.socket_closing and the close, unless the fault
  /// gives its own.
  uint32_t socket_closing_delay_ms = 60000;
  /// A topic nobody subscribes to stops generating after this long.
  uint32_t topic_retire_after_s = 300;
  /// Resolution of the event generator and timers.
  uint32_t tick_ms = 5;
  /// A connection whose unsent output exceeds this is closed (slow consumer).
  uint64_t max_buffered_bytes = 64ull << 20;
  /// TLS certificate chain and key (PEM). Both set: https and wss.
  std::string tls_cert;
  std::string tls_key;
};

} // namespace gcstream::emulator
