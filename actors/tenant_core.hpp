#pragma once

// Everything of one tenant that must outlive any of its actors
// (ARCHITECTURE.md, invariant 1): the inbox and budget, the orderer's,
// token's and metrics' kept state, the audit queue, the sockets left behind,
// and the supervisor's own kept state. The runtime holds it; the tenant
// supervisor works on it, and so does the next supervisor when one dies: it
// adopts the children that still live (their handles are here) and starts
// the others again.
//
//   runtime --holds--> tenant_core <--works on-- tenant_supervisor (one at a
//                                                time)
//
// The parts are each safe as their own headers say (the inbox, budget, queue
// and sockets are thread-safe; each keep is used by one actor at a time).
// `sup` is touched only by the supervisor of the moment. What other threads
// read (the status, the actor handles, whether the tenant is done) is
// published under a lock.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "actors/actor_util.hpp"
#include "actors/channel_permits.hpp"
#include "actors/metrics_actor.hpp"
#include "actors/orderer_actor.hpp"
#include "actors/token_actor.hpp"
#include "messages/session.hpp"
#include "messages/supervision.hpp"
#include "runtime/backoff.hpp"
#include "runtime/event_budget.hpp"
#include "runtime/event_inbox.hpp"
#include "runtime/restart_tracker.hpp"
#include "runtime/tenant_sockets.hpp"

namespace gcstream {

/// Settings of a tenant supervisor.
struct supervisor_settings {
  std::string tenant;
  /// The connection limiter's key: login host and client id.
  std::string limiter_key;
  backoff_policy backoff{std::chrono::milliseconds{1000}, 2.0,
                         std::chrono::milliseconds{30000}};
  /// A session that lived this long resets the attempt count.
  std::chrono::milliseconds stable_after{10000};
  /// More session crashes than this within restart_window fail the tenant.
  uint32_t max_restarts = 10;
  std::chrono::milliseconds restart_window{60000};
  /// How often the token, orderer and metrics actors may die (each kind on
  /// its own) before the tenant fails, and the backoff between restarts.
  restart_policy child_restarts;
  /// Refresh the token first when it expires within this.
  std::chrono::milliseconds token_threshold{60000};
  /// Seed of the jitter; 0 picks a random one.
  uint64_t seed = 0;
  /// How long a stop waits for the inbox and the orderer to hand everything
  /// to the sinks.
  std::chrono::milliseconds drain_timeout{5000};
};

/// What a new session starts from.
struct session_start {
  /// Which of the tenant's channels it serves (tenant_core::lanes), of how
  /// many.
  uint32_t lane = 0;
  uint32_t lanes = 1;
  /// Its topics, its inbox and where its sockets go when it ends (empty or
  /// null: the tenant's configured topics, the core's inbox and sockets).
  std::vector<std::string> topics;
  std::shared_ptr<event_inbox> inbox;
  std::shared_ptr<tenant_sockets> sockets;
  channel_info resume;
  token_actor token;
  ingest_actor ingest;
  channel_listener listener;
  bool drain_only = false;
  /// The limiter's permit for the session's first channel ("": none).
  std::string permit;
};

/// The tenant's actors now (null where none lives).
struct tenant_handles {
  caf::actor supervisor;
  caf::actor token;
  /// The first channel's session (`sessions` has every channel's).
  caf::actor session;
  caf::actor orderer;
  caf::actor metrics;
  std::vector<caf::actor> sessions;
};

/// What the supervisor keeps of one of the tenant's channels: its session
/// now, the channel the next one resumes, and its own backoff.
struct lane_keep {
  caf::actor session;
  channel_info last_channel;
  int64_t session_started_ms = 0;
  uint32_t attempt = 0;
  /// The limiter's permit asked for the next session's channel ("" when
  /// none is waited for). Once granted it is the session's
  /// (actors/channel_permits.hpp).
  std::string permit_wait;
  /// The generation of its scheduled restart (0: none).
  uint64_t restart_pending = 0;
  /// Its session told the channel it streams on.
  bool connected = false;
  /// Its session was told to stop.
  bool stop_sent = false;
  /// Its topics all went (set_topics): its session stops, and no other
  /// starts.
  bool retired = false;
};

/// The supervisor's kept state: touched only by the supervisor of the
/// moment.
struct supervisor_keep {
  bool started = false;
  tenant_status status;
  /// One per channel of the tenant (tenant_core::lanes; one when that is
  /// empty).
  std::vector<lane_keep> lanes;
  restart_tracker session_crashes;
  restart_tracker token_crashes;
  restart_tracker orderer_crashes;
  restart_tracker metrics_crashes;
  /// The tenant's topics were checked against the service's list (or there
  /// is no check); the check's answer or retry waited for (0: none).
  bool topics_checked = false;
  uint64_t check_pending = 0;
  uint32_t check_attempt = 0;
  /// Stopping (asked to, or failing): drain, then end.
  bool stopping = false;
  bool failed = false;
  caf::error failure;
  /// The stop reached the orderer (drain asked, then the orderer stopped).
  bool draining = false;
  bool orderer_stopping = false;
  /// The orderer ended with a fatal error (a sink past its restart limit).
  bool orderer_gave_up = false;
  bool drain_complete = false;
  uint64_t restart_gen = 0;
  jitter_rng rng;
  tenant_handles live;
};

/// One channel of a tenant (tenant_core::lanes).
struct channel_lane {
  std::vector<std::string> topics;
  std::shared_ptr<event_inbox> inbox;
  std::shared_ptr<tenant_sockets> sockets;
};

/// Starts a tenant's children (the runtime gives these; tests give fakes).
using token_factory = std::function<token_actor(caf::actor_system&)>;
using session_factory =
  std::function<caf::actor(caf::actor_system&, const session_start&)>;
using metrics_factory = std::function<caf::actor(caf::actor_system&)>;

class tenant_core {
public:
  explicit tenant_core(std::string id);

  tenant_core(const tenant_core&) = delete;
  tenant_core& operator=(const tenant_core&) = delete;

  // -- set once, before the first supervisor starts --------------------------
  const std::string id;
  supervisor_settings cfg;
  /// The inbox of the first channel (of the only one unless `lanes` says
  /// otherwise).
  std::shared_ptr<event_inbox> inbox;
  std::shared_ptr<event_budget> budget;     // may be null
  /// The orderer's kept state; null when sessions hand their events to
  /// `ingest` instead (tests).
  std::shared_ptr<orderer_keep> orderer;
  ingest_actor ingest;
  std::shared_ptr<token_keep> token;
  std::shared_ptr<metrics_keep> metrics;    // may be null (no metrics actor)
  /// The tenant's audit queue (every actor of the tenant reports there).
  audit_ref audit;
  std::shared_ptr<tenant_sockets> sockets;  // may be null
  /// A tenant with more topics than one channel holds has one lane per
  /// channel: its topics, and the inbox and sockets its successive sessions
  /// share. Empty: one channel, with the core's inbox and sockets and the
  /// session's configured topics.
  /// The supervisor adds lanes and changes their topics (under lanes_mtx)
  /// when the topics change; other threads read them under it.
  std::vector<channel_lane> lanes;
  mutable std::mutex lanes_mtx;
  /// Makes a new lane's inbox and sockets (may be empty: no new lanes).
  std::function<channel_lane()> make_lane;
  /// Whether the tenant's topics are combined (combine_topics).
  bool combine_topics = true;
  std::shared_ptr<limiter_ref> limiter;
  /// The tenant's permits, one per live channel (null: not limited).
  std::shared_ptr<channel_permits> permits;
  token_factory make_token;
  session_factory make_session;
  metrics_factory make_metrics;             // may be empty
  /// Checks the tenant's topics against the service's list with `token`
  /// (once, before the first channel is made), then calls `done` with the
  /// topics refused (each a sentence that names it) and, when the list
  /// could not be read, why (any thread). Empty: no check.
  std::function<void(const std::string& token,
                     std::function<void(std::vector<std::string> refused,
                                        std::string unchecked)> done)>
    check_topics;
  /// The session's heartbeat timeout: a connected tenant with no frame for
  /// longer is unhealthy (0: not judged).
  int64_t heartbeat_timeout_ms = 0;
  /// Called once, on the publishing actor's thread, when the tenant's state
  /// becomes "failed" (may be empty).
  std::function<void(const std::string& id, const std::string& reason)> on_failed;

  // -- the supervisor's ------------------------------------------------------
  supervisor_keep sup;

  // -- published (any thread) ------------------------------------------------
  /// Publishes the status and handles. The status's since_ms is the core's:
  /// it moves only when the state does (not when the reason changes).
  void publish(const tenant_status& st, const tenant_handles& h);
  /// Sets the supervisor's handle alone (its spawner, before it runs).
  void set_supervisor(caf::actor h);
  tenant_status status() const;
  tenant_handles handles() const;
  /// The tenant stopped (or failed) for good: every actor of it is gone.
  void finish();
  bool done() const;
  /// Every inbox of the tenant (one per channel).
  std::vector<std::shared_ptr<event_inbox>> inboxes() const;
  /// Each lane's topics now (empty for a lane that closed).
  std::vector<std::vector<std::string>> lane_topics() const;
  /// Waits until done(), at most `timeout`.
  bool wait_done(std::chrono::milliseconds timeout) const;

private:
  mutable std::mutex mtx_;
  mutable std::condition_variable cv_;
  tenant_status status_;
  tenant_handles handles_;
  bool done_ = false;
};

} // namespace gcstream
