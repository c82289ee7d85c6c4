#include "actors/sinks/null_sink.hpp"

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include "tests/support/deterministic_fixture.hpp"

using namespace gcstream;

namespace {

event_batch batch_of(uint64_t seq, size_t n) {
  event_batch b;
  b.tenant = "acme";
  b.seq = seq;
  for (size_t i = 0; i < n; ++i)
    b.events.push_back(event{"v2.users.u1.presence", "id-" + std::to_string(i),
                             1000 + int64_t(i), 2000, false,
                             frame_ref{R"({"topicName":"v2.users.u1.presence"})"}});
  return b;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(null_sink_tests, test::deterministic_fixture)

BOOST_AUTO_TEST_CASE(acknowledges_each_batch_with_its_sequence_number) {
  auto sink = sys.spawn(null_sink);
  std::vector<uint64_t> acks;
  auto client = sys.spawn([&](caf::event_based_actor* self) {
    for (uint64_t seq : {7u, 8u, 9u})
      self->request(sink, caf::infinite, deliver_atom::value, batch_of(seq, 3))
        .then([&](uint64_t acked) { acks.push_back(acked); },
              [](caf::error&) { BOOST_FAIL("the null sink refused a batch"); });
  });
  // Nothing happens until the test scheduler runs the actors.
  BOOST_CHECK(acks.empty());
  sched.run();
  BOOST_CHECK_EQUAL(acks.size(), 3u);
  BOOST_CHECK(acks == (std::vector<uint64_t>{7, 8, 9}));
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
  sched.run();
}

BOOST_AUTO_TEST_SUITE_END()
