#include "runtime/ws_transport.hpp"

#include "runtime/redact.hpp"

#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_client.hpp>

#include "messages/errors.hpp"
#include "runtime/endpoints.hpp"
#include "runtime/envelope.hpp"
#include "runtime/message_pool.hpp"

namespace gcstream::detail {

// The message types of both configs: pooled, padded payloads
// (runtime/message_pool.hpp).
struct pooled_messages {
  using message_type =
    websocketpp::message_buffer::message<pooled_msg_manager>;
  using con_msg_manager_type = pooled_msg_manager<message_type>;
  using endpoint_msg_manager_type =
    websocketpp::message_buffer::alloc::endpoint_msg_manager<
      con_msg_manager_type>;
};

// The client's websocketpp configs: logging compiled out (websocketpp would
// print every frame), and their own types so that the specializations below
// touch nothing else in the process.
// One socket read takes up to 64 KiB (websocketpp's default is 16 KiB, about
// 19 conversation events). Each read becomes a batch downstream (an inbox
// push, a poke, a message to the orderer, a sink delivery), so fewer, larger
// reads save about 0.3 us of client CPU per event at 100,000 events/s
// (bench_end_to_end, 16 KiB against 64 KiB, run in turns). The buffer is in
// every connection, but pages that no read reached are not resident: 1,000
// idle tenants (bench_tenants) hold about 1 MiB more.
constexpr size_t read_buffer_size = 65536;

struct ws_plain_config : websocketpp::config::asio_client {
  static const size_t connection_read_buffer_size = read_buffer_size;
  using message_type = pooled_messages::message_type;
  using con_msg_manager_type = pooled_messages::con_msg_manager_type;
  using endpoint_msg_manager_type = pooled_messages::endpoint_msg_manager_type;
  static const websocketpp::log::level alog_level =
    websocketpp::log::alevel::none;
  static const websocketpp::log::level elog_level =
    websocketpp::log::elevel::none;
};

struct ws_tls_config : websocketpp::config::asio_tls_client {
  static const size_t connection_read_buffer_size = read_buffer_size;
  using message_type = pooled_messages::message_type;
  using con_msg_manager_type = pooled_messages::con_msg_manager_type;
  using endpoint_msg_manager_type = pooled_messages::endpoint_msg_manager_type;
  static const websocketpp::log::level alog_level =
    websocketpp::log::alevel::none;
  static const websocketpp::log::level elog_level =
    websocketpp::log::elevel::none;
  // A TLS shutdown waits for the peer's close_notify: not for 5 s.
  struct transport_config
    : websocketpp::config::asio_tls_client::transport_config {
    static const long timeout_socket_shutdown = 1000;
  };
  typedef websocketpp::transport::asio::endpoint<transport_config>
    transport_type;
};

} // namespace gcstream::detail

// The hybi13 payload step for gcstream's own configs: the stock one, minus the
// byte-by-byte UTF-8 check of text frames (the envelope parser validates the
// same bytes), plus room for the parser's padding (already reserved by
// pooled_msg_manager for an unfragmented frame), so that the frame is parsed
// in place and never copied. Must come before any use of the
// processor in this file.
#define GCSTREAM_PAYLOAD_STEP(config_type)                                     \
  template <>                                                                  \
  size_t websocketpp::processor::hybi13<config_type>::process_payload_bytes(   \
    uint8_t* buf, size_t len, lib::error_code& ec) {                           \
    if (frame::get_masked(m_basic_header))                                     \
      m_current_msg->prepared_key =                                            \
        frame::byte_mask_circ(buf, len, m_current_msg->prepared_key);          \
    std::string& out = m_current_msg->msg_ptr->get_raw_payload();              \
    const size_t want = out.size() + static_cast<size_t>(m_bytes_needed)       \
                        + gcstream::envelope_parser::padding();                \
    if (out.capacity() < want)                                                 \
      out.reserve(want);                                                       \
    if (m_permessage_deflate.is_enabled()                                      \
        && m_current_msg->msg_ptr->get_compressed()) {                         \
      ec = m_permessage_deflate.decompress(buf, len, out);                     \
      if (ec)                                                                  \
        return 0;                                                              \
    } else {                                                                   \
      out.append(reinterpret_cast<char*>(buf), len);                           \
    }                                                                          \
    m_bytes_needed -= len;                                                     \
    return len;                                                                \
  }

GCSTREAM_PAYLOAD_STEP(gcstream::detail::ws_plain_config)
GCSTREAM_PAYLOAD_STEP(gcstream::detail::ws_tls_config)

#undef GCSTREAM_PAYLOAD_STEP

namespace gcstream {

namespace {

using hdl = websocketpp::connection_hdl;
using plain_client = websocketpp::client<detail::ws_plain_config>;
using tls_client = websocketpp::client<detail::ws_tls_config>;

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

// One connection's bookkeeping. Fields below `hdl` are touched only from the
// connection's handlers (its strand), or under the transport's lock.
struct conn_state {
  uint64_t id = 0;
  ws_handlers handlers;
  bool tls = false;
  hdl handle;
  bool requested = false;
  /// While reading is paused, the connection itself: websocketpp owns no
  /// connection with no I/O pending, so a paused one would die silently.
  std::shared_ptr<void> held;
  /// close() came before the socket was open: close it as soon as it is.
  bool close_on_open = false;
  uint16_t close_code = 1000;
  std::string close_reason;
  /// Why abort() cut it (reported as the local reason).
  std::string abort_reason;
  std::vector<frame_ref> pending;
  int64_t pending_since = 0;
  bool flush_posted = false;
};

} // namespace

namespace {
// Whether this socket thread handed frames over since it last woke (the
// paced loop sleeps out the coalescing window only then).
thread_local bool frames_read_here = false;
} // namespace

class ws_transport::impl {
public:
  explicit impl(ws_settings s) : s_(std::move(s)) {
    init(plain_);
    init(tls_);
    auto ctx =
      std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_verify_mode(asio::ssl::verify_peer);
    asio::error_code ec;
    if (s_.ca_file.empty())
      ctx->set_default_verify_paths(ec);
    else
      ctx->load_verify_file(s_.ca_file, ec);
    ca_error_ = ec ? "cannot load CA file " + s_.ca_file + ": " + ec.message()
                   : "";
    tls_.set_tls_init_handler([ctx](hdl) { return ctx; });
    work_.emplace(ioc_.get_executor());
    for (size_t i = 0; i < std::max<size_t>(1, s_.io_threads); ++i)
      threads_.emplace_back([this] { run(); });
  }

  // The socket thread's loop. Paced: wait for the first ready handler,
  // run everything that is ready, then sleep out the coalescing window
  // (counted from the wake-up) while the kernel gathers the next frames.
  // At 10,000 frames/s and 10 ms this is 100 wake-ups a second instead of
  // 10,000, for this thread and for the actors it pokes.
  void run() {
    if (s_.coalesce_ms <= 0) {
      ioc_.run();
      return;
    }
    auto window = std::chrono::milliseconds{s_.coalesce_ms};
    for (;;) {
      frames_read_here = false;
      if (ioc_.run_one() == 0)
        return; // stopped, or out of work
      auto woke = std::chrono::steady_clock::now();
      ioc_.poll();
      if (ioc_.stopped())
        return;
      // Only a stream is paced: connects, handshakes and closes (no frames
      // handed over) go on at once, so a reconnect is not slowed down.
      if (frames_read_here)
        std::this_thread::sleep_until(woke + window);
    }
  }

  ~impl() { stop(); }

  caf::expected<uint64_t> connect(const std::string& uri, ws_handlers h) {
    bool tls = uri.rfind("wss://", 0) == 0;
    bool plain = uri.rfind("ws://", 0) == 0;
    if (!tls && !plain)
      return make_error(errc::bad_url, "not a ws:// or wss:// URI: '"
                                         + redact_url(uri).substr(0, 80) + "'");
    if (plain && !s_.allow_insecure
        && !is_loopback_url("http://" + uri.substr(5)))
      return make_error(errc::insecure_url,
                        "ws:// is allowed only for loopback addresses; use "
                        "wss:// or set allow_insecure");
    if (tls && !ca_error_.empty())
      return make_error(errc::tls_verify_failed, ca_error_);
    auto st = std::make_shared<conn_state>();
    st->handlers = std::move(h);
    st->tls = tls;
    {
      std::lock_guard<std::mutex> g{mtx_};
      if (stopping_)
        return make_error(errc::http_shutdown, "the transport is stopping");
      st->id = ++next_id_;
      conns_[st->id] = st;
    }
    auto err = tls ? start(tls_, tls_connect_mtx_, uri, st)
                   : start(plain_, plain_connect_mtx_, uri, st);
    if (err) {
      std::lock_guard<std::mutex> g{mtx_};
      conns_.erase(st->id);
      return err;
    }
    return st->id;
  }

  bool send(uint64_t id, std::string text) {
    auto st = find(id);
    if (!st)
      return false;
    websocketpp::lib::error_code ec;
    if (st->tls)
      tls_.send(st->handle, text, websocketpp::frame::opcode::text, ec);
    else
      plain_.send(st->handle, text, websocketpp::frame::opcode::text, ec);
    return !ec;
  }

  void close(uint64_t id, uint16_t code, std::string reason) {
    auto st = find(id);
    if (!st)
      return;
    // Not open yet: websocketpp refuses to close a connecting socket, so it
    // is cut (the fail handler reports it) or, if not even connected, closed
    // the moment it opens.
    auto go = [st, code, reason](auto con) {
      if (con->get_state() == websocketpp::session::state::connecting) {
        st->close_on_open = true;
        st->close_code = code;
        st->close_reason = reason;
        asio::error_code e;
        con->get_raw_socket().close(e);
        return;
      }
      if (st->held) { // paused: the close handshake needs reading
        con->resume_reading();
        st->held.reset();
      }
      websocketpp::lib::error_code ec;
      con->close(code, reason, ec);
    };
    if (st->tls)
      on_strand(tls_, st, go);
    else
      on_strand(plain_, st, go);
  }

  void abort(uint64_t id, std::string why) {
    auto st = find(id);
    if (!st)
      return;
    auto kill = [st, why](auto con) {
      st->abort_reason = why;
      if (st->held) { // paused: a read must be pending for the end to show
        con->resume_reading();
        st->held.reset();
      }
      asio::error_code ec;
      con->get_raw_socket().close(ec);
    };
    if (st->tls)
      on_strand(tls_, st, kill);
    else
      on_strand(plain_, st, kill);
  }

  void resume(uint64_t id) {
    auto st = find(id);
    if (!st)
      return;
    auto go = [st](auto con) {
      con->resume_reading();
      st->held.reset();
    };
    websocketpp::lib::error_code ec;
    if (st->tls) {
      if (auto con = tls_.get_con_from_hdl(st->handle, ec); !ec)
        asio::post(*con->get_strand(), [con, go] { go(con); });
    } else {
      if (auto con = plain_.get_con_from_hdl(st->handle, ec); !ec)
        asio::post(*con->get_strand(), [con, go] { go(con); });
    }
  }

  void stop() {
    std::vector<std::shared_ptr<conn_state>> all;
    {
      std::lock_guard<std::mutex> g{mtx_};
      if (stopping_ && threads_.empty())
        return;
      stopping_ = true;
      for (auto& [id, st] : conns_)
        all.push_back(st);
    }
    for (auto& st : all)
      close(st->id, websocketpp::close::status::going_away, "shutting down");
    plain_.stop_perpetual();
    tls_.stop_perpetual();
    work_.reset();
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  }

  size_t live() const {
    std::lock_guard<std::mutex> g{mtx_};
    return conns_.size();
  }

private:
  template <class Client>
  void init(Client& c) {
    c.init_asio(&ioc_);
    c.start_perpetual();
    c.set_open_handshake_timeout(s_.connect_timeout_ms);
    c.set_close_handshake_timeout(s_.close_timeout_ms);
    c.set_max_message_size(s_.max_message_bytes);
    c.set_tcp_pre_init_handler([&c](hdl h) {
      // websocketpp never sets TCP_NODELAY; without it wss held the first
      // frames up to 38 ms.
      asio::error_code ec;
      c.get_con_from_hdl(h)->get_raw_socket().set_option(
        asio::ip::tcp::no_delay(true), ec);
    });
  }

  std::shared_ptr<conn_state> find(uint64_t id) {
    std::lock_guard<std::mutex> g{mtx_};
    auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second;
  }

  template <class Client, class F>
  void on_strand(Client& c, const std::shared_ptr<conn_state>& st, F f) {
    websocketpp::lib::error_code ec;
    auto con = c.get_con_from_hdl(st->handle, ec);
    if (ec)
      return;
    {
      std::lock_guard<std::mutex> g{mtx_};
      st->requested = true;
    }
    asio::post(*con->get_strand(), [con, f] { f(con); });
  }

  // Hands the frames read so far to the owner, in order; pauses reading
  // when the owner asks (`con` null: the connection is ending anyway).
  template <class ConPtr>
  static void flush(const std::shared_ptr<conn_state>& st, const ConPtr& con) {
    st->flush_posted = false;
    if (st->pending.empty())
      return;
    frames_read_here = true;
    auto frames = std::move(st->pending);
    st->pending.clear();
    if (st->handlers.on_frames
        && st->handlers.on_frames(st->id, std::move(frames), st->pending_since)
        && con) {
      st->held = con; // kept alive while nothing is read
      con->pause_reading(); // the owner holds too much: until resume()
    }
  }

  template <class Client>
  caf::error start(Client& c, std::mutex& connect_mtx, const std::string& uri,
                   const std::shared_ptr<conn_state>& st) {
    constexpr bool is_tls = std::is_same_v<Client, tls_client>;
    // get_connection() and connect() share one lazily made resolver.
    std::lock_guard<std::mutex> guard{connect_mtx};
    websocketpp::lib::error_code ec;
    auto con = c.get_connection(uri, ec);
    if (ec)
      return make_error(errc::bad_url, "cannot connect to '" + redact_url(uri)
                                         + "': " + ec.message());
    if constexpr (is_tls) {
      // The URI is known only now (tls_init ran inside get_connection):
      // verify the host name too, not just the chain.
      con->get_socket().set_verify_callback(
        asio::ssl::host_name_verification(con->get_host()));
    }
    st->handle = con->get_handle();
    // Closed before its TCP connection was made: closing the raw socket then
    // did nothing, so it is cut here, before the upgrade request goes out.
    con->set_tcp_post_init_handler([st, &c](hdl h) {
      if (!st->close_on_open)
        return;
      asio::error_code e;
      c.get_con_from_hdl(h)->get_raw_socket().close(e);
    });
    con->set_open_handler([st, &c](hdl h) {
      if (st->close_on_open) {
        websocketpp::lib::error_code ec;
        c.close(h, st->close_code, st->close_reason, ec);
        return;
      }
      if (st->handlers.on_open)
        st->handlers.on_open();
    });
    con->set_message_handler(
      [st, &c](hdl h, typename Client::message_ptr m) {
        if (st->pending.empty())
          st->pending_since = wall_ms();
        // The payload already has the parser's padding (see the payload
        // step above). The frame shares the message's ownership (aliasing):
        // nothing is copied or allocated.
        std::shared_ptr<const std::string> bytes{m, &m->get_raw_payload()};
        st->pending.push_back(frame_ref{std::move(bytes)});
        if (!st->flush_posted) {
          st->flush_posted = true;
          websocketpp::lib::error_code e;
          auto k = c.get_con_from_hdl(h, e);
          if (!e)
            asio::post(*k->get_strand(), [st, k] { flush(st, k); });
        }
      });
    con->set_close_handler([this, st, &c](hdl h) {
      flush(st, typename Client::connection_ptr{}); // what arrived first goes first
      auto k = c.get_con_from_hdl(h);
      ws_close_info info;
      info.was_open = true;
      info.remote_code = k->get_remote_close_code();
      info.remote_reason = k->get_remote_close_reason();
      info.local_code = k->get_local_close_code();
      info.local_reason = k->get_local_close_reason();
      info.error = k->get_ec() ? k->get_ec().message() : "";
      finish(st, info);
    });
    con->set_fail_handler([this, st, &c](hdl h) {
      auto k = c.get_con_from_hdl(h);
      ws_close_info info;
      info.error = k->get_ec().message();
      info.http_status = static_cast<long>(k->get_response_code());
      if constexpr (is_tls) {
        long v = SSL_get_verify_result(k->get_socket().native_handle());
        if (v != X509_V_OK)
          info.error = std::string{"TLS certificate verification failed: "}
                       + X509_verify_cert_error_string(v);
      }
      finish(st, info);
    });
    c.connect(con);
    return caf::none;
  }

  void finish(const std::shared_ptr<conn_state>& st, ws_close_info info) {
    st->held.reset();
    if (info.local_reason.empty())
      info.local_reason = st->abort_reason;
    {
      std::lock_guard<std::mutex> g{mtx_};
      info.requested = st->requested;
      conns_.erase(st->id);
    }
    if (st->handlers.on_closed)
      st->handlers.on_closed(info);
  }

  ws_settings s_;
  asio::io_context ioc_; // before the endpoints: it must outlive them
  plain_client plain_;
  tls_client tls_;
  std::mutex plain_connect_mtx_;
  std::mutex tls_connect_mtx_;
  std::string ca_error_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
    work_;
  std::vector<std::thread> threads_;
  mutable std::mutex mtx_;
  bool stopping_ = false;
  uint64_t next_id_ = 0;
  std::unordered_map<uint64_t, std::shared_ptr<conn_state>> conns_;
};

ws_transport::ws_transport(ws_settings settings)
  : impl_(std::make_unique<impl>(std::move(settings))) {
}

ws_transport::~ws_transport() {
  impl_->stop();
}

caf::expected<uint64_t> ws_transport::connect(const std::string& uri,
                                              ws_handlers handlers) {
  return impl_->connect(uri, std::move(handlers));
}

bool ws_transport::send(uint64_t id, std::string text) {
  return impl_->send(id, std::move(text));
}

void ws_transport::close(uint64_t id, uint16_t code, std::string reason) {
  impl_->close(id, code, std::move(reason));
}

void ws_transport::abort(uint64_t id, std::string why) {
  impl_->abort(id, std::move(why));
}

std::string disconnect_class(const ws_close_info& i) {
  if (!i.was_open)
    return "connect_failed";
  if (i.local_code == 1009)
    return "oversized";
  if (i.requested) {
    if (i.local_reason.rfind("heartbeat", 0) == 0)
      return "heartbeat_timeout";
    if (i.local_reason.rfind("rollover", 0) == 0)
      return "rollover";
    return "client";
  }
  switch (i.remote_code) {
    case 1000:
    case 1001:
      return "server_closed";
    case 4000:
      return "replaced";
    case 0:
    case 1005:
    case 1006:
      return "dropped";
    default:
      return "server_error";
  }
}

void ws_transport::resume(uint64_t id) {
  impl_->resume(id);
}

void ws_transport::stop() {
  impl_->stop();
}

size_t ws_transport::live_connections() const {
  return impl_->live();
}

} // namespace gcstream
