#pragma once

// The webhook sink: POSTs each batch as one JSON array to a URL, the elements
// being the file sink's lines (runtime/event_line.hpp) without the newline:
//
//   [{"tenant":"acme","topic":"...","id":"...","ts":...,"received":...,
//     "late":false,"event":{...the frame...}}, ...]
//
// with Content-Type: application/json and X-Gcstream-Tenant and
// X-Gcstream-Batch (the seq) headers, so that a receiver can drop a batch it
// has seen. One request at a time, in seq order. A batch is acknowledged
// only after a 2xx; any other answer or a transport error is retried with
// exponential backoff and full jitter (honouring Retry-After), forever: the
// orderer's credit window stops the batches piling up, and the orderer's
// metrics show the sink falling behind. A batch whose seq is not above the
// last one acknowledged is acknowledged again without a request.

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/sink.hpp"
#include "messages/token.hpp"
#include "runtime/backoff.hpp"
#include "runtime/http_transport.hpp"

namespace gcstream {

/// Settings of a webhook sink.
struct webhook_sink_settings {
  std::string url;
  /// Extra headers (for example an Authorization header from a secret).
  std::vector<std::pair<std::string, std::string>> headers;
  backoff_policy backoff{std::chrono::milliseconds{500}, 2.0,
                         std::chrono::milliseconds{30000}};
};

/// The webhook sink's interface: a sink that also takes its HTTP results
/// and retry timer.
using webhook_sink_actor = sink_actor::extend<
  caf::reacts_to<http_done_atom, uint64_t, http_response>,
  caf::reacts_to<http_done_atom, uint64_t, caf::error>,
  caf::reacts_to<retry_atom, uint64_t>>;

struct webhook_sink_state {
  webhook_sink_settings cfg;
  std::shared_ptr<http_transport> http;
  struct pending {
    event_batch batch;
    caf::typed_response_promise<uint64_t> promise;
  };
  std::deque<pending> queue;
  std::string body;
  bool in_flight = false;
  uint64_t request_id = 0;
  uint32_t attempt = 0;
  uint64_t last_acked = 0;
  uint64_t failures = 0;
  std::mt19937_64 rng{std::random_device{}()};
  static inline const char* name = "gcstream.webhook_sink";
};

/// The webhook sink's behavior.
webhook_sink_actor::behavior_type
webhook_sink(webhook_sink_actor::stateful_pointer<webhook_sink_state> self,
             webhook_sink_settings cfg, std::shared_ptr<http_transport> http);

} // namespace gcstream
