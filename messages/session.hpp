#pragma once

// The session actor's vocabulary: what the WebSocket transport tells it (from
// the Asio thread, already parsed), what it hands downstream, and what it
// tells its supervisor.
//
//   transport --(ws_open_atom, conn)------------------------------> session
//   transport --> event_inbox (events) --(poke_atom)---------------> session
//   transport --(ws_frames_atom, conn, frames, notices)------------> session
//   transport --(ws_closed_atom, conn, ws_close_report)-----------> session
//   session   --(ingest_atom, event_batch) -> ingest (the orderer) -> seq
//   session   --(channel_atom, channel_info)----------------------> supervisor
//
// The session keeps each batch until the ingest actor acknowledges it, so
// that an orderer crash loses nothing (ARCHITECTURE.md, invariant 1).

#include <cstdint>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/event.hpp"

namespace gcstream {

using ws_open_atom = caf::atom_constant<caf::atom("ws_open")>;
using ws_frames_atom = caf::atom_constant<caf::atom("ws_frames")>;
using ws_closed_atom = caf::atom_constant<caf::atom("ws_closed")>;
using ingest_atom = caf::atom_constant<caf::atom("ingest")>;
using channel_atom = caf::atom_constant<caf::atom("channel")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using watchdog_atom = caf::atom_constant<caf::atom("watchdog")>;
using resubscribe_atom = caf::atom_constant<caf::atom("resub")>;
using resend_atom = caf::atom_constant<caf::atom("resend")>;
/// Asks the orderer to hand everything it holds to the sinks.
using drain_atom = caf::atom_constant<caf::atom("drain")>;

/// A frame that is not an event: heartbeats, pongs, system topics (`detail`:
/// the channel id the message is about, a capability never printed; empty
/// when it names none), the service's replies (`detail`: the result code),
/// and malformed frames (with the parser's reason, the size, and an excerpt
/// only when asked for: frames may hold personal data).
struct frame_notice {
  /// A gcstream::frame_kind value.
  uint8_t kind = 0;
  std::string topic;
  std::string detail;
  uint64_t size = 0;
  std::string excerpt;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame_notice& x) {
  return f(caf::meta::type_name("gcstream::frame_notice"), x.kind, x.topic,
           x.detail, x.size, x.excerpt);
}

/// How a WebSocket ended (see ws_close_info).
struct ws_close_report {
  bool was_open = false;
  bool requested = false;
  int remote_code = 0;
  std::string remote_reason;
  int local_code = 0;
  std::string error;
  long http_status = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ws_close_report& x) {
  return f(caf::meta::type_name("gcstream::ws_close_report"), x.was_open,
           x.requested, x.remote_code, x.remote_reason, x.local_code, x.error,
           x.http_status);
}

/// A notification channel, as the service described it.
struct channel_info {
  std::string id;
  std::string connect_uri;
  /// Expiry, epoch milliseconds (0: unknown).
  int64_t expires_ms = 0;
  /// Lifetime the service gives the channel (and each extension), ms (0:
  /// unknown).
  int64_t ttl_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, channel_info& x) {
  return f(caf::meta::type_name("gcstream::channel_info"), x.id, x.connect_uri,
           x.expires_ms, x.ttl_ms);
}

/// Where a session hands its events: the orderer (or a test's recorder).
/// The reply is the batch's seq: the acknowledgement.
using ingest_actor = caf::typed_actor<
  caf::replies_to<ingest_atom, event_batch>::with<uint64_t>>;

/// Who hears about a session's channel (its supervisor), so that the next
/// session can reconnect to the same channel.
using channel_listener = caf::typed_actor<caf::reacts_to<channel_atom, channel_info>>;

} // namespace gcstream
