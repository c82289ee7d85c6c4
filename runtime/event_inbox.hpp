#pragma once

// The hand-off between a tenant's sockets and its session actor, kept OUTSIDE
// the actor so that a crashed session loses nothing (ARCHITECTURE.md,
// invariant 1: a crashed actor's mailbox is thrown away).
//
// The Asio thread pushes parsed batches; the session that currently owns the
// inbox is poked (one message, however many batches wait), takes them, hands
// them downstream, and acknowledges each once downstream did. A batch stays
// here until then. When a session dies, its supervisor's next session takes
// over the same inbox: what was in flight is offered again (the orderer's
// dedupe removes what had in fact arrived), and sockets of the dead session
// keep feeding the inbox until they close.
//
// Bounded: the tenant's event_budget counts what waits here and what is in
// flight. Under the drop_oldest policy, past the budget's cap the oldest
// waiting batches are dropped and counted; under block, the transport stops
// reading instead and nothing is dropped here. Without a budget (tests),
// max_events is the cap and the oldest waiting batches go.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <cstdint>
#include <mutex>

#include "messages/event.hpp"
#include "runtime/event_budget.hpp"

namespace gcstream {

/// A thread-safe, bounded queue of event batches with acknowledgements.
class event_inbox {
public:
  /// `max_batch`: take() joins waiting batches into batches of up to this
  /// many events.
  explicit event_inbox(size_t max_events = 100000, size_t max_batch = 1024,
                       std::shared_ptr<event_budget> budget = nullptr)
    : max_events_(max_events),
      max_batch_(max_batch == 0 ? 1 : max_batch),
      budget_(std::move(budget)) {}

  event_inbox(const event_inbox&) = delete;
  event_inbox& operator=(const event_inbox&) = delete;

  /// Makes `poke` the way to tell the owner that batches wait, and offers
  /// everything in flight again (the previous owner may have died with it).
  /// Calls `poke` at once when something waits.
  void adopt(std::function<void()> poke);

  /// Adds a batch (any thread). Pokes the owner unless a poke is pending.
  void push(event_batch batch);

  /// Moves the waiting batches to in flight and returns copies (the frames
  /// are shared, not copied), numbered with fresh sequence numbers. Batches
  /// that waited side by side are joined, in order, up to max_batch events
  /// (a bigger one stays whole): one socket read makes one small batch, and
  /// every batch costs a message, a reply and a sink delivery downstream.
  std::vector<event_batch> take(size_t max_batches = SIZE_MAX);

  /// Downstream has batch `seq`: forget it.
  void ack(uint64_t seq);

  /// Offers batch `seq` again (downstream failed), before what waits.
  void retry(uint64_t seq);

  /// Offers every batch in flight again, oldest first, before what waits
  /// (downstream restarted: what it had not acknowledged goes to the new
  /// one).
  void retry_all();

  /// Batches handed out and not yet acknowledged.
  size_t in_flight_batches() const;

  /// Whether nothing waits and nothing is in flight.
  bool empty() const;

  /// Events waiting or in flight.
  size_t buffered_events() const;

  /// Events dropped at the cap so far.
  uint64_t dropped_events() const;

  /// Notes that a frame of any kind arrived (any thread; lock-free), for
  /// the heartbeat-age metric.
  void note_frame(int64_t epoch_ms) { last_frame_ms_.store(epoch_ms, std::memory_order_relaxed); }

  /// When the last frame arrived, epoch ms (0: never).
  int64_t last_frame_ms() const { return last_frame_ms_.load(std::memory_order_relaxed); }

private:
  mutable std::mutex mtx_;
  size_t max_events_;
  size_t max_batch_;
  std::shared_ptr<event_budget> budget_;
  std::function<void()> poke_;
  bool poke_pending_ = false;
  uint64_t next_seq_ = 0;
  size_t events_ = 0;
  uint64_t dropped_ = 0;
  std::deque<event_batch> waiting_;
  std::map<uint64_t, event_batch> in_flight_;
  std::atomic<int64_t> last_frame_ms_{0};
};

} // namespace gcstream
