#include "actors/channel_permits.hpp"

#include <caf/all.hpp>

namespace gcstream {

channel_permits::channel_permits(std::string tenant, std::string key,
                                 std::shared_ptr<limiter_ref> limiter)
  : tenant_(std::move(tenant)), key_(std::move(key)), limiter_(std::move(limiter)) {
}

namespace {

// The limiter answers the sender of an acquire: the asker, not us.
void send_acquire(const std::shared_ptr<limiter_ref>& lim, const std::string& key,
                  const std::string& holder, const caf::actor& asker) {
  auto to = lim ? lim->get() : limiter_actor{};
  if (to && asker)
    caf::send_as(asker, to, acquire_atom::value, key, holder);
  // else: the limiter restarts; the runtime asks the new one again
}

} // namespace

std::string channel_permits::ask(const caf::actor& asker) {
  std::string holder;
  {
    std::lock_guard<std::mutex> g{mtx_};
    holder = tenant_ + "/" + std::to_string(next_++);
    waiting_[holder] = asker;
  }
  send_acquire(limiter_, key_, holder, asker);
  return holder;
}

void channel_permits::ask_again(const std::string& holder, const caf::actor& asker) {
  {
    std::lock_guard<std::mutex> g{mtx_};
    auto it = waiting_.find(holder);
    if (it == waiting_.end())
      return;
    it->second = asker;
  }
  send_acquire(limiter_, key_, holder, asker);
}

void channel_permits::ask_again_all() {
  std::map<std::string, caf::actor> waiting;
  {
    std::lock_guard<std::mutex> g{mtx_};
    waiting = waiting_;
  }
  for (auto& [holder, asker] : waiting)
    send_acquire(limiter_, key_, holder, asker);
}

bool channel_permits::granted(const std::string& holder) {
  {
    std::lock_guard<std::mutex> g{mtx_};
    if (waiting_.erase(holder) != 0) {
      held_.insert(holder);
      return true;
    }
    if (held_.count(holder) != 0)
      return false; // asked twice (a restart): held already, not news
  }
  // Released while the grant was on its way: the limiter counts it again.
  send_release(holder);
  return false;
}

void channel_permits::release(const std::string& holder) {
  if (holder.empty())
    return;
  {
    std::lock_guard<std::mutex> g{mtx_};
    if (held_.erase(holder) == 0 && waiting_.erase(holder) == 0)
      return;
  }
  send_release(holder);
}

void channel_permits::release_all() {
  std::vector<std::string> all;
  {
    std::lock_guard<std::mutex> g{mtx_};
    all.assign(held_.begin(), held_.end());
    for (auto& kv : waiting_)
      all.push_back(kv.first);
    held_.clear();
    waiting_.clear();
  }
  for (auto& h : all)
    send_release(h);
}

std::vector<std::string> channel_permits::held() const {
  std::lock_guard<std::mutex> g{mtx_};
  return {held_.begin(), held_.end()};
}

size_t channel_permits::held_count() const {
  std::lock_guard<std::mutex> g{mtx_};
  return held_.size();
}

size_t channel_permits::waiting_count() const {
  std::lock_guard<std::mutex> g{mtx_};
  return waiting_.size();
}

void channel_permits::send_release(const std::string& holder) {
  if (auto to = limiter_ ? limiter_->get() : limiter_actor{})
    caf::anon_send(to, release_atom::value, key_, holder);
}

} // namespace gcstream
