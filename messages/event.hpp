#pragma once

// One notification event as it travels from the session to the sinks, and the
// batch in which events travel.
//
// The frame's bytes are kept whole and shared: every sink of a tenant sees the
// same immutable buffer, and nothing on the way re-serializes it.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
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

  /// Shares bytes someone else owns (a transport's message, by aliasing).
  explicit frame_ref(std::shared_ptr<const std::string> bytes)
    : bytes_(std::move(bytes)) {}

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
///
/// The topic and the id are views, not strings of their own: into the
/// frame's bytes when they appear there verbatim (the hot path, where
/// nothing is allocated per event), otherwise into a small shared buffer
/// the event keeps (an escaped string, an event built by hand or loaded from
/// the journal). Copying an event copies no text: two reference counts.
class event {
public:
  event() = default;

  /// Views `topic` and `id` where they lie inside `frame`'s bytes; copies
  /// them (once, into a shared buffer) where they do not.
  event(std::string_view topic, std::string_view id, int64_t ts_ms = 0,
        int64_t received_ms = 0, bool late = false, frame_ref frame = {},
        uint64_t journal_id = 0);

  event(const event&) = default;
  event& operator=(const event&) = default;
  event(event&& other) noexcept { *this = std::move(other); }
  event& operator=(event&& other) noexcept;

  /// `topicName` of the envelope.
  std::string_view topic() const { return topic_; }
  /// The dedupe key: `metadata.CorrelationId`, or a configured body field.
  std::string_view id() const { return id_; }
  /// The whole frame, as received.
  const frame_ref& frame() const { return frame_; }
  /// Whether topic() and id() are views into frame() (no copy was made).
  bool views_frame() const { return side_ == nullptr; }

  /// The ordering timestamp, epoch milliseconds.
  int64_t ts_ms = 0;
  /// When the frame reached the process, epoch milliseconds.
  int64_t received_ms = 0;
  /// Older than something already released by the orderer.
  bool late = false;
  /// Its row in the tenant's journal (0: not journaled).
  uint64_t journal_id = 0;

  template <class Inspector>
  friend typename std::enable_if<Inspector::reads_state,
                                 typename Inspector::result_type>::type
  inspect(Inspector& f, const event& x) {
    std::string topic{x.topic_};
    std::string id{x.id_};
    return f(caf::meta::type_name("gcstream::event"), topic, id, x.ts_ms,
             x.received_ms, x.late, x.frame_, x.journal_id);
  }

  template <class Inspector>
  friend typename std::enable_if<Inspector::writes_state,
                                 typename Inspector::result_type>::type
  inspect(Inspector& f, event& x) {
    std::string topic;
    std::string id;
    int64_t ts = 0;
    int64_t received = 0;
    bool late = false;
    frame_ref frame;
    uint64_t journal_id = 0;
    auto load = [&]() -> caf::error {
      x = event{topic, id, ts, received, late, std::move(frame), journal_id};
      return caf::none;
    };
    return f(caf::meta::type_name("gcstream::event"), topic, id, ts, received,
             late, frame, journal_id, caf::meta::load_callback(load));
  }

private:
  frame_ref frame_;
  /// Holds topic and id when they are not in the frame; null otherwise.
  std::shared_ptr<const std::string> side_;
  std::string_view topic_;
  std::string_view id_;
};

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
