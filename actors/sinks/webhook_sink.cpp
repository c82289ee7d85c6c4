#include "actors/sinks/webhook_sink.hpp"

#include <caf/all.hpp>

#include "actors/http_reply.hpp"
#include "messages/errors.hpp"
#include "runtime/event_line.hpp"

namespace gcstream {

std::string printable_url(const std::string& url) {
  auto end = url.find_first_of("?#");
  auto out = url.substr(0, end);
  // user:password@host: keep only the host.
  auto scheme = out.find("://");
  auto at = out.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  auto slash = out.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme != std::string::npos && at != std::string::npos
      && (slash == std::string::npos || at < slash))
    out.erase(scheme + 3, at - scheme - 2);
  return out;
}

namespace {

using pointer = webhook_sink_actor::stateful_pointer<webhook_sink_state>;

void post_next(pointer self) {
  auto& st = self->state;
  if (st.in_flight || st.queue.empty())
    return;
  auto& b = st.queue.front().batch;
  st.body.assign("[");
  for (auto& e : b.events) {
    if (st.body.size() > 1)
      st.body += ',';
    append_event_line(st.body, b.tenant, e);
    st.body.pop_back(); // the newline
  }
  st.body += ']';
  http_request req;
  req.method = "POST";
  req.url = st.cfg.url;
  req.headers = st.cfg.headers;
  req.headers.emplace_back("Content-Type", "application/json");
  req.headers.emplace_back("X-Gcstream-Tenant", b.tenant);
  req.headers.emplace_back("X-Gcstream-Batch", std::to_string(b.seq));
  req.body = st.body;
  st.in_flight = true;
  st.http->submit(std::move(req),
                  http_reply_to<webhook_sink_actor>(self, ++st.request_id));
}

// Answers the batch out and posts the next one.
void finish(pointer self, caf::expected<uint64_t> result) {
  auto& st = self->state;
  st.in_flight = false;
  auto done = std::move(st.queue.front());
  st.queue.pop_front();
  if (result) {
    st.last_acked = std::max(st.last_acked, *result);
    done.promise.deliver(*result);
  } else {
    ++st.failures;
    done.promise.deliver(std::move(result.error()));
  }
  post_next(self);
}

} // namespace

webhook_sink_actor::behavior_type
webhook_sink(pointer self, webhook_sink_settings cfg,
             std::shared_ptr<http_transport> http) {
  self->state.cfg = std::move(cfg);
  self->state.http = std::move(http);
  return {
    [=](deliver_atom, event_batch& b) -> caf::result<uint64_t> {
      auto& st = self->state;
      if (b.seq != 0 && b.seq <= st.last_acked)
        return b.seq; // sent before a restart of the orderer
      auto rp = self->make_response_promise<uint64_t>();
      for (auto& p : st.queue)
        if (p.batch.seq == b.seq) { // posting already: answer the new asker
          p.promise = rp;
          return rp;
        }
      st.queue.push_back({std::move(b), rp});
      post_next(self);
      return rp;
    },
    [=](http_done_atom, uint64_t id, const http_response& r) {
      auto& st = self->state;
      if (id != st.request_id || st.queue.empty())
        return;
      auto seq = st.queue.front().batch.seq;
      if (r.status >= 200 && r.status < 300) {
        finish(self, seq);
        return;
      }
      auto why = "webhook " + printable_url(st.cfg.url) + " answered HTTP "
                 + std::to_string(r.status) + " to batch " + std::to_string(seq);
      bool again = r.status >= 500 || r.status == 408 || r.status == 429
                   || r.status < 400;
      if (again)
        finish(self, make_error(errc::sink_failed, why, r.retry_after_ms));
      else
        finish(self, make_error(errc::sink_rejected, why + " (not retried)"));
    },
    [=](http_done_atom, uint64_t id, const caf::error& err) {
      auto& st = self->state;
      if (id != st.request_id || st.queue.empty())
        return;
      finish(self, make_error(errc::sink_failed,
                              "webhook " + printable_url(st.cfg.url) + ": "
                                + reason_of(err)));
    },
  };
}

} // namespace gcstream
