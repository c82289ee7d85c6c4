#pragma once

// The webhook sink: POSTs each batch as one JSON array to a URL, the elements
// being the file sink's lines (runtime/event_line.hpp) without the newline:
//
//   [{"tenant":"acme","topic":"...","id":"...","ts":...,"received":...,
//     "late":false,"event":{...the frame...}}, ...]
//
// with Content-Type: application/json and X-Gcstream-Tenant and
// X-Gcstream-Batch (the seq) headers, so that a receiver can drop a batch it
// has seen. The orderer sends one batch at a time (stop and wait).
//
// The answer decides the reply:
//   2xx                              acknowledged (the seq)
//   5xx, 408, 429, no answer, a      refused, to be tried again: errc::
//   transport error                  sink_failed, with the Retry-After when
//                                    the receiver gave one (the orderer
//                                    waits at least that long)
//   any other 4xx (400, 413, 422...) refused for good: errc::sink_rejected;
//                                    the orderer puts the batch in the dead
//                                    letters at once and goes on, instead of
//                                    wedging on a batch the receiver will
//                                    never take
// A batch whose seq is not above the last one acknowledged is acknowledged
// again without a request.

#include <cstdint>
#include <deque>
#include <memory>
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
  /// How long the orderer waits before offering a refused batch again (the
  /// sink's retry policy; see sink_spec::retry).
  backoff_policy backoff{std::chrono::milliseconds{500}, 2.0,
                         std::chrono::milliseconds{30000}};
};

/// The webhook sink's interface: a sink that also takes its HTTP results.
using webhook_sink_actor = sink_actor::extend<
  caf::reacts_to<http_done_atom, uint64_t, http_response>,
  caf::reacts_to<http_done_atom, uint64_t, caf::error>>;

struct webhook_sink_state {
  webhook_sink_settings cfg;
  std::shared_ptr<http_transport> http;
  struct pending {
    event_batch batch;
    caf::typed_response_promise<uint64_t> promise;
  };
  /// The batch being posted first; more only if an orderer restart sent
  /// one while another was out.
  std::deque<pending> queue;
  std::string body;
  bool in_flight = false;
  uint64_t request_id = 0;
  uint64_t last_acked = 0;
  uint64_t failures = 0;
  static inline const char* name = "gcstream.webhook_sink";
};

/// The webhook sink's behavior.
webhook_sink_actor::behavior_type
webhook_sink(webhook_sink_actor::stateful_pointer<webhook_sink_state> self,
             webhook_sink_settings cfg, std::shared_ptr<http_transport> http);

/// The URL as it may be printed: scheme, host and path, without the query
/// (which may carry a key).
std::string printable_url(const std::string& url);

} // namespace gcstream
