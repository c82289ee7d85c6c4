#include "host/runtime.hpp"

#include <caf/all.hpp>

#include "messages/errors.hpp"

namespace gcstream {

using namespace std::chrono;

std::string limiter_key_of(const std::string& login_url,
                           const std::string& client_id) {
  auto host = login_url;
  if (auto p = host.find("://"); p != std::string::npos)
    host.erase(0, p + 3);
  if (auto p = host.find_first_of("/?#"); p != std::string::npos)
    host.erase(p);
  return host + "|" + client_id;
}

runtime::runtime(caf::actor_system& sys, runtime_settings settings)
  : sys_(sys),
    cfg_(std::move(settings)),
    http_(std::make_shared<http_client>(cfg_.http)),
    ws_(std::make_shared<ws_transport>(cfg_.ws)),
    limiter_(sys.spawn(connection_limiter, cfg_.limiter)) {
}

runtime::~runtime() {
  shutdown();
}

caf::expected<supervisor_actor> runtime::add_tenant(tenant_config c) {
  auto bad = [&](const std::string& what) {
    return make_error(errc::bad_config, "tenant " + c.id + ": " + what);
  };
  if (c.id.empty())
    return make_error(errc::bad_config, "a tenant needs an id");
  if (c.topics.empty())
    return bad("no topics");
  if (c.sinks.empty())
    return bad("no sinks");
  std::lock_guard<std::mutex> guard{mtx_};
  if (stopped_)
    return bad("the runtime is shut down");
  if (tenants_.count(c.id) != 0)
    return bad("a tenant with this id exists");
  c.token.tenant = c.id;
  c.token.login_url = c.login_url;
  c.token.client_id = c.client_id;
  c.token.client_secret = std::move(c.client_secret);
  c.session.tenant = c.id;
  c.session.api_url = c.api_url;
  c.session.topics = c.topics;
  c.supervisor.tenant = c.id;
  c.supervisor.limiter_key = limiter_key_of(c.login_url, c.client_id);
  c.orderer.tenant = c.id;
  tenant_entry t;
  t.inbox = std::make_shared<event_inbox>(c.inbox_max_events);
  t.keep = std::make_shared<orderer_keep>(c.orderer, std::move(c.sinks));
  t.keep->http = http_;
  if (!c.journal_path.empty()) {
    auto j = journal::open(c.journal_path);
    if (!j)
      return bad(reason_of(j.error()));
    t.keep->attach_journal(std::move(*j));
  }
  t.token = sys_.spawn(token_actor_impl, c.token,
                       std::static_pointer_cast<http_transport>(http_),
                       cfg_.observer);
  auto deps = session_deps{t.token, http_, ws_, ingest_actor{}, t.inbox, {},
                           cfg_.observer};
  auto session_cfg = c.session;
  session_factory make_session = [deps, session_cfg](supervisor_pointer self,
                                                     const channel_info& resume) {
    auto s = session_cfg;
    s.resume = resume;
    auto d = deps;
    d.ingest = caf::actor_cast<ingest_actor>(self->state.orderer);
    d.listener = self;
    return caf::actor_cast<caf::actor>(self->spawn(session_actor_impl, s, d));
  };
  t.supervisor = sys_.spawn(tenant_supervisor_with_orderer, c.supervisor, t.token,
                            limiter_, t.keep, make_session, cfg_.observer);
  // The token actor goes with its supervisor.
  t.supervisor->attach_functor([tok = t.token](const caf::error&) {
    caf::anon_send_exit(tok, caf::exit_reason::user_shutdown);
  });
  auto out = t.supervisor;
  tenants_.emplace(c.id, std::move(t));
  return out;
}

std::optional<supervisor_actor> runtime::tenant(const std::string& id) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = tenants_.find(id);
  if (it == tenants_.end())
    return std::nullopt;
  return it->second.supervisor;
}

std::vector<std::string> runtime::tenants() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<std::string> out;
  for (auto& kv : tenants_)
    out.push_back(kv.first);
  return out;
}

tenant_status runtime::status(const std::string& id, milliseconds timeout) {
  tenant_status out;
  out.tenant = id;
  auto sup = tenant(id);
  if (!sup)
    return out;
  caf::scoped_actor self{sys_};
  self->request(*sup, timeout, status_atom::value)
    .receive([&](const tenant_status& s) { out = s; }, [](caf::error&) {});
  return out;
}

orderer_stats runtime::stats(const std::string& id, milliseconds timeout) {
  orderer_stats out;
  out.tenant = id;
  auto sup = tenant(id);
  if (!sup)
    return out;
  caf::scoped_actor self{sys_};
  self->request(*sup, timeout, stats_atom::value)
    .receive([&](const orderer_stats& s) { out = s; }, [](caf::error&) {});
  return out;
}

void runtime::stop_tenants(std::vector<tenant_entry> entries,
                           milliseconds deadline) {
  if (entries.empty())
    return;
  caf::scoped_actor self{sys_};
  for (auto& t : entries) {
    self->monitor(t.supervisor);
    self->send(t.supervisor, stop_atom::value);
  }
  auto until = steady_clock::now() + deadline;
  size_t down = 0;
  bool timed_out = false;
  while (down < entries.size() && !timed_out) {
    auto left = duration_cast<milliseconds>(until - steady_clock::now());
    if (left.count() <= 0)
      break;
    self->receive([&](caf::down_msg&) { ++down; },
                  caf::after(left) >> [&] { timed_out = true; });
  }
  // Whatever did not stop in time is stopped now, without a drain.
  for (auto& t : entries)
    caf::anon_send_exit(t.supervisor, caf::exit_reason::kill);
}

bool runtime::remove_tenant(const std::string& id, milliseconds deadline) {
  tenant_entry t;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto it = tenants_.find(id);
    if (it == tenants_.end())
      return false;
    t = std::move(it->second);
    tenants_.erase(it);
  }
  auto sup = t.supervisor;
  caf::scoped_actor self{sys_};
  self->monitor(sup);
  self->send(sup, stop_atom::value);
  bool ended = false;
  self->receive([&](caf::down_msg&) { ended = true; },
                caf::after(deadline) >> [] {});
  if (!ended)
    caf::anon_send_exit(sup, caf::exit_reason::kill);
  return ended;
}

void runtime::shutdown(milliseconds deadline) {
  std::vector<tenant_entry> entries;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopped_)
      return;
    stopped_ = true;
    for (auto& kv : tenants_)
      entries.push_back(std::move(kv.second));
    tenants_.clear();
  }
  stop_tenants(std::move(entries), deadline);
  caf::anon_send_exit(limiter_, caf::exit_reason::user_shutdown);
  ws_->stop();
  http_->stop();
}

} // namespace gcstream
