#pragma once

// What the orderer owes one sink: released events not yet sent, and batches
// sent but not yet acknowledged (ARCHITECTURE.md, orderer_actor).
//
// Credit: at most `window` batches are in flight; the rest wait here, so a
// slow sink slows only itself. A batch stays until its acknowledgement, and
// every unacknowledged batch is sent again, with the same seq, to a sink that
// restarted. Bounded: past max_events waiting, the oldest waiting events are
// dropped and counted (the caller audits it); batches in flight are never
// dropped.
//
// A batch is built once, inside the message that carries it to the sink:
// the outbox keeps that message, and a send (or a resend) shares it, so no
// event is copied on the way. A sink that takes the batch by mutable
// reference gets its own copy from CAF (copy on write); the outbox's stays
// as it was.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/message.hpp>

#include "messages/event.hpp"
#include "runtime/ring.hpp"

namespace gcstream {

/// A batch handed out by an outbox: the message (deliver_atom, event_batch)
/// to send as it is, shared with the outbox until the acknowledgement.
/// Empty (false) when there was nothing to hand out.
class outbox_batch {
public:
  outbox_batch() = default;
  explicit outbox_batch(caf::message msg) : msg_(std::move(msg)) {}

  explicit operator bool() const { return !msg_.empty(); }

  const caf::message& message() const { return msg_; }
  const event_batch& batch() const { return msg_.get_as<event_batch>(1); }
  const event_batch* operator->() const { return &batch(); }
  const event_batch& operator*() const { return batch(); }

private:
  caf::message msg_;
};

/// The delivery queue of one sink.
class sink_outbox {
public:
  struct settings {
    size_t window = 8;
    size_t max_batch = 512;
    size_t max_events = 100000;
  };

  sink_outbox(std::string tenant, settings s)
    : tenant_(std::move(tenant)), cfg_(s) {}

  /// Queues released events (call trim() once what has credit was sent).
  void add(const std::vector<event>& events);
  void add(event e);

  /// Drops the oldest waiting events past max_events; returns how many.
  /// Adds the journal ids of journaled ones to `dropped_ids` when given.
  size_t trim(std::vector<uint64_t>* dropped_ids = nullptr);

  /// The next batch to send when the window has room and events wait: up to
  /// max_batch events, or fewer when `partial` (a linger ran out or a drain).
  /// Empty otherwise.
  outbox_batch next(bool partial);

  /// The sink has batch `seq`. Returns false for an unknown seq (already
  /// acknowledged, or never sent).
  bool ack(uint64_t seq);

  /// An unacknowledged batch, or null.
  const outbox_batch* find(uint64_t seq) const {
    auto it = in_flight_.find(seq);
    return it == in_flight_.end() ? nullptr : &it->second;
  }

  /// Every unacknowledged batch, oldest first, for a restarted sink.
  std::vector<outbox_batch> unacknowledged() const;

  size_t waiting_events() const { return waiting_.size(); }
  size_t in_flight_batches() const { return in_flight_.size(); }
  size_t in_flight_events() const { return in_flight_events_; }
  uint64_t acknowledged_events() const { return acked_events_; }
  uint64_t dropped_events() const { return dropped_; }
  bool idle() const { return waiting_.empty() && in_flight_.empty(); }

private:

  std::string tenant_;
  settings cfg_;
  uint64_t next_seq_ = 1;
  ring<event> waiting_;
  std::map<uint64_t, outbox_batch> in_flight_;
  size_t in_flight_events_ = 0;
  uint64_t acked_events_ = 0;
  uint64_t dropped_ = 0;
};

} // namespace gcstream
