#pragma once

// A fake HTTP transport for deterministic tests: it records every request,
// and the test answers them by hand, in any order, at any (fake) time.

#include <string>
#include <vector>

#include "messages/errors.hpp"
#include "runtime/http_transport.hpp"

namespace gcstream::test {

class fake_http : public http_transport {
public:
  struct call {
    http_request req;
    callback done;
    bool answered = false;
  };

  void submit(http_request req, callback done) override {
    calls.push_back(call{std::move(req), std::move(done)});
  }

  /// Answers call `i` with a response.
  void reply(size_t i, long status, std::string body,
             int64_t retry_after_ms = -1) {
    http_response r;
    r.status = status;
    r.body = std::move(body);
    r.retry_after_ms = retry_after_ms;
    calls.at(i).answered = true;
    calls.at(i).done(std::move(r));
  }

  /// Answers call `i` with a transport error.
  void fail(size_t i, errc code, std::string why) {
    calls.at(i).answered = true;
    calls.at(i).done(make_error(code, std::move(why)));
  }

  /// A token endpoint success.
  static std::string token_body(const std::string& token, int expires_in) {
    return R"({"access_token":")" + token
           + R"(","token_type":"bearer","expires_in":)"
           + std::to_string(expires_in) + "}";
  }

  std::vector<call> calls;
};

} // namespace gcstream::test
