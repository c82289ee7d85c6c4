#include "messages/event.hpp"

#include <functional>

namespace gcstream {

namespace {

// Whether `part` lies inside `whole` (an empty part always does: it needs no
// bytes). std::less gives a total order over unrelated pointers.
bool inside(std::string_view part, const std::string& whole) {
  if (part.empty())
    return true;
  std::less<const char*> lt;
  const char* b = whole.data();
  const char* e = b + whole.size();
  return !lt(part.data(), b) && !lt(e, part.data() + part.size());
}

} // namespace

event::event(std::string_view topic, std::string_view id, int64_t ts,
             int64_t received, bool is_late, frame_ref frame, uint64_t row)
  : ts_ms(ts),
    received_ms(received),
    late(is_late),
    journal_id(row),
    frame_(std::move(frame)) {
  const std::string& bytes = frame_.str();
  if (inside(topic, bytes) && inside(id, bytes)) {
    topic_ = topic.empty() ? std::string_view{} : topic;
    id_ = id.empty() ? std::string_view{} : id;
    return;
  }
  std::string text;
  text.reserve(topic.size() + id.size());
  text.append(topic).append(id);
  side_ = std::make_shared<const std::string>(std::move(text));
  topic_ = std::string_view{*side_}.substr(0, topic.size());
  id_ = std::string_view{*side_}.substr(topic.size());
}

event& event::operator=(event&& other) noexcept {
  if (this == &other)
    return *this;
  ts_ms = other.ts_ms;
  received_ms = other.received_ms;
  late = other.late;
  journal_id = other.journal_id;
  // The views stay valid: they point into buffers that move along.
  frame_ = std::move(other.frame_);
  side_ = std::move(other.side_);
  topic_ = other.topic_;
  id_ = other.id_;
  other.topic_ = {};
  other.id_ = {};
  return *this;
}

} // namespace gcstream
