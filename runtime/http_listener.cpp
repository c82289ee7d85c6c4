#include "runtime/http_listener.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "messages/errors.hpp"

namespace gcstream {

using namespace std::chrono;

bool is_loopback_listen(const std::string& address) {
  auto colon = address.rfind(':');
  auto host = colon == std::string::npos ? address : address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

bool http_listener::parse_request_line(const std::string& head, std::string& method,
                                       std::string& path) {
  auto eol = head.find_first_of("\r\n");
  auto line = head.substr(0, eol);
  auto sp1 = line.find(' ');
  if (sp1 == std::string::npos || sp1 == 0 || sp1 > 16)
    return false;
  auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || sp2 == sp1 + 1)
    return false;
  method = line.substr(0, sp1);
  if (!std::all_of(method.begin(), method.end(),
                   [](char c) { return c >= 'A' && c <= 'Z'; }))
    return false;
  path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (path[0] != '/')
    return false;
  // No control character, NUL or DEL in a target (found by the fuzzer:
  // "GET /h\x01\0... HTTP/1.0" was taken).
  if (!std::all_of(path.begin(), path.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return c > 0x20 && c != 0x7f;
      }))
    return false;
  if (line.compare(sp2 + 1, 5, "HTTP/") != 0)
    return false;
  if (auto q = path.find('?'); q != std::string::npos)
    path.erase(q);
  return true;
}

http_listener::~http_listener() {
  stop();
}

caf::error http_listener::start(const std::string& address, handler h, settings s) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    return make_error(errc::bad_config, "metrics listen address " + address
                                          + ": expected host:port");
  auto host = address.substr(0, colon);
  auto port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res)
      != 0)
    return make_error(errc::bad_config, "metrics listen address " + address
                                          + ": cannot resolve");
  int fd = -1;
  std::string why = "no address";
  for (auto* ai = res; ai != nullptr; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                  ai->ai_protocol);
    if (fd < 0)
      continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 128) == 0)
      break;
    why = std::strerror(errno);
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0)
    return make_error(errc::bad_config,
                      "metrics listen address " + address + ": " + why);
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ntohs(ss.ss_family == AF_INET6
                  ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                  : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (::pipe2(wake_, O_CLOEXEC) != 0) {
    ::close(fd);
    return make_error(errc::bad_config, "metrics listener: cannot make a pipe");
  }
  listen_fd_ = fd;
  handler_ = std::move(h);
  cfg_ = s;
  thread_ = std::thread([this] { run(); });
  return caf::none;
}

void http_listener::stop() {
  if (!thread_.joinable())
    return;
  char c = 0;
  (void)!::write(wake_[1], &c, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
  listen_fd_ = -1;
}

namespace {

struct connection {
  int fd = -1;
  std::string in;
  std::string out;
  size_t sent = 0;
  bool writing = false;
  steady_clock::time_point deadline;
};

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

void answer(connection& c, const http_listener::response& r,
            milliseconds write_timeout) {
  c.out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status)
          + "\r\nContent-Type: " + r.content_type
          + "\r\nContent-Length: " + std::to_string(r.body.size())
          + "\r\nConnection: close\r\n\r\n" + r.body;
  c.sent = 0;
  c.writing = true;
  c.in.clear();
  c.deadline = steady_clock::now() + write_timeout;
}

// Sends what it can without blocking; true when done (or dead).
bool flush(connection& c) {
  while (c.sent < c.out.size()) {
    auto n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent,
                    MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return false;
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return true;
    c.sent += static_cast<size_t>(n);
  }
  return true;
}

} // namespace

void http_listener::run() {
  std::vector<connection> conns;
  std::vector<pollfd> fds;
  auto close_all = [&] {
    for (auto& c : conns)
      ::close(c.fd);
    conns.clear();
  };
  for (;;) {
    fds.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    bool accepting = conns.size() < cfg_.max_connections;
    fds.push_back({accepting ? listen_fd_ : -1, POLLIN, 0});
    auto now = steady_clock::now();
    auto next = now + hours{1};
    for (auto& c : conns) {
      fds.push_back({c.fd, static_cast<short>(c.writing ? POLLOUT : POLLIN), 0});
      next = std::min(next, c.deadline);
    }
    auto wait = duration_cast<milliseconds>(next - now).count();
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(0, wait) + 1))
        < 0) {
      if (errno == EINTR)
        continue;
      close_all();
      return;
    }
    if (fds[0].revents != 0) { // stop: nobody is waited for
      close_all();
      return;
    }
    now = steady_clock::now();
    // Serve what is ready; drop what ran out of time.
    std::vector<connection> keep;
    keep.reserve(conns.size());
    for (size_t i = 0; i < conns.size(); ++i) {
      auto& c = conns[i];
      auto rev = fds[i + 2].revents;
      bool done = false;
      if (!c.writing && (rev & (POLLIN | POLLHUP | POLLERR))) {
        char buf[4096];
        bool eof = false;
        for (;;) {
          auto n = ::recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
          if (n <= 0) {
            eof = true; // the client sent all it will (or went away)
            break;
          }
          c.in.append(buf, static_cast<size_t>(n));
          if (c.in.size() > cfg_.max_request_bytes)
            break;
        }
        std::string method, path;
        auto eol = c.in.find('\n');
        bool complete = c.in.find("\r\n\r\n") != std::string::npos
                        || c.in.find("\n\n") != std::string::npos;
        if (eol != std::string::npos && !parse_request_line(c.in, method, path))
          answer(c, {400, "text/plain; charset=utf-8", "bad request\n"},
                 cfg_.write_timeout);
        else if (c.in.size() > cfg_.max_request_bytes)
          answer(c, {431, "text/plain; charset=utf-8", "request too large\n"},
                 cfg_.write_timeout);
        else if (complete)
          answer(c, handler_(method, path), cfg_.write_timeout);
        else if (eof)
          done = true; // half a request, and no more coming
      }
      if (!done && c.writing && flush(c))
        done = true;
      if (!done && now >= c.deadline)
        done = true; // too slow to ask, or to read the answer
      if (done)
        ::close(c.fd);
      else
        keep.push_back(std::move(c));
    }
    conns = std::move(keep);
    if (accepting && (fds[1].revents & POLLIN)) {
      while (conns.size() < cfg_.max_connections) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
          break;
        connection c;
        c.fd = fd;
        c.deadline = steady_clock::now() + cfg_.read_timeout;
        conns.push_back(std::move(c));
      }
    }
  }
}

} // namespace gcstream
