#include "messages/event.hpp"

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "tests/support/deterministic_fixture.hpp"

using namespace gcstream;

BOOST_FIXTURE_TEST_SUITE(event_tests, test::deterministic_fixture)

BOOST_AUTO_TEST_CASE(copies_of_an_event_share_the_frame_bytes) {
  event a{"t", "id", 1, 2, false, frame_ref{"{\"x\":1}"}};
  event b = a;
  BOOST_CHECK(b.frame().shares_with(a.frame()));
  BOOST_CHECK(&b.frame().str() == &a.frame().str());
}

BOOST_AUTO_TEST_CASE(topic_and_id_from_elsewhere_are_copied_once_and_shared) {
  std::string topic = "v2.users.u1.presence";
  std::string id = "c-1";
  event a{topic, id, 1, 2, false, frame_ref{"{}"}};
  topic.assign(topic.size(), 'x'); // the event does not view the caller's text
  id.assign(id.size(), 'y');
  BOOST_CHECK(!a.views_frame());
  BOOST_CHECK_EQUAL(a.topic(), "v2.users.u1.presence");
  BOOST_CHECK_EQUAL(a.id(), "c-1");
  event b = a;
  BOOST_CHECK(b.topic().data() == a.topic().data()); // shared, not copied
  event c = std::move(b);
  BOOST_CHECK_EQUAL(c.id(), "c-1");
  BOOST_CHECK(b.topic().empty() && b.id().empty() && b.frame().size() == 0);
  a = event{};
  BOOST_CHECK_EQUAL(c.topic(), "v2.users.u1.presence"); // c keeps the buffer
}

BOOST_AUTO_TEST_CASE(batch_survives_a_serialization_round_trip) {
  // What a remote sink receives: every field, the frame included.
  event_batch in;
  in.tenant = "acme";
  in.seq = 42;
  in.events.push_back(event{"v2.users.u1.presence", "c-1", 1763800000123,
                            1763800000200, true,
                            frame_ref{R"({"topicName":"v2.users.u1.presence"})"}});
  in.events.push_back(event{"v2.users.u2.presence", "c-2", 5, 6, false, {}});
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  BOOST_REQUIRE(!sink(in));
  event_batch out;
  caf::binary_deserializer source{sys, buf};
  BOOST_REQUIRE(!source(out));
  BOOST_CHECK_EQUAL(out.tenant, "acme");
  BOOST_CHECK_EQUAL(out.seq, 42u);
  BOOST_REQUIRE_EQUAL(out.events.size(), 2u);
  BOOST_CHECK_EQUAL(out.events[0].id(), "c-1");
  BOOST_CHECK_EQUAL(out.events[0].topic(), "v2.users.u1.presence");
  BOOST_CHECK_EQUAL(out.events[0].ts_ms, 1763800000123);
  BOOST_CHECK(out.events[0].late);
  BOOST_CHECK_EQUAL(out.events[0].frame().str(), in.events[0].frame().str());
  BOOST_CHECK_EQUAL(out.events[1].frame().size(), 0u);
}

BOOST_AUTO_TEST_CASE(every_message_type_is_registered) {
  // An unregistered type arrives empty on a remote node; registration makes
  // it known by name.
  for (auto name : {"gcstream::event", "gcstream::event_batch",
                    "gcstream::frame_ref"})
    BOOST_CHECK_MESSAGE(cfg.value_factories_by_name.count(name) == 1,
                        name << " is not registered");
}

BOOST_AUTO_TEST_SUITE_END()
