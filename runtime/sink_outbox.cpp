#include "runtime/sink_outbox.hpp"

#include <caf/make_message.hpp>

#include "messages/atoms.hpp"

namespace gcstream {

size_t sink_outbox::trim_to(size_t keep, std::vector<uint64_t>* dropped_ids) {
  size_t n = 0;
  while (waiting_.size() > keep) {
    if (dropped_ids && waiting_.front().journal_id != 0)
      dropped_ids->push_back(waiting_.front().journal_id);
    waiting_.pop_front();
    ++n;
  }
  dropped_ += n;
  return n;
}

void sink_outbox::add(const std::vector<event>& events) {
  for (auto& e : events)
    waiting_.push_back(e);
}

void sink_outbox::add(event e) {
  waiting_.push_back(std::move(e));
}

outbox_batch sink_outbox::next(bool partial) {
  if (waiting_.empty() || out_)
    return {};
  size_t max_batch = cfg_.max_batch == 0 ? 1 : cfg_.max_batch;
  if (!partial && waiting_.size() < max_batch)
    return {};
  auto n = std::min(waiting_.size(), max_batch);
  event_batch b;
  b.tenant = tenant_;
  b.seq = next_seq_++;
  b.events.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    b.events.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
  out_ = outbox_batch{caf::make_message(deliver_atom::value, std::move(b))};
  refusals_ = 0;
  last_refusal_.clear();
  return out_;
}

bool sink_outbox::ack(uint64_t seq) {
  if (!find(seq))
    return false;
  acked_events_ += out_->events.size();
  out_ = outbox_batch{};
  refusals_ = 0;
  return true;
}

uint32_t sink_outbox::refused(uint64_t seq, std::string reason) {
  if (!find(seq))
    return 0;
  ++refused_total_;
  last_refusal_ = std::move(reason);
  return ++refusals_;
}

outbox_batch sink_outbox::give_up(uint64_t seq) {
  if (!find(seq))
    return {};
  dead_lettered_ += out_->events.size();
  refusals_ = 0;
  return std::exchange(out_, outbox_batch{});
}

} // namespace gcstream
