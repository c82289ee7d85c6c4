#include "runtime/audit_queue.hpp"

#include <algorithm>

namespace gcstream {

void audit_queue::post(audit_event e) {
  std::function<void()> now;
  {
    std::lock_guard<std::mutex> g{mtx_};
    events_.push_back(std::move(e));
    while (events_.size() > max_events_) {
      events_.pop_front();
      ++front_pos_;
      ++lost_;
      ++lost_total_;
    }
    if (!poke_pending_ && poke_) {
      poke_pending_ = true;
      now = poke_;
    }
  }
  if (now)
    now();
}

void audit_queue::adopt(std::function<void()> poke) {
  std::function<void()> now;
  {
    std::lock_guard<std::mutex> g{mtx_};
    poke_ = std::move(poke);
    poke_pending_ = !events_.empty() && poke_;
    if (poke_pending_)
      now = poke_;
  }
  if (now)
    now();
}

audit_queue::run audit_queue::peek(size_t max) {
  std::lock_guard<std::mutex> g{mtx_};
  poke_pending_ = false;
  auto n = std::min(max, events_.size());
  return run{front_pos_, std::vector<audit_event>(events_.begin(),
                                                  events_.begin() + n)};
}

void audit_queue::ack(const run& r) {
  std::lock_guard<std::mutex> g{mtx_};
  auto end = r.first + r.events.size();
  if (end <= front_pos_)
    return;
  auto n = std::min<uint64_t>(end - front_pos_, events_.size());
  events_.erase(events_.begin(), events_.begin() + static_cast<ptrdiff_t>(n));
  front_pos_ += n;
}

uint64_t audit_queue::take_lost() {
  std::lock_guard<std::mutex> g{mtx_};
  return std::exchange(lost_, 0);
}

uint64_t audit_queue::lost_total() const {
  std::lock_guard<std::mutex> g{mtx_};
  return lost_total_;
}

size_t audit_queue::size() const {
  std::lock_guard<std::mutex> g{mtx_};
  return events_.size();
}

} // namespace gcstream
