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
  std::unique_lock<std::mutex> g{mtx_};
  inbox_ += delta;
  changed(g);
}

void event_budget::set_orderer(size_t n) {
  std::unique_lock<std::mutex> g{mtx_};
  orderer_ = n;
  changed(g);
}

// Ends a block once the sum is down to three quarters of the cap.
void event_budget::changed(std::unique_lock<std::mutex>& g) {
  if (!blocked_ || total() > cap_ - cap_ / 4)
    return;
  blocked_ = false;
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
  std::unique_lock<std::mutex> g{mtx_};
  if (policy_ != overflow_policy::block)
    return false;
  if (!blocked_ && total() < cap_)
    return false;
  if (std::find(paused_.begin(), paused_.end(), conn) == paused_.end())
    paused_.push_back(conn);
  if (blocked_)
    return true;
  blocked_ = true;
  blocked_since_ = steady_ms();
  ++blocks_;
  auto report = on_block_;
  g.unlock();
  if (report)
    report(true, 0);
  return true;
}

bool event_budget::blocked() const {
  std::lock_guard<std::mutex> g{mtx_};
  return blocked_;
}

size_t event_budget::held() const {
  std::lock_guard<std::mutex> g{mtx_};
  return total();
}

size_t event_budget::excess() const {
  std::lock_guard<std::mutex> g{mtx_};
  auto n = total();
  return n > cap_ ? n - cap_ : 0;
}

int64_t event_budget::blocked_ms() const {
  std::lock_guard<std::mutex> g{mtx_};
  return blocked_total_ + (blocked_ ? steady_ms() - blocked_since_ : 0);
}

uint64_t event_budget::blocks() const {
  std::lock_guard<std::mutex> g{mtx_};
  return blocks_;
}

} // namespace gcstream
