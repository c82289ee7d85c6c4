#include "emulator/model.hpp"

#include "emulator/fields.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "emulator/events.hpp"
#include "emulator/http_util.hpp"

namespace gcstream::emulator {

using json = nlohmann::json;

/// An event on its way to sockets, shared by every channel that gets it.
struct model::held_event {
  topic_source* source = nullptr;
  /// The topic's key in topics_ (stable while the topic lives).
  const std::string* topic = nullptr;
  std::string frame;
  bool written = false;
};

namespace {

constexpr std::string_view api_prefix = "/api/v2/notifications/channels";
constexpr std::string_view topics_path = "/api/v2/notifications/availabletopics";

// The topic families the emulator serves (PROTOCOL.md), as the service
// lists them: a template with {id}, the permissions a token needs, and
// whether it needs a user context (a client-credentials token has none, so
// such a topic is refused: here, v2.users.{id}.conversations).
struct topic_family {
  std::string id;
  std::string description;
  std::vector<std::string> permissions;
  bool requires_current_user = false;
};

const std::vector<topic_family>& topic_families() {
  static const std::vector<topic_family> families = [] {
    std::vector<topic_family> f;
    for (auto ev : {"customer.start", "customer.end", "acd.start", "acd.end",
                    "user.start", "user.end"})
      f.push_back({std::string{"v2.detail.events.conversation.{id}."} + ev,
                   std::string{"Analytics detail event: "} + ev,
                   {"analytics:conversationDetail:view"}, false});
    f.push_back({"v2.users.{id}.presence", "A user's presence", {"presence:userPresence:view"},
                 false});
    f.push_back({"v2.users.{id}.routingStatus", "A user's routing status",
                 {"routing:agent:view"}, false});
    f.push_back({"v2.users.{id}.station", "A user's station association",
                 {"stations:station:view"}, false});
    f.push_back({"v2.users.{id}.conversations", "The current user's conversations", {},
                 true});
    f.push_back({"v2.routing.queues.{id}.conversations", "A queue's conversations",
                 {"routing:queue:view", "conversation:communication:view"}, false});
    f.push_back({"v2.analytics.queues.{id}.observations", "A queue's observations",
                 {"analytics:queueObservation:view"}, false});
    return f;
  }();
  return families;
}


http_response json_response(int status, const json& body) {
  http_response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = body.dump();
  return r;
}

// The service's error body: message, code and status, with the request's
// contextId and the (here empty) details and errors.
json error_body(int status, const std::string& code, const std::string& message) {
  static std::atomic<uint64_t> next{0};
  char context[40];
  std::snprintf(context, sizeof context, "e0000000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(++next));
  return json{{"message", message}, {"code", code},          {"status", status},
              {"contextId", context}, {"details", json::array()},
              {"errors", json::array()}};
}

http_response api_error(int status, const std::string& code,
                        const std::string& message) {
  return json_response(status, error_body(status, code, message));
}

http_response oauth_error(int status, const std::string& error,
                          const std::string& description) {
  return json_response(status, json{{"error", error},
                                    {"description", description},
                                    {"error_description", description}});
}

// The names a subscription's events are sent under: the topic, or for a
// combined topic each part appended to the prefix.
std::vector<std::string> event_names(const std::string& topic) {
  auto q = topic.find('?');
  if (q == std::string::npos)
    return {topic};
  std::vector<std::string> names;
  size_t from = q + 1;
  for (;;) {
    auto to = topic.find('&', from);
    names.push_back(topic.substr(0, q) + "."
                    + topic.substr(from, to == std::string::npos ? to : to - from));
    if (to == std::string::npos)
      return names;
    from = to + 1;
  }
}

std::vector<std::string> event_names(const std::vector<std::string>& topics) {
  std::vector<std::string> names;
  for (auto& t : topics)
    for (auto& n : event_names(t))
      names.push_back(std::move(n));
  return names;
}

bool name_chars(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'
           || c == '_';
  });
}

// The service's rule: "v2." and name characters, or a combined topic
// ("v2.users.<id>?presence&routingStatus", at most 200 characters) whose
// parts are names.
bool valid_topic(const std::string& topic) {
  if (topic.size() < 4 || topic.size() > 512 || topic.rfind("v2.", 0) != 0)
    return false;
  auto q = topic.find('?');
  if (q == std::string::npos)
    return name_chars(topic);
  if (topic.size() > 200 || !name_chars(std::string_view{topic}.substr(0, q)))
    return false;
  for (auto& name : event_names(topic))
    if (!name_chars(std::string_view{name}.substr(q + 1)))
      return false;
  return true;
}

} // namespace

model::model(config cfg, uint64_t seed) : cfg_(std::move(cfg)), rng_(seed) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i)
    id_prefix_ += digits[rng_() % 16];
}

void model::set_stream_base(std::string base) {
  stream_base_ = std::move(base);
}

// -- ids and tokens ----------------------------------------------------------

std::string model::correlation_id() {
  uint64_t n = ++next_id_;
  std::string out;
  out.reserve(id_prefix_.size() + 28);
  out += id_prefix_;
  out += '-';
  append_hex(out, n >> 48, 4);
  out += "-4";
  append_hex(out, n >> 36, 3);
  out += "-a";
  append_hex(out, n >> 24, 3);
  out += '-';
  append_hex(out, n, 12);
  return out;
}

std::string model::new_channel_id() {
  static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id = "streaming-0-";
  for (int i = 0; i < 26; ++i)
    id += alphabet[rng_() % 36];
  return id;
}

std::string model::issue_token(const std::string& client, const instant& now) {
  static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string token;
  for (int i = 0; i < 86; ++i)
    token += alphabet[rng_() % 64];
  token_info info;
  info.client = client;
  info.expires_ms = now.steady_ms + int64_t{cfg_.token_ttl_s} * 1000;
  info.window_start_ms = now.steady_ms;
  tokens_[token] = info;
  return token;
}

bool model::forbidden(const std::string& topic) const {
  for (auto& name : event_names(topic))
    if (std::any_of(cfg_.forbidden_topics.begin(), cfg_.forbidden_topics.end(),
                    [&](const std::string& p) { return glob_match(p, name); }))
      return true;
  return false;
}

void model::count_http(const std::string& route, int status) {
  ++http_by_route_[route][std::to_string(status)];
}

// -- HTTP --------------------------------------------------------------------

http_response model::handle_http(const http_request& req, const instant& now) {
  auto [path, query] = split_target(req.target);
  if (path.rfind("/emulator/", 0) == 0)
    return on_control(req, path, now);
  std::string route = path == "/oauth/token"                ? "token"
                      : path.rfind(api_prefix, 0) == 0      ? "channels"
                      : path == topics_path                 ? "availabletopics"
                                                            : "other";
  // Injected HTTP faults: an error status, or a slow answer, or both.
  uint32_t delay = 0;
  for (auto i = http_faults_.begin(); i != http_faults_.end();) {
    if (path.rfind(i->path_prefix, 0) != 0) {
      ++i;
      continue;
    }
    --i->remaining;
    auto f = *i;
    if (i->remaining == 0)
      i = http_faults_.erase(i);
    else
      ++i;
    if (f.status == 0) {
      delay = std::max(delay, f.delay_ms);
      continue;
    }
    http_response r;
    if (f.status == 429)
      r = json_response(429, error_body(429, "too.many.requests.retry.after",
                                        "Rate limit exceeded the maximum."));
    else if (route == "token")
      r = oauth_error(f.status, "server_error", "injected fault");
    else
      r = api_error(f.status, "injected.fault", "injected fault");
    if (f.retry_after_s > 0)
      r.headers.emplace_back("Retry-After", std::to_string(f.retry_after_s));
    r.delay_ms = std::max(delay, f.delay_ms);
    count_http(route, r.status);
    return r;
  }
  http_response r;
  if (route == "token")
    r = on_token(req, now);
  else if (route == "channels" || route == "availabletopics")
    r = on_api(req, path, query, now);
  else
    r = api_error(404, "not.found", "The requested resource was not found.");
  r.delay_ms = std::max(r.delay_ms, delay);
  count_http(route, r.status);
  return r;
}

http_response model::on_token(const http_request& req, const instant& now) {
  if (req.method != "POST")
    return oauth_error(405, "invalid_request", "method not allowed");
  auto form = parse_form(req.body);
  std::string id, secret;
  if (auto basic = parse_basic_auth(req.authorization)) {
    id = basic->first;
    secret = basic->second;
  } else {
    id = form["client_id"];
    secret = form["client_secret"];
  }
  ++token_requests_by_client_[id.empty() ? "(none)" : id];
  if (form["grant_type"] != "client_credentials")
    return oauth_error(400, "unsupported_grant_type",
                       "grant_type must be client_credentials");
  auto known = cfg_.clients.find(id);
  if (id.empty() || known == cfg_.clients.end() || known->second != secret)
    return oauth_error(401, "invalid_client", "client not found or bad secret");
  auto token = issue_token(id, now);
  return json_response(200, json{{"access_token", token},
                                 {"token_type", "bearer"},
                                 {"expires_in", cfg_.token_ttl_s}});
}

http_response model::on_api(const http_request& req, const std::string& path,
                            const std::string& query, const instant& now) {
  auto bearer = parse_bearer(req.authorization);
  if (!bearer)
    return api_error(401, "authentication.required",
                     "No authentication bearer token specified in "
                     "authorization header.");
  auto tok = tokens_.find(*bearer);
  if (tok == tokens_.end() || tok->second.revoked
      || tok->second.expires_ms <= now.steady_ms)
    return api_error(401, "bad.credentials", "Invalid login credentials.");
  auto& info = tok->second;
  // Rate limit: a fixed one-minute window per token.
  if (now.steady_ms - info.window_start_ms >= 60000) {
    info.window_start_ms = now.steady_ms;
    info.window_count = 0;
  }
  if (++info.window_count > cfg_.rate_limit_per_minute) {
    auto r = json_response(
      429, error_body(429, "too.many.requests.retry.after",
                      "Rate limit exceeded the maximum. Retry the request in ["
                        + std::to_string(cfg_.rate_limit_retry_after_s) + "] seconds"));
    r.headers.emplace_back("Retry-After",
                           std::to_string(cfg_.rate_limit_retry_after_s));
    return r;
  }
  const std::string client = info.client;
  if (path == topics_path)
    return req.method == "GET" ? available_topics(query)
                               : api_error(405, "method.not.allowed", "Method not allowed.");
  std::string rest = path.substr(api_prefix.size());
  if (rest.empty() || rest == "/") {
    if (req.method == "POST")
      return create_channel(client, *bearer, now);
    if (req.method == "GET") {
      // includechannels=token (the default): the channels this token made;
      // oauthclient: every channel of the OAuth client.
      auto which = parse_form(query)["includechannels"];
      if (!which.empty() && which != "token" && which != "oauthclient")
        return api_error(400, "bad.request",
                         "includechannels must be token or oauthclient.");
      json list = json::array();
      for (auto& [id, ch] : channels_)
        if (ch.client == client && (which == "oauthclient" || ch.token == *bearer)) {
          ch.last_used_ms = now.steady_ms;
          list.push_back(json::parse(channel_json(ch)));
        }
      return json_response(200, json{{"entities", list}});
    }
    return api_error(405, "method.not.allowed", "Method not allowed.");
  }
  // "/<id>" or "/<id>/subscriptions"
  std::string id = rest.substr(1);
  bool subs = false;
  if (auto slash = id.find('/'); slash != std::string::npos) {
    if (id.substr(slash) != "/subscriptions")
      return api_error(404, "not.found", "The requested resource was not found.");
    id = id.substr(0, slash);
    subs = true;
  }
  auto it = channels_.find(id);
  if (it == channels_.end() || it->second.client != client) {
    if (req.method == "HEAD") {
      http_response r;
      r.status = 404;
      return r;
    }
    return api_error(404, "not.found",
                     "The channel " + id + " does not exist.");
  }
  if (!subs) {
    if (req.method == "HEAD")
      return http_response{};
    return api_error(405, "method.not.allowed", "Method not allowed.");
  }
  auto q = parse_form(query);
  bool ignore_errors = q["ignoreErrors"] == "true";
  it->second.last_used_ms = now.steady_ms;
  return on_subscriptions(req, it->second, ignore_errors, now);
}

// GET /api/v2/notifications/availabletopics: every family, with
// requiresCurrentUser; `expand` adds requiresPermissions and topicParameters
// (and description) when it names them.
http_response model::available_topics(const std::string& query) const {
  auto expand = "," + parse_form(query)["expand"] + ",";
  auto wants = [&](const char* field) {
    return expand.find(std::string{","} + field + ",") != std::string::npos;
  };
  json entities = json::array();
  for (auto& f : topic_families()) {
    json e{{"id", f.id},
           {"requiresCurrentUser", f.requires_current_user},
           {"transports", json::array({"All"})}};
    if (wants("description"))
      e["description"] = f.description;
    if (wants("requiresPermissions"))
      e["requiresPermissions"] = f.permissions;
    if (wants("topicParameters"))
      e["topicParameters"] = json::array({"id"});
    entities.push_back(std::move(e));
  }
  return json_response(200, json{{"entities", entities}});
}

http_response model::create_channel(const std::string& client,
                                    const std::string& token, const instant& now) {
  // Creating one past the limit silently removes the channel with the oldest
  // last use, those without a socket first (PROTOCOL.md).
  std::vector<channel*> own;
  for (auto& [id, ch] : channels_)
    if (ch.client == client)
      own.push_back(&ch);
  if (own.size() >= cfg_.max_channels_per_client) {
    auto older = [](const channel* a, const channel* b) {
      bool ac = a->socket != 0, bc = b->socket != 0;
      if (ac != bc)
        return !ac;
      return a->last_used_ms < b->last_used_ms
             || (a->last_used_ms == b->last_used_ms && a->id < b->id);
    };
    auto victim = *std::min_element(own.begin(), own.end(), older);
    ++channels_evicted_;
    if (victim->socket != 0)
      ++live_channels_evicted_; // a client lost a streaming socket to it
    remove_channel(victim->id, 1000, "channel removed: channel limit reached");
  }
  channel ch;
  ch.id = new_channel_id();
  ch.client = client;
  ch.token = token;
  ch.created_ms = now.steady_ms;
  ch.last_used_ms = now.steady_ms;
  ch.expires_ms = now.steady_ms + int64_t{cfg_.channel_ttl_s} * 1000;
  ch.expires_wall_ms = now.wall_ms + int64_t{cfg_.channel_ttl_s} * 1000;
  auto id = ch.id;
  auto& stored = channels_.emplace(id, std::move(ch)).first->second;
  return json_response(200, json::parse(channel_json(stored)));
}

std::string model::channel_json(const channel& ch) const {
  return json{{"connectUri", stream_base_ + "/channels/" + ch.id},
              {"id", ch.id},
              {"expires", format_iso8601(ch.expires_wall_ms)}}
    .dump();
}

http_response model::on_subscriptions(const http_request& req, channel& ch,
                                      bool ignore_errors, const instant& now) {
  auto list_of = [](const std::vector<std::string>& topics) {
    json entities = json::array();
    for (auto& t : topics)
      entities.push_back(json{{"id", t}, {"state", "Permitted"}});
    return json{{"entities", entities}};
  };
  if (req.method == "GET")
    return json_response(200, list_of(ch.topics));
  if (req.method == "DELETE") {
    set_topics(ch, {}, now);
    http_response r;
    r.status = 204;
    return r;
  }
  if (req.method != "POST" && req.method != "PUT")
    return api_error(405, "method.not.allowed", "Method not allowed.");
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded() || !body.is_array())
    return api_error(400, "bad.request",
                     "The request body must be a JSON array of topics.");
  std::vector<std::string> requested;
  for (auto& item : body) {
    if (!item.is_object() || !item.contains("id") || !item["id"].is_string())
      return api_error(400, "bad.request",
                       "Each topic must be an object with a string id.");
    requested.push_back(item["id"].get<std::string>());
  }
  std::vector<std::string> next = req.method == "PUT" ? std::vector<std::string>{}
                                                      : ch.topics;
  json entities = json::array();
  for (auto& topic : requested) {
    std::string reason;
    if (!valid_topic(topic))
      reason = "The topic " + topic + " is not a valid topic.";
    else if (forbidden(topic))
      reason = "Not authorized to subscribe to " + topic + ".";
    if (!reason.empty()) {
      if (!ignore_errors)
        return api_error(valid_topic(topic) ? 403 : 400,
                         valid_topic(topic) ? "missing.permissions"
                                            : "bad.request",
                         reason);
      entities.push_back(json{{"id", topic},
                              {"state", "Rejected"},
                              {"rejectionReason", reason}});
      continue;
    }
    if (std::find(next.begin(), next.end(), topic) == next.end())
      next.push_back(topic);
    entities.push_back(json{{"id", topic}, {"state", "Permitted"}});
  }
  // How a combined topic counts against the limit is not documented: by
  // default each part counts (combined_topic_count "parts"), or "one".
  size_t counted = cfg_.combined_topic_counts_parts ? event_names(next).size()
                                                    : next.size();
  if (counted > cfg_.max_topics_per_channel)
    return api_error(400, "bad.request",
                     "A channel may have at most "
                       + std::to_string(cfg_.max_topics_per_channel)
                       + " topics.");
  set_topics(ch, std::move(next), now);
  // Subscribing again keeps the channel alive.
  ch.expires_ms = now.steady_ms + int64_t{cfg_.channel_ttl_s} * 1000;
  ch.expires_wall_ms = now.wall_ms + int64_t{cfg_.channel_ttl_s} * 1000;
  return json_response(200, json{{"entities", entities}});
}

// -- channels, topics and sockets -------------------------------------------

void model::set_topics(channel& ch, std::vector<std::string> topics,
                       const instant& now) {
  // Held events belong to the old topics: send them before those may go.
  flush_reorder(ch);
  for (auto& t : event_names(ch.topics)) {
    auto src = topics_.find(t);
    if (src != topics_.end()) {
      src->second.subscribers.erase(ch.id);
      src->second.last_subscribed_ms = now.steady_ms;
    }
  }
  ch.topics = std::move(topics);
  for (auto& t : event_names(ch.topics)) {
    auto src = topics_.find(t);
    if (src != topics_.end())
      src->second.subscribers.insert(ch.id);
  }
  if (ch.socket != 0)
    activate_topics(ch, now);
}

void model::activate_topics(const channel& ch, const instant& now) {
  for (auto& t : event_names(ch.topics)) {
    auto& src = topics_[t];
    src.subscribers.insert(ch.id);
    src.last_subscribed_ms = now.steady_ms;
  }
}

void model::remove_channel(const std::string& id, uint16_t code,
                           const std::string& reason) {
  auto it = channels_.find(id);
  if (it == channels_.end())
    return;
  auto& ch = it->second;
  for (auto& t : event_names(ch.topics))
    if (auto src = topics_.find(t); src != topics_.end())
      src->second.subscribers.erase(id);
  if (ch.socket != 0) {
    close_socket(ch, code, reason);
  }
  channels_.erase(it);
}

model::channel* model::channel_of_socket(uint64_t socket) {
  auto s = sockets_.find(socket);
  if (s == sockets_.end())
    return nullptr;
  auto c = channels_.find(s->second);
  return c == channels_.end() ? nullptr : &c->second;
}

void model::end_socket(channel& ch) {
  sockets_.erase(ch.socket);
  ch.socket = 0;
  ch.stalled = false;
  ch.close_at_ms = -1;
  ch.reorder_held.clear();
}

const model::channel*
model::channel_for_resource(const std::string& resource,
                            const instant& now) const {
  auto path = split_target(resource).first;
  const std::string prefix = "/channels/";
  if (path.rfind(prefix, 0) != 0)
    return nullptr;
  auto it = channels_.find(path.substr(prefix.size()));
  if (it == channels_.end() || it->second.expires_ms <= now.steady_ms)
    return nullptr;
  return &it->second;
}

int model::upgrade_status(const std::string& resource,
                          const instant& now) const {
  return channel_for_resource(resource, now) ? 101 : 404;
}

socket_open_result model::socket_open(const std::string& resource,
                                      const instant& now) {
  auto* found = channel_for_resource(resource, now);
  if (!found) {
    ++sockets_refused_;
    return {0, 404};
  }
  auto& ch = channels_.find(found->id)->second;
  if (ch.socket != 0) {
    // One socket per channel: the new one replaces the old.
    close_socket(ch, 4000, "replaced by a newer connection to this channel");
  }
  ch.socket = ++next_socket_;
  ch.ever_connected = true;
  ch.last_used_ms = ch.last_client_frame_ms = now.steady_ms;
  ++ch.connects;
  ch.next_heartbeat_ms = now.steady_ms + cfg_.heartbeat_interval_ms;
  sockets_[ch.socket] = ch.id;
  ++sockets_accepted_;
  activate_topics(ch, now);
  return {ch.socket, 101};
}

void model::socket_closed(uint64_t socket, const instant&) {
  if (auto* ch = channel_of_socket(socket); ch && ch->socket == socket)
    end_socket(*ch);
}

void model::socket_message(uint64_t socket, const std::string& payload,
                           const instant& now) {
  auto* ch = channel_of_socket(socket);
  if (!ch || ch->stalled)
    return;
  ch->last_used_ms = ch->last_client_frame_ms = now.steady_ms;
  auto msg = json::parse(payload, nullptr, false);
  if (msg.is_object() && msg.value("message", "") == "ping") {
    ++ch->pongs;
    send_frame(socket, pong_frame());
  }
}

void model::send_frame(uint64_t socket, std::string frame) {
  queue(socket_action::send, socket)
    .payload = std::make_shared<const std::string>(std::move(frame));
}

socket_action& model::queue(socket_action::kind_t kind, uint64_t socket) {
  socket_action& a = actions_.emplace_back();
  a.kind = kind;
  a.socket = socket;
  return a;
}

void model::close_socket(channel& ch, uint16_t code, std::string reason) {
  auto& a = queue(socket_action::close, ch.socket);
  a.code = code;
  a.reason = std::move(reason);
  end_socket(ch);
}

std::string model::system_body(const channel& ch, bool about_other,
                               const std::string& type, const std::string& reason,
                               const std::string& message) const {
  // The documented fields; a client-credentials token has no user.
  return json{{"systemTopicType", type},
              {"reason", reason},
              {"message", message},
              {"channelId", about_other ? "streaming-0-another" + ch.id.substr(0, 8)
                                        : ch.id},
              {"correlationId", ch.id + "-system"},
              {"organizationId", "6d2c5a1e-0000-4000-8000-00000000e0e0"},
              {"userId", nullptr},
              {"oauthClientId", ch.client}}
    .dump();
}

void model::send_system(channel& ch, const std::string& topic,
                        const std::string& body_json) {
  if (ch.socket == 0 || ch.stalled)
    return;
  send_frame(ch.socket, make_system_frame(topic, body_json, correlation_id()));
}

// -- time --------------------------------------------------------------------

void model::tick(const instant& now) {
  int64_t elapsed = last_tick_ms_ < 0 ? 0 : now.steady_ms - last_tick_ms_;
  last_tick_ms_ = now.steady_ms;
  // Expired channels go, and their sockets close.
  std::vector<std::string> expired;
  for (auto& [id, ch] : channels_)
    if (ch.expires_ms <= now.steady_ms)
      expired.push_back(id);
  for (auto& id : expired) {
    ++channels_expired_;
    remove_channel(id, 1000, "channel expired");
  }
  // Scheduled closes (after socket_closing) and heartbeats.
  for (auto& [id, ch] : channels_) {
    if (ch.socket == 0)
      continue;
    if (ch.close_at_ms >= 0 && ch.close_at_ms <= now.steady_ms) {
      flush_reorder(ch);
      close_socket(ch, 1001, "socket closing for maintenance");
      continue;
    }
    if (cfg_.idle_timeout_ms > 0 && !ch.stalled
        && now.steady_ms - ch.last_client_frame_ms >= int64_t{cfg_.idle_timeout_ms}) {
      flush_reorder(ch);
      close_socket(ch, 1001, "idle timeout");
      continue;
    }
    if (!ch.stalled && ch.next_heartbeat_ms <= now.steady_ms) {
      ch.next_heartbeat_ms = now.steady_ms + cfg_.heartbeat_interval_ms;
      ++ch.heartbeats;
      send_frame(ch.socket, heartbeat_frame());
    }
  }
  // Events, and retirement of topics nobody has wanted for a while.
  for (auto it = topics_.begin(); it != topics_.end();) {
    auto& src = it->second;
    if (src.subscribers.empty()
        && now.steady_ms - src.last_subscribed_ms
             > int64_t{cfg_.topic_retire_after_s} * 1000) {
      it = topics_.erase(it);
      continue;
    }
    double rate = cfg_.event_rate;
    if (is_observation_topic(it->first))
      rate = std::min(rate, 1.0);
    // At most one second of backlog: a stalled loop does not cause a burst.
    src.credit = std::min(src.credit + rate * double(elapsed) / 1000.0,
                          std::max(rate, 1.0));
    while (src.credit >= 1.0) {
      src.credit -= 1.0;
      generate(it->first, src, now);
    }
    ++it;
  }
}

void model::generate(const std::string& topic, topic_source& src,
                     const instant& now) {
  auto ev = std::make_shared<held_event>();
  ev->source = &src;
  ev->topic = &topic;
  ev->frame =
    make_event_frame(topic, ++src.generated, now.wall_ms, correlation_id());
  bool any_open = false;
  for (auto& id : src.subscribers) {
    auto c = channels_.find(id);
    if (c == channels_.end() || c->second.socket == 0 || c->second.stalled)
      continue;
    any_open = true;
    emit(c->second, ev);
  }
  if (!any_open)
    ++src.generated_without_socket;
}

void model::emit(channel& ch, const std::shared_ptr<held_event>& ev) {
  if (ch.reorder_remaining > 0) {
    --ch.reorder_remaining;
    ch.reorder_held.push_back(ev);
    if (ch.reorder_held.size() >= ch.reorder_window || ch.reorder_remaining == 0)
      flush_reorder(ch);
    return;
  }
  write(ch, ev);
  if (ch.duplicate_remaining > 0) {
    --ch.duplicate_remaining;
    ++ev->source->duplicates_sent;
    write(ch, ev);
  }
}

void model::flush_reorder(channel& ch) {
  auto held = std::move(ch.reorder_held);
  ch.reorder_held.clear();
  for (auto i = held.rbegin(); i != held.rend(); ++i)
    write(ch, *i);
}

void model::write(channel& ch, const std::shared_ptr<held_event>& ev) {
  if (ch.socket == 0 || ch.stalled)
    return;
  if (!ev->written) {
    ev->written = true;
    ++ev->source->written;
  }
  ++ch.written_by_topic[*ev->topic];
  ++ch.frames_written;
  queue(socket_action::send, ch.socket).payload =
    std::shared_ptr<const std::string>(ev, &ev->frame);
}

std::vector<socket_action> model::take_actions() {
  std::vector<socket_action> out;
  out.swap(actions_);
  return out;
}

// -- faults and control -------------------------------------------------------

http_response model::on_control(const http_request& req, const std::string& path,
                                const instant& now) {
  if (path == "/emulator/stats" && req.method == "GET") {
    http_response r;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = stats_json(now);
    return r;
  }
  if (path == "/emulator/faults" && req.method == "POST") {
    auto err = inject(req.body, now);
    if (!err.empty())
      return json_response(400, json{{"error", err}});
    return json_response(200, json{{"ok", true}});
  }
  if (path == "/emulator/config" && req.method == "GET") {
    json forbidden = cfg_.forbidden_topics;
    return json_response(
      200, json{{"event_rate", cfg_.event_rate},
                {"heartbeat_interval_ms", cfg_.heartbeat_interval_ms},
                {"token_ttl_s", cfg_.token_ttl_s},
                {"channel_ttl_s", cfg_.channel_ttl_s},
                {"max_channels_per_client", cfg_.max_channels_per_client},
                {"max_topics_per_channel", cfg_.max_topics_per_channel},
                {"rate_limit_per_minute", cfg_.rate_limit_per_minute},
                {"rate_limit_retry_after_s", cfg_.rate_limit_retry_after_s},
                {"socket_closing_delay_ms", cfg_.socket_closing_delay_ms},
                {"idle_timeout_ms", cfg_.idle_timeout_ms},
                {"combined_topic_count",
                 cfg_.combined_topic_counts_parts ? "parts" : "one"},
                {"forbidden_topics", forbidden}});
  }
  if (path == "/emulator/config" && req.method == "POST") {
    auto err = reconfigure(req.body);
    if (!err.empty())
      return json_response(400, json{{"error", err}});
    return json_response(200, json{{"ok", true}});
  }
  return json_response(404, json{{"error", "no such control endpoint"}});
}

std::string model::reconfigure(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return "the body must be a JSON object";
  fields in{j,
            {"event_rate", "heartbeat_interval_ms", "token_ttl_s", "channel_ttl_s",
             "max_channels_per_client", "max_topics_per_channel",
             "rate_limit_per_minute", "rate_limit_retry_after_s",
             "socket_closing_delay_ms", "forbidden_topics",
             "combined_topic_count", "idle_timeout_ms"}};
  config next = cfg_;
  next.event_rate = in.number("event_rate", 0, 1000000, cfg_.event_rate);
  auto u32 = [&](const char* key, uint64_t lo, uint64_t hi, uint32_t dflt) {
    return static_cast<uint32_t>(in.integer(key, lo, hi, dflt));
  };
  next.heartbeat_interval_ms =
    u32("heartbeat_interval_ms", 1, 86400000, cfg_.heartbeat_interval_ms);
  next.token_ttl_s = u32("token_ttl_s", 1, 172800, cfg_.token_ttl_s);
  next.channel_ttl_s = u32("channel_ttl_s", 1, 7 * 86400, cfg_.channel_ttl_s);
  next.max_channels_per_client =
    u32("max_channels_per_client", 1, 1000, cfg_.max_channels_per_client);
  next.max_topics_per_channel =
    u32("max_topics_per_channel", 1, 100000, cfg_.max_topics_per_channel);
  next.rate_limit_per_minute =
    u32("rate_limit_per_minute", 1, 100000000, cfg_.rate_limit_per_minute);
  next.rate_limit_retry_after_s =
    u32("rate_limit_retry_after_s", 0, 86400, cfg_.rate_limit_retry_after_s);
  next.socket_closing_delay_ms =
    u32("socket_closing_delay_ms", 0, 600000, cfg_.socket_closing_delay_ms);
  next.idle_timeout_ms = u32("idle_timeout_ms", 0, 86400000, cfg_.idle_timeout_ms);
  next.combined_topic_counts_parts =
    in.choice("combined_topic_count", {"parts", "one"},
              cfg_.combined_topic_counts_parts ? "parts" : "one")
    == "parts";
  if (in.has("forbidden_topics")) {
    auto& v = j["forbidden_topics"];
    if (!v.is_array() || v.size() > 10000)
      return "forbidden_topics: expected an array of at most 10000 patterns";
    next.forbidden_topics.clear();
    for (auto& p : v) {
      if (!p.is_string() || p.get_ref<const std::string&>().size() > 1024)
        return "forbidden_topics: expected an array of patterns (strings of at "
               "most 1024 bytes)";
      next.forbidden_topics.push_back(p.get<std::string>());
    }
  }
  if (!in.error().empty())
    return in.error();
  cfg_ = next;
  return {};
}

std::string model::inject(const std::string& text, const instant& now) {
  json f = json::parse(text, nullptr, false);
  if (f.is_discarded() || !f.is_object() || !f.contains("kind")
      || !f["kind"].is_string())
    return "a fault is a JSON object with a string \"kind\"";
  const std::string kind = f["kind"].get<std::string>();
  // Every field is checked (type, range) and every unknown one refused, so
  // that a wrong request is a 400 naming the field, never a crash, and no
  // request makes the emulator allocate or loop without bound.
  static const std::map<std::string, std::vector<std::string>> extra = {
    {"drop", {}}, {"reset", {}}, {"stall", {}}, {"close", {"code", "reason"}},
    {"socket_closing", {"close_after_ms", "about"}},
    {"no_longer_subscribed", {"about"}}, {"revoke_token", {"about"}},
    {"expire_channel", {}}, {"reply", {"result", "message"}},
    {"http_error", {"path_prefix", "status", "count", "retry_after_s"}},
    {"slow", {"path_prefix", "delay_ms", "count"}}, {"duplicate", {"count"}},
    {"out_of_order", {"count", "window"}},
    {"malformed", {"variant", "size", "count", "topic"}}, {"clear", {}}};
  auto known = extra.find(kind);
  if (known == extra.end())
    return "kind: unknown fault " + kind.substr(0, 64);
  std::vector<std::string> allowed{"kind", "client", "channel"};
  allowed.insert(allowed.end(), known->second.begin(), known->second.end());
  fields in{f, allowed};
  const std::string client = in.text("client", 256, "");
  const std::string only_channel = in.text("channel", 256, "");
  // "other": the system message names another channel of the client (the
  // client must ignore it), and nothing else happens.
  const bool about_other = in.choice("about", {"self", "other"}, "self") == "other";
  const std::string result_code = in.text("result", 16, "404");
  const std::string reply_message =
    in.text("message", 1024, "The channel does not exist or has expired");
  bool many = kind == "duplicate" || kind == "out_of_order";
  const uint64_t count = in.integer("count", 1, 100000, many ? 10 : 1);
  const uint64_t window = in.integer("window", 2, 1000, 5);
  const uint64_t code = in.integer("code", 1000, 4999, 1011);
  const std::string reason = in.text("reason", 123, "closed by fault injection");
  const uint64_t close_after =
    in.integer("close_after_ms", 0, 600000, cfg_.socket_closing_delay_ms);
  const uint64_t status = in.integer("status", 400, 599, 503);
  const uint64_t retry_after = in.integer("retry_after_s", 0, 86400, 0);
  const uint64_t delay = in.integer("delay_ms", 0, 600000, 1000);
  const std::string path_prefix = in.text("path_prefix", 256, "/");
  const std::string variant =
    in.choice("variant", {"invalid_json", "truncated", "wrong_types", "invalid_utf8",
                          "oversized"},
              "invalid_json");
  const uint64_t size = in.integer("size", 1, 16u << 20, 2u << 20);
  const std::string malformed_topic = in.text("topic", 256, "v2.users.malformed.presence");
  if (!in.error().empty())
    return in.error();
  if (path_prefix.empty() || path_prefix[0] != '/')
    return "path_prefix: expected a path starting with '/'";
  if (kind == "malformed" && variant == "oversized" && size * count > (64u << 20))
    return "size: size times count must stay within 64 MiB";
  // The channels a socket fault applies to: one, a client's, or all with an
  // open socket.
  std::vector<channel*> targets;
  for (auto& [id, ch] : channels_) {
    if (!only_channel.empty() && id != only_channel)
      continue;
    if (!client.empty() && ch.client != client)
      continue;
    targets.push_back(&ch);
  }
  auto open_targets = [&] {
    std::vector<channel*> out;
    for (auto* ch : targets)
      if (ch->socket != 0)
        out.push_back(ch);
    return out;
  };
  auto socket_fault = [&](socket_action::kind_t k) {
    auto open = open_targets();
    for (auto* ch : open) {
      queue(k, ch->socket);
      if (k == socket_action::stall) {
        ch->stalled = true;
      } else {
        end_socket(*ch);
      }
    }
    return open.empty() ? std::string{"no open socket matches"} : std::string{};
  };
  std::string err;
  if (kind == "drop") {
    err = socket_fault(socket_action::drop);
  } else if (kind == "reset") {
    err = socket_fault(socket_action::reset);
  } else if (kind == "stall") {
    err = socket_fault(socket_action::stall);
  } else if (kind == "close") {
    auto open = open_targets();
    for (auto* ch : open) {
      close_socket(*ch, static_cast<uint16_t>(code), reason);
    }
    if (open.empty())
      err = "no open socket matches";
  } else if (kind == "socket_closing") {
    auto open = open_targets();
    for (auto* ch : open) {
      send_system(*ch, "v2.system.socket_closing",
                  system_body(*ch, about_other, "socket_closing", "maintenance",
                              "The socket will close for maintenance"));
      if (!about_other)
        ch->close_at_ms = now.steady_ms + int64_t(close_after);
    }
    if (open.empty())
      err = "no open socket matches";
  } else if (kind == "no_longer_subscribed") {
    auto open = open_targets();
    for (auto* ch : open) {
      send_system(*ch, "v2.system.no_longer_subscribed." + ch->id,
                  system_body(*ch, about_other, "no_longer_subscribed",
                              "another_channel_subscribed",
                              "This channel is no longer subscribed"));
      if (!about_other)
        set_topics(*ch, {}, now);
    }
    if (open.empty())
      err = "no open socket matches";
  } else if (kind == "reply") {
    // A frame that is no notification, as the service sends when a
    // channel is gone or to answer a request over the socket.
    auto open = open_targets();
    for (auto* ch : open)
      send_frame(ch->socket, json{{"result", result_code},
                                  {"message", reply_message}}.dump());
    if (open.empty())
      err = "no open socket matches";
  } else if (kind == "revoke_token" && about_other) {
    for (auto* ch : open_targets())
      send_system(*ch, "v2.system.token_revoked." + ch->id,
                  system_body(*ch, true, "token_revoked", "user_tokens_revoked",
                              "The token was revoked"));
  } else if (kind == "revoke_token") {
    uint64_t revoked = 0;
    for (auto& [tok, info] : tokens_)
      if (!info.revoked && (client.empty() || info.client == client)) {
        info.revoked = true;
        ++revoked;
      }
    for (auto* ch : open_targets())
      send_system(*ch, "v2.system.token_revoked." + ch->id,
                  system_body(*ch, false, "token_revoked", "user_tokens_revoked",
                              "The token was revoked"));
    if (revoked == 0)
      err = "no token matches";
  } else if (kind == "expire_channel") {
    for (auto* ch : targets)
      ch->expires_ms = now.steady_ms;
    if (targets.empty())
      err = "no channel matches";
    else
      tick(now);
  } else if (kind == "http_error" || kind == "slow") {
    http_fault hf;
    hf.path_prefix = path_prefix;
    hf.remaining = count;
    if (kind == "http_error") {
      hf.status = static_cast<int>(status);
      hf.retry_after_s = static_cast<uint32_t>(retry_after);
    } else {
      hf.delay_ms = static_cast<uint32_t>(delay);
    }
    if (http_faults_.size() >= 1000)
      return "too many pending HTTP faults (1000); clear them first";
    http_faults_.push_back(hf);
  } else if (kind == "duplicate" || kind == "out_of_order") {
    auto open = open_targets();
    for (auto* ch : open) {
      if (kind == "duplicate") {
        ch->duplicate_remaining = std::min<uint64_t>(ch->duplicate_remaining + count,
                                                     1000000);
      } else {
        ch->reorder_remaining = std::min<uint64_t>(ch->reorder_remaining + count,
                                                   1000000);
        ch->reorder_window = static_cast<uint32_t>(window);
      }
    }
    if (open.empty())
      err = "no open socket matches";
  } else if (kind == "malformed") {
    const std::string& topic = malformed_topic;
    std::string frame;
    if (variant == "invalid_json") {
      frame = R"({"topicName":")" + topic
              + R"(" "eventBody":{"id":},"metadata":{"CorrelationId":"x"}})";
    } else if (variant == "truncated") {
      auto whole = make_event_frame(topic, 0, now.wall_ms, "truncated");
      frame = whole.substr(0, whole.size() / 2);
    } else if (variant == "invalid_utf8") {
      // Well-formed JSON with a broken UTF-8 sequence inside a string: a
      // text frame no conforming server sends, and no client may accept.
      frame = R"({"topicName":")" + topic
              + R"(","version":"2","eventBody":{"note":"caf)" + std::string{"\xC3\x28"}
              + R"("},"metadata":{"CorrelationId":")" + correlation_id() + "\"}}";
    } else if (variant == "wrong_types") {
      frame = R"({"topicName":42,"version":2,"eventBody":"not an object",)"
              R"("metadata":{"CorrelationId":17}})";
    } else if (variant == "oversized") {
      frame = R"({"topicName":")" + topic + R"(","version":"2","eventBody":{"pad":")"
              + std::string(size, 'x')
              + R"("},"metadata":{"CorrelationId":")" + correlation_id()
              + "\"}}";
    }
    auto open = open_targets();
    for (auto* ch : open)
      for (uint64_t i = 0; i < count; ++i) {
        ++malformed_sent_;
        send_frame(ch->socket, frame);
      }
    if (open.empty())
      err = "no open socket matches";
  } else if (kind == "clear") {
    http_faults_.clear();
    for (auto* ch : targets) {
      ch->duplicate_remaining = 0;
      ch->reorder_remaining = 0;
      flush_reorder(*ch);
    }
  }
  if (err.empty())
    ++faults_applied_;
  return err;
}

std::string model::stats_json(const instant& now) const {
  json topics = json::object();
  uint64_t generated = 0, written = 0, without = 0, dups = 0;
  for (auto& [name, src] : topics_) {
    topics[name] = json{{"generated", src.generated},
                        {"written", src.written},
                        {"generated_without_socket", src.generated_without_socket},
                        {"duplicates_sent", src.duplicates_sent},
                        {"subscribers", src.subscribers.size()}};
    generated += src.generated;
    written += src.written;
    without += src.generated_without_socket;
    dups += src.duplicates_sent;
  }
  json channels = json::object();
  for (auto& [id, ch] : channels_) {
    json written_by_topic = json::object();
    for (auto& [t, n] : ch.written_by_topic)
      written_by_topic[t] = n;
    channels[id] = json{{"client", ch.client},
                        {"topics", ch.topics},
                        {"socket_open", ch.socket != 0},
                        {"stalled", ch.stalled},
                        {"connects", ch.connects},
                        {"frames_written", ch.frames_written},
                        {"heartbeats", ch.heartbeats},
                        {"pongs", ch.pongs},
                        {"expires_in_ms", ch.expires_ms - now.steady_ms},
                        {"written_by_topic", written_by_topic}};
  }
  json http = json::object();
  for (auto& [route, by_status] : http_by_route_)
    http[route] = by_status;
  return json{{"totals", {{"generated", generated},
                          {"written", written},
                          {"generated_without_socket", without},
                          {"duplicates_sent", dups},
                          {"malformed_sent", malformed_sent_},
                          {"channels", channels_.size()},
                          {"channels_evicted", channels_evicted_},
                          {"live_channels_evicted", live_channels_evicted_},
                          {"channels_expired", channels_expired_},
                          {"sockets_open", sockets_.size()},
                          {"sockets_accepted", sockets_accepted_},
                          {"sockets_refused", sockets_refused_},
                          {"faults_applied", faults_applied_}}},
              {"topics", topics},
              {"channels", channels},
              {"token_requests", token_requests_by_client_},
              {"http", http}}
    .dump();
}

} // namespace gcstream::emulator
