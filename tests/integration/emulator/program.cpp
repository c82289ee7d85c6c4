// The gcstream-emulator program: the command line other tools rely on.

#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <string>

#include "tests/support/child_process.hpp"
#include "tests/support/probe_client.hpp"

using namespace gcstream;
using test::child;

BOOST_AUTO_TEST_SUITE(emulator_program)

BOOST_AUTO_TEST_CASE(prints_one_ready_line_serves_and_exits_on_sigterm) {
  child c({GCSTREAM_EMULATOR_PROGRAM, "--listen", "127.0.0.1:0", "--client",
           "app:pw", "--event-rate", "50", "--heartbeat-interval-ms", "100",
           "--token-ttl-s", "300", "--channel-ttl-s", "600"});
  auto ready = c.line(10000);
  const std::string prefix = "listening on http://127.0.0.1:";
  BOOST_REQUIRE_EQUAL(ready.rfind(prefix, 0), 0u);
  auto base = ready.substr(std::string{"listening on "}.size());
  auto tok = probe::get_token(base, "app", "pw");
  auto ch = probe::create_channel(base, tok);
  BOOST_REQUIRE_EQUAL(probe::subscribe(base, tok, ch.id, {"v2.users.u.presence"}).status,
                      200);
  probe::ws_probe ws;
  BOOST_REQUIRE(ws.connect(ch.connect_uri));
  BOOST_CHECK(ws.wait_until([&] { return ws.frame_count() >= 5; }));
  kill(c.pid, SIGTERM);
  BOOST_CHECK_EQUAL(c.wait_exit(10000), 0);
}

BOOST_AUTO_TEST_CASE(bad_arguments_exit_2_with_a_reason) {
  child c({GCSTREAM_EMULATOR_PROGRAM, "--event-rate", "fast"});
  BOOST_CHECK_EQUAL(c.wait_exit(10000), 2);
}

BOOST_AUTO_TEST_SUITE_END()
