#pragma once

// One notification event as it travels from the session to the sinks, and the
// batch in which events travel.
//
// The frame's bytes are kept whole and shared: every sink of a tenant sees the
// same immutable buffer, and nothing on the way re-serializes it.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

namespace gcstream {

/// The bytes of one WebSocket text frame, shared and immutable.
class frame_ref {
public:
  frame_ref() = default;

  explicit frame_ref(std::string bytes)
    : bytes_(std::make_shared<const std::string>(std::move(bytes))) {}

  /// The frame's text; empty for a default-constructed frame.
  const std::string& str() const {
    static const std::string empty;
    return bytes_ ? *bytes_ : empty;
  }

  size_t size() const { return bytes_ ? bytes_->size() : 0; }

  /// Whether two refs share one buffer (no copy was made).
  bool shares_with(const frame_ref& other) const {
    return bytes_ == other.bytes_;
  }

  friend bool operator==(const frame_ref& a, const frame_ref& b) {
    return a.str() == b.str();
  }

  template <class Inspector>
  friend typename std::enable_if<Inspector::reads_state,
                                 typename Inspector::result_type>::type
  inspect(Inspector& f, const frame_ref& x) {
    return f(caf::meta::type_name("gcstream::frame_ref"), x.str());
  }

  template <class Inspector>
  friend typename std::enable_if<Inspector::writes_state,
                                 typename Inspector::result_type>::type
  inspect(Inspector& f, frame_ref& x) {
    std::string tmp;
    auto load = [&]() -> caf::error {
      x = frame_ref{std::move(tmp)};
      return caf::none;
    };
    return f(caf::meta::type_name("gcstream::frame_ref"), tmp,
             caf::meta::load_callback(load));
  }

private:
  std::shared_ptr<const std::string> bytes_;
};

/// One event, with what the envelope parser read from it.
struct event {
  /// `topicName` of the envelope.
  std::string topic;
  /// The dedupe key: `metadata.CorrelationId`, or a configured body field.
  std::string id;
  /// The ordering timestamp, epoch milliseconds.
  int64_t ts_ms = 0;
  /// When the frame reached the process, epoch milliseconds.
  int64_t received_ms = 0;
  /// Older than something already released by the orderer.
  bool late = false;
  /// The whole frame, as received.
  frame_ref frame;
  /// Its row in the tenant's journal (0: not journaled).
  uint64_t journal_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event& x) {
  return f(caf::meta::type_name("gcstream::event"), x.topic, x.id, x.ts_ms,
           x.received_ms, x.late, x.frame, x.journal_id);
}

/// Events handed to one sink at once, in order.
struct event_batch {
  /// The tenant the events belong to.
  std::string tenant;
  /// Per tenant and sink, increasing; the sink acknowledges by it.
  uint64_t seq = 0;
  std::vector<event> events;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_batch& x) {
  return f(caf::meta::type_name("gcstream::event_batch"), x.tenant, x.seq,
           x.events);
}

} // namespace gcstream
