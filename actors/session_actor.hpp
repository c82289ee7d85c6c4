#pragma once

// session_actor: owns one notification channel and its WebSocket.
//
// Takes (besides its own timers and HTTP results):
//   (ws_open_atom, link)                  a socket opened
//   (ws_frames_atom, link, count, notices) frames arrived (read on the Asio
//                                         thread by runtime/frame_reader: the
//                                         events went to the tenant's inbox)
//   (ws_closed_atom, link, report)        a socket ended
//   (poke_atom)                           the inbox has events
//   (ingest_atom, ingest_actor)           the orderer restarted: hand it what
//                                         the old one never acknowledged
//   (token_atom, token_actor)             the token actor restarted
//   (adopt_atom, channel_listener)        a restarted supervisor took over
//   (topics_atom, topics)                 the channel's topics change: subscribe
//                                         the channel again with them (PUT,
//                                         the same socket), audited
//                                         (topics_changed)
//   (stop_atom, deadline)                 the tenant stops: stop reading, hand
//                                         what the inbox holds to the orderer,
//                                         then end
// Sends:
//   (ingest_atom, batch) to the orderer: at most ingest_window batches at
//   once, each with the ingest_timeout deadline; the inbox keeps each batch
//   until acknowledged (and survives the session), and a batch that fails
//   is offered again
//   (channel_atom, channel_info) to its supervisor whenever its channel
//   changes
//   audit events: connecting, subscribed, connected, disconnected,
//   rollover_started, rollover_finished, malformed_frame, token_revoked,
//   channel_reused, channel_gone, channel_extended
// Asks the token actor for tokens, and reports 401s and token_revoked to it.
//
// States:
//   start -> (resume given) connect to it at once -> open: subscribe again
//                                                   in the background
//                                         -> upgrade refused 404: create
//         -> create channel -> subscribe (ignoreErrors) -> connect -> open
//   open: ping every ping_interval; no frame for heartbeat_timeout = dead
//         (unless the tenant's budget stopped reading: that is no stall)
//   open --socket_closing / no_longer_subscribed--> rollover: a NEW channel,
//         subscribed and connected, THEN the old socket is closed after
//         close_grace (make before break; duplicates of the overlap are
//         removed downstream)
//   open --before the channel expires--> subscribe again (no reconnect)
//   open --token_revoked--> invalidate the token, fetch a new one, carry on
//   stop -> close the sockets (reading stops), drain the inbox -> end
//   any failure -> end with the reason (retriable or fatal, close code and
//   reason in the text). The session never decides when to retry: its
//   supervisor does.
// Ending: a socket that is still good (the session ends for another reason,
// or crashes) is left to the next session (runtime/tenant_sockets.hpp),
// which closes it once its own is open; a socket still being set up is
// closed. A session that crashes (a kill, an exception) does the same from
// its exit hook.

#include <chrono>
#include <functional>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/actor_util.hpp"
#include "actors/channel_permits.hpp"
#include "messages/session.hpp"
#include "messages/token.hpp"
#include "runtime/envelope.hpp"
#include "runtime/event_budget.hpp"
#include "runtime/backoff.hpp"
#include "runtime/event_inbox.hpp"
#include "runtime/timer_wheel.hpp"
#include "runtime/http_transport.hpp"
#include "runtime/tenant_sockets.hpp"
#include "runtime/ws_transport.hpp"

namespace gcstream {

/// Settings of one session.
struct session_settings {
  std::string tenant;
  /// Base URL of the API ("https://api.mypurecloud.com").
  std::string api_url;
  std::vector<std::string> topics;
  /// Which of the tenant's channels this session serves, of how many (a
  /// tenant with more topics than a channel holds has several): with more
  /// than one, its audit events say which (`lane`) and how many topics it
  /// holds (`topics`).
  uint32_t lane = 0;
  uint32_t lanes = 1;
  std::chrono::milliseconds ping_interval{30000};
  std::chrono::milliseconds heartbeat_timeout{75000};
  /// Timeout of each request to the token actor.
  std::chrono::milliseconds token_timeout{30000};
  /// Subscribe again when this fraction of the channel's life has passed.
  double resubscribe_fraction = 0.75;
  /// A REST call that fails while a socket streams (a resubscribe, a
  /// rollover's new channel) is audited (api_retry) and tried again after
  /// this backoff (the ceiling, no jitter); the socket streams on. A 404 on
  /// a resubscribe (the channel is gone) makes a new channel instead.
  backoff_policy api_retry{std::chrono::milliseconds{1000}, 2.0,
                           std::chrono::milliseconds{60000}};
  /// Where the ordering timestamp of each topic is.
  std::vector<timestamp_rule> timestamp_rules = default_timestamp_rules();
  /// eventBody field used as the event id when CorrelationId is absent.
  std::string id_body_key;
  /// Whether malformed_frame audit lines carry an excerpt of the frame.
  bool frame_excerpts = false;
  /// A socket the session closes itself is read this long first (after the
  /// socket that replaces it opened), so that what the service wrote to it
  /// arrives.
  std::chrono::milliseconds close_grace{1000};
  /// Batches handed to the orderer and not yet acknowledged, at most.
  size_t ingest_window = 4;
  /// A batch the orderer did not acknowledge within this is offered again.
  std::chrono::milliseconds ingest_timeout{10000};
  /// A channel of an earlier session to reconnect to, if it still exists.
  channel_info resume;
  /// Only hand what the inbox holds to the orderer, then end (a stopping
  /// tenant with no session left).
  bool drain_only = false;
  /// The connection limiter's permit for the first channel, granted to the
  /// supervisor ("" when channels are not counted). The session holds one
  /// permit per live channel: a rollover asks for a second before it makes
  /// its new channel, and a socket's permit goes back when it has closed
  /// (or goes with it to the next session: runtime/tenant_sockets.hpp).
  std::string permit;
};

/// The typed interface of a session.
using session_actor = caf::typed_actor<
  caf::reacts_to<ws_open_atom, uint64_t>,
  caf::reacts_to<ws_frames_atom, uint64_t, uint64_t, std::vector<frame_notice>>,
  caf::reacts_to<poke_atom>,
  caf::reacts_to<ws_closed_atom, uint64_t, ws_close_report>,
  caf::reacts_to<http_done_atom, uint64_t, http_response>,
  caf::reacts_to<http_done_atom, uint64_t, caf::error>,
  caf::reacts_to<ping_atom, uint64_t>,
  caf::reacts_to<watchdog_atom, uint64_t>,
  caf::reacts_to<resubscribe_atom, uint64_t>,
  caf::reacts_to<retry_atom, uint64_t>,
  caf::reacts_to<close_atom, uint64_t>,
  caf::reacts_to<resend_atom>,
  caf::reacts_to<ingest_atom, ingest_actor>,
  caf::reacts_to<token_atom, token_actor>,
  caf::reacts_to<adopt_atom, channel_listener>,
  caf::reacts_to<stop_atom, caf::timespan>,
  caf::reacts_to<timeout_atom>,
  caf::reacts_to<expire_atom>,
  caf::reacts_to<granted_atom, std::string, std::string>,
  caf::reacts_to<topics_atom, std::vector<std::string>>>;

/// What a session shares with the rest of its tenant and process.
struct session_deps {
  token_actor token;
  std::shared_ptr<http_transport> http;
  std::shared_ptr<ws_transport> ws;
  ingest_actor ingest;
  /// The tenant's inbox: shared by its successive sessions.
  std::shared_ptr<event_inbox> inbox;
  channel_listener listener; // may be null
  audit_ref audit;           // may be null
  /// The tenant's budget (may be null): reading stops when it is full.
  std::shared_ptr<event_budget> budget;
  /// Where sockets left behind go (may be null: they are closed).
  std::shared_ptr<tenant_sockets> sockets;
  /// The tenant's limiter permits (may be null: channels are not counted).
  std::shared_ptr<channel_permits> permits;
  /// The runtime's timer thread for pings and watchdog checks (may be null:
  /// then they are CAF timers, one message per period each).
  std::shared_ptr<timer_wheel> wheel;
};

/// The session's sockets, as its exit hook needs them (it outlives the
/// state).
struct session_links {
  struct entry {
    uint64_t conn = 0;
    bool open = false;
    bool dead = false; // known broken: not worth leaving to a successor
    std::string permit; // the limiter's permit of its channel
  };
  std::map<uint64_t, entry> by_link;
  /// Permits held for no socket yet (the first channel's, a rollover's).
  std::vector<std::string> spare;
  /// The permit a rollover waits for ("" when none).
  std::string asked;
  /// The session's timers on the wheel (cancelled when it ends, however).
  std::vector<uint64_t> wheel_timers;
  bool handled = false; // the session ended them itself
};

/// State of a session.
struct session_state {
  /// One WebSocket of the session (two at once during a rollover).
  struct link {
    uint64_t conn = 0; // the transport's id
    channel_info channel;
    bool open = false;
    bool closing = false; // closes after close_grace
    /// When its socket was last read (steady ms; its frame reader writes).
    std::shared_ptr<std::atomic<int64_t>> heard;
  };

  session_settings cfg;
  session_deps deps;
  access_token token;
  /// Continuations waiting for a token while the token actor restarts.
  std::vector<std::function<void()>> token_waiters;
  uint64_t next_call = 0;
  std::map<uint64_t, std::function<void(caf::expected<http_response>)>> calls;
  uint64_t next_link = 0;
  std::map<uint64_t, link> links;
  std::shared_ptr<session_links> book;
  uint64_t current = 0;      // link id of the socket in use
  uint64_t rolling_to = 0;   // link id of the rollover's new socket
  std::string rollover_why;  // the reason of the rollover waiting for a permit
  bool closing = false;      // the session is ending
  bool resuming = false;     // connecting to an earlier session's channel
  bool stopping = false;     // the tenant stops: drain, then end
  bool opened_once = false;  // a socket of this session opened
  int64_t last_frame_ms = 0; // actor clock
  uint64_t timer_gen = 0;
  int64_t channel_ttl_ms = 0;
  uint32_t api_attempt = 0;  // background calls failed in a row
  std::function<void()> api_retry_action; // what retry_atom runs
  /// Batches out to the orderer (seq -> deadline, actor clock ms), and those
  /// that failed (offered again after retry_ms).
  std::map<uint64_t, int64_t> out;
  int64_t check_at = -1; // when the deadline timer fires (-1: not armed)
  uint64_t ingest_gen = 0; // bumped when the orderer is replaced
  std::vector<uint64_t> failed;
  int64_t retry_ms = 0;
  uint64_t events = 0;
  uint64_t malformed = 0;
  /// Bumped when the topics change: a subscription made with older topics
  /// is made again.
  uint64_t topics_version = 0;
  static inline const char* name = "gcstream.session";
};

using session_pointer = session_actor::stateful_pointer<session_state>;

/// The session's behavior.
session_actor::behavior_type session_actor_impl(session_pointer self,
                                                session_settings cfg,
                                                session_deps deps);

} // namespace gcstream
