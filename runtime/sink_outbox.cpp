#include "runtime/sink_outbox.hpp"

#include <caf/make_message.hpp>

#include "messages/atoms.hpp"

namespace gcstream {

size_t sink_outbox::trim(std::vector<uint64_t>* dropped_ids) {
  size_t n = 0;
  while (waiting_.size() > cfg_.max_events) {
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
  if (waiting_.empty() || in_flight_.size() >= cfg_.window)
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
  in_flight_events_ += n;
  auto seq = b.seq;
  outbox_batch out{caf::make_message(deliver_atom::value, std::move(b))};
  return in_flight_.emplace(seq, std::move(out)).first->second;
}

bool sink_outbox::ack(uint64_t seq) {
  auto it = in_flight_.find(seq);
  if (it == in_flight_.end())
    return false;
  in_flight_events_ -= it->second->events.size();
  acked_events_ += it->second->events.size();
  in_flight_.erase(it);
  return true;
}

std::vector<outbox_batch> sink_outbox::unacknowledged() const {
  std::vector<outbox_batch> out;
  out.reserve(in_flight_.size());
  for (auto& kv : in_flight_)
    out.push_back(kv.second);
  return out;
}

} // namespace gcstream
