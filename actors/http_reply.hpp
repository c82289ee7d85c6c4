#pragma once

// The callback an actor gives the HTTP client: it runs on an HTTP worker
// thread, so it only sends the result to the actor as (http_done_atom, id,
// response) or (http_done_atom, id, error), through a weak reference (a dead
// actor is kept alive by nothing and simply gets nothing).

#include <cstdint>

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/weak_intrusive_ptr.hpp>

#include "messages/token.hpp"
#include "runtime/http_transport.hpp"

namespace gcstream {

/// A callback that delivers request `id`'s result to `self` (any actor type
/// whose interface takes both http_done_atom messages).
template <class Handle, class Self>
http_transport::callback http_reply_to(Self* self, uint64_t id) {
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  return [weak, id](caf::expected<http_response> r) {
    auto strong = caf::actor_cast<caf::strong_actor_ptr>(weak);
    if (!strong)
      return;
    auto hdl = caf::actor_cast<Handle>(strong);
    if (r)
      caf::anon_send(hdl, http_done_atom::value, id, std::move(*r));
    else
      caf::anon_send(hdl, http_done_atom::value, id, std::move(r.error()));
  };
}

} // namespace gcstream
