#pragma once

// The connection limiter's permits of one tenant: one per channel the tenant
// has live, not one per session. A session's channel holds one; a rollover
// asks for a second before it makes its new channel (and gives one back
// when the old socket has closed); a socket a session leaves to its
// successor keeps its permit until it is closed. So with max_live_channels
// at 20, no rollover and no hand-over between sessions ever makes a 21st
// channel (which the service would make room for by evicting the oldest,
// perhaps another tenant's live one).
//
// A permit is named "<tenant>/<n>" (n counts up), so that every restart on
// either side is reconciled by asking again under the same name: the
// limiter answers a holder it already granted at once. The book lives in
// the tenant's core, outside every actor: a crashed session's exit hook
// releases what it held, and a new limiter is given the permits held (and
// asked again for those waited for).
//
// Thread-safe.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "messages/supervision.hpp"

namespace gcstream {

/// The process's connection limiter of the moment (the runtime's supervisor
/// replaces it when it dies). Thread-safe.
class limiter_ref {
public:
  limiter_actor get() const {
    std::lock_guard<std::mutex> g{mtx_};
    return handle_;
  }
  void set(limiter_actor h) {
    std::lock_guard<std::mutex> g{mtx_};
    handle_ = std::move(h);
  }

private:
  mutable std::mutex mtx_;
  limiter_actor handle_;
};

class channel_permits {
public:
  /// `key`: the limiter's key (login host and client id).
  channel_permits(std::string tenant, std::string key,
                  std::shared_ptr<limiter_ref> limiter);

  /// Asks for a new permit on behalf of `asker`, who gets
  /// (granted_atom, key, holder) when the limiter grants it. Returns the
  /// permit's name.
  std::string ask(const caf::actor& asker);

  /// Asks again for a permit waited for, now on behalf of `asker` (a
  /// restarted asker). Does nothing for a permit not waited for.
  void ask_again(const std::string& holder, const caf::actor& asker);

  /// Asks the limiter of the moment again for every permit waited for (a
  /// new limiter knows only the permits held).
  void ask_again_all();

  /// A grant arrived: true when the permit was still waited for (it is held
  /// now); false when it was released meanwhile (the limiter is told again)
  /// or is unknown.
  bool granted(const std::string& holder);

  /// Gives a permit back (held or waited for); unknown names are ignored.
  void release(const std::string& holder);

  /// Gives every permit back.
  void release_all();

  std::vector<std::string> held() const;
  size_t held_count() const;
  size_t waiting_count() const;
  const std::string& key() const { return key_; }

private:
  void send_release(const std::string& holder);

  const std::string tenant_;
  const std::string key_;
  std::shared_ptr<limiter_ref> limiter_;
  mutable std::mutex mtx_;
  uint64_t next_ = 0;
  std::set<std::string> held_;
  std::map<std::string, caf::actor> waiting_;
};

} // namespace gcstream
