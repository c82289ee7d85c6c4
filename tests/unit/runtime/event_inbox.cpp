#include "runtime/event_inbox.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace gcstream;

namespace {

event_batch batch_of(size_t n, const std::string& first_id) {
  event_batch b;
  b.tenant = "acme";
  for (size_t i = 0; i < n; ++i)
    b.events.push_back(event{"t", first_id + "-" + std::to_string(i), 0, 0, false,
                             frame_ref{"{}"}});
  return b;
}

} // namespace

BOOST_AUTO_TEST_SUITE(event_inbox_tests)

BOOST_AUTO_TEST_CASE(one_poke_per_drain_and_acks_release) {
  event_inbox inbox;
  int pokes = 0;
  inbox.adopt([&] { ++pokes; });
  BOOST_CHECK_EQUAL(pokes, 0); // nothing waits
  inbox.push(batch_of(2, "a"));
  inbox.push(batch_of(3, "b"));
  BOOST_CHECK_EQUAL(pokes, 1);
  auto got = inbox.take();
  BOOST_REQUIRE_EQUAL(got.size(), 1u); // joined
  BOOST_REQUIRE_EQUAL(got[0].events.size(), 5u);
  BOOST_CHECK_EQUAL(got[0].events[0].id(), "a-0");
  BOOST_CHECK_EQUAL(got[0].events[2].id(), "b-0");
  BOOST_CHECK_EQUAL(inbox.buffered_events(), 5u); // in flight until acked
  inbox.push(batch_of(1, "c"));
  BOOST_CHECK_EQUAL(pokes, 2);
  auto next = inbox.take();
  BOOST_REQUIRE_EQUAL(next.size(), 1u);
  BOOST_CHECK_LT(got[0].seq, next[0].seq);
  inbox.ack(got[0].seq);
  BOOST_CHECK_EQUAL(inbox.buffered_events(), 1u);
}

BOOST_AUTO_TEST_CASE(take_joins_waiting_batches_in_order_up_to_max_batch) {
  event_inbox inbox{1000, 4};
  inbox.adopt([] {});
  inbox.push(batch_of(2, "a"));
  inbox.push(batch_of(1, "b"));
  inbox.push(batch_of(2, "c")); // 2 + 1 + 2 > 4: starts the next batch
  inbox.push(batch_of(6, "d")); // bigger than max_batch: stays whole
  inbox.push(batch_of(1, "e"));
  auto got = inbox.take();
  BOOST_REQUIRE_EQUAL(got.size(), 4u);
  std::vector<std::string> ids;
  std::vector<size_t> sizes;
  for (auto& b : got) {
    sizes.push_back(b.events.size());
    for (auto& e : b.events)
      ids.emplace_back(e.id());
  }
  BOOST_CHECK((sizes == std::vector<size_t>{3, 2, 6, 1}));
  BOOST_CHECK((ids == std::vector<std::string>{"a-0", "a-1", "b-0", "c-0", "c-1", "d-0",
                                               "d-1", "d-2", "d-3", "d-4", "d-5", "e-0"}));
  for (size_t i = 1; i < got.size(); ++i)
    BOOST_CHECK_LT(got[i - 1].seq, got[i].seq);
  // Joined batches are acknowledged and retried as one.
  BOOST_CHECK_EQUAL(inbox.buffered_events(), 12u);
  inbox.ack(got[0].seq);
  BOOST_CHECK_EQUAL(inbox.buffered_events(), 9u);
  inbox.retry(got[1].seq);
  auto again = inbox.take();
  BOOST_REQUIRE_EQUAL(again.size(), 1u);
  BOOST_CHECK_EQUAL(again[0].events.size(), 2u);
  BOOST_CHECK_EQUAL(again[0].events[0].id(), "c-0");
  // The frames are shared with the copy kept in flight, never copied.
  BOOST_CHECK(again[0].events[0].frame().shares_with(got[1].events[0].frame()));
}

BOOST_AUTO_TEST_CASE(a_new_owner_gets_what_the_old_one_had_in_flight) {
  event_inbox inbox;
  int old_pokes = 0, new_pokes = 0;
  inbox.adopt([&] { ++old_pokes; });
  inbox.push(batch_of(1, "a"));
  auto lost_with_owner = inbox.take(); // the owner dies with these
  inbox.push(batch_of(1, "b"));
  inbox.adopt([&] { ++new_pokes; });
  BOOST_CHECK_EQUAL(new_pokes, 1);
  auto got = inbox.take();
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_REQUIRE_EQUAL(got[0].events.size(), 2u);
  BOOST_CHECK_EQUAL(got[0].events[0].id(), "a-0"); // in order
  BOOST_CHECK_EQUAL(got[0].events[1].id(), "b-0");
  // A late ack of the old owner's seq changes nothing.
  inbox.ack(lost_with_owner[0].seq);
  BOOST_CHECK_EQUAL(inbox.buffered_events(), 2u);
}

BOOST_AUTO_TEST_CASE(retry_offers_a_batch_again_first) {
  event_inbox inbox;
  int pokes = 0;
  inbox.adopt([&] { ++pokes; });
  inbox.push(batch_of(1, "a"));
  auto first = inbox.take();
  inbox.push(batch_of(1, "b"));
  inbox.retry(first[0].seq);
  auto again = inbox.take();
  BOOST_REQUIRE_EQUAL(again.size(), 1u);
  BOOST_REQUIRE_EQUAL(again[0].events.size(), 2u);
  BOOST_CHECK_EQUAL(again[0].events[0].id(), "a-0");
  BOOST_CHECK_EQUAL(again[0].events[1].id(), "b-0");
}

BOOST_AUTO_TEST_CASE(the_cap_drops_the_oldest_and_counts_it) {
  event_inbox inbox{5};
  inbox.adopt([] {});
  inbox.push(batch_of(3, "a"));
  inbox.push(batch_of(3, "b"));
  BOOST_CHECK_EQUAL(inbox.dropped_events(), 3u);
  BOOST_CHECK_EQUAL(inbox.buffered_events(), 3u);
  auto got = inbox.take();
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_CHECK_EQUAL(got[0].events[0].id(), "b-0");
}

BOOST_AUTO_TEST_SUITE_END()
