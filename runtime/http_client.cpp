#include "runtime/http_client.hpp"

#include "runtime/redact.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <pthread.h>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>

#include <curl/curl.h>

#include "messages/errors.hpp"
#include "runtime/endpoints.hpp"

namespace gcstream {

int64_t parse_retry_after(const std::string& value, int64_t now_epoch_s) {
  size_t b = value.find_first_not_of(" \t");
  if (b == std::string::npos)
    return -1;
  std::string v = value.substr(b, value.find_last_not_of(" \t\r\n") + 1 - b);
  if (!v.empty()
      && std::all_of(v.begin(), v.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (v.size() > 9)
      return int64_t{999999999} * 1000;
    return std::stoll(v) * 1000;
  }
  auto when = curl_getdate(v.c_str(), nullptr);
  if (when < 0)
    return -1;
  return std::max<int64_t>(0, (int64_t{when} - now_epoch_s) * 1000);
}

namespace {

struct job {
  http_request req;
  http_transport::callback done;
};

struct transfer {
  http_response resp;
  size_t cap = 0;
  bool too_large = false;
  const std::atomic<bool>* abort = nullptr;
};

size_t on_body(char* p, size_t sz, size_t n, void* ud) {
  auto* t = static_cast<transfer*>(ud);
  if (t->resp.body.size() + sz * n > t->cap) {
    t->too_large = true;
    return 0; // CURLE_WRITE_ERROR
  }
  t->resp.body.append(p, sz * n);
  return sz * n;
}

size_t on_header(char* p, size_t sz, size_t n, void* ud) {
  auto* t = static_cast<transfer*>(ud);
  std::string_view line{p, sz * n};
  if (line.substr(0, 5) == "HTTP/") { // a new response (100, redirect, final)
    t->resp.headers.clear();
    return sz * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos)
    return sz * n;
  std::string name{line.substr(0, colon)};
  for (auto& c : name)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto b = line.find_first_not_of(" \t", colon + 1);
  auto e = line.find_last_not_of(" \t\r\n");
  std::string value = (b == std::string_view::npos || e < b)
                        ? std::string{}
                        : std::string{line.substr(b, e + 1 - b)};
  t->resp.headers.emplace_back(std::move(name), std::move(value));
  return sz * n;
}

int on_progress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<transfer*>(ud);
  return t->abort->load() ? 1 : 0; // non-zero aborts the transfer
}

// "GET https://host/path" without the query: what an error may say.
std::string describe(const http_request& req) {
  return req.method + " " + redact_url(req.url); // never a channel id
}

errc classify(CURLcode rc, bool too_large) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return errc::http_timeout;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return errc::http_connect_failed;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return errc::tls_verify_failed;
    case CURLE_SSL_CONNECT_ERROR:
      return errc::tls_handshake_failed;
    case CURLE_FILESIZE_EXCEEDED:
      return errc::http_response_too_large;
    case CURLE_WRITE_ERROR:
      return too_large ? errc::http_response_too_large
                       : errc::http_transfer_failed;
    case CURLE_ABORTED_BY_CALLBACK:
      return errc::http_shutdown;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return errc::bad_url;
    default:
      return errc::http_transfer_failed;
  }
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

} // namespace

class http_client::impl {
public:
  explicit impl(const http_settings& s) : s_(s) {
    global_init();
    share_ = curl_share_init();
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &impl::lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &impl::unlock);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    for (size_t i = 0; i < std::max<size_t>(1, s_.workers); ++i)
      threads_.emplace_back([this] { run(); });
  }

  ~impl() {
    stop();
    curl_share_cleanup(share_); // after every easy handle is gone
  }

  void submit(http_request req, callback done) {
    {
      std::lock_guard<std::mutex> g{m_};
      if (!stopping_ && queue_.size() < s_.max_queued) {
        queue_.push_back(job{std::move(req), std::move(done)});
        cv_.notify_one();
        return;
      }
    }
    done(make_error(stopping_ ? errc::http_shutdown : errc::http_transfer_failed,
                    describe(req)
                      + (stopping_ ? " refused: the HTTP client is stopping"
                                   : " refused: too many queued requests")));
  }

  void stop() {
    std::deque<job> left;
    {
      std::lock_guard<std::mutex> g{m_};
      if (stopping_ && threads_.empty())
        return;
      stopping_ = true;
      abort_ = true;
      left.swap(queue_);
    }
    cv_.notify_all();
    for (auto& t : threads_)
      t.join();
    threads_.clear();
    for (auto& j : left)
      j.done(make_error(errc::http_shutdown,
                        describe(j.req) + " cancelled: the HTTP client stopped"));
  }

private:
  static void lock(CURL*, curl_lock_data d, curl_lock_access, void* u) {
    static_cast<impl*>(u)->share_locks_[d].lock();
  }

  static void unlock(CURL*, curl_lock_data d, void* u) {
    static_cast<impl*>(u)->share_locks_[d].unlock();
  }

  void run() {
    // With CURLOPT_NOSIGNAL (needed in threads), libcurl no longer ignores
    // SIGPIPE, and OpenSSL may raise it when a peer has closed: a write to
    // a dead socket would kill the host process. Blocked in this thread, the
    // signal stays pending here and the write fails with EPIPE instead. The
    // host's own signal handling is left alone.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
    CURL* h = curl_easy_init();
    for (;;) {
      job j;
      {
        std::unique_lock<std::mutex> g{m_};
        cv_.wait(g, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_)
          break;
        j = std::move(queue_.front());
        queue_.pop_front();
      }
      auto result = perform(h, j.req);
      {
        std::lock_guard<std::mutex> g{stats_m_};
        ++status_counts_[result ? result->status : 0];
      }
      j.done(std::move(result));
    }
    curl_easy_cleanup(h);
  }

  caf::expected<http_response> perform(CURL* h, const http_request& req) {
    if (auto err = check_url(req.url, s_.allow_insecure))
      return err;
    transfer t;
    t.cap = s_.max_response_bytes;
    t.abort = &abort_;
    char errbuf[CURL_ERROR_SIZE];
    errbuf[0] = 0;
    curl_slist* headers = nullptr;
    for (auto& [k, v] : req.headers)
      headers = curl_slist_append(headers, (k + ": " + v).c_str());
    curl_easy_reset(h); // a reused handle keeps every option otherwise
    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s_.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s_.total_timeout_ms);
    curl_easy_setopt(h, CURLOPT_SHARE, share_);
    // Debian's default CA path disables curl's CA-store cache (33-50 ms per
    // new TLS connection); the default CA bundle file stays in force.
    curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
    if (!s_.ca_file.empty())
      curl_easy_setopt(h, CURLOPT_CAINFO, s_.ca_file.c_str());
    if (!s_.proxy.empty())
      curl_easy_setopt(h, CURLOPT_PROXY, s_.proxy.c_str());
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                     static_cast<curl_off_t>(s_.max_response_bytes));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    if (!req.basic_user.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(h, CURLOPT_USERNAME, req.basic_user.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, req.basic_password.c_str());
    }
    if (req.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (req.method == "POST") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.c_str());
    } else if (req.method != "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      if (!req.body.empty() || req.method == "PUT") {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.c_str());
      }
    }
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      // curl's error buffer never holds credentials (they are not in URLs).
      std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
      return make_error(classify(rc, t.too_large),
                        describe(req) + " failed: " + why);
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &t.resp.status);
    auto retry_after = t.resp.header("retry-after");
    if (!retry_after.empty()) {
      auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
      t.resp.retry_after_ms = parse_retry_after(std::string{retry_after}, now);
    }
    return std::move(t.resp);
  }

public:
  std::map<long, uint64_t> status_counts() {
    std::lock_guard<std::mutex> g{stats_m_};
    return status_counts_;
  }

private:
  std::mutex stats_m_;
  std::map<long, uint64_t> status_counts_;
  http_settings s_;
  CURLSH* share_ = nullptr;
  std::mutex share_locks_[CURL_LOCK_DATA_LAST];
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::atomic<bool> abort_{false};
  std::vector<std::thread> threads_;
};

http_client::http_client(http_settings settings)
  : settings_(std::move(settings)), impl_(std::make_unique<impl>(settings_)) {
}

http_client::~http_client() {
  stop();
}

void http_client::submit(http_request req, callback done) {
  impl_->submit(std::move(req), std::move(done));
}

void http_client::stop() {
  impl_->stop();
}

std::map<long, uint64_t> http_client::status_counts() const {
  return impl_->status_counts();
}

} // namespace gcstream
