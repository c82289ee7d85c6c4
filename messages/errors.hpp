#pragma once

// Error codes, one enum class per area, each marked retriable or fatal in one
// place (is_retriable). Errors travel as caf::error with the category atom
// "gcstream" and a context message that names the tenant and the reason; the
// context never holds a secret.

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace gcstream {

/// What went wrong, anywhere in gcstream.
enum class errc : uint8_t {
  /// Not an error.
  none = 0,
  // -- HTTP transport (runtime/http_client) --
  /// The request did not finish in time. Retriable.
  http_timeout,
  /// No connection could be made (refused, unreachable, DNS). Retriable.
  http_connect_failed,
  /// The connection broke while sending or receiving. Retriable.
  http_transfer_failed,
  /// The peer's certificate or host name did not verify. Fatal.
  tls_verify_failed,
  /// The TLS handshake failed for another reason. Retriable.
  tls_handshake_failed,
  /// The response body exceeded the configured cap. Fatal.
  http_response_too_large,
  /// An http:// URL to a non-loopback host without allow_insecure. Fatal.
  insecure_url,
  /// The URL cannot be used. Fatal.
  bad_url,
  /// The HTTP client is shutting down. Fatal.
  http_shutdown,
  /// The HTTP server answered 5xx, 429 or another retriable status.
  /// Retriable.
  http_status_retriable,
  /// The HTTP server answered a status that retrying will not change. Fatal.
  http_status_fatal,
  // -- OAuth (actors/token_actor) --
  /// The login service refused the client credentials. Fatal.
  bad_credentials,
  /// The login service answered with something that is not a token.
  /// Retriable.
  bad_token_response,
  /// The login service asked to wait longer than the configured cap.
  /// Retriable, later.
  retry_after_beyond_cap,
  // -- sessions (actors/session_actor) --
  /// The WebSocket closed without our asking. Retriable.
  socket_closed,
  /// No frame for longer than the heartbeat timeout. Retriable.
  heartbeat_timeout,
  /// The WebSocket could not be opened. Retriable.
  connect_failed,
  /// A REST call of the session failed (the context says which). Retriable.
  api_failed,
  /// The service refused every topic of the session. Fatal.
  all_topics_rejected,
  /// More topics than the channels of one client can hold. Fatal.
  too_many_topics,
  // -- sinks (actors/sinks) --
  /// A sink could not take a batch (a write failed, a webhook receiver was
  /// unavailable). Retriable: the orderer offers the batch again.
  sink_failed,
  /// A sink refused a batch for good (a webhook receiver answered 4xx).
  /// Fatal for the batch: it goes to the dead letters at once.
  sink_rejected,
  // -- the tenant's own parts --
  /// The journal could not store a batch. Retriable: the session offers it
  /// again, and the tenant reports unhealthy meanwhile.
  journal_failed,
  /// An actor died more often than its restart limit allows. Fatal.
  restart_limit,
  // -- configuration --
  /// A setting is missing or out of range. Fatal.
  bad_config,
  /// The service's list of topics (availabletopics) refuses a topic of the
  /// tenant: no such family, or one that needs a user context. Fatal.
  topics_refused,
};

/// Whether trying again later may succeed.
constexpr bool is_retriable(errc x) {
  switch (x) {
    case errc::http_timeout:
    case errc::http_connect_failed:
    case errc::http_transfer_failed:
    case errc::tls_handshake_failed:
    case errc::http_status_retriable:
    case errc::bad_token_response:
    case errc::retry_after_beyond_cap:
    case errc::socket_closed:
    case errc::heartbeat_timeout:
    case errc::connect_failed:
    case errc::api_failed:
    case errc::sink_failed:
    case errc::journal_failed:
      return true;
    default:
      return false;
  }
}

/// The name of a code, as it appears in logs and metrics.
const char* to_string(errc x);

/// The category atom of gcstream's errors.
using errc_category = caf::atom_constant<caf::atom("gcstream")>;

/// Makes a caf::error from a code and a context (a human-readable reason that
/// names the tenant; never a secret).
inline caf::error make_error(errc x, std::string context) {
  return caf::error{static_cast<uint8_t>(x), errc_category::value,
                    caf::make_message(std::move(context))};
}

/// The same, with the service's Retry-After (milliseconds): whoever retries
/// waits at least that long.
inline caf::error make_error(errc x, std::string context,
                             int64_t retry_after_ms) {
  return caf::error{static_cast<uint8_t>(x), errc_category::value,
                    caf::make_message(std::move(context), retry_after_ms)};
}

/// The Retry-After carried by a gcstream error, in milliseconds; -1 if none.
inline int64_t retry_after_of(const caf::error& err) {
  const auto& ctx = err.context();
  if (err.category() == errc_category::value && ctx.size() == 2
      && ctx.match_element<int64_t>(1))
    return ctx.get_as<int64_t>(1);
  return -1;
}

/// The gcstream code of `err`, or errc::none for other categories.
inline errc code_of(const caf::error& err) {
  return err.category() == errc_category::value ? static_cast<errc>(err.code())
                                                : errc::none;
}

/// Whether `err` is a gcstream error that may succeed on retry. Errors of
/// other categories (CAF's own: timeouts, dead receivers) count as retriable.
inline bool is_retriable(const caf::error& err) {
  if (err.category() != errc_category::value)
    return true;
  return is_retriable(static_cast<errc>(err.code()));
}

/// The context text of a gcstream error ("" when there is none).
std::string reason_of(const caf::error& err);

} // namespace gcstream
