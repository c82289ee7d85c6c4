// Why a socket ended, as a fixed set of names (the reason label of
// gcstream_disconnects_total).

#include "runtime/ws_transport.hpp"

#include <boost/test/unit_test.hpp>

using namespace gcstream;

namespace {

ws_close_info closed(int remote, bool requested = false, std::string local_reason = "",
                     int local_code = 0) {
  ws_close_info i;
  i.was_open = true;
  i.remote_code = remote;
  i.requested = requested;
  i.local_reason = std::move(local_reason);
  i.local_code = local_code;
  return i;
}

} // namespace

BOOST_AUTO_TEST_SUITE(disconnect_class_tests)

BOOST_AUTO_TEST_CASE(every_ending_has_one_name) {
  ws_close_info never;
  never.http_status = 404;
  BOOST_CHECK_EQUAL(disconnect_class(never), "connect_failed");
  BOOST_CHECK_EQUAL(disconnect_class(closed(1006, false, "", 1009)), "oversized");
  BOOST_CHECK_EQUAL(disconnect_class(closed(1006, true, "heartbeat timeout")),
                    "heartbeat_timeout");
  BOOST_CHECK_EQUAL(disconnect_class(closed(1000, true, "rollover")), "rollover");
  BOOST_CHECK_EQUAL(disconnect_class(closed(1000, true, "tenant stopping")), "client");
  BOOST_CHECK_EQUAL(disconnect_class(closed(1000)), "server_closed");
  BOOST_CHECK_EQUAL(disconnect_class(closed(1001)), "server_closed");
  BOOST_CHECK_EQUAL(disconnect_class(closed(4000)), "replaced");
  BOOST_CHECK_EQUAL(disconnect_class(closed(1006)), "dropped");
  BOOST_CHECK_EQUAL(disconnect_class(closed(0)), "dropped");
  for (int code : {1002, 1008, 1011, 3000, 4001, 4999})
    BOOST_CHECK_EQUAL(disconnect_class(closed(code)), "server_error");
}

BOOST_AUTO_TEST_SUITE_END()
