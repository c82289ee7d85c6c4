#pragma once

// The token actor's interface and the token it hands out.
//
//   session/supervisor --(token_atom, min_validity)------> token_actor
//                      <-------------- access_token ------
//   supervisor --(expiring_atom, within)--> token_actor  -> bool
//   session    --(invalidate_atom, generation, reason)--> token_actor
//                 (after a 401 or token_revoked: the reason says which)
//
// An access_token is local only: it is never serialized (a remote node gets
// no tokens) and it prints as "<access_token #N>", so that no log line,
// message dump or error text can show it. `reveal()` is for the one place
// that builds an Authorization header.

#include <cstdint>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "messages/audit.hpp"
#include "messages/http.hpp"

namespace gcstream {

/// A bearer token, opaque.
class access_token {
public:
  access_token() = default;

  access_token(std::string value, uint64_t generation, int64_t expires_at_ms)
    : value_(std::move(value)),
      generation_(generation),
      expires_at_ms_(expires_at_ms) {}

  /// The token text, for an Authorization header and nothing else.
  const std::string& reveal() const { return value_; }

  /// Increases with every token the actor obtains; used to invalidate the
  /// right one.
  uint64_t generation() const { return generation_; }

  /// Expiry, in the token actor's clock (milliseconds since its epoch).
  int64_t expires_at_ms() const { return expires_at_ms_; }

  bool empty() const { return value_.empty(); }

  friend std::string to_string(const access_token& x) {
    return "<access_token #" + std::to_string(x.generation_) + ">";
  }

private:
  std::string value_;
  uint64_t generation_ = 0;
  int64_t expires_at_ms_ = 0;
};

/// Asks for a token valid for at least the given time.
using token_atom = caf::atom_constant<caf::atom("token")>;
/// Asks whether the token expires within the given time.
using expiring_atom = caf::atom_constant<caf::atom("expiring")>;
/// Reports that a token was refused (401) or revoked.
using invalidate_atom = caf::atom_constant<caf::atom("invalidat")>;
/// The token actor's refresh timer.
using refresh_atom = caf::atom_constant<caf::atom("refresh")>;
/// A backoff timer fired.
using retry_atom = caf::atom_constant<caf::atom("retry")>;
/// An HTTP request finished (sent by the HTTP client's worker).
using http_done_atom = caf::atom_constant<caf::atom("http_done")>;

/// The typed interface of the token actor.
using token_actor = caf::typed_actor<
  caf::replies_to<token_atom, caf::timespan>::with<access_token>,
  caf::replies_to<expiring_atom, caf::timespan>::with<bool>,
  caf::reacts_to<invalidate_atom, uint64_t, std::string>,
  caf::reacts_to<refresh_atom, uint64_t>,
  caf::reacts_to<retry_atom, uint64_t>,
  caf::reacts_to<http_done_atom, uint64_t, http_response>,
  caf::reacts_to<http_done_atom, uint64_t, caf::error>>;

} // namespace gcstream

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(gcstream::access_token)
