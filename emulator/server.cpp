#include "emulator/server.hpp"

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <websocketpp/config/asio.hpp>
#include <websocketpp/server.hpp>

#include "emulator/model.hpp"

namespace gcstream::emulator {

namespace {

instant now_instant() {
  using namespace std::chrono;
  return {duration_cast<milliseconds>(steady_clock::now().time_since_epoch())
            .count(),
          duration_cast<milliseconds>(system_clock::now().time_since_epoch())
            .count()};
}

// The websocketpp configs, with logging compiled out: the emulator must never
// print a frame.
struct plain_config : websocketpp::config::asio {
  static const websocketpp::log::level alog_level =
    websocketpp::log::alevel::none;
  static const websocketpp::log::level elog_level =
    websocketpp::log::elevel::none;
};

struct tls_config : websocketpp::config::asio_tls {
  static const websocketpp::log::level alog_level =
    websocketpp::log::alevel::none;
  static const websocketpp::log::level elog_level =
    websocketpp::log::elevel::none;
  // A TLS shutdown waits for the peer's close_notify; a peer that is gone
  // must not hold the connection (and the emulator's stop) for 5 s.
  struct transport_config : websocketpp::config::asio_tls::transport_config {
    static const long timeout_socket_shutdown = 1000;
  };
  typedef websocketpp::transport::asio::endpoint<transport_config>
    transport_type;
};

} // namespace

/// The type-erased part of the server, so that the header names no
/// websocketpp type.
class server::impl {
public:
  virtual ~impl() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  virtual uint16_t port() const = 0;
  virtual std::string scheme() const = 0;
  virtual std::string host() const = 0;
  virtual std::string stats_json() = 0;
  virtual std::string inject(const std::string& j) = 0;
  virtual std::string reconfigure(const std::string& j) = 0;
};

namespace {

template <class Config>
class endpoint_impl final : public server::impl {
public:
  using endpoint_t = websocketpp::server<Config>;
  using connection_ptr = typename endpoint_t::connection_ptr;
  using message_ptr = typename endpoint_t::message_ptr;
  using hdl = websocketpp::connection_hdl;

  explicit endpoint_impl(config cfg) : model_(cfg), cfg_(std::move(cfg)) {}

  ~endpoint_impl() override { stop(); }

  void start() override {
    ep_.init_asio(&ioc_);
    ep_.set_reuse_addr(true);
    ep_.set_max_message_size(4u << 20);
    ep_.set_close_handshake_timeout(1000);
    ep_.set_tcp_pre_init_handler([this](hdl h) {
      asio::error_code ec;
      ep_.get_con_from_hdl(h)->get_raw_socket().set_option(
        asio::ip::tcp::no_delay(true), ec);
    });
    install_tls();
    ep_.set_http_handler([this](hdl h) { on_http(h); });
    ep_.set_validate_handler([this](hdl h) { return on_validate(h); });
    ep_.set_open_handler([this](hdl h) { on_open(h); });
    ep_.set_message_handler(
      [this](hdl h, message_ptr m) { on_message(h, m); });
    ep_.set_close_handler([this](hdl h) { on_end(h); });
    ep_.set_fail_handler([this](hdl h) { on_end(h); });
    asio::error_code ec;
    auto addr = asio::ip::make_address(cfg_.listen_host, ec);
    if (ec)
      throw std::runtime_error("bad listen address " + cfg_.listen_host);
    ep_.listen(asio::ip::tcp::endpoint(addr, cfg_.port), ec);
    if (ec)
      throw std::runtime_error("cannot listen on " + cfg_.listen_host + ":"
                               + std::to_string(cfg_.port) + ": "
                               + ec.message());
    port_ = ep_.get_local_endpoint(ec).port();
    {
      std::lock_guard<std::mutex> guard{mtx_};
      model_.set_stream_base(std::string(scheme() == "https" ? "wss" : "ws")
                             + "://" + cfg_.listen_host + ":"
                             + std::to_string(port_));
    }
    ep_.start_accept(ec);
    if (ec)
      throw std::runtime_error("cannot accept: " + ec.message());
    work_.emplace(ioc_.get_executor());
    schedule_tick();
    thread_ = std::thread([this] { ioc_.run(); });
    running_ = true;
  }

  void stop() override {
    if (!running_)
      return;
    running_ = false;
    asio::post(ioc_, [this] {
      asio::error_code ec;
      ep_.stop_listening(ec);
      tick_timer_.cancel();
      stopping_ = true;
      auto open = open_;
      for (auto& [id, con] : open) {
        if (stalled_.count(id))
          abort_socket(con);
        else
          con->close(websocketpp::close::status::going_away, "emulator stopping",
                     ec);
      }
      stalled_.clear();
      work_.reset();
    });
    thread_.join();
  }

  uint16_t port() const override { return port_; }

  std::string host() const override { return cfg_.listen_host; }

  std::string scheme() const override {
    return cfg_.tls_cert.empty() ? "http" : "https";
  }

  std::string stats_json() override {
    std::lock_guard<std::mutex> guard{mtx_};
    return model_.stats_json(now_instant());
  }

  std::string inject(const std::string& j) override {
    // (model_.inject checks every field; it does not throw.)
    std::string err;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      err = model_.inject(j, now_instant());
    }
    asio::post(ioc_, [this] { run_actions(); });
    return err;
  }

  std::string reconfigure(const std::string& j) override {
    std::lock_guard<std::mutex> guard{mtx_};
    return model_.reconfigure(j);
  }

private:
  void install_tls();

  void on_http(hdl h) {
    auto con = ep_.get_con_from_hdl(h);
    auto& rq = con->get_request();
    http_request req;
    req.method = rq.get_method();
    req.target = rq.get_uri();
    req.authorization = rq.get_header("Authorization");
    req.content_type = rq.get_header("Content-Type");
    req.body = rq.get_body();
    http_response resp;
    try {
      std::lock_guard<std::mutex> guard{mtx_};
      resp = model_.handle_http(req, now_instant());
    } catch (const std::exception& e) {
      // Never into websocketpp (it would call std::terminate): a 500.
      resp = http_response{};
      resp.status = 500;
      resp.body = std::string{"{\"error\":\"internal error\"}"};
    }
    run_actions();
    if (resp.delay_ms == 0) {
      fill(con, resp, req.method == "HEAD");
      return;
    }
    // Slow-response fault: answer later, from a timer.
    con->defer_http_response();
    auto timer = std::make_shared<asio::steady_timer>(
      ioc_, std::chrono::milliseconds(resp.delay_ms));
    bool head = req.method == "HEAD";
    timer->async_wait([this, con, timer, resp, head](const asio::error_code&) {
      fill(con, resp, head);
      asio::error_code ec;
      con->send_http_response(ec);
    });
  }

  static void fill(const connection_ptr& con, const http_response& resp,
                   bool head) {
    con->set_status(static_cast<websocketpp::http::status_code::value>(
      resp.status));
    for (auto& [k, v] : resp.headers)
      con->append_header(k, v);
    // websocketpp closes the connection after each response; saying so keeps
    // keep-alive clients (Node's agent, the Genesys SDK) from reusing it.
    con->replace_header("Connection", "close");
    if (!head)
      con->set_body(resp.body);
  }

  bool on_validate(hdl h) {
    auto con = ep_.get_con_from_hdl(h);
    int status;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      status = model_.upgrade_status(con->get_resource(), now_instant());
    }
    if (status == 101)
      return true;
    con->set_status(static_cast<websocketpp::http::status_code::value>(status));
    con->set_body(R"({"message":"channel not found","code":"not.found","status":404})");
    return false;
  }

  void on_open(hdl h) {
    auto con = ep_.get_con_from_hdl(h);
    socket_open_result r;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      r = model_.socket_open(con->get_resource(), now_instant());
    }
    if (r.socket == 0) {
      asio::error_code ec;
      con->close(websocketpp::close::status::policy_violation,
                 "channel not found", ec);
      return;
    }
    open_[r.socket] = con;
    ids_[h] = r.socket;
    run_actions();
  }

  void on_message(hdl h, message_ptr m) {
    auto it = ids_.find(h);
    if (it == ids_.end())
      return;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      model_.socket_message(it->second, m->get_payload(), now_instant());
    }
    run_actions();
  }

  void on_end(hdl h) {
    auto it = ids_.find(h);
    if (it == ids_.end())
      return;
    uint64_t id = it->second;
    ids_.erase(it);
    open_.erase(id);
    stalled_.erase(id);
    {
      std::lock_guard<std::mutex> guard{mtx_};
      model_.socket_closed(id, now_instant());
    }
    run_actions();
  }

  void schedule_tick() {
    tick_timer_.expires_after(std::chrono::milliseconds(cfg_.tick_ms));
    tick_timer_.async_wait([this](const asio::error_code& ec) {
      if (ec || stopping_)
        return;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        model_.tick(now_instant());
      }
      run_actions();
      schedule_tick();
    });
  }

  // A text frame ready for the wire. websocketpp sends a prepared message as
  // it is: no copy per connection and no second UTF-8 check of bytes the
  // emulator built itself (that check alone costs about 2.4 us per 860-byte
  // frame). Server frames are not masked.
  static message_ptr prepared_text(const std::string& payload) {
    auto msg = std::make_shared<typename message_ptr::element_type>(
      nullptr, websocketpp::frame::opcode::text, 0);
    std::string header;
    header += static_cast<char>(0x81); // FIN, text
    const uint64_t n = payload.size();
    if (n < 126) {
      header += static_cast<char>(n);
    } else if (n <= 0xffff) {
      header += static_cast<char>(126);
      header += static_cast<char>(n >> 8);
      header += static_cast<char>(n & 0xff);
    } else {
      header += static_cast<char>(127);
      for (int shift = 56; shift >= 0; shift -= 8)
        header += static_cast<char>((n >> shift) & 0xff);
    }
    msg->set_header(header);
    msg->get_raw_payload() = payload;
    msg->set_prepared(true);
    return msg;
  }

  // Carries out what the model asked for. Runs on the Asio thread only.
  void run_actions() {
    std::vector<socket_action> actions;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      actions = model_.take_actions();
    }
    // One prepared message per event, shared by every channel it goes to
    // (the model queues an event's sends one after the other).
    const std::string* last_payload = nullptr;
    message_ptr last_msg;
    for (auto& a : actions) {
      auto it = open_.find(a.socket);
      if (it == open_.end())
        continue;
      auto con = it->second;
      asio::error_code ec;
      switch (a.kind) {
        case socket_action::send:
          if (con->get_buffered_amount() > cfg_.max_buffered_bytes) {
            forget(a.socket);
            con->close(websocketpp::close::status::policy_violation,
                       "slow consumer", ec);
            break;
          }
          if (a.payload.get() != last_payload) {
            last_payload = a.payload.get();
            last_msg = prepared_text(*a.payload);
          }
          con->send(last_msg);
          break;
        case socket_action::close:
          if (stalled_.count(a.socket)) {
            forget(a.socket);
            abort_socket(con);
          } else {
            forget(a.socket);
            con->close(a.code, a.reason, ec);
          }
          break;
        case socket_action::drop:
          forget(a.socket);
          drop_when_flushed(con, 0);
          break;
        case socket_action::reset:
          forget(a.socket);
          abort_socket(con);
          break;
        case socket_action::stall:
          con->pause_reading();
          stalled_[a.socket] = con;
          break;
      }
    }
  }

  // The model has already ended this socket; stop routing to it.
  void forget(uint64_t socket) {
    auto it = open_.find(socket);
    if (it == open_.end())
      return;
    ids_.erase(it->second->get_handle());
    open_.erase(it);
    stalled_.erase(socket);
  }

  // FIN without a close frame, once what was queued has left: data already
  // written arrives, as in an orderly TCP close.
  void drop_when_flushed(connection_ptr con, int attempts) {
    if (con->get_buffered_amount() > 0 && attempts < 1000) {
      auto timer =
        std::make_shared<asio::steady_timer>(ioc_, std::chrono::milliseconds(1));
      timer->async_wait([this, con, timer, attempts](const asio::error_code&) {
        drop_when_flushed(con, attempts + 1);
      });
      return;
    }
    asio::error_code ec;
    con->get_raw_socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  }

  static void abort_socket(const connection_ptr& con) {
    asio::error_code ec;
    auto& so = con->get_raw_socket();
    so.set_option(asio::socket_base::linger(true, 0), ec);
    so.close(ec);
  }

  asio::io_context ioc_;
  endpoint_t ep_;
  asio::steady_timer tick_timer_{ioc_};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
    work_;
  std::thread thread_;
  std::mutex mtx_;
  model model_;
  config cfg_;
  uint16_t port_ = 0;
  bool running_ = false;
  bool stopping_ = false;
  // Asio thread only:
  std::unordered_map<uint64_t, connection_ptr> open_;
  std::map<hdl, uint64_t, std::owner_less<hdl>> ids_;
  std::unordered_map<uint64_t, connection_ptr> stalled_;
};

template <>
void endpoint_impl<plain_config>::install_tls() {}

template <>
void endpoint_impl<tls_config>::install_tls() {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  asio::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds
                     | asio::ssl::context::no_sslv2
                     | asio::ssl::context::no_sslv3,
                   ec);
  ctx->use_certificate_chain_file(cfg_.tls_cert, ec);
  if (ec)
    throw std::runtime_error("cannot load TLS certificate " + cfg_.tls_cert
                             + ": " + ec.message());
  ctx->use_private_key_file(cfg_.tls_key, asio::ssl::context::pem, ec);
  if (ec)
    throw std::runtime_error("cannot load TLS key " + cfg_.tls_key + ": "
                             + ec.message());
  ep_.set_tls_init_handler([ctx](hdl) { return ctx; });
}

} // namespace

server::server(config cfg) {
  if (cfg.tls_cert.empty() != cfg.tls_key.empty())
    throw std::runtime_error("TLS needs both a certificate and a key");
  if (cfg.tls_cert.empty())
    impl_ = std::make_unique<endpoint_impl<plain_config>>(std::move(cfg));
  else
    impl_ = std::make_unique<endpoint_impl<tls_config>>(std::move(cfg));
}

server::~server() {
  stop();
}

void server::start() {
  impl_->start();
}

void server::stop() {
  impl_->stop();
}

uint16_t server::port() const {
  return impl_->port();
}

std::string server::base_url() const {
  return impl_->scheme() + "://" + impl_->host() + ":"
         + std::to_string(impl_->port());
}

std::string server::stats_json() {
  return impl_->stats_json();
}

std::string server::inject(const std::string& fault_json) {
  return impl_->inject(fault_json);
}

std::string server::reconfigure(const std::string& json) {
  return impl_->reconfigure(json);
}

} // namespace gcstream::emulator
