// The orderer's pure parts: the dedupe window, the reorder buffer and the
// sink outbox. Time is a number the test moves.

#include <boost/test/unit_test.hpp>

#include <deque>
#include <random>
#include <set>

#include "runtime/dedupe_window.hpp"
#include "runtime/event_line.hpp"
#include "runtime/reorder_buffer.hpp"
#include "runtime/ring.hpp"
#include "runtime/sink_outbox.hpp"

using namespace gcstream;

namespace {

event ev(const std::string& id, int64_t ts) {
  return event{"v2.users.u1.presence", id, ts, ts, false, frame_ref{"{}"}};
}

std::vector<int64_t> stamps(const std::vector<event>& evs) {
  std::vector<int64_t> out;
  for (auto& e : evs)
    out.push_back(e.ts_ms);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(dedupe_window_tests)

BOOST_AUTO_TEST_CASE(a_repeated_id_is_a_duplicate_within_the_window) {
  dedupe_window w{10, 60000};
  BOOST_CHECK(!w.seen("a", 0));
  BOOST_CHECK(!w.seen("b", 1));
  BOOST_CHECK(w.seen("a", 2));
  BOOST_CHECK(w.seen("b", 3));
  BOOST_CHECK_EQUAL(w.size(), 2u);
}

BOOST_AUTO_TEST_CASE(the_count_bound_evicts_the_oldest_first) {
  dedupe_window w{3, 60000};
  for (auto id : {"a", "b", "c", "d"})
    BOOST_CHECK(!w.seen(id, 0));
  BOOST_CHECK_EQUAL(w.size(), 3u);
  BOOST_CHECK_EQUAL(w.evicted_by_count(), 1u);
  BOOST_CHECK(w.seen("d", 0)); // still in
  BOOST_CHECK(w.seen("b", 0));
  BOOST_CHECK(!w.seen("a", 0)); // evicted, so new again
}

BOOST_AUTO_TEST_CASE(the_age_bound_evicts_old_ids) {
  dedupe_window w{100, 1000};
  BOOST_CHECK(!w.seen("a", 0));
  BOOST_CHECK(!w.seen("b", 500));
  BOOST_CHECK(w.seen("a", 999));
  BOOST_CHECK(!w.seen("a", 1000)); // a aged out at 1000
  BOOST_CHECK(w.seen("b", 1400));
  BOOST_CHECK_EQUAL(w.evicted_by_count(), 0u);
}

BOOST_AUTO_TEST_CASE(the_window_never_outgrows_its_bound) {
  dedupe_window w{1000, 600000};
  for (int i = 0; i < 50000; ++i)
    w.seen("id-" + std::to_string(i), i);
  BOOST_CHECK_EQUAL(w.size(), 1000u);
}

// The window against a plain model (a queue and a set of ids), through
// many evictions in a small table: deletion from the probed table must never
// lose an id that is still in the window, nor keep one that left.
BOOST_AUTO_TEST_CASE(the_window_agrees_with_a_plain_model) {
  const size_t max_ids = 37;
  const int64_t max_age = 500;
  dedupe_window w{max_ids, max_age};
  std::deque<std::pair<std::string, int64_t>> order;
  std::set<std::string> ids;
  std::mt19937 rng{7};
  size_t duplicates = 0;
  for (int64_t now = 0; now < 100000; ++now) {
    auto id = "id-" + std::to_string(rng() % 120);
    while (!order.empty() && order.front().second + max_age <= now) {
      ids.erase(order.front().first);
      order.pop_front();
    }
    bool expected = ids.count(id) != 0;
    if (!expected) {
      ids.insert(id);
      order.emplace_back(id, now);
      if (order.size() > max_ids) {
        ids.erase(order.front().first);
        order.pop_front();
      }
    }
    duplicates += expected;
    BOOST_REQUIRE_EQUAL(w.seen(id, now), expected);
    BOOST_REQUIRE_EQUAL(w.size(), order.size());
  }
  BOOST_CHECK_GT(duplicates, 10000u); // the model did exercise both answers
}

BOOST_AUTO_TEST_CASE(hashing_and_prefetching_a_batch_first_gives_the_same_answers) {
  // The orderer's way (every hash and prefetch of a batch, then seen_hash
  // in order) against seen() one id at a time, through a full window that
  // evicts on every insert, with duplicates inside a batch.
  dedupe_window one{50, 100000}, batched{50, 100000};
  std::mt19937 rng{11};
  std::vector<std::string> ids;
  std::vector<uint64_t> hashes;
  size_t duplicates = 0;
  for (int64_t now = 0; now < 2000; ++now) {
    ids.clear();
    hashes.clear();
    for (size_t i = rng() % 64; i > 0; --i)
      ids.push_back("e-" + std::to_string(rng() % 200));
    for (auto& id : ids) {
      hashes.push_back(dedupe_window::hash_of(id));
      batched.prefetch(hashes.back());
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      bool dup = one.seen(ids[i], now);
      duplicates += dup;
      BOOST_REQUIRE_EQUAL(batched.seen_hash(hashes[i], now), dup);
    }
    BOOST_REQUIRE_EQUAL(batched.size(), one.size());
  }
  BOOST_CHECK_GT(duplicates, 1000u);
  BOOST_CHECK_EQUAL(batched.evicted_by_count(), one.evicted_by_count());
  BOOST_CHECK_GT(one.evicted_by_count(), 1000u);
  // 0 marks a free slot: no id hashes to it, and a caller's 0 still works.
  dedupe_window z{4, 1000};
  BOOST_CHECK(!z.seen_hash(0, 1));
  BOOST_CHECK(z.seen_hash(0, 2));
  BOOST_CHECK(z.seen_hash(1, 3)); // the same slot value as 0
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ring_tests)

BOOST_AUTO_TEST_CASE(the_ring_agrees_with_a_deque_through_growth_and_shrinking) {
  ring<std::string> r;
  std::deque<std::string> model;
  std::mt19937 rng{3};
  for (int step = 0; step < 200000; ++step) {
    // Bursts up to a few thousand, then drains: the ring doubles and halves.
    bool push = (step / 5000) % 2 == 0 ? rng() % 4 != 0 : rng() % 4 == 0;
    if (push || model.empty()) {
      auto x = std::to_string(step) + std::string(20, 'x'); // not small
      r.push_back(x);
      model.push_back(x);
    } else {
      BOOST_REQUIRE_EQUAL(r.front(), model.front());
      r.pop_front();
      model.pop_front();
    }
    BOOST_REQUIRE_EQUAL(r.size(), model.size());
    if (!model.empty()) {
      BOOST_REQUIRE_EQUAL(r.back(), model.back());
      auto i = rng() % model.size();
      BOOST_REQUIRE_EQUAL(r.at(i), model[i]);
    }
  }
  r.clear();
  BOOST_CHECK(r.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reorder_buffer_tests)

BOOST_AUTO_TEST_CASE(the_watermark_releases_what_is_older_than_newest_minus_lateness) {
  reorder_buffer rb{{250, 1000, 1000}};
  std::vector<event> out;
  for (auto [id, ts] : {std::pair{"a", 1000}, {"b", 900}, {"c", 1100}}) {
    auto e = ev(id, ts);
    BOOST_CHECK(rb.push(e, 0));
  }
  rb.release(0, out);
  BOOST_CHECK(out.empty()); // newest 1100 - 250 = 850: nothing yet
  auto e = ev("d", 1200);
  rb.push(e, 0);
  rb.release(0, out); // mark 950: b
  BOOST_CHECK(stamps(out) == (std::vector<int64_t>{900}));
  e = ev("e", 1400);
  rb.push(e, 0);
  rb.release(0, out); // mark 1150: a, c
  BOOST_CHECK(stamps(out) == (std::vector<int64_t>{900, 1000, 1100}));
  BOOST_CHECK_EQUAL(rb.size(), 2u);
}

BOOST_AUTO_TEST_CASE(max_hold_releases_in_order_after_waiting_too_long) {
  reorder_buffer rb{{250, 1000, 1000}};
  std::vector<event> out;
  auto a = ev("a", 5000), b = ev("b", 4990), c = ev("c", 5100);
  rb.push(a, 0);
  rb.push(b, 300);
  rb.push(c, 600);
  BOOST_CHECK_EQUAL(rb.next_deadline(), 1000);
  rb.release(999, out);
  BOOST_CHECK(out.empty());
  rb.release(1000, out); // a waited 1 s: everything up to 5000 goes, in order
  BOOST_CHECK(stamps(out) == (std::vector<int64_t>{4990, 5000}));
  BOOST_CHECK_EQUAL(rb.next_deadline(), 1600); // c's turn
  rb.release(1600, out);
  BOOST_CHECK(stamps(out) == (std::vector<int64_t>{4990, 5000, 5100}));
  BOOST_CHECK_EQUAL(rb.next_deadline(), -1);
}

BOOST_AUTO_TEST_CASE(an_event_older_than_one_released_is_late) {
  reorder_buffer rb{{0, 1000, 1000}};
  std::vector<event> out;
  auto a = ev("a", 1000);
  rb.push(a, 0);
  rb.release(0, out);
  BOOST_CHECK_EQUAL(out.size(), 1u);
  auto old = ev("old", 999);
  BOOST_CHECK(!rb.push(old, 0));
  BOOST_CHECK_EQUAL(old.id(), "old"); // left to the caller
  auto same = ev("same", 1000); // not older: still in order
  BOOST_CHECK(rb.push(same, 0));
}

BOOST_AUTO_TEST_CASE(over_the_cap_the_oldest_go_early_never_dropped) {
  reorder_buffer rb{{100000, 100000, 3}};
  std::vector<event> out;
  size_t forced = 0;
  for (int i = 1; i <= 5; ++i) {
    auto e = ev(std::to_string(i), i);
    BOOST_REQUIRE(rb.push(e, 0));
    forced += rb.release(0, out);
  }
  BOOST_CHECK_EQUAL(rb.size(), 3u);
  BOOST_CHECK_EQUAL(forced, 2u);
  rb.release_all(out);
  BOOST_CHECK_EQUAL(out.size(), 5u); // every event came out
}

BOOST_AUTO_TEST_CASE(random_arrival_within_the_lateness_comes_out_sorted) {
  reorder_buffer rb{{500, 1000000, 1000000}};
  std::mt19937 rng{7};
  std::vector<event> out;
  for (int i = 0; i < 20000; ++i) {
    // Each event is at most 400 ms older than the newest before it.
    auto e = ev(std::to_string(i), 10 * i - int64_t(rng() % 400));
    BOOST_REQUIRE(rb.push(e, 0));
    rb.release(0, out);
  }
  rb.release_all(out);
  BOOST_REQUIRE_EQUAL(out.size(), 20000u);
  BOOST_CHECK(std::is_sorted(out.begin(), out.end(), [](auto& a, auto& b) {
    return a.ts_ms < b.ts_ms;
  }));
}

BOOST_AUTO_TEST_CASE(the_in_order_run_and_the_heap_release_as_one_sorted_stream) {
  // Mostly in order, with ties, stragglers and a far-future outlier: the
  // release order must be by timestamp, ties by arrival, exactly as one heap
  // would give, whichever of the two structures an event went to.
  reorder_buffer rb{{300, 1000000, 1000000}};
  std::mt19937 rng{11};
  std::vector<event> in;
  std::vector<event> out;
  int64_t t = 1000;
  for (int i = 0; i < 30000; ++i) {
    t += rng() % 3; // ties are common
    int64_t ts = t;
    if (rng() % 10 == 0)
      ts -= rng() % 90; // a straggler (with the outlier: within the lateness)
    if (i == 5000)
      ts += 200; // ahead of the stream: the run's back jumps
    in.push_back(ev(std::to_string(i), ts));
    auto e = in.back();
    BOOST_REQUIRE(rb.push(e, 0));
    if (i % 7 == 0)
      rb.release(0, out);
  }
  rb.release_all(out);
  BOOST_CHECK_GT(rb.out_of_run(), 1000u); // both structures were used
  BOOST_CHECK_LT(rb.out_of_run(), 15000u);
  std::stable_sort(in.begin(), in.end(),
                   [](auto& a, auto& b) { return a.ts_ms < b.ts_ms; });
  BOOST_REQUIRE_EQUAL(out.size(), in.size());
  bool same = true;
  for (size_t i = 0; i < in.size() && same; ++i)
    same = in[i].id() == out[i].id();
  BOOST_CHECK(same);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sink_outbox_tests)

BOOST_AUTO_TEST_CASE(one_batch_is_out_at_a_time) {
  sink_outbox ob{"acme", {3, 1000}};
  std::vector<event> evs;
  for (int i = 0; i < 7; ++i)
    evs.push_back(ev(std::to_string(i), i));
  ob.add(evs);
  auto b1 = ob.next(false);
  BOOST_REQUIRE(b1);
  BOOST_CHECK_EQUAL(b1->events.size(), 3u);
  BOOST_CHECK_EQUAL(b1->tenant, "acme");
  BOOST_CHECK(!ob.next(true)); // one is out: stop and wait
  BOOST_CHECK(ob.ack(b1->seq));
  BOOST_CHECK(!ob.ack(b1->seq)); // only once
  auto b2 = ob.next(false);
  BOOST_REQUIRE(b2);
  BOOST_CHECK_LT(b1->seq, b2->seq);
  BOOST_CHECK_EQUAL(b2->events.front().id(), "3");
  ob.ack(b2->seq);
  BOOST_CHECK(!ob.next(false)); // 1 waits: not a full batch
  auto b3 = ob.next(true);
  BOOST_REQUIRE(b3);
  BOOST_CHECK_EQUAL(b3->events.size(), 1u);
  ob.ack(b3->seq);
  BOOST_CHECK_EQUAL(ob.acknowledged_events(), 7u);
  BOOST_CHECK(ob.idle());
}

BOOST_AUTO_TEST_CASE(a_refused_batch_stays_out_and_is_the_one_sent_again) {
  sink_outbox ob{"acme", {2, 1000}};
  std::vector<event> evs;
  for (int i = 0; i < 6; ++i)
    evs.push_back(ev(std::to_string(i), i));
  ob.add(evs);
  auto b1 = ob.next(false);
  BOOST_CHECK_EQUAL(ob.refused(b1->seq, "busy"), 1u);
  BOOST_CHECK_EQUAL(ob.refused(b1->seq, "still busy"), 2u);
  BOOST_CHECK_EQUAL(ob.refused(999, "unknown"), 0u);
  BOOST_CHECK_EQUAL(ob.last_refusal(), "still busy");
  BOOST_CHECK(!ob.next(true)); // nothing overtakes it
  // The batch a restarted sink gets is the very batch that was sent: the
  // same message, no copy.
  auto& again = ob.unacknowledged();
  BOOST_REQUIRE(again);
  BOOST_CHECK_EQUAL(again->seq, b1->seq);
  BOOST_CHECK(&again.batch() == &b1.batch());
  BOOST_CHECK(again->events[0].frame().shares_with(b1->events[0].frame()));
  BOOST_CHECK(ob.ack(b1->seq));
  BOOST_CHECK_EQUAL(ob.refusals(), 0u);
  BOOST_CHECK_EQUAL(ob.refused_batches(), 2u);
}

BOOST_AUTO_TEST_CASE(a_batch_given_up_on_lets_the_next_go) {
  sink_outbox ob{"acme", {2, 1000}};
  std::vector<event> evs;
  for (int i = 0; i < 4; ++i)
    evs.push_back(ev(std::to_string(i), i));
  ob.add(evs);
  auto b1 = ob.next(false);
  ob.refused(b1->seq, "rejected");
  auto gone = ob.give_up(b1->seq);
  BOOST_REQUIRE(gone);
  BOOST_CHECK_EQUAL(gone->events.size(), 2u);
  BOOST_CHECK(!ob.give_up(b1->seq));
  BOOST_CHECK_EQUAL(ob.dead_lettered_events(), 2u);
  BOOST_CHECK_EQUAL(ob.acknowledged_events(), 0u);
  auto b2 = ob.next(false);
  BOOST_REQUIRE(b2);
  BOOST_CHECK_EQUAL(b2->events.front().id(), "2");
  BOOST_CHECK_EQUAL(ob.refusals(), 0u);
}

BOOST_AUTO_TEST_CASE(past_the_cap_the_oldest_waiting_events_are_dropped) {
  sink_outbox ob{"acme", {2, 4}};
  std::vector<event> evs;
  for (int i = 0; i < 3; ++i)
    evs.push_back(ev(std::to_string(i), i));
  ob.add(evs);
  auto inflight = ob.next(false); // 0, 1
  for (int i = 3; i <= 5; ++i)
    ob.add(ev(std::to_string(i), i));
  BOOST_CHECK_EQUAL(ob.trim(), 0u); // waiting: 2 3 4 5
  ob.add(ev("6", 6));
  BOOST_CHECK_EQUAL(ob.trim(), 1u); // 2 goes
  BOOST_CHECK_EQUAL(ob.waiting_events(), 4u);
  BOOST_CHECK_EQUAL(ob.dropped_events(), 1u);
  BOOST_CHECK_EQUAL(ob.in_flight_events(), 2u); // out: never dropped
  BOOST_CHECK_EQUAL(ob.held_events(), 6u);
  BOOST_CHECK_EQUAL(ob.trim_to(1), 3u);
  ob.ack(inflight->seq);
  auto next = ob.next(true);
  BOOST_CHECK_EQUAL(next->events.front().id(), "6");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(event_line_tests)

BOOST_AUTO_TEST_CASE(the_line_keeps_the_frame_and_escapes_the_rest) {
  event e{"v2.t", "id\"1", 12, 34, true, frame_ref{R"({"a":[1,2]})"}};
  std::string out;
  append_event_line(out, "ac\\me\n", e);
  BOOST_CHECK_EQUAL(out, "{\"tenant\":\"ac\\\\me\\n\",\"topic\":\"v2.t\",\"id\":"
                         "\"id\\\"1\",\"ts\":12,\"received\":34,\"late\":true,"
                         "\"event\":{\"a\":[1,2]}}\n");
  std::string ctl;
  append_json_string(ctl, std::string("\x01", 1));
  BOOST_CHECK_EQUAL(ctl, "\"\\u0001\"");
}

BOOST_AUTO_TEST_SUITE_END()
