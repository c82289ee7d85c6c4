#include "runtime/tenant_sockets.hpp"

namespace gcstream {

void tenant_sockets::leave(uint64_t conn) {
  std::lock_guard<std::mutex> g{mtx_};
  left_.push_back(conn);
}

void tenant_sockets::close_left(uint16_t code, const std::string& reason) {
  std::vector<uint64_t> all;
  {
    std::lock_guard<std::mutex> g{mtx_};
    all.swap(left_);
  }
  if (ws_)
    for (auto conn : all)
      ws_->close(conn, code, reason);
}

size_t tenant_sockets::left() const {
  std::lock_guard<std::mutex> g{mtx_};
  return left_.size();
}

} // namespace gcstream
