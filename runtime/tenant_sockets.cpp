#include "runtime/tenant_sockets.hpp"

namespace gcstream {

void tenant_sockets::leave(uint64_t conn, std::string permit) {
  std::lock_guard<std::mutex> g{mtx_};
  left_.emplace_back(conn, std::move(permit));
}

void tenant_sockets::close_left(uint16_t code, const std::string& reason) {
  std::vector<std::pair<uint64_t, std::string>> all;
  {
    std::lock_guard<std::mutex> g{mtx_};
    all.swap(left_);
  }
  for (auto& [conn, permit] : all) {
    if (ws_)
      ws_->close(conn, code, reason);
    if (release_ && !permit.empty())
      release_(permit);
  }
}

size_t tenant_sockets::left() const {
  std::lock_guard<std::mutex> g{mtx_};
  return left_.size();
}

} // namespace gcstream
