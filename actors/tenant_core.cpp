#include "actors/tenant_core.hpp"

namespace gcstream {

void tenant_core::publish(const tenant_status& st, const tenant_handles& h) {
  std::lock_guard<std::mutex> g{mtx_};
  status_ = st;
  handles_ = h;
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

bool tenant_core::wait_done(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> g{mtx_};
  return cv_.wait_for(g, timeout, [this] { return done_; });
}

} // namespace gcstream
