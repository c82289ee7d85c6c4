#include "tests/support/probe_client.hpp"

#include <stdexcept>
#include <thread>

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_client.hpp>

namespace gcstream::probe {

namespace {

size_t on_body(char* p, size_t sz, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(p, sz * n);
  return sz * n;
}

size_t on_header(char* p, size_t sz, size_t n, void* ud) {
  std::string line(p, sz * n);
  auto* headers = static_cast<std::map<std::string, std::string>*>(ud);
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();
    return sz * n;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos)
    return sz * n;
  std::string name = line.substr(0, colon);
  for (auto& c : name)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto b = line.find_first_not_of(" \t", colon + 1);
  auto e = line.find_last_not_of(" \t\r\n");
  (*headers)[name] = b == std::string::npos || e < b ? "" : line.substr(b, e + 1 - b);
  return sz * n;
}

struct curl_global {
  curl_global() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

} // namespace

http_result http(const std::string& method, const std::string& url,
                 const std::string& body, const http_options& opts) {
  static curl_global global;
  http_result out;
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  for (auto& hd : opts.headers)
    headers = curl_slist_append(headers, hd.c_str());
  char err[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  // No CURLOPT_NOSIGNAL: the probe runs on one thread, and so libcurl keeps
  // SIGPIPE ignored while it works (a peer that closed must not kill tests).
  curl_easy_setopt(h, CURLOPT_PROXY, ""); // loopback only: never a proxy
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, opts.timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &out.headers);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (!opts.ca_file.empty())
    curl_easy_setopt(h, CURLOPT_CAINFO, opts.ca_file.c_str());
  if (!opts.user.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, opts.user.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, opts.password.c_str());
  }
  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body.c_str());
  }
  auto rc = curl_easy_perform(h);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.status);
  } else {
    out.error = err[0] ? err : curl_easy_strerror(rc);
  }
  curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &out.seconds);
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  return out;
}

namespace {

// Pulls a string field out of a small JSON object without a JSON library: the
// probe reads only flat fields the emulator writes.
std::string json_field(const std::string& body, const std::string& key) {
  auto k = body.find("\"" + key + "\"");
  if (k == std::string::npos)
    return {};
  auto q1 = body.find('"', body.find(':', k) + 1);
  auto q2 = body.find('"', q1 + 1);
  if (q1 == std::string::npos || q2 == std::string::npos)
    return {};
  return body.substr(q1 + 1, q2 - q1 - 1);
}

} // namespace

std::string get_token(const std::string& base, const std::string& id,
                      const std::string& secret, const std::string& ca) {
  http_options o;
  o.user = id;
  o.password = secret;
  o.ca_file = ca;
  o.headers = {"Content-Type: application/x-www-form-urlencoded"};
  auto r = http("POST", base + "/oauth/token", "grant_type=client_credentials", o);
  if (r.status != 200)
    throw std::runtime_error("token request failed: "
                             + std::to_string(r.status) + " " + r.error);
  return json_field(r.body, "access_token");
}

channel_info create_channel(const std::string& base, const std::string& token,
                            const std::string& ca) {
  http_options o;
  o.headers = {"Authorization: Bearer " + token};
  o.ca_file = ca;
  auto r = http("POST", base + "/api/v2/notifications/channels", "", o);
  if (r.status != 200)
    throw std::runtime_error("channel creation failed: "
                             + std::to_string(r.status) + " " + r.body);
  return {json_field(r.body, "id"), json_field(r.body, "connectUri")};
}

http_result subscribe(const std::string& base, const std::string& token,
                      const std::string& channel,
                      const std::vector<std::string>& topics,
                      bool ignore_errors, const std::string& ca) {
  std::string body = "[";
  for (size_t i = 0; i < topics.size(); ++i)
    body += (i ? ",{\"id\":\"" : "{\"id\":\"") + topics[i] + "\"}";
  body += "]";
  http_options o;
  o.headers = {"Authorization: Bearer " + token,
               "Content-Type: application/json"};
  o.ca_file = ca;
  return http("PUT",
              base + "/api/v2/notifications/channels/" + channel
                + "/subscriptions" + (ignore_errors ? "?ignoreErrors=true" : ""),
              body, o);
}

void inject(const std::string& base, const std::string& fault_json,
            const std::string& ca) {
  http_options o;
  o.headers = {"Content-Type: application/json"};
  o.ca_file = ca;
  auto r = http("POST", base + "/emulator/faults", fault_json, o);
  if (r.status != 200)
    throw std::runtime_error("fault refused: " + r.body + r.error);
}

bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// -- ws_probe ------------------------------------------------------------------

struct ws_probe::impl {
  using hdl = websocketpp::connection_hdl;

  mutable std::mutex mtx;
  std::condition_variable cv;
  uint64_t version = 0;
  state st = state::idle;
  std::vector<std::string> frames;
  int close_code = 0;
  std::string close_reason;
  std::string error;
  std::string ca_file;

  virtual ~impl() = default;
  virtual void connect(const std::string& uri) = 0;
  virtual void send(const std::string& text) = 0;
  virtual void close() = 0;
  virtual void shutdown() = 0;

  template <class F>
  void update(F f) {
    {
      std::lock_guard<std::mutex> g{mtx};
      f();
      ++version;
    }
    cv.notify_all();
  }
};

namespace {

struct quiet_plain : websocketpp::config::asio_client {
  static const websocketpp::log::level alog_level = websocketpp::log::alevel::none;
  static const websocketpp::log::level elog_level = websocketpp::log::elevel::none;
  static const size_t max_message_size = 64 << 20;
};

struct quiet_tls : websocketpp::config::asio_tls_client {
  static const websocketpp::log::level alog_level = websocketpp::log::alevel::none;
  static const websocketpp::log::level elog_level = websocketpp::log::elevel::none;
  static const size_t max_message_size = 64 << 20;
};

template <class Config>
struct probe_impl final : ws_probe::impl {
  using client_t = websocketpp::client<Config>;

  asio::io_context ioc;
  client_t c;
  hdl h;
  std::thread th;

  explicit probe_impl(std::string ca) {
    ca_file = std::move(ca);
    c.init_asio(&ioc);
    c.start_perpetual();
    c.set_open_handshake_timeout(5000);
    c.set_close_handshake_timeout(1000);
    c.set_max_message_size(64 << 20);
    init_tls();
    th = std::thread([this] { ioc.run(); });
  }

  ~probe_impl() override { shutdown(); }

  void init_tls();
  void verify_host(typename client_t::connection_ptr) {}

  void connect(const std::string& uri) override {
    websocketpp::lib::error_code ec;
    auto con = c.get_connection(uri, ec);
    if (ec) {
      update([&] {
        st = ws_probe::state::failed;
        error = ec.message();
      });
      return;
    }
    verify_host(con);
    con->set_open_handler([this](hdl) { update([&] { st = ws_probe::state::open; }); });
    con->set_message_handler([this](hdl, typename client_t::message_ptr m) {
      update([&] { frames.push_back(m->get_payload()); });
    });
    con->set_close_handler([this](hdl hd) {
      auto k = c.get_con_from_hdl(hd);
      update([&] {
        st = ws_probe::state::closed;
        close_code = k->get_remote_close_code();
        close_reason = k->get_remote_close_reason();
        error = k->get_ec().message();
      });
    });
    con->set_fail_handler([this](hdl hd) {
      auto k = c.get_con_from_hdl(hd);
      update([&] {
        st = ws_probe::state::failed;
        error = k->get_ec().message();
        close_code = static_cast<int>(k->get_response_code());
      });
    });
    h = con->get_handle();
    update([&] { st = ws_probe::state::connecting; });
    c.connect(con);
  }

  void send(const std::string& text) override {
    websocketpp::lib::error_code ec;
    c.send(h, text, websocketpp::frame::opcode::text, ec);
  }

  void close() override {
    websocketpp::lib::error_code ec;
    auto con = c.get_con_from_hdl(h, ec);
    if (ec)
      return;
    asio::post(*con->get_strand(), [con] {
      websocketpp::lib::error_code e;
      con->close(websocketpp::close::status::normal, "probe done", e);
    });
  }

  void shutdown() override {
    if (!th.joinable())
      return;
    close();
    c.stop_perpetual();
    th.join();
  }
};

template <>
void probe_impl<quiet_plain>::init_tls() {}

template <>
void probe_impl<quiet_tls>::init_tls() {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_verify_mode(asio::ssl::verify_peer);
  if (ca_file.empty())
    ctx->set_default_verify_paths();
  else
    ctx->load_verify_file(ca_file);
  c.set_tls_init_handler([ctx](hdl) { return ctx; });
}

template <>
void probe_impl<quiet_tls>::verify_host(typename client_t::connection_ptr con) {
  con->get_socket().set_verify_callback(
    asio::ssl::host_name_verification(con->get_host()));
}

} // namespace

ws_probe::ws_probe(std::string ca_file) {
  if (ca_file.empty())
    impl_ = std::make_unique<probe_impl<quiet_plain>>(std::move(ca_file));
  else
    impl_ = std::make_unique<probe_impl<quiet_tls>>(std::move(ca_file));
}

ws_probe::~ws_probe() {
  impl_->shutdown();
}

bool ws_probe::connect(const std::string& uri, std::chrono::milliseconds timeout) {
  impl_->connect(uri);
  wait_until([this] { return current() != state::connecting; }, timeout);
  return current() == state::open;
}

void ws_probe::send(const std::string& text) {
  impl_->send(text);
}

void ws_probe::close() {
  impl_->close();
}

bool ws_probe::wait_until(const std::function<bool()>& pred,
                          std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lk{impl_->mtx};
  for (;;) {
    auto seen = impl_->version;
    lk.unlock();
    bool ok = pred();
    lk.lock();
    if (ok)
      return true;
    if (!impl_->cv.wait_until(lk, deadline,
                              [&] { return impl_->version != seen; })) {
      lk.unlock();
      return pred();
    }
  }
}

std::vector<std::string> ws_probe::frames() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->frames;
}

size_t ws_probe::frame_count() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->frames.size();
}

ws_probe::state ws_probe::current() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->st;
}

int ws_probe::close_code() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->close_code;
}

std::string ws_probe::close_reason() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->close_reason;
}

std::string ws_probe::error() const {
  std::lock_guard<std::mutex> g{impl_->mtx};
  return impl_->error;
}

} // namespace gcstream::probe
