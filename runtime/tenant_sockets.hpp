#pragma once

// The sockets of one tenant that no session owns any more.
//
// A session that ends by a crash (a kill, an exception) or by an error that
// is not the socket's own (a REST call failed) does not close the sockets it
// had open: they keep feeding the tenant's inbox, so that no event the
// service wrote to them is lost between two sessions. It leaves them here.
// Its successor closes them once its own socket is open and has been for a
// moment (make before break, across sessions: the events they still carry
// also reach the new socket, and the orderer's dedupe removes the overlap);
// when it reconnects to the same channel, the service closes them first. A
// tenant that stops closes whatever is left. So a socket is never left
// streaming unowned.
//
// A socket left keeps its channel's permit of the connection limiter (one per
// live channel: actors/channel_permits.hpp) until it is closed here; then
// the permit goes back through `release`.
//
// Thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/ws_transport.hpp"

namespace gcstream {

class tenant_sockets {
public:
  /// `release` gives a closed socket's permit back (may be empty).
  explicit tenant_sockets(std::shared_ptr<ws_transport> ws,
                          std::function<void(const std::string&)> release = {})
    : ws_(std::move(ws)), release_(std::move(release)) {}

  /// Leaves an open socket, and the permit of its channel ("" for none), to
  /// the next session.
  void leave(uint64_t conn, std::string permit = {});

  /// Closes every socket left (a close handshake).
  void close_left(uint16_t code, const std::string& reason);

  /// Sockets left and not yet closed by this class.
  size_t left() const;

  const std::shared_ptr<ws_transport>& transport() const { return ws_; }

private:
  std::shared_ptr<ws_transport> ws_;
  mutable std::mutex mtx_;
  std::function<void(const std::string&)> release_;
  std::vector<std::pair<uint64_t, std::string>> left_;
};

} // namespace gcstream
