#include "host/health.hpp"

#include <algorithm>

namespace gcstream {

namespace {

// "75 s", or "0.8 s" under ten seconds.
std::string seconds_text(int64_t ms) {
  ms = std::max<int64_t>(ms, 0);
  if (ms >= 10000)
    return std::to_string(ms / 1000) + " s";
  return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + " s";
}

} // namespace

tenant_health judge_health(const tenant_metrics& m, int64_t now_ms, int64_t budget_ms) {
  tenant_health h;
  auto bad = [&](const std::string& why) {
    h.ok = false;
    h.text += m.tenant + ": " + why + "\n";
  };
  auto in_state = now_ms - m.state_since_ms;
  auto with_reason = m.reason.empty() ? std::string{} : " (" + m.reason + ")";
  if (m.state == "failed") {
    bad("failed" + with_reason + " since " + seconds_text(in_state));
  } else if (m.state == "stopped") {
    bad("stopped");
  } else if (m.state == "connected") {
    auto last = std::max(m.last_frame_ms, m.state_since_ms);
    if (m.heartbeat_timeout_ms > 0 && now_ms - last > m.heartbeat_timeout_ms)
      bad("connected but no frame for " + seconds_text(now_ms - last)
          + " (heartbeat timeout " + seconds_text(m.heartbeat_timeout_ms) + ")");
  } else if (in_state >= budget_ms) {
    // starting, reconnecting, stopping, or a state this code does not know.
    bad(m.state + with_reason + " for " + seconds_text(in_state)
        + ", over the health budget of " + seconds_text(budget_ms));
  }
  if (!m.problem.empty())
    bad(m.problem);
  return h;
}

} // namespace gcstream
