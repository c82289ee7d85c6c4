#include "runtime/frame_reader.hpp"

#include <chrono>
#include <cstdio>
#include <limits>

namespace gcstream {

int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

std::string frame_excerpt(const std::string& frame) {
  std::string out;
  for (size_t i = 0; i < frame.size() && i < 100; ++i) {
    auto c = static_cast<unsigned char>(frame[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (frame.size() > 100)
    out += "...";
  return out;
}

std::function<bool(uint64_t, std::vector<frame_ref>&&, int64_t)>
frame_reader(frame_reader_settings cfg, std::shared_ptr<event_inbox> inbox,
             std::shared_ptr<event_budget> budget, frames_notify notify) {
  auto parser = std::make_shared<envelope_parser>(cfg.timestamp_rules,
                                                  cfg.id_body_key);
  // Frames are news for the watchdog; telling the session once per
  // liveness_ms is enough (and spares a message per read at full rate). The
  // watchdog may then count a silence from up to liveness_ms before the
  // last frame. Notices always go at once.
  return [=, told_ms = std::numeric_limits<int64_t>::min()](
           uint64_t conn, std::vector<frame_ref>&& frames,
           int64_t arrival) mutable {
    inbox->note_frame(arrival);
    if (cfg.heard)
      cfg.heard->store(steady_ms(), std::memory_order_relaxed);
    event_batch batch;
    batch.tenant = cfg.tenant;
    batch.events.reserve(frames.size());
    std::vector<frame_notice> notices;
    envelope env;
    for (auto& f : frames) {
      auto& bytes = f.str();
      auto kind = parser->parse(bytes.data(), bytes.size(), bytes.capacity(),
                                arrival, env);
      if (kind == frame_kind::event) {
        batch.events.push_back(event{std::move(env.topic), std::move(env.id),
                                     env.ts_ms, arrival, false, std::move(f)});
        continue;
      }
      if (cfg.heard
          && (kind == frame_kind::heartbeat || kind == frame_kind::pong
              || kind == frame_kind::metadata))
        continue; // alive, and nothing to do: `heard` says it
      frame_notice n;
      n.kind = static_cast<uint8_t>(kind);
      n.topic = env.topic;
      if (kind == frame_kind::reply)
        n.detail = env.result.substr(0, 16); // the service's text: bounded
      else if (kind >= frame_kind::socket_closing && kind <= frame_kind::system)
        n.detail = env.channel; // compared by the session, never printed
      if (kind == frame_kind::malformed) {
        n.detail = env.error;
        n.size = bytes.size();
        if (cfg.excerpts)
          n.excerpt = frame_excerpt(bytes);
      }
      notices.push_back(std::move(n));
    }
    uint64_t count = frames.size();
    if (!batch.events.empty())
      inbox->push(std::move(batch)); // kept outside the actors until acked
    bool pause = budget && budget->pause_reading(conn);
    if (cfg.heard) {
      if (!notices.empty())
        notify(count, std::move(notices));
      return pause;
    }
    if (notices.empty() && told_ms != std::numeric_limits<int64_t>::min()
        && arrival - told_ms < cfg.liveness_ms && arrival >= told_ms)
      return pause;
    told_ms = arrival;
    notify(count, std::move(notices));
    return pause;
  };
}

} // namespace gcstream
