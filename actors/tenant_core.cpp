#include "actors/tenant_core.hpp"

#include <chrono>

namespace gcstream {

namespace {

int64_t wall_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

tenant_core::tenant_core(std::string tenant_id) : id(std::move(tenant_id)) {
  status_.tenant = id;
  status_.state = "starting";
  status_.since_ms = wall_now_ms();
}

void tenant_core::publish(const tenant_status& st, const tenant_handles& h) {
  bool failed_now = false;
  {
    std::lock_guard<std::mutex> g{mtx_};
    auto since = status_.since_ms;
    if (st.state != status_.state && !st.state.empty()) {
      since = wall_now_ms();
      failed_now = st.state == "failed";
    }
    status_ = st;
    if (status_.state.empty())
      status_.state = "starting";
    status_.since_ms = since;
    handles_ = h;
  }
  if (failed_now && on_failed)
    on_failed(id, st.reason);
}

void tenant_core::set_supervisor(caf::actor h) {
  std::lock_guard<std::mutex> g{mtx_};
  handles_.supervisor = std::move(h);
}

tenant_status tenant_core::status() const {
  std::lock_guard<std::mutex> g{mtx_};
  return status_;
}

tenant_handles tenant_core::handles() const {
  std::lock_guard<std::mutex> g{mtx_};
  return handles_;
}

void tenant_core::finish() {
  std::lock_guard<std::mutex> g{mtx_};
  done_ = true;
  cv_.notify_all();
}

bool tenant_core::done() const {
  std::lock_guard<std::mutex> g{mtx_};
  return done_;
}

std::vector<std::vector<std::string>> tenant_core::lane_topics() const {
  std::lock_guard<std::mutex> g{lanes_mtx};
  std::vector<std::vector<std::string>> out;
  for (auto& l : lanes)
    out.push_back(l.topics);
  return out;
}

std::vector<std::shared_ptr<event_inbox>> tenant_core::inboxes() const {
  std::lock_guard<std::mutex> g{lanes_mtx};
  std::vector<std::shared_ptr<event_inbox>> out;
  if (lanes.empty()) {
    if (inbox)
      out.push_back(inbox);
    return out;
  }
  for (auto& l : lanes)
    if (l.inbox)
      out.push_back(l.inbox);
  return out;
}

bool tenant_core::wait_done(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> g{mtx_};
  return cv_.wait_for(g, timeout, [this] { return done_; });
}

} // namespace gcstream
