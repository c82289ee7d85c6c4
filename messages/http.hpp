#pragma once

// HTTP requests and responses as the control plane (token, channels,
// subscriptions) exchanges them. A request may carry credentials (Basic auth
// fields, an Authorization header): it is handed to the HTTP client in
// process and is never a message, never logged. A response is a message (the
// HTTP client's worker sends it to the asking actor).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace gcstream {

/// One HTTP request.
struct http_request {
  std::string method = "GET";
  std::string url;
  /// Extra headers. Values may be credentials: nothing prints them.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Basic authentication (the client id and secret of OAuth).
  std::string basic_user;
  std::string basic_password;
};

/// One HTTP response.
struct http_response {
  long status = 0;
  /// Lower-case names, in arrival order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Retry-After in milliseconds (seconds or an HTTP date), -1 when absent.
  int64_t retry_after_ms = -1;

  /// The first header of that (lower-case) name, or "".
  std::string_view header(std::string_view name) const {
    for (auto& [k, v] : headers)
      if (k == name)
        return v;
    return {};
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_response& x) {
  return f(caf::meta::type_name("gcstream::http_response"), x.status,
           x.headers, x.body, x.retry_after_ms);
}

} // namespace gcstream
