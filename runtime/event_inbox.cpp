#include "runtime/event_inbox.hpp"

#include <iterator>

namespace gcstream {

void event_inbox::adopt(std::function<void()> poke) {
  std::function<void()> now;
  {
    std::lock_guard<std::mutex> g{mtx_};
    poke_ = std::move(poke);
    // In flight with the old owner: offer again, before what came later.
    for (auto it = in_flight_.rbegin(); it != in_flight_.rend(); ++it)
      waiting_.push_front(std::move(it->second));
    in_flight_.clear();
    poke_pending_ = !waiting_.empty();
    if (poke_pending_)
      now = poke_;
  }
  if (now)
    now();
}

void event_inbox::push(event_batch batch) {
  std::function<void()> now;
  {
    std::lock_guard<std::mutex> g{mtx_};
    auto n = batch.events.size();
    events_ += n;
    waiting_.push_back(std::move(batch));
    if (budget_)
      budget_->add_inbox(static_cast<int64_t>(n));
    // Past the cap, the oldest waiting batches go (never the newest).
    auto over = [&] {
      if (!budget_)
        return events_ > max_events_;
      return budget_->policy() == overflow_policy::drop_oldest
             && budget_->excess() > 0;
    };
    while (waiting_.size() > 1 && over()) {
      auto k = waiting_.front().events.size();
      events_ -= k;
      dropped_ += k;
      waiting_.pop_front();
      if (budget_)
        budget_->add_inbox(-static_cast<int64_t>(k));
    }
    if (!poke_pending_ && poke_) {
      poke_pending_ = true;
      now = poke_;
    }
  }
  if (now)
    now();
}

std::vector<event_batch> event_inbox::take(size_t max_batches) {
  std::lock_guard<std::mutex> g{mtx_};
  poke_pending_ = false;
  std::vector<event_batch> out;
  while (!waiting_.empty() && out.size() < max_batches) {
    // How many of the next batches go into one.
    size_t count = waiting_.front().events.size();
    size_t joined = 1;
    for (; joined < waiting_.size(); ++joined) {
      auto& next = waiting_[joined];
      if (next.tenant != waiting_.front().tenant
          || count + next.events.size() > max_batch_)
        break;
      count += next.events.size();
    }
    event_batch b = std::move(waiting_.front());
    waiting_.pop_front();
    if (joined > 1) {
      b.events.reserve(count);
      for (; joined > 1; --joined) {
        auto& more = waiting_.front().events;
        std::move(more.begin(), more.end(), std::back_inserter(b.events));
        waiting_.pop_front();
      }
    }
    b.seq = ++next_seq_;
    out.push_back(b);
    in_flight_.emplace(b.seq, std::move(b));
  }
  return out;
}

void event_inbox::ack(uint64_t seq) {
  std::lock_guard<std::mutex> g{mtx_};
  auto it = in_flight_.find(seq);
  if (it == in_flight_.end())
    return;
  auto n = it->second.events.size();
  events_ -= n;
  in_flight_.erase(it);
  if (budget_)
    budget_->add_inbox(-static_cast<int64_t>(n));
}

void event_inbox::retry(uint64_t seq) {
  std::function<void()> now;
  {
    std::lock_guard<std::mutex> g{mtx_};
    auto it = in_flight_.find(seq);
    if (it == in_flight_.end())
      return;
    waiting_.push_front(std::move(it->second));
    in_flight_.erase(it);
    if (!poke_pending_ && poke_) {
      poke_pending_ = true;
      now = poke_;
    }
  }
  if (now)
    now();
}

void event_inbox::retry_all() {
  std::function<void()> now;
  {
    std::lock_guard<std::mutex> g{mtx_};
    if (in_flight_.empty())
      return;
    for (auto it = in_flight_.rbegin(); it != in_flight_.rend(); ++it)
      waiting_.push_front(std::move(it->second));
    in_flight_.clear();
    if (!poke_pending_ && poke_) {
      poke_pending_ = true;
      now = poke_;
    }
  }
  if (now)
    now();
}

size_t event_inbox::in_flight_batches() const {
  std::lock_guard<std::mutex> g{mtx_};
  return in_flight_.size();
}

bool event_inbox::empty() const {
  std::lock_guard<std::mutex> g{mtx_};
  return waiting_.empty() && in_flight_.empty();
}

size_t event_inbox::buffered_events() const {
  std::lock_guard<std::mutex> g{mtx_};
  return events_;
}

uint64_t event_inbox::dropped_events() const {
  std::lock_guard<std::mutex> g{mtx_};
  return dropped_;
}

} // namespace gcstream
