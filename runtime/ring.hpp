#pragma once

// A double-ended queue of large elements in one growing array (a power of
// two). std::deque allocates a node every few elements when they are as large
// as an event (96 bytes: five to a node), which showed on the hot path; this
// allocates only when it doubles, and halves when mostly empty. It starts at
// 8 elements: an idle tenant's rings (sink outbox, reorder run, dedupe order)
// hold one or two events between its rare events, and 64 events each was
// about 8 KiB of resident memory per tenant (bench_tenants, 10,000 tenants).

#include <cstddef>
#include <utility>
#include <vector>

namespace gcstream {

template <class T>
class ring {
public:
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }

  T& front() { return buf_[head_]; }
  const T& front() const { return buf_[head_]; }
  T& back() { return at(count_ - 1); }
  const T& back() const { return at(count_ - 1); }

  /// The i-th element from the front.
  T& at(size_t i) { return buf_[(head_ + i) & (buf_.size() - 1)]; }
  const T& at(size_t i) const { return buf_[(head_ + i) & (buf_.size() - 1)]; }

  void push_back(T x) {
    if (count_ == buf_.size())
      resize(buf_.empty() ? 8 : 2 * buf_.size());
    at(count_) = std::move(x);
    ++count_;
  }

  /// Removes the front element (what it still holds is released).
  void pop_front() {
    buf_[head_] = T{};
    head_ = (head_ + 1) & (buf_.size() - 1);
    --count_;
    // Give back what a burst took, once mostly empty.
    if (buf_.size() > 1024 && count_ * 8 < buf_.size())
      resize(buf_.size() / 2);
  }

  void clear() {
    std::vector<T>{}.swap(buf_);
    head_ = 0;
    count_ = 0;
  }

private:
  void resize(size_t capacity) {
    std::vector<T> next(capacity);
    for (size_t i = 0; i < count_; ++i)
      next[i] = std::move(at(i));
    buf_.swap(next);
    head_ = 0;
  }

  std::vector<T> buf_;
  size_t head_ = 0;
  size_t count_ = 0;
};

} // namespace gcstream
