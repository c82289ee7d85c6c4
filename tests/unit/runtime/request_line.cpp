// The metrics listener's request-line parser, with what the fuzzer found
// (tests/fuzz/fuzz_request_line.cpp; the input is in the seed corpus).

#include "runtime/http_listener.hpp"

#include <boost/test/unit_test.hpp>

using namespace gcstream;

namespace {

bool parses(const std::string& head, std::string* path_out = nullptr) {
  std::string method, path;
  bool ok = http_listener::parse_request_line(head, method, path);
  if (path_out)
    *path_out = path;
  return ok;
}

} // namespace

BOOST_AUTO_TEST_SUITE(request_line_tests)

BOOST_AUTO_TEST_CASE(a_request_line_gives_its_method_and_path_without_the_query) {
  std::string path;
  BOOST_CHECK(parses("GET /healthz?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", &path));
  BOOST_CHECK_EQUAL(path, "/healthz");
  BOOST_CHECK(!parses("get /healthz HTTP/1.1\r\n"));
  BOOST_CHECK(!parses("GET healthz HTTP/1.1\r\n"));
  BOOST_CHECK(!parses("GET /healthz SPDY/3\r\n"));
  BOOST_CHECK(!parses("GET  /healthz HTTP/1.1\r\n"));
}

BOOST_AUTO_TEST_CASE(control_characters_in_the_target_are_garbage) {
  // Found by the fuzzer: a NUL and \x01 in the path were taken.
  BOOST_CHECK(!parses(std::string("GET /h\x01\0\0\0\0\0\0\0=1 HTTP/1.0\r\n\r\n", 29)));
  BOOST_CHECK(!parses("GET /a\x7f HTTP/1.1\r\n"));
  BOOST_CHECK(!parses("GET /a\tb HTTP/1.1\r\n"));
}

BOOST_AUTO_TEST_SUITE_END()
