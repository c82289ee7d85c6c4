#include "actors/session_actor.hpp"

#include <algorithm>
#include <string_view>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/http_reply.hpp"
#include "messages/errors.hpp"
#include "runtime/frame_reader.hpp"
#include "runtime/iso8601.hpp"
#include "runtime/redact.hpp"
#include "runtime/topics.hpp"

namespace gcstream {

using namespace std::chrono;
using json = nlohmann::json;

namespace {

// A tenant with several channels: which one, and how many topics it holds.
audit_fields with_lane(const session_settings& cfg, audit_fields f) {
  if (cfg.lanes > 1) {
    f.emplace_back("lane", std::to_string(cfg.lane));
    f.emplace_back("topics", std::to_string(topics_weight(cfg.topics)));
  }
  return f;
}

void report(session_pointer self, std::string event, audit_fields f = {}) {
  audit(self->state.deps.audit, self->state.cfg.tenant, std::move(event),
        with_lane(self->state.cfg, std::move(f)));
}

std::string prefix(session_pointer self) {
  return "tenant " + self->state.cfg.tenant + ": ";
}

// -- ending -----------------------------------------------------------------

// Gives back the permits of a session that ends: those held for no socket,
// and the one a rollover waits for.
void release_spare(session_links& book, const session_deps& deps) {
  if (deps.permits) {
    for (auto& p : book.spare)
      deps.permits->release(p);
    deps.permits->release(book.asked);
  }
  book.spare.clear();
  book.asked.clear();
}

// Closes a socket of the session's book now, and gives its permit back.
void close_entry(const session_links::entry& l, const session_deps& deps,
                 const std::string& why) {
  if (deps.ws)
    deps.ws->close(l.conn, 1000, why);
  if (deps.permits)
    deps.permits->release(l.permit);
}

// What happens to the sockets when a session ends unasked: a good open one
// goes on feeding the inbox until the next session replaces it (with its
// channel's permit); the others are closed. (Also run from the exit hook of
// a crashed session.)
void leave_links(session_links& book, const session_deps& deps) {
  for (auto& [id, l] : book.by_link) {
    if (l.open && !l.dead && deps.sockets)
      deps.sockets->leave(l.conn, l.permit);
    else
      close_entry(l, deps, "session ending");
  }
  book.by_link.clear();
  release_spare(book, deps);
}

// Ends the session with `err`: its sockets are left or closed (see above),
// then it quits.
void finish(session_pointer self, caf::error err) {
  auto& st = self->state;
  if (st.closing)
    return;
  st.closing = true;
  st.book->handled = true;
  if (st.deps.wheel) // no more pings or watchdog checks
    for (auto id : st.book->wheel_timers)
      st.deps.wheel->cancel(id);
  st.book->wheel_timers.clear();
  if (st.stopping) {
    for (auto& [id, l] : st.book->by_link)
      close_entry(l, st.deps, "tenant stopping");
    st.book->by_link.clear();
    release_spare(*st.book, st.deps);
  } else {
    leave_links(*st.book, st.deps);
  }
  self->quit(std::move(err));
}

void fail(session_pointer self, errc code, const std::string& why) {
  finish(self, make_error(code, prefix(self) + why));
}

// -- tokens -----------------------------------------------------------------

// Runs `then` with a current token. While the token actor restarts, the
// request waits for the new one (the supervisor introduces it).
void with_token(session_pointer self, std::function<void()> then) {
  auto& st = self->state;
  self->request(st.deps.token, st.cfg.token_timeout, token_atom::value,
                caf::timespan{0})
    .then(
      [=](const access_token& t) {
        self->state.token = t;
        then();
      },
      [=](caf::error& err) {
        if (err == caf::sec::request_receiver_down) {
          self->state.token_waiters.push_back(then);
          return;
        }
        finish(self, make_error(code_of(err) == errc::none ? errc::api_failed
                                                            : code_of(err),
                                prefix(self) + "no token: " + reason_of(err)));
      });
}

// -- REST -------------------------------------------------------------------

void call(session_pointer self, std::string method, std::string path,
          std::string body,
          std::function<void(caf::expected<http_response>)> then) {
  auto& st = self->state;
  http_request req;
  req.method = std::move(method);
  req.url = st.cfg.api_url + path;
  req.headers.emplace_back("Authorization", "Bearer " + st.token.reveal());
  if (!body.empty() || req.method == "PUT" || req.method == "POST") {
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = std::move(body);
  }
  auto id = ++st.next_call;
  st.calls.emplace(id, std::move(then));
  st.deps.http->submit(std::move(req), http_reply_to<session_actor>(self, id));
}

// Runs the continuation of call `id` with its result.
void complete(session_pointer self, uint64_t id,
              caf::expected<http_response> result) {
  auto& calls = self->state.calls;
  auto it = calls.find(id);
  if (it == calls.end())
    return;
  auto then = std::move(it->second);
  calls.erase(it);
  if (!self->state.closing)
    then(std::move(result));
}

// What a call made while a socket streams does when it fails: the session
// goes on (see background_failed); `status` is 0 when no answer came.
using soft_fail = std::function<void(const std::string& why, long status)>;

// Turns an HTTP result into a JSON body, or ends the session with a reason
// (with `soft`: hands the reason to it and the session goes on). A 401 also
// tells the token actor that its token was refused.
bool ok_json(session_pointer self, const caf::expected<http_response>& r,
             const char* what, json& out, const soft_fail& soft = {}) {
  auto& st = self->state;
  if (!r) {
    if (soft) {
      soft(std::string{what} + ": " + reason_of(r.error()), 0);
      return false;
    }
    finish(self, make_error(is_retriable(r.error()) ? errc::api_failed
                                                    : code_of(r.error()),
                            prefix(self) + what + ": " + reason_of(r.error())));
    return false;
  }
  if (r->status == 401)
    self->send(st.deps.token, invalidate_atom::value, st.token.generation(),
               std::string{"401 from "} + what);
  if (r->status != 200) {
    std::string why = std::string{what} + ": HTTP " + std::to_string(r->status);
    if (r->retry_after_ms >= 0)
      why += " (Retry-After " + std::to_string(r->retry_after_ms / 1000) + " s)";
    if (soft) {
      soft(why, r->status);
      return false;
    }
    // A 404 to a request on a channel we made means the channel is gone: the
    // service removes the least used channel of the OAuth client, one with
    // no socket yet first, when a 21st is made (another process on the same
    // client). A new channel mends that; a 404 anywhere else does not.
    bool channel_gone = r->status == 404 && std::string_view{what} == "subscribing";
    if (channel_gone)
      why += " (the channel is gone: the service removes an OAuth client's least "
             "used channel when it makes a 21st)";
    bool fatal = r->status == 400 || r->status == 403 || (r->status == 404 && !channel_gone);
    finish(self, make_error(fatal ? errc::http_status_fatal : errc::api_failed,
                            prefix(self) + why, r->retry_after_ms));
    return false;
  }
  out = json::parse(r->body, nullptr, false);
  if (out.is_discarded()) {
    std::string why = std::string{what} + ": the body is not JSON";
    if (soft)
      soft(why, r->status);
    else
      fail(self, errc::api_failed, why);
    return false;
  }
  return true;
}

// A REST call made while a socket streams failed (a resubscribe, a
// rollover's new channel): the socket streams on, the failure is audited,
// and `again` runs after the backoff, if the socket still streams then
// (timer_gen unchanged). Ending the session would close a socket that may
// still carry events.
void background_failed(session_pointer self, const char* call, const std::string& why,
                       long status, std::function<void()> again) {
  auto& st = self->state;
  auto delay = backoff_ceiling(st.cfg.api_retry, st.api_attempt++);
  report(self, "api_retry",
         {{"call", call},
          {"error", why},
          {"status", std::to_string(status)},
          {"attempt", std::to_string(st.api_attempt)},
          {"delay_ms", std::to_string(delay.count())}});
  st.api_retry_action = std::move(again);
  self->delayed_send(self, delay, retry_atom::value, st.timer_gen);
}

std::string topics_body(const std::vector<std::string>& topics) {
  json body = json::array();
  for (auto& t : topics)
    body.push_back(json{{"id", t}});
  return body.dump();
}

void connect(session_pointer self, const channel_info& ch);
void schedule_resubscribe(session_pointer self);

// Subscribes `ch` (again) with ignoreErrors; then `next`.
void subscribe(session_pointer self, channel_info ch,
               std::function<void(channel_info)> next, soft_fail soft = {}) {
  auto& st = self->state;
  auto version = st.topics_version;
  call(self, "PUT",
       "/api/v2/notifications/channels/" + ch.id + "/subscriptions?ignoreErrors=true",
       topics_body(st.cfg.topics), [=](caf::expected<http_response> r) {
         json body;
         if (!ok_json(self, r, "subscribing", body, soft))
           return;
         if (self->state.topics_version != version) {
           // The topics changed meanwhile: subscribe with the new ones.
           subscribe(self, ch, next, soft);
           return;
         }
         std::vector<std::string> rejected;
         size_t permitted = 0;
         if (body.contains("entities") && body["entities"].is_array())
           for (auto& e : body["entities"]) {
             if (e.value("state", "Permitted") == "Rejected")
               rejected.push_back(e.value("id", "") + " ("
                                  + e.value("rejectionReason", "") + ")");
             else
               ++permitted;
           }
         std::string list;
         for (auto& r : rejected)
           list += (list.empty() ? "" : ", ") + r;
         report(self, "subscribed",
                {{"channel", channel_tag(ch.id)},
                 {"permitted", std::to_string(permitted)},
                 {"rejected", std::to_string(rejected.size())},
                 {"rejected_topics", list}});
         if (permitted == 0 && !self->state.cfg.topics.empty()) {
           fail(self, errc::all_topics_rejected,
                "the service rejected every topic: " + list);
           return;
         }
         next(ch);
       });
}

// Creates a channel, subscribes it, then `next`.
void create_channel(session_pointer self, std::function<void(channel_info)> next,
                    soft_fail soft = {}) {
  call(self, "POST", "/api/v2/notifications/channels", "",
       [=](caf::expected<http_response> r) {
         json body;
         if (!ok_json(self, r, "creating a channel", body, soft))
           return;
         channel_info ch;
         ch.id = body.value("id", "");
         ch.connect_uri = body.value("connectUri", "");
         int64_t expires = 0;
         if (iso8601_to_epoch_ms(body.value("expires", ""), expires))
           ch.expires_ms = expires;
         if (ch.id.empty() || ch.connect_uri.empty()) {
           if (soft)
             soft("creating a channel: no id or connectUri in the answer", r->status);
           else
             fail(self, errc::api_failed, "the channel has no id or connectUri");
           return;
         }
         if (ch.expires_ms > 0)
           ch.ttl_ms = ch.expires_ms - wall_ms();
         self->state.channel_ttl_ms = ch.ttl_ms;
         subscribe(self, ch, next, soft);
       });
}

void start_channel(session_pointer self) {
  auto& st = self->state;
  if (auto n = topics_weight(st.cfg.topics); n > max_topics_per_channel) {
    fail(self, errc::too_many_topics, too_many_topics_text(n));
    return;
  }
  auto& resume = st.cfg.resume;
  if (resume.id.empty()) {
    create_channel(self, [=](channel_info ch) { connect(self, ch); });
    return;
  }
  // The channel of an earlier session: its subscriptions live on the
  // server, so connect to it straight away (one round trip, the shortest
  // gap). A refused upgrade (404) means it is gone: then make a new one. Once
  // open, subscribe again in the background, which extends its life.
  st.resuming = true;
  connect(self, resume);
}

// -- sockets ----------------------------------------------------------------

void connect(session_pointer self, const channel_info& ch) {
  auto& st = self->state;
  auto link_id = ++st.next_link;
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  auto send_to = [weak](auto&&... xs) {
    if (auto strong = caf::actor_cast<caf::strong_actor_ptr>(weak))
      caf::anon_send(caf::actor_cast<session_actor>(strong),
                     std::forward<decltype(xs)>(xs)...);
  };
  frame_reader_settings rs;
  rs.tenant = st.cfg.tenant;
  rs.timestamp_rules = st.cfg.timestamp_rules;
  rs.id_body_key = st.cfg.id_body_key;
  rs.liveness_ms =
    std::clamp<int64_t>(st.cfg.heartbeat_timeout.count() / 20, 1, 50);
  rs.excerpts = st.cfg.frame_excerpts;
  // Heartbeats and pongs are not messages: the watchdog reads this.
  auto heard = std::make_shared<std::atomic<int64_t>>(0);
  rs.heard = heard;
  // The socket's opening and closing are audited from the transport's
  // thread, with the time they happened: the gap and the reconnect latency
  // start when the last socket is lost, even when this session is gone by
  // then (a crash) or busy.
  auto q = st.deps.audit;
  auto tenant = st.cfg.tenant;
  auto tag = channel_tag(ch.id);
  auto lane = with_lane(st.cfg, {});
  ws_handlers h;
  h.on_open = [=] {
    audit_fields f{{"channel", tag}, {"at_ms", std::to_string(wall_ms())}};
    f.insert(f.end(), lane.begin(), lane.end());
    audit(q, tenant, "connected", std::move(f));
    send_to(ws_open_atom::value, link_id);
  };
  h.on_frames = frame_reader(
    std::move(rs), st.deps.inbox, st.deps.budget,
    [=](uint64_t count, std::vector<frame_notice>&& notices) {
      send_to(ws_frames_atom::value, link_id, count, std::move(notices));
    });
  h.on_closed = [=](const ws_close_info& i) {
    std::string how = "remote " + std::to_string(i.remote_code)
                      + (i.remote_reason.empty() ? "" : " " + i.remote_reason)
                      + (i.local_code ? ", local " + std::to_string(i.local_code) : "")
                      + (i.local_reason.empty() ? "" : " " + i.local_reason)
                      + (i.error.empty() ? "" : ", " + i.error);
    audit_fields f{{"channel", tag},
                   {"reason", disconnect_class(i)},
                   {"code", std::to_string(i.remote_code)},
                   {"local_code", std::to_string(i.local_code)},
                   {"detail", how},
                   {"was_open", i.was_open ? "true" : "false"},
                   {"requested", i.requested ? "true" : "false"},
                   {"at_ms", std::to_string(wall_ms())}};
    f.insert(f.end(), lane.begin(), lane.end());
    audit(q, tenant, "disconnected", std::move(f));
    send_to(ws_closed_atom::value, link_id,
            ws_close_report{i.was_open, i.requested, i.remote_code,
                            i.remote_reason, i.local_code, i.error,
                            i.http_status});
  };
  report(self, "connecting", {{"channel", channel_tag(ch.id)}});
  auto conn = st.deps.ws->connect(ch.connect_uri, std::move(h));
  if (!conn) {
    finish(self, make_error(code_of(conn.error()),
                            prefix(self) + reason_of(conn.error())));
    return;
  }
  st.links[link_id] = session_state::link{*conn, ch, false, false, heard};
  // The socket holds its channel's permit from now on.
  std::string permit;
  if (!st.book->spare.empty()) {
    permit = std::move(st.book->spare.back());
    st.book->spare.pop_back();
  }
  st.book->by_link[link_id] = session_links::entry{*conn, false, false, std::move(permit)};
  if (st.current == 0)
    st.current = link_id;
  else
    st.rolling_to = link_id;
}

// Closes a link after close_grace, reading it meanwhile.
void close_later(session_pointer self, uint64_t link_id) {
  auto& st = self->state;
  auto it = st.links.find(link_id);
  if (it == st.links.end() || it->second.closing)
    return;
  it->second.closing = true;
  self->delayed_send(self, st.cfg.close_grace, close_atom::value, link_id);
}

// `delay` from now, moved later onto a grid of period/16 (at most 1 s): the
// pings and watchdogs of many sessions then fall due together, and CAF's
// clock thread and a worker wake once for all of them rather than once each
// (10,000 tenants ping 333 times a second). A stall is seen at most a
// sixteenth of the timeout late.
milliseconds on_grid(session_pointer self, milliseconds delay, milliseconds period) {
  auto grid = timer_wheel::grid_of(period.count());
  auto now = now_ms(self);
  auto due = now + std::max<int64_t>(0, delay.count());
  due = (due + grid - 1) / grid * grid;
  return milliseconds{due - now};
}

void cancel_wheel_timers(session_state& st) {
  if (st.deps.wheel)
    for (auto id : st.book->wheel_timers)
      st.deps.wheel->cancel(id);
  st.book->wheel_timers.clear();
}

// On the runtime's timer wheel: the ping goes from the wheel's thread
// straight to the transport, and the watchdog check reads when the socket
// was last heard and comes again when the silence would reach the timeout
// (once per timeout while frames flow); the session gets a message only
// when the silence has reached it (and then checks for itself).
void start_wheel_timers(session_pointer self, uint64_t gen) {
  auto& st = self->state;
  cancel_wheel_timers(st);
  auto it = st.links.find(st.current);
  if (it == st.links.end())
    return;
  auto ws = st.deps.ws;
  auto conn = it->second.conn;
  st.book->wheel_timers.push_back(
    st.deps.wheel->every(st.cfg.ping_interval, [ws, conn](int64_t) -> int64_t {
      ws->send(conn, R"({"message":"ping"})");
      return 0;
    }));
  auto heard = it->second.heard;
  auto budget = st.deps.budget;
  auto timeout = st.cfg.heartbeat_timeout.count();
  heard->store(std::max(heard->load(), steady_ms())); // counted from now
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  st.book->wheel_timers.push_back(
    st.deps.wheel->every(st.cfg.heartbeat_timeout, [=](int64_t now) -> int64_t {
      // A socket paused because the tenant's buffer is full is silent by
      // our own doing: that is no stall.
      if (budget && budget->blocked()) {
        heard->store(now);
        return now + timeout;
      }
      auto last = heard->load();
      if (now - last < timeout)
        return last + timeout;
      if (auto strong = caf::actor_cast<caf::strong_actor_ptr>(weak))
        caf::anon_send(caf::actor_cast<session_actor>(strong), watchdog_atom::value, gen);
      return 0;
    }));
}

void start_timers(session_pointer self) {
  auto& st = self->state;
  auto gen = ++st.timer_gen;
  if (st.deps.wheel) {
    start_wheel_timers(self, gen);
  } else {
    self->delayed_send(self, on_grid(self, st.cfg.ping_interval, st.cfg.ping_interval),
                       ping_atom::value, gen);
    self->delayed_send(self,
                       on_grid(self, st.cfg.heartbeat_timeout, st.cfg.heartbeat_timeout),
                       watchdog_atom::value, gen);
  }
  schedule_resubscribe(self);
}

void schedule_resubscribe(session_pointer self) {
  auto& st = self->state;
  if (st.channel_ttl_ms <= 0)
    return;
  auto delay = milliseconds{static_cast<int64_t>(
    double(st.channel_ttl_ms) * std::clamp(st.cfg.resubscribe_fraction, 0.1, 0.95))};
  self->delayed_send(self, delay, resubscribe_atom::value, st.timer_gen);
}

// The old socket goes once the new one is open: make before break. If the
// new channel cannot be made, the old socket streams on while it can and
// the rollover is tried again after a backoff; with no socket left, the
// session ends (retriable) as it would have anyway.
void rollover(session_pointer self, const std::string& why) {
  auto& st = self->state;
  if (st.rolling_to != 0 || st.closing || st.stopping || !st.book->asked.empty())
    return;
  // The new channel needs a permit of its own while the old one lives: it
  // waits for one (the old socket streams on meanwhile).
  if (st.deps.permits && !st.cfg.permit.empty() && st.book->spare.empty()
      && st.current != 0) {
    st.rollover_why = why;
    st.book->asked = st.deps.permits->ask(caf::actor_cast<caf::actor>(self));
    report(self, "rollover_permit_asked", {{"reason", why}});
    return;
  }
  report(self, "rollover_started", {{"reason", why}});
  st.rolling_to = ~uint64_t{0}; // reserved until the new link exists
  create_channel(
    self,
    [=](channel_info ch) {
      self->state.rolling_to = 0;
      self->state.api_attempt = 0;
      connect(self, ch);
    },
    [=](const std::string& err, long status) {
      auto& st = self->state;
      st.rolling_to = 0;
      if (st.current == 0) { // the old socket is gone meanwhile
        finish(self, make_error(errc::api_failed, prefix(self) + err));
        return;
      }
      background_failed(self, "rollover", err, status,
                        [=] { rollover(self, why); });
    });
}

// A permit the session asked for arrived.
void on_granted(session_pointer self, const std::string& holder) {
  auto& st = self->state;
  if (!st.deps.permits)
    return;
  bool wanted = holder == st.book->asked;
  if (!st.deps.permits->granted(holder))
    return; // released meanwhile, or a second answer
  if (!wanted || st.closing || st.stopping) {
    st.deps.permits->release(holder);
    return;
  }
  st.book->asked.clear();
  st.book->spare.push_back(holder);
  rollover(self, st.rollover_why);
}

// Gives back the permits the session holds beyond its need: one per socket,
// and one for the channel being made (none once it ends or stops).
void trim_permits(session_pointer self) {
  auto& st = self->state;
  auto& book = *st.book;
  size_t wanted = 0;
  if (!st.closing && !st.stopping)
    wanted = std::max<size_t>(1, book.by_link.size()
                                   + (st.rolling_to == ~uint64_t{0} ? 1 : 0));
  while (!book.spare.empty() && book.by_link.size() + book.spare.size() > wanted) {
    if (st.deps.permits)
      st.deps.permits->release(book.spare.back());
    book.spare.pop_back();
  }
}

// Subscribes the channel of the socket in use again (it extends the
// channel's life); a 404 means the channel is gone: a new one, make before
// break. Other failures are retried; the socket streams on.
void resubscribe(session_pointer self, channel_info ch, std::function<void()> done) {
  subscribe(
    self, ch,
    [=](channel_info) {
      self->state.api_attempt = 0;
      done();
    },
    [=](const std::string& err, long status) {
      if (status == 404) {
        report(self, "channel_gone", {{"channel", channel_tag(ch.id)}});
        rollover(self, "channel gone (404 on resubscribe)");
        return;
      }
      background_failed(self, "resubscribe", err, status, [=] {
        auto& st = self->state;
        if (auto it = st.links.find(st.current); it != st.links.end())
          resubscribe(self, it->second.channel, done);
      });
    });
}

void on_open(session_pointer self, uint64_t link_id) {
  auto& st = self->state;
  auto it = st.links.find(link_id);
  if (it == st.links.end() || st.closing)
    return;
  it->second.open = true;
  st.book->by_link[link_id].open = true;
  st.last_frame_ms = now_ms(self);
  if (st.resuming) {
    st.resuming = false;
    // The lifetime came with the channel: the background subscription
    // below extends it by that much, and the timer keeps it extended.
    st.channel_ttl_ms = it->second.channel.ttl_ms;
    report(self, "channel_reused", {{"channel", channel_tag(it->second.channel.id)}});
    resubscribe(self, it->second.channel, [] {});
  }
  if (st.deps.listener)
    self->send(st.deps.listener, channel_atom::value, it->second.channel);
  if (!st.opened_once) {
    st.opened_once = true;
    // Sockets an earlier session left behind: this one carries the stream
    // now; theirs go after the grace (what they still carry arrives).
    if (st.deps.sockets && st.deps.sockets->left() > 0)
      self->delayed_send(self, st.cfg.close_grace, close_atom::value,
                         uint64_t{0});
  }
  if (link_id == st.rolling_to) {
    // The new socket is up: now the old one may go.
    auto old = st.current;
    st.current = link_id;
    st.rolling_to = 0;
    close_later(self, old);
    report(self, "rollover_finished",
           {{"channel", channel_tag(it->second.channel.id)}});
  }
  start_timers(self);
}

// A system message about a channel other than the link's own is ignored,
// as Genesys' own streaming client does (counted and audited, the channel by
// its hash).
bool about_another_channel(session_pointer self, uint64_t link_id,
                           const frame_notice& n) {
  auto& st = self->state;
  auto it = st.links.find(link_id);
  if (n.detail.empty() || it == st.links.end() || n.detail == it->second.channel.id)
    return false;
  // "v2.system.<type>.<channel id>": the id is a capability, so its hash.
  auto topic = n.topic;
  if (auto dot = topic.find('.', std::string{"v2.system."}.size());
      dot != std::string::npos)
    topic = topic.substr(0, dot + 1) + channel_tag(topic.substr(dot + 1));
  report(self, "system_message_ignored",
         {{"topic", topic},
          {"channel", channel_tag(it->second.channel.id)},
          {"about_channel", channel_tag(n.detail)}});
  return true;
}

void on_system(session_pointer self, uint64_t link_id, frame_kind kind) {
  auto& st = self->state;
  switch (kind) {
    case frame_kind::socket_closing:
      if (link_id == st.current)
        rollover(self, "socket_closing");
      break;
    case frame_kind::no_longer_subscribed:
      if (link_id == st.current)
        rollover(self, "no_longer_subscribed");
      break;
    case frame_kind::token_revoked:
      report(self, "token_revoked", {});
      self->send(st.deps.token, invalidate_atom::value, st.token.generation(),
                 std::string{"token_revoked"});
      with_token(self, [] {});
      break;
    default:
      break;
  }
}

void on_notices(session_pointer self, uint64_t link_id,
                std::vector<frame_notice>& notices) {
  auto& st = self->state;
  if (st.links.count(link_id) == 0)
    return;
  if (link_id == st.current)
    st.last_frame_ms = now_ms(self);
  for (auto& n : notices) {
    switch (static_cast<frame_kind>(n.kind)) {
      case frame_kind::malformed: {
        ++st.malformed;
        audit_fields f{{"error", n.detail},
                       {"size", std::to_string(n.size)},
                       {"topic", n.topic}};
        if (!n.excerpt.empty())
          f.emplace_back("excerpt", n.excerpt);
        report(self, "malformed_frame", std::move(f));
        break;
      }
      case frame_kind::socket_closing:
      case frame_kind::no_longer_subscribed:
      case frame_kind::token_revoked:
      case frame_kind::system:
        if (about_another_channel(self, link_id, n))
          break;
        on_system(self, link_id, static_cast<frame_kind>(n.kind));
        break;
      case frame_kind::reply:
        // {"result":"404"}: the channel expired, was replaced or lost its
        // token; the socket is of no more use, so move to a new channel
        // before it closes. Other replies answer requests (none sent over
        // the socket by gcstream) and are only noted.
        report(self, "service_reply", {{"result", n.detail}});
        if (n.detail == "404" && link_id == st.current)
          rollover(self, "channel_gone");
        break;
      default:
        break; // heartbeats and pongs only prove the socket is alive
    }
  }
}

void on_closed(session_pointer self, uint64_t link_id, const ws_close_report& r) {
  auto& st = self->state;
  auto it = st.links.find(link_id);
  if (it == st.links.end())
    return;
  auto ch = it->second.channel;
  st.links.erase(it);
  if (auto e = st.book->by_link.find(link_id); e != st.book->by_link.end()) {
    // The socket is gone: its channel's permit may serve the next one.
    if (!e->second.permit.empty())
      st.book->spare.push_back(std::move(e->second.permit));
    st.book->by_link.erase(e);
  }
  trim_permits(self);
  std::string how = "remote " + std::to_string(r.remote_code)
                    + (r.remote_reason.empty() ? "" : " " + r.remote_reason)
                    + (r.local_code ? ", local " + std::to_string(r.local_code) : "")
                    + (r.error.empty() ? "" : ", " + r.error);
  if (st.closing || st.stopping || (r.requested && link_id != st.current))
    return; // the old socket of a rollover, or our own end
  if (link_id != st.current && link_id != st.rolling_to)
    return; // an old socket the service closed first
  if (link_id == st.current && !st.book->asked.empty()) {
    // A rollover waited for a permit: this socket's will do.
    if (st.deps.permits)
      st.deps.permits->release(st.book->asked);
    st.book->asked.clear();
    st.current = 0;
    rollover(self, st.rollover_why);
    return;
  }
  if (link_id == st.current && st.rolling_to != 0) {
    // The old socket went before the new one opened: wait for the new
    // one (the gap is measured downstream).
    st.current = 0;
    return;
  }
  if (link_id == st.rolling_to) {
    // The rollover's new socket failed: the old one still streams.
    st.rolling_to = 0;
    if (st.current != 0)
      return;
  }
  if (!r.was_open && st.resuming && r.http_status == 404) {
    // The earlier channel is gone (expired, evicted): a new one.
    st.resuming = false;
    st.current = 0;
    report(self, "channel_gone", {{"channel", channel_tag(ch.id)}});
    create_channel(self, [=](channel_info fresh) { connect(self, fresh); });
    return;
  }
  if (!r.was_open) {
    fail(self, errc::connect_failed,
         "cannot open the socket of channel " + channel_tag(ch.id) + ": "
           + (r.http_status ? "HTTP " + std::to_string(r.http_status) + ", " : "")
           + r.error);
    return;
  }
  if (r.local_code == 1009) {
    fail(self, errc::socket_closed,
         "a frame exceeded the maximum message size; channel "
           + channel_tag(ch.id));
    return;
  }
  fail(self, errc::socket_closed,
       "the socket of channel " + channel_tag(ch.id) + " closed (" + how + ")");
}

void on_watchdog(session_pointer self, uint64_t gen) {
  auto& st = self->state;
  if (gen != st.timer_gen || st.closing || st.stopping)
    return;
  auto now = now_ms(self);
  // A socket paused because the tenant's buffer is full is silent by our
  // own doing: that is no stall.
  if (st.deps.budget && st.deps.budget->blocked())
    st.last_frame_ms = now;
  // What the current socket's reader last heard (CAF's clock is the steady
  // clock, as `heard` is; never later than now).
  if (auto it = st.links.find(st.current); it != st.links.end() && it->second.heard)
    st.last_frame_ms = std::max(st.last_frame_ms,
                                std::min(now, it->second.heard->load(std::memory_order_relaxed)));
  auto silent = now - st.last_frame_ms;
  if (silent >= st.cfg.heartbeat_timeout.count()) {
    // TCP may still say all is well: the socket is dead all the same.
    if (auto it = st.links.find(st.current); it != st.links.end()) {
      st.deps.ws->abort(it->second.conn, "heartbeat timeout");
      st.book->by_link[st.current].dead = true;
    }
    fail(self, errc::heartbeat_timeout,
         "no frame for " + std::to_string(silent) + " ms (timeout "
           + std::to_string(st.cfg.heartbeat_timeout.count()) + " ms)");
    return;
  }
  if (st.deps.wheel)
    return; // the wheel checks again
  // Check again exactly when the silence would reach the timeout: one
  // timer per timeout while frames flow, and a stall is seen on time.
  auto due = milliseconds{st.cfg.heartbeat_timeout.count() - silent};
  self->delayed_send(self,
                     on_grid(self, std::max(due, milliseconds{1}), st.cfg.heartbeat_timeout),
                     watchdog_atom::value, gen);
}

// -- the hand-off to the orderer ---------------------------------------------

void maybe_end_stop(session_pointer self) {
  auto& st = self->state;
  if (st.stopping && !st.closing && st.out.empty() && st.failed.empty()
      && st.deps.inbox->empty())
    finish(self, caf::none);
}

// A batch that failed (or got no answer in time) is offered again after a
// growing delay (100 ms doubling to 5 s; reset by the next success).
void retry_later(session_pointer self, uint64_t seq) {
  auto& st = self->state;
  if (st.failed.empty()) {
    st.retry_ms = std::clamp<int64_t>(st.retry_ms * 2, 100, 5000);
    self->delayed_send(self, milliseconds{st.retry_ms}, resend_atom::value);
  }
  st.failed.push_back(seq);
}

// One timer watches the deadlines of every batch out (a CAF request timeout
// per batch would cost a clock entry, and a wake-up of the clock thread,
// per batch).
void arm_ingest_check(session_pointer self, int64_t due_ms) {
  auto& st = self->state;
  if (st.check_at >= 0 && st.check_at <= due_ms)
    return;
  st.check_at = due_ms;
  self->delayed_send(self, milliseconds{std::max<int64_t>(0, due_ms - now_ms(self))},
                     expire_atom::value);
}

void check_ingest_deadlines(session_pointer self) {
  auto& st = self->state;
  st.check_at = -1;
  auto now = now_ms(self);
  int64_t next = INT64_MAX;
  for (auto it = st.out.begin(); it != st.out.end();) {
    if (it->second <= now) {
      retry_later(self, it->first); // no answer in time: offered again
      it = st.out.erase(it);
    } else {
      next = std::min(next, it->second);
      ++it;
    }
  }
  if (next != INT64_MAX)
    arm_ingest_check(self, next);
}

// Hands what waits in the inbox to the orderer: at most ingest_window
// batches out at once, each with the ingest_timeout deadline. The inbox
// keeps each batch until the acknowledgement; a batch that fails is offered
// again (at once to a new orderer, after a growing delay otherwise).
void drain(session_pointer self) {
  auto& st = self->state;
  if (!st.deps.ingest || st.closing)
    return;
  auto room = st.cfg.ingest_window > st.out.size()
                ? st.cfg.ingest_window - st.out.size()
                : 0;
  if (room == 0)
    return;
  auto inbox = st.deps.inbox;
  auto gen = st.ingest_gen;
  auto deadline = now_ms(self) + st.cfg.ingest_timeout.count();
  for (auto& batch : inbox->take(room)) {
    auto seq = batch.seq;
    st.events += batch.events.size();
    st.out[seq] = deadline;
    arm_ingest_check(self, deadline);
    // The deadline is the check above, not a request timeout.
    self->request(st.deps.ingest, caf::infinite, ingest_atom::value,
                  std::move(batch))
      .then(
        [=](uint64_t acked) {
          auto& st = self->state;
          inbox->ack(acked);
          if (gen != st.ingest_gen || st.out.erase(seq) == 0)
            return; // replaced orderer, or offered again after its deadline
          st.retry_ms = 0;
          drain(self);
          maybe_end_stop(self);
        },
        [=](caf::error& err) {
          auto& st = self->state;
          if (gen != st.ingest_gen || st.out.erase(seq) == 0)
            return;
          if (err == caf::sec::request_receiver_down)
            return; // its successor gets it when introduced (retry_all)
          retry_later(self, seq);
        });
  }
}

void stop(session_pointer self, caf::timespan deadline) {
  auto& st = self->state;
  if (st.stopping || st.closing)
    return;
  st.stopping = true;
  ++st.timer_gen; // no more pings, watchdogs or resubscriptions
  cancel_wheel_timers(st);
  // Reading stops: once the close is sent, the transport hands over nothing
  // more, and what it read is in the inbox.
  for (auto& [id, l] : st.links)
    st.deps.ws->close(l.conn, 1000, "tenant stopping");
  if (st.deps.sockets)
    st.deps.sockets->close_left(1000, "tenant stopping");
  release_spare(*st.book, st.deps); // (the sockets' go as they close)
  self->delayed_send(self, deadline, timeout_atom::value);
  drain(self);
  maybe_end_stop(self);
}

} // namespace

session_actor::behavior_type session_actor_impl(session_pointer self,
                                                session_settings cfg,
                                                session_deps deps) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.deps = std::move(deps);
  st.book = std::make_shared<session_links>();
  if (!st.cfg.permit.empty())
    st.book->spare.push_back(st.cfg.permit); // the first channel's
  // An exit message: a shutdown closes the sockets (nobody comes after
  // this session); any other reason ends it as a failure would. A kill or an
  // exception cannot be trapped: the exit hook below leaves its good sockets
  // to the next session and closes the rest.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    if (msg.reason == caf::exit_reason::user_shutdown)
      self->state.stopping = true;
    finish(self, msg.reason);
  });
  self->attach_functor([book = st.book, deps = st.deps](const caf::error&) {
    if (deps.wheel) // however it ended
      for (auto id : book->wheel_timers)
        deps.wheel->cancel(id);
    if (!book->handled)
      leave_links(*book, deps);
  });
  // Take over the tenant's inbox: what a crashed predecessor had in flight
  // is offered again.
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  st.deps.inbox->adopt([weak] {
    if (auto strong = caf::actor_cast<caf::strong_actor_ptr>(weak))
      caf::anon_send(caf::actor_cast<session_actor>(strong), poke_atom::value);
  });
  if (!st.cfg.drain_only) // a drain-only session waits for its stop
    with_token(self, [=] { start_channel(self); });
  return {
    [=](ws_open_atom, uint64_t link_id) { on_open(self, link_id); },
    [=](ws_frames_atom, uint64_t link_id, uint64_t,
        std::vector<frame_notice>& notices) { on_notices(self, link_id, notices); },
    [=](ws_closed_atom, uint64_t link_id, const ws_close_report& r) {
      on_closed(self, link_id, r);
    },
    [=](http_done_atom, uint64_t id, http_response& r) {
      complete(self, id, std::move(r));
    },
    [=](http_done_atom, uint64_t id, caf::error& err) {
      complete(self, id, std::move(err));
    },
    [=](ping_atom, uint64_t gen) {
      auto& st = self->state;
      if (gen != st.timer_gen || st.closing)
        return;
      if (auto it = st.links.find(st.current); it != st.links.end())
        st.deps.ws->send(it->second.conn, R"({"message":"ping"})");
      self->delayed_send(self, on_grid(self, st.cfg.ping_interval, st.cfg.ping_interval),
                         ping_atom::value, gen);
    },
    [=](watchdog_atom, uint64_t gen) { on_watchdog(self, gen); },
    [=](topics_atom, std::vector<std::string>& topics) {
      auto& st = self->state;
      auto before = topics_weight(st.cfg.topics);
      st.cfg.topics = std::move(topics);
      ++st.topics_version;
      if (st.closing || st.stopping)
        return;
      auto it = st.links.find(st.current);
      auto retire = [=] {
        // No topics left: the channel closes. Once unsubscribed, nothing
        // more is written to it: what is on its way arrives within
        // close_grace, then the session stops (drained).
        self->delayed_send(self, self->state.cfg.close_grace, stop_atom::value,
                           caf::timespan{self->state.cfg.ingest_timeout});
      };
      if (it == st.links.end() || !it->second.open) {
        if (st.cfg.topics.empty())
          retire();
        return; // the subscription under way (or the next) takes them
      }
      auto n = topics_weight(st.cfg.topics);
      if (n == 0) {
        resubscribe(self, it->second.channel, [=] {
          report(self, "topics_changed", {{"before", std::to_string(before)},
                                          {"after", "0"}});
          retire();
        });
        return;
      }
      resubscribe(self, it->second.channel, [=] {
        report(self, "topics_changed", {{"before", std::to_string(before)},
                                        {"after", std::to_string(n)}});
      });
    },
    [=](resubscribe_atom, uint64_t gen) {
      auto& st = self->state;
      if (gen != st.timer_gen || st.closing)
        return;
      auto it = st.links.find(st.current);
      if (it == st.links.end())
        return;
      // Subscribing again keeps the channel alive; no reconnect.
      resubscribe(self, it->second.channel, [=] {
        report(self, "channel_extended", {});
        schedule_resubscribe(self);
      });
    },
    [=](retry_atom, uint64_t gen) {
      auto& st = self->state;
      if (gen != st.timer_gen || st.closing || st.stopping || !st.api_retry_action)
        return;
      auto again = std::move(st.api_retry_action);
      st.api_retry_action = nullptr;
      again();
    },
    [=](close_atom, uint64_t link_id) {
      auto& st = self->state;
      if (link_id == 0) {
        if (st.deps.sockets)
          st.deps.sockets->close_left(1000, "replaced by a new session");
        return;
      }
      if (auto it = st.links.find(link_id); it != st.links.end())
        st.deps.ws->close(it->second.conn, 1000, "rollover");
    },
    [=](poke_atom) { drain(self); },
    [=](ingest_atom, ingest_actor next) {
      // The orderer restarted: what it had not acknowledged goes to the new
      // one now, first.
      auto& st = self->state;
      st.deps.ingest = std::move(next);
      ++st.ingest_gen;
      st.failed.clear();
      st.out.clear();
      st.deps.inbox->retry_all();
      drain(self); // (a poke may be pending already: take now)
    },
    [=](token_atom, token_actor next) {
      auto& st = self->state;
      st.deps.token = std::move(next);
      auto waiters = std::move(st.token_waiters);
      st.token_waiters.clear();
      for (auto& w : waiters)
        with_token(self, w);
    },
    [=](adopt_atom, channel_listener next) {
      auto& st = self->state;
      st.deps.listener = std::move(next);
      if (auto it = st.links.find(st.current);
          it != st.links.end() && it->second.open && st.deps.listener)
        self->send(st.deps.listener, channel_atom::value, it->second.channel);
    },
    [=](resend_atom) {
      auto& st = self->state;
      auto failed = std::move(st.failed);
      st.failed.clear();
      for (auto seq : failed)
        st.deps.inbox->retry(seq);
      drain(self); // (a poke may be pending already: take now)
    },
    [=](stop_atom, caf::timespan deadline) { stop(self, deadline); },
    [=](expire_atom) { check_ingest_deadlines(self); },
    [=](granted_atom, const std::string&, const std::string& holder) {
      on_granted(self, holder);
    },
    [=](timeout_atom) {
      // The stop's deadline: what is still in the inbox stays there (and is
      // counted by the supervisor).
      if (self->state.stopping)
        finish(self, caf::none);
    },
  };
}

} // namespace gcstream
