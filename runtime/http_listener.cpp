#include "runtime/http_listener.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "messages/errors.hpp"

namespace gcstream {

http_listener::~http_listener() {
  stop();
}

caf::error http_listener::start(const std::string& address, handler h) {
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
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
      continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 64) == 0)
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

void http_listener::run() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      return;
    }
    if (fds[1].revents != 0)
      return;
    if (fds[0].revents & POLLIN) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        serve(fd);
        ::close(fd);
      }
    }
  }
}

void http_listener::serve(int fd) {
  using namespace std::chrono;
  std::string req;
  auto deadline = steady_clock::now() + seconds{2};
  char buf[2048];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 8192) {
    auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    if (left <= 0)
      return;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0)
      return;
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      return;
    req.append(buf, static_cast<size_t>(n));
  }
  auto sp1 = req.find(' ');
  auto sp2 = req.find(' ', sp1 + 1);
  response r;
  if (sp1 == std::string::npos || sp2 == std::string::npos) {
    r = {400, "text/plain; charset=utf-8", "bad request\n"};
  } else {
    auto method = req.substr(0, sp1);
    auto path = req.substr(sp1 + 1, sp2 - sp1 - 1);
    if (auto q = path.find('?'); q != std::string::npos)
      path.erase(q);
    r = handler_(method, path);
  }
  const char* text = r.status == 200   ? "OK"
                     : r.status == 404 ? "Not Found"
                     : r.status == 405 ? "Method Not Allowed"
                     : r.status == 503 ? "Service Unavailable"
                                       : "Bad Request";
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + text
                    + "\r\nContent-Type: " + r.content_type
                    + "\r\nContent-Length: " + std::to_string(r.body.size())
                    + "\r\nConnection: close\r\n\r\n" + r.body;
  size_t off = 0;
  while (off < out.size()) {
    auto n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return;
    off += static_cast<size_t>(n);
  }
}

} // namespace gcstream
