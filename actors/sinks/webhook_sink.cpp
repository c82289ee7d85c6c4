#include "actors/sinks/webhook_sink.hpp"

#include <caf/all.hpp>

#include "actors/http_reply.hpp"
#include "runtime/event_line.hpp"

namespace gcstream {

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

void retry_later(pointer self, int64_t at_least_ms) {
  auto& st = self->state;
  ++st.failures;
  auto delay = std::max(full_jitter(st.cfg.backoff, st.attempt++, st.rng),
                        std::chrono::milliseconds{at_least_ms});
  self->delayed_send(self, delay, retry_atom::value, st.request_id);
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
        return b.seq; // sent before the orderer restarted
      auto rp = self->make_response_promise<uint64_t>();
      for (auto& p : st.queue)
        if (p.batch.seq == b.seq) { // queued already: answer the new asker
          p.promise = rp;
          return rp;
        }
      st.queue.push_back({std::move(b), rp});
      post_next(self);
      return rp;
    },
    [=](http_done_atom, uint64_t id, const http_response& r) {
      auto& st = self->state;
      if (id != st.request_id)
        return;
      st.in_flight = false;
      if (r.status < 200 || r.status >= 300) {
        retry_later(self, r.retry_after_ms);
        return;
      }
      st.attempt = 0;
      auto done = std::move(st.queue.front());
      st.queue.pop_front();
      st.last_acked = std::max(st.last_acked, done.batch.seq);
      done.promise.deliver(done.batch.seq);
      post_next(self);
    },
    [=](http_done_atom, uint64_t id, const caf::error&) {
      auto& st = self->state;
      if (id != st.request_id)
        return;
      st.in_flight = false;
      retry_later(self, -1);
    },
    [=](retry_atom, uint64_t id) {
      if (id == self->state.request_id)
        post_next(self);
    },
  };
}

} // namespace gcstream
