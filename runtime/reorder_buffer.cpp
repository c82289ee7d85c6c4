#include "runtime/reorder_buffer.hpp"

namespace gcstream {

bool reorder_buffer::push(event& e, int64_t now_ms) {
  if (e.ts_ms < last_.ts)
    return false;
  key k{e.ts_ms, ++arrivals_};
  if (e.ts_ms > newest_ts_)
    newest_ts_ = e.ts_ms;
  fifo_.push_back(waiting{k, now_ms});
  // Arrival numbers grow, so a timestamp not below the run's last keeps the
  // run sorted.
  if (run_.empty() || run_.back().k.ts <= k.ts) {
    run_.push_back(in_run{k, std::move(e)});
    return true;
  }
  ++out_of_run_;
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(slab_.size());
    slab_.push_back(std::move(e));
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slab_[slot] = std::move(e);
  }
  heap_.push(held{k, slot});
  return true;
}

const reorder_buffer::key& reorder_buffer::min_key() const {
  if (heap_.empty())
    return run_.front().k;
  if (run_.empty() || heap_.top().k <= run_.front().k)
    return heap_.top().k;
  return run_.front().k;
}

void reorder_buffer::pop_into(std::vector<event>& out) {
  if (!run_.empty() && (heap_.empty() || run_.front().k <= heap_.top().k)) {
    last_ = run_.front().k;
    out.push_back(std::move(run_.front().e));
    run_.pop_front();
    return;
  }
  const held& top = heap_.top();
  last_ = top.k;
  out.push_back(std::move(slab_[top.slot]));
  free_slots_.push_back(top.slot);
  heap_.pop();
}

void reorder_buffer::skip_released() {
  while (!fifo_.empty() && fifo_.front().k <= last_)
    fifo_.pop_front();
}

size_t reorder_buffer::release(int64_t now_ms, std::vector<event>& out) {
  size_t forced = 0;
  // Saturating: a newest timestamp near INT64_MIN must not wrap.
  int64_t mark = newest_ts_ < INT64_MIN + cfg_.allowed_lateness_ms
                   ? INT64_MIN
                   : newest_ts_ - cfg_.allowed_lateness_ms;
  while (size() > 0) {
    skip_released();
    bool expired = !fifo_.empty()
                   && fifo_.front().since_ms + cfg_.max_hold_ms <= now_ms;
    bool over = size() > cfg_.max_events;
    if (min_key().ts <= mark || expired) {
      pop_into(out);
    } else if (over) {
      pop_into(out);
      ++forced;
    } else {
      break;
    }
  }
  skip_released();
  return forced;
}

void reorder_buffer::release_all(std::vector<event>& out) {
  while (size() > 0)
    pop_into(out);
  fifo_.clear();
}

int64_t reorder_buffer::next_deadline() {
  skip_released();
  return fifo_.empty() ? -1 : fifo_.front().since_ms + cfg_.max_hold_ms;
}

} // namespace gcstream
