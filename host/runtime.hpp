#pragma once

// The embedding API: what a host program touches (ARCHITECTURE.md, "Shared
// by all tenants").
//
// A runtime lives on the host's own actor system (which must have had
// gcstream::add_types(cfg) called on its config). It owns what every tenant
// of the process shares: the Asio threads of the WebSocket transport, the
// HTTP workers, and the connection limiter. Tenants come and go at run time:
//
//   gcstream::runtime rt{sys, runtime_settings{}};
//   rt.add_tenant(cfg);            // starts token, supervisor, session,
//                                  // orderer and sinks
//   rt.status("acme");             // connected, reconnecting, failed...
//   rt.remove_tenant("acme");      // drains to the sinks, then stops
//   rt.shutdown();                 // every tenant, then the threads
//
// Every call is thread-safe and every blocking call has a deadline. The
// destructor shuts down if the host did not; it must run before the actor
// system goes.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "actors/connection_limiter.hpp"
#include "actors/metrics_actor.hpp"
#include "actors/orderer_actor.hpp"
#include "actors/session_actor.hpp"
#include "actors/tenant_supervisor.hpp"
#include "actors/token_actor.hpp"
#include "runtime/event_inbox.hpp"
#include "runtime/http_client.hpp"
#include "runtime/http_listener.hpp"
#include "runtime/ws_transport.hpp"

namespace gcstream {

/// What the runtime shares between tenants.
struct runtime_settings {
  ws_settings ws;
  http_settings http;
  limiter_settings limiter;
  /// Where every tenant's audit events go (may be null).
  audit_actor observer;
  /// "host:port" of the /metrics, /healthz and /readyz listener (empty:
  /// none; port 0: the OS picks, see metrics_port()).
  std::string metrics_listen;
  /// The health webhook of every tenant (off when its url is empty).
  health_webhook_settings health_webhook;
  /// A tenant reconnecting for longer than this makes /healthz fail.
  std::chrono::milliseconds health_budget{60000};
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
  token_settings token;
  session_settings session;
  supervisor_settings supervisor;
  orderer_settings orderer;
  std::vector<sink_spec> sinks;
  /// Events waiting between the sockets and the orderer.
  size_t inbox_max_events = 100000;
  /// SQLite journal of events not yet acknowledged by every sink (empty:
  /// none). Replayed when the tenant starts.
  std::string journal_path;
};

/// The process's gcstream runtime on a host's actor system.
class runtime {
public:
  runtime(caf::actor_system& sys, runtime_settings settings);
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Starts a tenant. Fails with errc::bad_config for a duplicate id, no
  /// topics, no sinks, or a journal that cannot be opened.
  caf::expected<supervisor_actor> add_tenant(tenant_config cfg);

  /// Stops a tenant: ends its session, drains its orderer to the sinks
  /// (within the tenant's drain_timeout), stops everything it started.
  /// Returns false when the id is unknown or it did not end by `deadline`.
  bool remove_tenant(const std::string& id,
                     std::chrono::milliseconds deadline = std::chrono::seconds(15));

  /// The tenant's supervisor, if it is known.
  std::optional<supervisor_actor> tenant(const std::string& id) const;

  /// Ids of the tenants added and not removed.
  std::vector<std::string> tenants() const;

  /// The tenant's state (empty state when unknown or not answering).
  tenant_status status(const std::string& id,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// The tenant's orderer counters.
  orderer_stats stats(const std::string& id,
                      std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// Every tenant's metrics (tenants not answering within the timeout are
  /// left out).
  std::vector<tenant_metrics>
  metrics(std::chrono::milliseconds timeout = std::chrono::seconds(2));

  /// The Prometheus text of every tenant and of the process.
  std::string prometheus_text();

  /// Healthy: every tenant connected, or reconnecting for less than the
  /// health budget. Ready: every tenant connected.
  health_report health();
  health_report readiness();

  /// The metrics listener's port (0: none).
  uint16_t metrics_port() const { return listener_.port(); }

  /// Stops every tenant (in parallel, each drained) and then the shared
  /// threads. Idempotent.
  void shutdown(std::chrono::milliseconds deadline = std::chrono::seconds(20));

  caf::actor_system& system() { return sys_; }

private:
  struct tenant_entry {
    supervisor_actor supervisor;
    metrics_actor metrics;
    token_actor token;
    std::shared_ptr<event_inbox> inbox;
    std::shared_ptr<orderer_keep> keep;
  };

  void stop_tenants(std::vector<tenant_entry> entries,
                    std::chrono::milliseconds deadline);

  caf::actor_system& sys_;
  runtime_settings cfg_;
  std::shared_ptr<http_client> http_;
  std::shared_ptr<ws_transport> ws_;
  limiter_actor limiter_;
  http_listener listener_;
  mutable std::mutex mtx_;
  std::map<std::string, tenant_entry> tenants_;
  bool stopped_ = false;
};

/// The connection limiter's key for a login URL and client id: the host part
/// of the URL and the id ("login.mypurecloud.com|app").
std::string limiter_key_of(const std::string& login_url,
                           const std::string& client_id);

} // namespace gcstream
