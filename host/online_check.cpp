#include "host/online_check.hpp"

#include <chrono>
#include <future>

#include <nlohmann/json.hpp>

#include "messages/errors.hpp"
#include "runtime/http_client.hpp"
#include "runtime/topics.hpp"

namespace gcstream {

namespace {

using json = nlohmann::json;

// One request, waited for (the program has nothing else to do meanwhile).
caf::expected<http_response> fetch(http_client& http, http_request req) {
  auto done = std::make_shared<std::promise<caf::expected<http_response>>>();
  auto answer = done->get_future();
  http.submit(std::move(req), [done](caf::expected<http_response> r) {
    done->set_value(std::move(r));
  });
  return answer.get(); // the client's own timeouts bound the wait
}

// The token, or why there is none.
std::string token_of(http_client& http, const tenant_config& t, std::string& why) {
  http_request req;
  req.method = "POST";
  req.url = t.login_url + "/oauth/token";
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  req.body = "grant_type=client_credentials";
  req.basic_user = t.client_id;
  req.basic_password = t.client_secret;
  auto r = fetch(http, std::move(req));
  if (!r) {
    why = "no token: " + reason_of(r.error());
    return {};
  }
  if (r->status != 200) {
    why = "no token: the login service answered " + std::to_string(r->status)
          + (r->status == 400 || r->status == 401 ? " (are the client id and secret right?)"
                                                  : "");
    return {};
  }
  auto body = json::parse(r->body, nullptr, false);
  if (!body.is_object() || !body.contains("access_token")
      || !body["access_token"].is_string()) {
    why = "no token: the login service's answer has no access_token";
    return {};
  }
  return body["access_token"].get<std::string>();
}

// The service's topic families, or why there are none.
std::vector<topic_family> families_of(http_client& http, const tenant_config& t,
                                      const std::string& token, std::string& why) {
  return topic_list_of(fetch(http, topic_list_request(t.api_url, token)), why);
}

} // namespace

http_request topic_list_request(const std::string& api_url, const std::string& token) {
  http_request req;
  req.url = api_url + available_topics_path;
  req.headers.emplace_back("Authorization", "Bearer " + token);
  return req;
}

std::vector<topic_family> topic_list_of(const caf::expected<http_response>& r,
                                        std::string& why) {
  if (!r) {
    why = "no topic list: " + reason_of(r.error());
    return {};
  }
  if (r->status != 200) {
    why = "no topic list: the service answered " + std::to_string(r->status);
    return {};
  }
  auto out = parse_topic_families(r->body);
  if (out.empty())
    why = "no topic list: the service's answer lists no topic";
  return out;
}

online_check_result check_topics_online(const program_config& cfg) {
  online_check_result out;
  http_client http{cfg.runtime.http};
  for (size_t i = 0; i < cfg.tenants.size(); ++i) {
    auto& t = cfg.tenants[i];
    std::string why;
    auto token = token_of(http, t, why);
    auto families = token.empty() ? std::vector<topic_family>{}
                                  : families_of(http, t, token, why);
    if (!why.empty()) {
      out.unchecked.push_back("tenant " + t.id + ": " + why);
      continue;
    }
    for (size_t j = 0; j < t.topics.size(); ++j)
      if (auto p = topic_family_problem(t.topics[j], families); !p.empty())
        out.refused.push_back("tenants[" + std::to_string(i) + "].topics["
                              + std::to_string(j) + "]: " + p);
  }
  return out;
}

} // namespace gcstream
