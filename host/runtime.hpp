#pragma once

// The embedding API: what a host program touches (ARCHITECTURE.md, "Shared
// by all tenants").
//
// A runtime lives on the host's own actor system (which must have had
// gcstream::add_types(cfg) called on its config). It owns what every tenant
// of the process shares: the Asio threads of the WebSocket transport, the
// HTTP workers, the connection limiter and the audit log, and a supervisor
// (actors/runtime_supervisor.hpp) that starts again whichever of those, or
// of the tenants' supervisors, dies. Tenants come and go at run time:
//
//   gcstream::runtime rt{sys, runtime_settings{}};
//   rt.add_tenant(cfg);            // starts token, supervisor, session,
//                                  // orderer, metrics and sinks
//   rt.status("acme");             // connected, reconnecting, failed...
//   rt.actors("acme");             // its actors, to monitor, link or kill
//   rt.remove_tenant("acme");      // stops reading, drains to the sinks,
//                                  // then stops
//   rt.shutdown();                 // every tenant, then the threads
//
// Every call is thread-safe and every blocking call has a deadline. The
// destructor shuts down if the host did not; it must run before the actor
// system goes.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/runtime_supervisor.hpp"
#include "actors/session_actor.hpp"
#include "actors/tenant_core.hpp"
#include "runtime/endpoints.hpp" // limiter_key_of
#include "runtime/http_client.hpp"
#include "runtime/http_listener.hpp"
#include "runtime/timer_wheel.hpp"
#include "runtime/ws_transport.hpp"

namespace gcstream {

/// What the runtime shares between tenants.
struct runtime_settings {
  ws_settings ws;
  http_settings http;
  limiter_settings limiter;
  /// The pings and heartbeat watchdogs of every session on one shared timer
  /// thread (runtime/timer_wheel.hpp), or, when false, on CAF's clock (a
  /// clock entry and a message per session and period).
  bool shared_timers = true;
  /// Where the audit log is written (null: nowhere).
  std::shared_ptr<audit_writer> audit_log;
  /// Who else gets every audit event (may be null).
  audit_actor observer;
  /// "host:port" of the /metrics, /healthz and /readyz listener (empty:
  /// none; port 0: the OS picks, see metrics_port()).
  std::string metrics_listen;
  /// The health webhook of every tenant (off when its url is empty).
  health_webhook_settings health_webhook;
  /// A tenant reconnecting for longer than this makes /healthz fail.
  std::chrono::milliseconds health_budget{60000};
  /// How often the connection limiter and the audit log may die (each on
  /// its own) before the process fails, and how often a tenant's supervisor
  /// may before the tenant fails; with the backoff between restarts.
  restart_policy shared_restarts;
  restart_policy supervisor_restarts;
  /// Called once when a shared actor died past its restart limit (on an
  /// actor's thread; keep it short). The reason is also in fatal_error().
  std::function<void(const std::string&)> on_fatal;
  /// Called once per tenant, the moment it fails for good (on an actor's
  /// thread; keep it short), with its id and the reason; the tenant stays
  /// visible, failed, until it is removed.
  std::function<void(const std::string& tenant, const std::string& reason)>
    on_tenant_failed;
};

/// What /healthz and /readyz answer.
struct health_report {
  bool ok = true;
  /// One line per tenant that is not ok, with the reason.
  std::string text;
};

/// One tenant: its credentials, topics, settings and sinks. The id, URLs and
/// credentials are copied into the settings structs by add_tenant.
struct tenant_config {
  std::string id;
  std::string login_url;
  std::string api_url;
  std::string client_id;
  /// Held by the token actor only; never printed.
  std::string client_secret;
  std::vector<std::string> topics;
  /// Subscribe "v2.users.<id>.<x>" topics of one user as one combined topic
  /// (runtime/topics.hpp); events still carry the expanded names.
  bool combine_topics = true;
  /// Checks the topics against the service's list (GET availabletopics)
  /// once, before the first channel is made: a topic of no family, or one
  /// that needs a user context, fails the tenant (topics_refused) naming it.
  /// A list that cannot be read is audited (topics_unchecked) and the tenant
  /// goes on.
  bool check_topics = true;
  token_settings token;
  session_settings session;
  supervisor_settings supervisor;
  orderer_settings orderer;
  std::vector<sink_spec> sinks;
  /// One cap on every event the tenant holds between its sockets and its
  /// sinks (inbox, batches in flight, reorder buffer, sink queues), and what
  /// happens at it.
  size_t max_buffered_events = 100000;
  overflow_policy overflow = overflow_policy::block;
  /// SQLite journal of events not yet acknowledged by every sink (empty:
  /// none). Replayed when the tenant starts.
  std::string journal_path;
};

/// A tenant's actors, for a host to monitor or link and for tests to kill.
/// A handle is null where none lives at the moment (the session between two
/// sessions; audit without an audit log).
struct tenant_actors {
  caf::actor token;
  caf::actor supervisor;
  caf::actor session;
  caf::actor orderer;
  caf::actor metrics;
  caf::actor limiter;
  caf::actor audit;
  std::vector<caf::actor> sinks;
  /// Every channel's session (`session` is the first channel's).
  std::vector<caf::actor> sessions;
};

/// The actor of `kind` ("token", "supervisor", "session", "orderer",
/// "metrics", "limiter", "audit", or "sink" for the first sink; the kinds
/// of the audit log's actor_restarted lines), null when none lives.
caf::actor actor_of(const tenant_actors& a, const std::string& kind);

/// What a shutdown left behind.
struct stop_report {
  /// Events that did not reach every sink, over all tenants.
  uint64_t undelivered = 0;
  /// Tenants that did not stop within the deadline (stopped undrained).
  std::vector<std::string> not_stopped;
  /// Tenants that had failed.
  std::vector<std::string> failed;
};

/// The process's gcstream runtime on a host's actor system.
class runtime {
public:
  runtime(caf::actor_system& sys, runtime_settings settings);
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Starts a tenant. Fails with errc::bad_config for a duplicate id, no
  /// topics, a malformed topic or one asked for twice, more channels than
  /// its OAuth client has left (max_live_channels, shared with its other
  /// tenants), no sinks, or a journal that cannot be opened.
  caf::expected<supervisor_actor> add_tenant(tenant_config cfg);

  /// Changes a running tenant's topics, by difference: a channel whose
  /// topics change is subscribed again on its socket (which stays open), a
  /// channel left with none closes, new channels are made for what does not
  /// fit the others (audited: topics_changed). Checked first like
  /// add_tenant's (an empty list, a malformed topic, one asked for twice,
  /// more channels than the OAuth client has left): then nothing changes.
  /// Returns once the change is handed to the tenant's supervisor.
  caf::error set_topics(const std::string& id, std::vector<std::string> topics);

  /// Writes an event of the process (tenant "") to the audit log, such as a
  /// configuration reload.
  void audit_event(std::string event,
                   std::vector<std::pair<std::string, std::string>> fields);

  /// Stops a tenant: stops reading its sockets, hands what its inbox holds
  /// to the orderer and everything to the sinks (within the tenant's
  /// drain_timeout), counts and audits what did not make it, stops
  /// everything it started. Returns false when the id is unknown or it did
  /// not end by `deadline` (then it is stopped undrained).
  bool remove_tenant(const std::string& id,
                     std::chrono::milliseconds deadline = std::chrono::seconds(15));

  /// The tenant's supervisor now, if the tenant is known.
  std::optional<supervisor_actor> tenant(const std::string& id) const;

  /// The tenant's actors now; an error for an unknown id.
  caf::expected<tenant_actors> actors(const std::string& id) const;

  /// Ids of the tenants added and not removed.
  std::vector<std::string> tenants() const;

  /// The tenant's state (empty state when unknown).
  tenant_status status(const std::string& id) const;

  /// Kept for callers that passed a timeout; the status is read, not asked.
  tenant_status status(const std::string& id, std::chrono::milliseconds) const {
    return status(id);
  }

  /// The tenant's orderer counters (asked of its orderer).
  orderer_stats stats(const std::string& id,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// Every tenant's metrics, as their metrics actors last published them
  /// (nobody is asked while the caller waits).
  std::vector<tenant_metrics>
  metrics(std::chrono::milliseconds unused = std::chrono::seconds(2)) const;

  /// The Prometheus text of every tenant and of the process.
  std::string prometheus_text();

  /// Healthy: no shared actor past its restart limit, and every tenant
  /// healthy as host/health.hpp judges it (connected and hearing frames, or
  /// starting or reconnecting for less than the health budget; never
  /// failed). Ready: every tenant connected.
  health_report health();
  health_report readiness();

  /// Why the process failed (a shared actor past its restart limit), or
  /// empty.
  std::string fatal_error() const;

  /// The metrics listener's port (0: none).
  uint16_t metrics_port() const { return listener_.port(); }

  /// Stops every tenant (in parallel, each drained) and then the shared
  /// actors and threads. Idempotent (a second call reports nothing).
  stop_report shutdown(std::chrono::milliseconds deadline = std::chrono::seconds(20));

  caf::actor_system& system() { return sys_; }

private:
  void start_root();
  stop_report stop_tenants(std::vector<std::shared_ptr<tenant_core>> cores,
                           std::chrono::milliseconds deadline);

  caf::actor_system& sys_;
  runtime_settings cfg_;
  std::shared_ptr<http_client> http_;
  std::shared_ptr<ws_transport> ws_;
  std::shared_ptr<timer_wheel> wheel_; // null without shared_timers
  std::shared_ptr<process_core> pc_;
  /// Why `need` more channels for tenant `id` (for `topics` topics) do not
  /// fit the budget of its OAuth client (`key`) beside its other tenants;
  /// empty when they do.
  std::string over_budget(const std::string& key, const std::string& id, size_t need,
                          size_t topics) const;

  std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
  http_listener listener_;
  mutable std::mutex mtx_;
  std::string fatal_;
  bool stopped_ = false;
};

} // namespace gcstream
