#pragma once

// The seam between actors and HTTP: an actor submits a request and gets the
// result through a callback, which runs on a thread of the transport (never
// on the actor's), so the callback only sends a message. Unit tests put a
// fake transport here and answer by hand.

#include <functional>

#include <caf/expected.hpp>

#include "messages/http.hpp"

namespace gcstream {

/// Something that performs HTTP requests asynchronously.
class http_transport {
public:
  using callback = std::function<void(caf::expected<http_response>)>;

  virtual ~http_transport() = default;

  /// Performs `req` and calls `done` exactly once, from another thread (or,
  /// for a fake, whenever the test says).
  virtual void submit(http_request req, callback done) = 0;
};

} // namespace gcstream
