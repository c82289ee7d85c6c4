#include "actors/token_actor.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "actors/http_reply.hpp"
#include "messages/errors.hpp"

namespace gcstream {

using namespace std::chrono;

milliseconds refresh_delay(const token_settings& s, milliseconds lifetime) {
  double fraction = std::clamp(s.refresh_fraction, 0.05, 1.0);
  auto at = milliseconds{static_cast<int64_t>(double(lifetime.count()) * fraction)};
  auto margin = duration_cast<milliseconds>(s.refresh_margin);
  if (lifetime > 2 * margin)
    at = std::min(at, lifetime - margin);
  return std::max(at, milliseconds{0});
}

namespace {

void report(token_pointer self, std::string event, audit_fields fields) {
  audit(self->state.audit, self->state.cfg.tenant, std::move(event),
        std::move(fields));
}

bool valid_for(token_pointer self, caf::timespan min_validity) {
  auto& k = *self->state.keep;
  if (k.current.empty())
    return false;
  auto left = k.current.expires_at_ms() - now_ms(self);
  return left > duration_cast<milliseconds>(min_validity).count();
}

void start_fetch(token_pointer self) {
  auto& st = self->state;
  if (st.in_flight != 0 || st.retry_pending != 0)
    return; // single flight: one request, or one timer, at a time
  st.in_flight = ++st.next_request;
  http_request req;
  req.method = "POST";
  req.url = st.cfg.login_url + "/oauth/token";
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  req.body = "grant_type=client_credentials";
  req.basic_user = st.cfg.client_id;
  req.basic_password = st.cfg.client_secret;
  st.http->submit(std::move(req), http_reply_to<token_actor>(self, st.in_flight));
}

void fail_waiters(token_pointer self, const caf::error& err) {
  auto waiters = std::move(self->state.waiters);
  self->state.waiters.clear();
  for (auto& w : waiters)
    w.deliver(err);
}

// Ends the tenant: once, with the reason, and no retry loop.
void fail_fatally(token_pointer self, caf::error err) {
  report(self, "token_failed",
        {{"error", to_string(code_of(err))}, {"reason", reason_of(err)}});
  fail_waiters(self, err);
  self->quit(std::move(err));
}

// `cause`: "throttled" after a 429 (reported as token_throttled already),
// else "error".
void schedule_retry(token_pointer self, milliseconds delay, std::string why,
                    const char* cause = "error") {
  auto& st = self->state;
  st.retry_pending = ++st.next_retry;
  ++st.attempt;
  report(self, "token_retry",
        {{"delay_ms", std::to_string(delay.count())},
         {"attempt", std::to_string(st.attempt)},
         {"reason", std::move(why)},
         {"cause", cause}});
  self->delayed_send(self, delay, retry_atom::value, st.retry_pending);
}

void retry_with_backoff(token_pointer self, std::string why) {
  auto& st = self->state;
  schedule_retry(self, full_jitter(st.cfg.backoff, st.attempt, st.rng),
                 std::move(why));
}

std::string prefix(token_pointer self) {
  return "tenant " + self->state.cfg.tenant + ": ";
}

void on_token_response(token_pointer self, const http_response& resp) {
  auto& st = self->state;
  auto body = nlohmann::json::parse(resp.body, nullptr, false);
  auto text = [&](const char* key) -> std::string {
    if (body.is_object() && body.contains(key) && body[key].is_string())
      return body[key].get<std::string>();
    return {};
  };
  if (resp.status == 200) {
    auto token = text("access_token");
    bool has_ttl = body.is_object() && body.contains("expires_in")
                   && body["expires_in"].is_number()
                   && body["expires_in"].get<double>() > 0;
    if (token.empty() || !has_ttl) {
      retry_with_backoff(self, "the token response has no access_token or "
                               "expires_in");
      return;
    }
    auto lifetime = milliseconds{
      static_cast<int64_t>(body["expires_in"].get<double>() * 1000)};
    auto& k = *st.keep;
    ++k.generation;
    k.issued_ms = now_ms(self);
    k.lifetime_ms = lifetime.count();
    k.current = access_token{std::move(token), k.generation,
                             k.issued_ms + lifetime.count()};
    st.attempt = 0;
    auto refresh = refresh_delay(st.cfg, lifetime);
    self->delayed_send(self, refresh, refresh_atom::value, k.generation);
    report(self, "token_refreshed",
          {{"generation", std::to_string(k.generation)},
           {"expires_in_s", std::to_string(lifetime.count() / 1000)},
           {"refresh_in_s", std::to_string(refresh.count() / 1000)}});
    auto waiters = std::move(st.waiters);
    st.waiters.clear();
    for (auto& w : waiters)
      w.deliver(k.current);
    return;
  }
  auto status = std::to_string(resp.status);
  if (resp.status == 429) {
    auto wait = resp.retry_after_ms >= 0
                  ? milliseconds{resp.retry_after_ms}
                  : full_jitter(st.cfg.backoff, st.attempt, st.rng);
    if (wait > st.cfg.max_retry_after) {
      report(self, "token_throttled",
            {{"retry_after_ms", std::to_string(wait.count())},
             {"gave_up", "true"}});
      fail_waiters(self, make_error(errc::retry_after_beyond_cap,
                                    prefix(self)
                                      + "the login service asked to wait "
                                      + std::to_string(wait.count() / 1000)
                                      + " s, beyond the cap of "
                                      + std::to_string(
                                        st.cfg.max_retry_after.count())
                                      + " s"));
      return;
    }
    report(self, "token_throttled",
          {{"retry_after_ms", std::to_string(wait.count())}});
    schedule_retry(self, wait, "429 Too Many Requests", "throttled");
    return;
  }
  if (resp.status >= 500 || resp.status == 408) {
    retry_with_backoff(self, "HTTP " + status);
    return;
  }
  auto error = text("error");
  auto description = text("error_description");
  if (description.empty())
    description = text("description");
  std::string detail = status;
  if (!error.empty())
    detail += " " + error;
  if (!description.empty())
    detail += ": " + description;
  if (resp.status == 400 || resp.status == 401 || resp.status == 403)
    fail_fatally(self, make_error(errc::bad_credentials,
                                  prefix(self)
                                    + "the login service refused the client "
                                      "credentials of client "
                                    + st.cfg.client_id + " (" + detail + ")"));
  else
    fail_fatally(self, make_error(errc::http_status_fatal,
                                  prefix(self) + "unexpected answer from "
                                    + st.cfg.login_url + "/oauth/token ("
                                    + detail + ")"));
}

} // namespace

token_actor::behavior_type token_actor_impl(token_pointer self,
                                            token_settings cfg,
                                            std::shared_ptr<http_transport> http,
                                            audit_ref audit,
                                            std::shared_ptr<token_keep> keep) {
  auto& st = self->state;
  st.rng.seed(cfg.seed != 0 ? cfg.seed : std::random_device{}());
  st.cfg = std::move(cfg);
  st.http = std::move(http);
  st.audit = std::move(audit);
  st.keep = keep ? std::move(keep) : std::make_shared<token_keep>();
  // Restarted: the token the last one fetched is still good; refresh it
  // when it was due (or now, if that passed while nobody was there).
  if (auto& k = *st.keep; !k.current.empty()) {
    auto due = k.issued_ms
               + refresh_delay(st.cfg, milliseconds{k.lifetime_ms}).count();
    self->delayed_send(self, milliseconds{std::max<int64_t>(0, due - now_ms(self))},
                       refresh_atom::value, k.generation);
  }
  return {
    [=](token_atom, caf::timespan min_validity) -> caf::result<access_token> {
      if (valid_for(self, min_validity))
        return self->state.keep->current;
      auto promise = self->make_response_promise<access_token>();
      self->state.waiters.push_back(promise);
      start_fetch(self);
      return promise;
    },
    [=](expiring_atom, caf::timespan within) {
      return !valid_for(self, within);
    },
    [=](invalidate_atom, uint64_t generation, const std::string& why) {
      auto& k = *self->state.keep;
      if (k.current.empty() || k.current.generation() != generation)
        return; // an older token: already replaced
      k.current = access_token{};
      report(self, "token_invalidated",
             {{"generation", std::to_string(generation)}, {"reason", why}});
      start_fetch(self);
    },
    [=](refresh_atom, uint64_t generation) {
      if (self->state.keep->generation == generation)
        start_fetch(self);
    },
    [=](retry_atom, uint64_t id) {
      if (self->state.retry_pending != id)
        return;
      self->state.retry_pending = 0;
      start_fetch(self);
    },
    [=](http_done_atom, uint64_t id, const http_response& resp) {
      if (self->state.in_flight != id)
        return;
      self->state.in_flight = 0;
      on_token_response(self, resp);
    },
    [=](http_done_atom, uint64_t id, const caf::error& err) {
      if (self->state.in_flight != id)
        return;
      self->state.in_flight = 0;
      if (is_retriable(err)) {
        retry_with_backoff(self, reason_of(err));
        return;
      }
      fail_fatally(self, make_error(code_of(err), prefix(self) + reason_of(err)));
    },
  };
}

} // namespace gcstream
