#pragma once

// session_actor: owns one notification channel and its WebSocket.
//
// Takes (besides its own timers and HTTP results):
//   (ws_open_atom, link)                         a socket opened
//   (ws_frames_atom, link, count, notices)       frames arrived (parsed on the
//                                                Asio thread; the events went
//                                                to the tenant's event_inbox)
//   (drain_atom)                                 the inbox has events
//   (ws_closed_atom, link, report)               a socket ended
//   (ingest_atom, ingest_actor)                  the orderer restarted: hand
//                                                events (and what the old
//                                                one never acknowledged) to
//                                                this one
// Sends:
//   (ingest_atom, batch) to the ingest actor; the inbox keeps the batch until
//   acknowledged, and survives the session
//   (channel_atom, channel_info) to its listener whenever its channel changes
//   audit_event to the observer: connecting, subscribed, connected,
//   disconnected, rollover_started, rollover_finished, malformed_frame,
//   token_revoked
// Asks the token actor for tokens, and reports 401s and token_revoked to it.
//
// States:
//   start -> (resume given) connect to it at once -> open: subscribe again
//                                                   in the background
//                                         -> upgrade refused 404: create
//         -> create channel -> subscribe (ignoreErrors) -> connect -> open
//   open: ping every ping_interval; no frame for heartbeat_timeout = dead
//   open --socket_closing / no_longer_subscribed--> rollover: a NEW channel,
//         subscribed and connected, THEN the old socket is closed (make
//         before break; duplicates of the overlap are removed downstream)
//   open --before the channel expires--> subscribe again (no reconnect)
//   open --token_revoked--> invalidate the token, fetch a new one, carry on
//   any failure -> quit with the reason (retriable or fatal, close code and
//   reason in the text). The session never decides when to retry: its
//   supervisor does.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/audit.hpp"
#include "messages/session.hpp"
#include "messages/token.hpp"
#include "runtime/envelope.hpp"
#include "runtime/event_inbox.hpp"
#include "runtime/http_transport.hpp"
#include "runtime/ws_transport.hpp"

namespace gcstream {

/// Settings of one session.
struct session_settings {
  std::string tenant;
  /// Base URL of the API ("https://api.mypurecloud.com").
  std::string api_url;
  std::vector<std::string> topics;
  std::chrono::milliseconds ping_interval{30000};
  std::chrono::milliseconds heartbeat_timeout{75000};
  /// Timeout of each request to the token actor.
  std::chrono::milliseconds token_timeout{30000};
  /// Subscribe again when this fraction of the channel's life has passed.
  double resubscribe_fraction = 0.75;
  /// Where the ordering timestamp of each topic is.
  std::vector<timestamp_rule> timestamp_rules = default_timestamp_rules();
  /// eventBody field used as the event id when CorrelationId is absent.
  std::string id_body_key;
  /// A channel of an earlier session to reconnect to, if it still exists.
  channel_info resume;
};

/// The typed interface of a session.
using session_actor = caf::typed_actor<
  caf::reacts_to<ws_open_atom, uint64_t>,
  caf::reacts_to<ws_frames_atom, uint64_t, uint64_t, std::vector<frame_notice>>,
  caf::reacts_to<drain_atom>,
  caf::reacts_to<ws_closed_atom, uint64_t, ws_close_report>,
  caf::reacts_to<http_done_atom, uint64_t, http_response>,
  caf::reacts_to<http_done_atom, uint64_t, caf::error>,
  caf::reacts_to<ping_atom, uint64_t>,
  caf::reacts_to<watchdog_atom, uint64_t>,
  caf::reacts_to<resubscribe_atom, uint64_t>,
  caf::reacts_to<resend_atom>,
  caf::reacts_to<ingest_atom, ingest_actor>>;

/// What a session shares with the rest of its tenant and process.
struct session_deps {
  token_actor token;
  std::shared_ptr<http_transport> http;
  std::shared_ptr<ws_transport> ws;
  ingest_actor ingest;
  /// The tenant's inbox: shared by its successive sessions.
  std::shared_ptr<event_inbox> inbox;
  channel_listener listener; // may be null
  audit_actor observer;      // may be null
};

/// State of a session.
struct session_state {
  /// One WebSocket of the session (two at once during a rollover).
  struct link {
    uint64_t conn = 0; // the transport's id
    channel_info channel;
    bool open = false;
  };

  session_settings cfg;
  session_deps deps;
  access_token token;
  uint64_t next_call = 0;
  std::map<uint64_t, std::function<void(caf::expected<http_response>)>> calls;
  uint64_t next_link = 0;
  std::map<uint64_t, link> links;
  uint64_t current = 0;      // link id of the socket in use
  uint64_t rolling_to = 0;   // link id of the rollover's new socket
  bool closing = false;      // the session is ending
  bool resuming = false;     // connecting to an earlier session's channel
  int64_t last_frame_ms = 0; // actor clock
  uint64_t timer_gen = 0;
  int64_t channel_ttl_ms = 0;
  /// Batches the ingest actor failed to take, offered again shortly.
  std::vector<uint64_t> failed;
  uint64_t events = 0;
  uint64_t malformed = 0;
  static inline const char* name = "gcstream.session";
};

using session_pointer = session_actor::stateful_pointer<session_state>;

/// The session's behavior.
session_actor::behavior_type session_actor_impl(session_pointer self,
                                                session_settings cfg,
                                                session_deps deps);

} // namespace gcstream
