#pragma once

// metrics_actor: one per tenant. It consumes the tenant's audit queue (every
// actor of the tenant reports there, runtime/audit_queue.hpp), derives the
// metrics from those reports, forwards each one to the process's audit
// queue, and adds its own (gap_closed, audit_gap). It publishes a snapshot
// that /metrics, /healthz and hosts read without asking it (ARCHITECTURE.md,
// metrics_actor, invariants 3 and 5); what changes without an audit event
// (the orderer's counters and event rate, the inbox and the budget) is read
// when the snapshot is read. Nothing runs on a timer: an idle tenant costs
// no CPU (issue 15).
//
// Takes:
//   (poke_atom)                        the tenant's audit queue has events
//   (audit_event)                      an event handed over directly
//   (metrics_atom) -> tenant_metrics   fresh counters
//   (tick_atom)                        the webhook's interval (only with one)
//   HTTP results and retry timers of the health webhook
//
// Everything it counts lives in a metrics_keep that the tenant holds: a
// restarted metrics actor carries on with the same counters, the same gap
// and the same webhook snapshot, and reads the audit events its predecessor
// had not finished from the queue.
//
// Gaps: the time with no open socket. It starts when the last socket of the
// tenant closes, for whatever reason (the connected and disconnected events
// come from the transport's thread with the time they happened), and ends
// when one opens; that length is also the reconnect's latency; its length goes to a histogram, and the events it probably
// cost (the event rate of the ten seconds before it, times its length) to a counter and to the
// audit log (gap_closed, with start, end, length and estimate). The service
// has no replay: this is how a gap becomes visible.
//
// Health webhook: a JSON snapshot (README, "Health webhook") POSTed on every
// state change and every interval. At most one request in flight; while one
// is, only the newest snapshot waits (the queue is one deep by design).
// Failures are retried with backoff. With a signing key, the header
// X-Gcstream-Signature: sha256=<hex HMAC-SHA256 of the body> lets receivers
// check the sender. The stream never waits for it.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/actor_util.hpp"
#include "actors/orderer_actor.hpp"
#include "messages/metrics.hpp"
#include "messages/supervision.hpp"
#include "messages/token.hpp"
#include "runtime/backoff.hpp"
#include "runtime/event_budget.hpp"
#include "runtime/event_inbox.hpp"
#include "runtime/http_transport.hpp"

namespace gcstream {

/// The metrics actor's interface; it is also an audit_actor.
using metrics_actor = caf::typed_actor<
  caf::reacts_to<audit_event>,
  caf::reacts_to<poke_atom>,
  caf::replies_to<metrics_atom>::with<tenant_metrics>,
  caf::reacts_to<tick_atom>,
  caf::reacts_to<http_done_atom, uint64_t, http_response>,
  caf::reacts_to<http_done_atom, uint64_t, caf::error>,
  caf::reacts_to<retry_atom, uint64_t>>;

/// The health webhook (off when url is empty).
struct health_webhook_settings {
  std::string url;
  std::chrono::milliseconds interval{60000};
  /// HMAC-SHA256 key; empty: unsigned.
  std::string signing_key;
  backoff_policy backoff{std::chrono::milliseconds{1000}, 2.0,
                         std::chrono::milliseconds{60000}};
};

/// What a metrics actor's restarts share (held by the tenant).
class metrics_keep {
public:
  explicit metrics_keep(std::string tenant);

  tenant_metrics m;
  /// The sockets and the gap of one channel of the tenant (a tenant with
  /// several has one per channel, by the `lane` its audit events carry).
  struct lane_gap {
    int64_t open_sockets = 0;
    bool ever_open = false;
    bool in_gap = false;
    int64_t gap_start = 0;      // actor clock, ms
    int64_t gap_start_wall = 0; // epoch ms
    std::string lost_channel;   // the hash of the channel whose socket went
    uint64_t topics = 0;
  };
  std::map<std::string, lane_gap> lanes;
  /// Channels that closed because their topics went (set_topics): their
  /// sockets' ends are no gap.
  std::set<std::string> closed_lanes;
  /// Topics rejected at each channel's last subscription.
  std::map<std::string, uint64_t> rejected;
  // Read live by snapshot(); set before the first actor starts, then only
  // read (any of them may be null).
  std::shared_ptr<event_inbox> inbox;
  /// Every inbox of the tenant, one per channel (a tenant's channels may
  /// grow; empty: `inbox` alone).
  std::function<std::vector<std::shared_ptr<event_inbox>>()> all_inboxes;
  std::shared_ptr<event_budget> budget;
  std::shared_ptr<const orderer_board> board;
  // The webhook: the newest snapshot not yet sent, and the one in flight
  // (sent again by a restarted actor unless a newer one waits).
  std::string hook_pending;
  std::string hook_body;
  uint32_t hook_attempt = 0;
  int64_t hook_last_sent = 0;
  uint64_t hook_sent = 0;
  uint64_t hook_failures = 0;

  /// Makes `m` what snapshot() returns (any thread may read it).
  void publish();
  /// What was published, with the live values read now.
  tenant_metrics snapshot() const;
  /// Fills in `x` what is read live: the orderer's counters and rate (the
  /// rate stays the one at the gap's start while a gap lasts), the inbox
  /// and the budget.
  void read_live(tenant_metrics& x) const;

private:
  mutable std::mutex mtx_;
  tenant_metrics published_;
};

/// Where a metrics actor reads and reports.
struct metrics_deps {
  /// The tenant's audit queue (consumed), and the process's (forwarded to;
  /// may be null).
  audit_ref queue;
  audit_ref forward;
  std::shared_ptr<event_inbox> inbox;       // may be null
  std::shared_ptr<event_budget> budget;     // may be null
  std::shared_ptr<http_transport> http;     // may be null
};

struct metrics_state {
  std::shared_ptr<metrics_keep> keep;
  metrics_deps deps;
  health_webhook_settings hook;
  bool hook_in_flight = false;
  bool hook_backing_off = false;
  uint64_t hook_request = 0;
  jitter_rng rng{std::random_device{}()};
  static inline const char* name = "gcstream.metrics";
};

using metrics_pointer = metrics_actor::stateful_pointer<metrics_state>;

/// The metrics actor's behavior.
metrics_actor::behavior_type
metrics_actor_impl(metrics_pointer self, std::shared_ptr<metrics_keep> keep,
                   metrics_deps deps, health_webhook_settings hook);

/// The health webhook's body for a snapshot taken at `now_ms` (epoch).
std::string health_snapshot_json(const tenant_metrics& m, int64_t now_ms);

} // namespace gcstream
