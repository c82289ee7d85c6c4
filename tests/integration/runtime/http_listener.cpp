// The /metrics listener against slow and hostile clients: clients that
// never read their answer and clients that send half a request hold up
// nobody; an oversized request gets 431, garbage 400; the connection cap
// and the deadlines keep it serving; stopping never waits on a client.

#include "runtime/http_listener.hpp"

#include <boost/test/unit_test.hpp>

#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace gcstream;
using namespace std::chrono;

namespace {

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    auto n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return;
    off += static_cast<size_t>(n);
  }
}

// Sends `request` and reads the whole answer, with a deadline; "" when none
// came in time.
std::string ask(uint16_t port, const std::string& request,
                milliseconds deadline = milliseconds{3000}) {
  int fd = connect_to(port);
  if (fd < 0)
    return {};
  send_all(fd, request);
  std::string out;
  auto until = steady_clock::now() + deadline;
  char buf[65536];
  for (;;) {
    auto left = duration_cast<milliseconds>(until - steady_clock::now()).count();
    if (left <= 0) {
      out.clear();
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0)
      continue;
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

int status_of(const std::string& answer) {
  return answer.size() > 12 ? std::stoi(answer.substr(9, 3)) : 0;
}

struct listener_fixture {
  http_listener l;
  std::string big = std::string(4 << 20, 'x'); // more than socket buffers hold

  listener_fixture() {
    auto err = l.start("127.0.0.1:0", [this](const std::string& method,
                                             const std::string& path) {
      if (path == "/metrics")
        return http_listener::response{200, "text/plain", big};
      return http_listener::response{200, "text/plain", method + " " + path + "\n"};
    });
    BOOST_REQUIRE(!err);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(http_listener_tests, listener_fixture)

BOOST_AUTO_TEST_CASE(stuck_clients_hold_up_nobody) {
  std::vector<int> stuck;
  for (int i = 0; i < 20; ++i) { // ask for a big answer, never read it
    int fd = connect_to(l.port());
    send_all(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    stuck.push_back(fd);
  }
  for (int i = 0; i < 5; ++i) { // half a request, then nothing
    int fd = connect_to(l.port());
    send_all(fd, "GET /heal");
    stuck.push_back(fd);
  }
  auto a = ask(l.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  BOOST_CHECK_EQUAL(status_of(a), 200);
  BOOST_CHECK_NE(a.find("GET /healthz"), std::string::npos);
  // The answer did not wait for the stuck clients to be dropped: the ones
  // with half a request are still connected (their read deadline is 2 s).
  for (size_t i = 20; i < stuck.size(); ++i) {
    char c;
    auto n = ::recv(stuck[i], &c, 1, MSG_DONTWAIT);
    BOOST_CHECK(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }
  // Stopping does not wait for any of them (a write deadline is 5 s).
  auto t0 = steady_clock::now();
  l.stop();
  auto ms = std::chrono::duration_cast<milliseconds>(steady_clock::now() - t0);
  BOOST_CHECK_LT(ms.count(), 4000);
  for (auto fd : stuck)
    ::close(fd);
}

BOOST_AUTO_TEST_CASE(oversized_requests_get_431_and_garbage_400) {
  auto huge = "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(9000, 'a') + "\r\n\r\n";
  BOOST_CHECK_EQUAL(status_of(ask(l.port(), huge)), 431);
  BOOST_CHECK_EQUAL(status_of(ask(l.port(), "\x16\x03\x01 hello tls\r\n\r\n")), 400);
  BOOST_CHECK_EQUAL(status_of(ask(l.port(), "get lowercase HTTP/1.1\r\n\r\n")), 400);
  BOOST_CHECK_EQUAL(status_of(ask(l.port(), "GET nopath HTTP/1.1\r\n\r\n")), 400);
  BOOST_CHECK_EQUAL(status_of(ask(l.port(), "GET /healthz?x=1 HTTP/1.0\r\n\r\n")), 200);
}

BOOST_AUTO_TEST_CASE(past_the_cap_a_request_is_served_once_idlers_time_out) {
  std::vector<int> idle;
  for (int i = 0; i < 80; ++i) // more than max_connections (64): say nothing
    idle.push_back(connect_to(l.port()));
  // Served within the read deadline (2 s) plus a margin: the idlers are
  // dropped, the backlog moves.
  auto a = ask(l.port(), "GET /healthz HTTP/1.1\r\n\r\n", milliseconds{6000});
  BOOST_CHECK_EQUAL(status_of(a), 200);
  for (auto fd : idle)
    ::close(fd);
}

BOOST_AUTO_TEST_CASE(a_request_whose_client_shuts_its_side_is_answered) {
  int fd = connect_to(l.port());
  send_all(fd, "GET /readyz HTTP/1.0\r\n\r\n");
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 3000) <= 0)
      break;
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  BOOST_CHECK_EQUAL(status_of(out), 200);
}

BOOST_AUTO_TEST_CASE(request_lines_are_parsed_strictly) {
  std::string m, p;
  BOOST_CHECK(http_listener::parse_request_line("GET /metrics?x HTTP/1.1\r\n", m, p));
  BOOST_CHECK_EQUAL(m, "GET");
  BOOST_CHECK_EQUAL(p, "/metrics");
  BOOST_CHECK(!http_listener::parse_request_line("GET /metrics\r\n", m, p));
  BOOST_CHECK(!http_listener::parse_request_line(" / HTTP/1.1\r\n", m, p));
  BOOST_CHECK(!http_listener::parse_request_line("GET  HTTP/1.1\r\n", m, p));
  BOOST_CHECK(is_loopback_listen("127.0.0.1:9464"));
  BOOST_CHECK(is_loopback_listen("[::1]:9464"));
  BOOST_CHECK(is_loopback_listen("localhost:1"));
  BOOST_CHECK(!is_loopback_listen("0.0.0.0:9464"));
  BOOST_CHECK(!is_loopback_listen("10.0.0.5:9464"));
}

BOOST_AUTO_TEST_SUITE_END()
