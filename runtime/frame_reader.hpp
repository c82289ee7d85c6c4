#pragma once

// What a tenant's WebSocket does with the frames it reads, on the Asio
// thread, with no actor involved (ARCHITECTURE.md, "The hot path"):
//
//   1. parse each frame's envelope (runtime/envelope.hpp); the frame is kept
//      whole and moved, not copied, into its event;
//   2. push the events into the tenant's inbox (runtime/event_inbox.hpp),
//      where they stay until the orderer has them: a session that dies
//      loses nothing;
//   3. record when the socket was last heard from (`heard`, read by the
//      session's watchdog), and tell the session at once of frames it must
//      act on (system topics, malformed frames). Heartbeats and pongs only
//      prove the socket alive: they cost no message to any actor. (Without
//      `heard`, the session is told that frames came at most once per
//      liveness_ms, and of every frame that is not an event.)
//   4. pause reading when the tenant's budget is full
//      (runtime/event_budget.hpp, overflow: block).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "messages/session.hpp"
#include "runtime/envelope.hpp"
#include "runtime/event_budget.hpp"
#include "runtime/event_inbox.hpp"
#include "runtime/ws_transport.hpp"

namespace gcstream {

/// How one link's frames are read.
struct frame_reader_settings {
  std::string tenant;
  std::vector<timestamp_rule> timestamp_rules = default_timestamp_rules();
  std::string id_body_key;
  /// Liveness reports are spared for this long after one (0: every read).
  int64_t liveness_ms = 50;
  /// Whether a malformed frame's notice carries an excerpt of it (frames
  /// may hold personal data: off unless asked for).
  bool excerpts = false;
  /// Where each read stores when it happened (steady clock, ms); when set,
  /// frames that only prove liveness send no notice.
  std::shared_ptr<std::atomic<int64_t>> heard;
};

/// Steady-clock milliseconds, as `heard` holds them (and as CAF's clock
/// counts).
int64_t steady_ms();

/// Called when frames came: how many, and the notices among them.
using frames_notify =
  std::function<void(uint64_t count, std::vector<frame_notice>&& notices)>;

/// The on_frames handler of a WebSocket (ws_handlers::on_frames).
std::function<bool(uint64_t, std::vector<frame_ref>&&, int64_t)>
frame_reader(frame_reader_settings cfg, std::shared_ptr<event_inbox> inbox,
             std::shared_ptr<event_budget> budget, frames_notify notify);

/// A printable excerpt of a frame for the audit log: at most 100 bytes,
/// control and non-ASCII bytes escaped.
std::string frame_excerpt(const std::string& frame);

} // namespace gcstream
