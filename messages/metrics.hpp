#pragma once

// What the metrics actors report: histograms and a tenant's snapshot, as the
// Prometheus renderer (runtime/prometheus.hpp), the health endpoints and the
// health webhook use them.
//
//   host --(metrics_atom)--> metrics actor -> tenant_metrics

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "messages/histogram.hpp"
#include "messages/orderer.hpp"

namespace gcstream {

using metrics_atom = caf::atom_constant<caf::atom("metrics")>;

/// How a socket ended, as gcstream_disconnects_total labels it: a fixed set,
/// anything else is "other" (the last). Rendered at 0 before it happens, so
/// that rates and alerts have a series from the start.
inline const std::vector<std::string>& disconnect_reasons() {
  static const std::vector<std::string> reasons{
    "connect_failed", "oversized",    "heartbeat_timeout", "rollover", "client",
    "server_closed",  "replaced",     "server_error",      "dropped",  "other"};
  return reasons;
}

/// The kinds of actors started again after they died
/// (gcstream_actor_restarts_total), likewise rendered at 0.
inline const std::vector<std::string>& actor_kinds() {
  static const std::vector<std::string> kinds{
    "session", "token", "orderer", "metrics", "sink", "supervisor", "limiter", "audit"};
  return kinds;
}

/// A tenant's health and counters, as its metrics actor knows them. Times
/// are epoch milliseconds (0: never).
struct tenant_metrics {
  std::string tenant;
  /// starting, connected, reconnecting, failed or stopped.
  std::string state = "starting";
  std::string reason;
  int64_t state_since_ms = 0;
  /// Sockets opened, and ended by reason (runtime/ws_transport.hpp,
  /// disconnect_class: a fixed set of names).
  uint64_t connects = 0;
  std::map<std::string, uint64_t> disconnects;
  uint64_t sessions = 0;
  uint64_t rollovers = 0;
  uint64_t malformed = 0;
  /// Frames of the service that are no notification ({"result": ...}), and
  /// system messages about another channel (ignored).
  uint64_t service_replies = 0;
  uint64_t foreign_system_messages = 0;
  /// Topics the service rejected at the last subscription, and frames
  /// bigger than the maximum message size (each closed its socket).
  uint64_t topics_rejected = 0;
  uint64_t oversized_frames = 0;
  /// From an unrequested socket loss to the next open socket.
  histogram reconnect_latency{duration_bounds()};
  /// Time with no open socket, and the events it probably cost (the recent
  /// event rate times its length).
  histogram gap_length{duration_bounds()};
  double estimated_missed = 0;
  /// When the oldest gap in progress began, epoch ms (0: none). A tenant
  /// with several channels has a gap per channel: `topics_in_gap` says how
  /// many of its `topics` are in one now.
  int64_t gap_since_ms = 0;
  uint32_t channels = 1;
  uint64_t topics = 0;
  uint64_t topics_in_gap = 0;
  double last_gap_s = 0;
  double last_reconnect_s = 0;
  /// Events per second recently received.
  double event_rate = 0;
  int64_t last_frame_ms = 0;
  /// The session's heartbeat timeout (a setting): connected with no frame
  /// for longer is unhealthy. 0: not judged.
  int64_t heartbeat_timeout_ms = 0;
  int64_t token_expires_ms = 0;
  uint64_t inbox_buffered = 0;
  uint64_t inbox_dropped = 0;
  /// Events held against the tenant's budget, its cap, whether reading is
  /// stopped because of it, and for how long in all (seconds).
  uint64_t held = 0;
  uint64_t held_cap = 0;
  bool reading_paused = false;
  double paused_s = 0;
  /// Actors of the tenant started again after they died, by kind.
  std::map<std::string, uint64_t> restarts;
  /// Token requests that failed, by kind: `retry` (a transport error or a
  /// 5xx: tried again with backoff), `throttled` (429: tried again after
  /// Retry-After), `fatal` (credentials refused: the tenant fails).
  std::map<std::string, uint64_t> token_failures;
  /// Audit events lost at a full audit queue (each loss is an audit_gap
  /// line).
  uint64_t audit_lost = 0;
  /// What makes the tenant unhealthy while it runs (a failing journal), or
  /// empty.
  std::string problem;
  /// Events not delivered when the tenant stopped (counted and audited).
  uint64_t undelivered_at_stop = 0;
  orderer_stats orderer;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tenant_metrics& x) {
  return f(caf::meta::type_name("gcstream::tenant_metrics"), x.tenant, x.state,
           x.reason, x.state_since_ms, x.connects, x.disconnects, x.sessions,
           x.rollovers, x.malformed, x.service_replies, x.foreign_system_messages,
           x.topics_rejected, x.oversized_frames, x.reconnect_latency, x.gap_length,
           x.estimated_missed, x.gap_since_ms, x.channels, x.topics, x.topics_in_gap, x.last_gap_s, x.last_reconnect_s,
           x.event_rate, x.last_frame_ms, x.heartbeat_timeout_ms, x.token_expires_ms, x.inbox_buffered,
           x.inbox_dropped, x.held, x.held_cap, x.reading_paused, x.paused_s,
           x.restarts, x.token_failures, x.audit_lost, x.problem, x.undelivered_at_stop,
           x.orderer);
}

} // namespace gcstream
