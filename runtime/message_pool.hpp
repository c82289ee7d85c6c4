#pragma once

// websocketpp's per-connection message manager, replaced by one that reuses
// messages (ARCHITECTURE.md, "The hot path").
//
// The stock manager allocates a message and its payload for every frame. The
// frame then lives on as an event (frame_ref shares the message) and is freed
// by whichever CAF worker drops the last reference, so each frame paid two
// allocations on the Asio thread and two frees on another thread, through
// glibc's arena locks: a third of the client's CPU per event at 100,000
// events/s. This manager keeps the messages it handed out and gives one out
// again, payload buffer and all, once nobody else holds it.
//
// - Reuse: a clock hand walks the kept messages; a message whose only owner
//   is the pool (use_count 1) is reset to what the stock constructor makes,
//   keeping its payload buffer, and handed out. Two looks per
//   frame at most, then a new message.
// - Size: the pool keeps as many messages as were in use at once (the
//   events buffered downstream), up to max_kept; past that, messages are
//   plain allocations. After a full turn of the hand that needed no new
//   message, half of the free messages are let go, so a burst does not pin
//   its memory.
// - A payload buffer over max_buffer is not kept.
// - Every payload has room for the envelope parser's padding past its end.
// - Thread-safe (a send from another thread asks for a message too); the
//   lock is uncontended on the read path.

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <websocketpp/frame.hpp>

#include "runtime/envelope.hpp"

namespace gcstream::detail {

// ThreadSanitizer does not model std::atomic_thread_fence (a documented
// limitation), and the reuse below is ordered by one: the last other owner's
// release of the message (shared_ptr's acq_rel decrement), seen through a
// relaxed use_count() and an acquire fence. Under ThreadSanitizer the pool
// therefore hands out new messages only, so that it reports what it can
// check and not this.
#if defined(__SANITIZE_THREAD__)
#  define GCSTREAM_POOL_REUSE 0
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define GCSTREAM_POOL_REUSE 0
#  endif
#endif
#ifndef GCSTREAM_POOL_REUSE
#  define GCSTREAM_POOL_REUSE 1
#endif

struct message_pool_limits {
  /// Messages kept at most per connection.
  static constexpr size_t max_kept = 65536;
  /// Never shrunk below this many.
  static constexpr size_t min_kept = 16;
  /// Payload buffers above this capacity are freed, not kept.
  static constexpr size_t max_buffer = 64 * 1024;
};

template <class Message>
class pooled_msg_manager
  : public std::enable_shared_from_this<pooled_msg_manager<Message>> {
public:
  using type = pooled_msg_manager<Message>;
  using ptr = std::shared_ptr<pooled_msg_manager>;
  using weak_ptr = std::weak_ptr<pooled_msg_manager>;
  using message_ptr = typename Message::ptr;

  /// An empty message (control paths): not pooled.
  message_ptr get_message() {
    return std::make_shared<Message>(type::shared_from_this());
  }

  /// A message for a frame of `size` bytes.
  message_ptr get_message(websocketpp::frame::opcode::value op, size_t size) {
    const size_t want = size + envelope_parser::padding();
    std::lock_guard<std::mutex> guard{mtx_};
    for (int look = 0; GCSTREAM_POOL_REUSE && look < 2 && !kept_.empty(); ++look) {
      if (hand_ >= kept_.size())
        turn();
      if (kept_.empty())
        break;
      auto& m = kept_[hand_++];
      if (m.use_count() == 1) {
        // The last other owner released it (acq_rel): see its last reads
        // before writing.
        std::atomic_thread_fence(std::memory_order_acquire);
        reset(*m, op, want);
        ++reused_;
        return m;
      }
    }
    ++misses_;
    auto m = std::make_shared<Message>(type::shared_from_this(), op, want);
    if (kept_.size() < message_pool_limits::max_kept)
      kept_.push_back(m);
    return m;
  }

  bool recycle(Message*) { return false; }

  /// Messages kept (free or in use).
  size_t kept() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return kept_.size();
  }

  /// Messages handed out again instead of allocated.
  size_t reused() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return reused_;
  }

private:
  // The hand went round: if that turn needed no new message, half of the
  // free ones go.
  void turn() {
    hand_ = 0;
    if (misses_ == 0 && kept_.size() > message_pool_limits::min_kept) {
      size_t free = 0;
      for (auto& m : kept_)
        free += m.use_count() == 1 ? 1 : 0;
      size_t drop = std::min(free / 2, kept_.size() - message_pool_limits::min_kept);
      for (size_t i = kept_.size(); i-- > 0 && drop > 0;) {
        if (kept_[i].use_count() != 1)
          continue;
        kept_[i] = std::move(kept_.back());
        kept_.pop_back();
        --drop;
      }
    }
    misses_ = 0;
  }

  // The message as the stock constructor leaves it, keeping its buffers.
  // (Its extension data is never written by websocketpp: it stays empty.)
  static void reset(Message& m, websocketpp::frame::opcode::value op,
                    size_t want) {
    m.set_opcode(op);
    m.set_header(std::string{});
    m.set_prepared(false);
    m.set_fin(true);
    m.set_terminal(false);
    m.set_compressed(false);
    auto& payload = m.get_raw_payload();
    if (payload.capacity() > message_pool_limits::max_buffer)
      std::string{}.swap(payload);
    payload.clear();
    if (payload.capacity() < want)
      payload.reserve(want);
  }

  mutable std::mutex mtx_;
  std::vector<message_ptr> kept_;
  size_t hand_ = 0;
  size_t misses_ = 0;
  size_t reused_ = 0;
};

} // namespace gcstream::detail
