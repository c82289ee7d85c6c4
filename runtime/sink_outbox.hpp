#pragma once

// What the orderer owes one sink: released events not yet sent, and the one
// batch sent but not yet acknowledged (ARCHITECTURE.md, orderer_actor).
//
// Stop and wait: a sink has at most one batch at a time. The next batch goes
// only after the sink acknowledged the last one, so a batch the sink refuses
// (answers with an error, or not at all in time) is the very next batch it
// receives again: no later batch can overtake it, the seqs a sink sees never
// go backwards, and a sink that keeps only the last seq it handled
// (seen_batches) is always right. A window of several batches in flight
// cannot promise that: the batches after a refused one are already in the
// sink's mailbox when the refusal comes back, and the sink handles them
// first. Throughput comes from the size of the batches instead: while one is
// out, the next one fills (up to max_batch events).
//
// A batch stays until its acknowledgement, and goes again, with the same seq,
// to a sink that restarted. The outbox counts the refusals of its batch; the
// orderer decides when to try again and when to give up (dead letter).
// Bounded: past max_events waiting, the oldest waiting events are dropped and
// counted (the caller audits it); the batch in flight is never dropped.
//
// A batch is built once, inside the message that carries it to the sink: the
// outbox keeps that message, and a send (or a resend) shares it, so no event
// is copied on the way. A sink that takes the batch by mutable reference gets
// its own copy from CAF (copy on write); the outbox's stays as it was.

#include <cstdint>
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
    size_t max_batch = 512;
    size_t max_events = 100000;
  };

  /// Batches are numbered from `first_seq` on.
  sink_outbox(std::string tenant, settings s, uint64_t first_seq = 1)
    : tenant_(std::move(tenant)), cfg_(s), next_seq_(first_seq) {}

  /// Queues released events (call trim() once what has credit was sent).
  void add(const std::vector<event>& events);
  void add(event e);

  /// Drops the oldest waiting events past max_events; returns how many.
  /// Adds the journal ids of journaled ones to `dropped_ids` when given.
  size_t trim(std::vector<uint64_t>* dropped_ids = nullptr) {
    return trim_to(cfg_.max_events, dropped_ids);
  }

  /// Drops the oldest waiting events until at most `keep` wait.
  size_t trim_to(size_t keep, std::vector<uint64_t>* dropped_ids = nullptr);

  /// The next batch to send when none is out and events wait: up to
  /// max_batch events, or fewer when `partial` (a linger ran out or a
  /// drain). Empty otherwise.
  outbox_batch next(bool partial);

  /// The sink has batch `seq`. Returns false for an unknown seq (already
  /// acknowledged, or never sent).
  bool ack(uint64_t seq);

  /// The sink refused batch `seq` (an error, or no answer in time); returns
  /// how many times in a row it did (0 for an unknown seq).
  uint32_t refused(uint64_t seq, std::string reason);

  /// Gives up on batch `seq` (it goes to the dead letters): returns it and
  /// lets the next one go. Empty for an unknown seq.
  outbox_batch give_up(uint64_t seq);

  /// The batch out, or null.
  const outbox_batch* find(uint64_t seq) const {
    return out_ && out_->seq == seq ? &out_ : nullptr;
  }

  /// The batch out (empty when none), for a restarted sink.
  const outbox_batch& unacknowledged() const { return out_; }

  /// Refusals in a row of the batch out, and the last reason.
  uint32_t refusals() const { return refusals_; }
  const std::string& last_refusal() const { return last_refusal_; }

  size_t waiting_events() const { return waiting_.size(); }
  size_t in_flight_batches() const { return out_ ? 1 : 0; }
  size_t in_flight_events() const { return out_ ? out_->events.size() : 0; }
  /// Events held: waiting and out.
  size_t held_events() const { return waiting_events() + in_flight_events(); }
  uint64_t acknowledged_events() const { return acked_events_; }
  uint64_t dropped_events() const { return dropped_; }
  uint64_t refused_batches() const { return refused_total_; }
  uint64_t dead_lettered_events() const { return dead_lettered_; }
  bool idle() const { return waiting_.empty() && !out_; }

private:
  std::string tenant_;
  settings cfg_;
  uint64_t next_seq_;
  ring<event> waiting_;
  outbox_batch out_;
  uint32_t refusals_ = 0;
  std::string last_refusal_;
  uint64_t acked_events_ = 0;
  uint64_t dropped_ = 0;
  uint64_t refused_total_ = 0;
  uint64_t dead_lettered_ = 0;
};

} // namespace gcstream
