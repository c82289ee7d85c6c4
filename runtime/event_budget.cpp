#include "runtime/event_budget.hpp"

#include <algorithm>
#include <chrono>

namespace gcstream {

namespace {

int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch())
    .count();
}

} // namespace

void event_budget::on_block(std::function<void(bool, int64_t)> f) {
  std::lock_guard<std::mutex> g{mtx_};
  on_block_ = std::move(f);
}

void event_budget::on_resume(std::function<void(uint64_t)> f) {
  std::lock_guard<std::mutex> g{mtx_};
  on_resume_ = std::move(f);
}

void event_budget::add_inbox(int64_t delta) {
  inbox_.fetch_add(delta, std::memory_order_relaxed);
  if (blocked_.load(std::memory_order_acquire))
    changed();
}

void event_budget::set_orderer(size_t n) {
  orderer_.store(n, std::memory_order_relaxed);
  if (blocked_.load(std::memory_order_acquire))
    changed();
}

// Ends a block once the sum is down to three quarters of the cap.
void event_budget::changed() {
  std::unique_lock<std::mutex> g{mtx_};
  if (!blocked_.load(std::memory_order_relaxed) || total() > cap_ - cap_ / 4)
    return;
  blocked_.store(false, std::memory_order_release);
  auto took = steady_ms() - blocked_since_;
  blocked_total_ += took;
  auto paused = std::move(paused_);
  paused_.clear();
  auto resume = on_resume_;
  auto report = on_block_;
  g.unlock();
  if (resume)
    for (auto conn : paused)
      resume(conn);
  if (report)
    report(false, took);
}

bool event_budget::pause_reading(uint64_t conn) {
  if (policy_ != overflow_policy::block)
    return false;
  if (!blocked_.load(std::memory_order_acquire) && total() < cap_)
    return false; // the common case: no lock
  std::unique_lock<std::mutex> g{mtx_};
  if (!blocked_.load(std::memory_order_relaxed) && total() < cap_)
    return false;
  if (std::find(paused_.begin(), paused_.end(), conn) == paused_.end())
    paused_.push_back(conn);
  if (blocked_.load(std::memory_order_relaxed))
    return true;
  blocked_.store(true, std::memory_order_release);
  blocked_since_ = steady_ms();
  ++blocks_;
  auto report = on_block_;
  g.unlock();
  if (report)
    report(true, 0);
  // The budget may have drained meanwhile: end the block now if so.
  changed();
  return blocked_.load(std::memory_order_acquire);
}

bool event_budget::blocked() const {
  return blocked_.load(std::memory_order_acquire);
}

size_t event_budget::held() const {
  return total();
}

size_t event_budget::excess() const {
  auto n = total();
  return n > cap_ ? n - cap_ : 0;
}

int64_t event_budget::blocked_ms() const {
  std::lock_guard<std::mutex> g{mtx_};
  return blocked_total_ + (blocked_.load() ? steady_ms() - blocked_since_ : 0);
}

uint64_t event_budget::blocks() const {
  std::lock_guard<std::mutex> g{mtx_};
  return blocks_;
}

} // namespace gcstream
