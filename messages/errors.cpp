#include "messages/errors.hpp"

namespace gcstream {

const char* to_string(errc x) {
  switch (x) {
    case errc::none:
      return "none";
    case errc::http_timeout:
      return "http_timeout";
    case errc::http_connect_failed:
      return "http_connect_failed";
    case errc::http_transfer_failed:
      return "http_transfer_failed";
    case errc::tls_verify_failed:
      return "tls_verify_failed";
    case errc::tls_handshake_failed:
      return "tls_handshake_failed";
    case errc::http_response_too_large:
      return "http_response_too_large";
    case errc::insecure_url:
      return "insecure_url";
    case errc::bad_url:
      return "bad_url";
    case errc::http_shutdown:
      return "http_shutdown";
    case errc::http_status_retriable:
      return "http_status_retriable";
    case errc::http_status_fatal:
      return "http_status_fatal";
    case errc::bad_credentials:
      return "bad_credentials";
    case errc::bad_token_response:
      return "bad_token_response";
    case errc::retry_after_beyond_cap:
      return "retry_after_beyond_cap";
    case errc::socket_closed:
      return "socket_closed";
    case errc::heartbeat_timeout:
      return "heartbeat_timeout";
    case errc::connect_failed:
      return "connect_failed";
    case errc::api_failed:
      return "api_failed";
    case errc::all_topics_rejected:
      return "all_topics_rejected";
    case errc::too_many_topics:
      return "too_many_topics";
    case errc::topics_refused:
      return "topics_refused";
    case errc::sink_failed:
      return "sink_failed";
    case errc::sink_rejected:
      return "sink_rejected";
    case errc::journal_failed:
      return "journal_failed";
    case errc::restart_limit:
      return "restart_limit";
    case errc::bad_config:
      return "bad_config";
  }
  return "unknown";
}

std::string reason_of(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.size() >= 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return {};
}

} // namespace gcstream
