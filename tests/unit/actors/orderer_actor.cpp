// The orderer on CAF's test scheduler: dedupe, the watermark and max hold on
// a virtual clock, late policies, stop and wait, refusals and dead letters,
// resends to a restarted sink, a restarted orderer carrying on from the kept
// state, and a journal that cannot be written.

#include "actors/orderer_actor.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include <caf/all.hpp>
#include <sqlite3.h>

#include "messages/errors.hpp"
#include "tests/support/deterministic_fixture.hpp"

using namespace gcstream;
using namespace std::chrono_literals;

namespace {

// What a test sink saw; it acknowledges at once, or when the test says (an
// int message: acknowledge that many held batches, oldest first).
struct sink_log {
  bool auto_ack = true;
  /// Refuse batch seq (with `refusal`) this many more times.
  std::map<uint64_t, int> refuse;
  caf::error refusal = make_error(errc::sink_failed, "busy");
  std::vector<event_batch> batches;
  std::vector<std::pair<caf::response_promise, uint64_t>> held;
  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (auto& b : batches)
      for (auto& e : b.events)
        out.emplace_back(e.id());
    return out;
  }
  std::vector<uint64_t> seqs() const {
    std::vector<uint64_t> out;
    for (auto& b : batches)
      out.push_back(b.seq);
    return out;
  }
};

caf::behavior test_sink(caf::event_based_actor* self, sink_log* log) {
  return {
    [=](deliver_atom, event_batch& b) -> caf::result<uint64_t> {
      log->batches.push_back(b);
      if (auto it = log->refuse.find(b.seq); it != log->refuse.end() && it->second > 0) {
        --it->second;
        return log->refusal;
      }
      if (log->auto_ack)
        return b.seq;
      auto rp = self->make_response_promise();
      log->held.emplace_back(rp, b.seq);
      return caf::delegated<uint64_t>{};
    },
    [=](int n) {
      for (int i = 0; i < n && !log->held.empty(); ++i) {
        log->held.front().first.deliver(log->held.front().second);
        log->held.erase(log->held.begin());
      }
    },
  };
}

event ev(const std::string& id, int64_t ts) {
  return event{"v2.users.u1.presence", id, ts, ts, false, frame_ref{"{}"}};
}

event_batch batch(uint64_t seq, std::vector<event> evs) {
  return event_batch{"acme", seq, std::move(evs)};
}

struct orderer_fixture : test::deterministic_fixture {
  sink_log main_log, late_log;
  std::vector<sink_actor> spawned;
  std::shared_ptr<orderer_keep> keep;
  orderer_actor orderer;
  audit_ref audits = std::make_shared<audit_queue>();
  std::vector<uint64_t> acks;
  std::vector<caf::error> ingest_errors;

  // The audit events of one kind so far.
  std::vector<audit_event> audited(const std::string& what) {
    std::vector<audit_event> out;
    for (auto& e : audits->peek(SIZE_MAX).events)
      if (e.event == what)
        out.push_back(e);
    return out;
  }

  orderer_settings settings() {
    orderer_settings s;
    s.tenant = "acme";
    s.reorder = {250, 1000, 1000};
    return s;
  }

  sink_spec spec(sink_log* log, bool late_only = false) {
    return sink_spec{late_only ? "late" : "main",
                     [this, log](const sink_context& ctx) {
                       auto h = caf::actor_cast<sink_actor>(
                         ctx.sys.spawn(test_sink, log));
                       spawned.push_back(h);
                       return h;
                     },
                     late_only};
  }

  void start(orderer_settings s, bool with_late_sink = false) {
    std::vector<sink_spec> sinks{spec(&main_log)};
    if (with_late_sink)
      sinks.push_back(spec(&late_log, true));
    keep = std::make_shared<orderer_keep>(s, std::move(sinks));
    orderer = sys.spawn(orderer_actor_impl, keep, audits);
    sched.run();
  }

  // Runs `f(self)` in a short-lived client actor, then every mailbox.
  template <class F>
  void as_client(F f) {
    auto client = sys.spawn([f](caf::event_based_actor* self) { f(self); });
    sched.run();
    caf::anon_send_exit(client, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void ingest(event_batch b) {
    as_client([this, b](caf::event_based_actor* self) {
      self->request(orderer, caf::infinite, ingest_atom::value, b)
        .then([this](uint64_t seq) { acks.push_back(seq); },
              [this](caf::error& err) { ingest_errors.push_back(err); });
    });
  }

  orderer_stats stats() {
    orderer_stats out;
    as_client([&](caf::event_based_actor* self) {
      self->request(orderer, caf::infinite, stats_atom::value)
        .then([&](const orderer_stats& s) { out = s; });
    });
    return out;
  }

  // Asks for a drain; the answer lands in `drained` whenever it comes.
  caf::actor drain(caf::timespan timeout, std::optional<bool>& drained) {
    return sys.spawn([this, timeout, &drained](caf::event_based_actor* self) {
      self->request(orderer, caf::infinite, drain_atom::value, timeout)
        .then([&drained](bool ok) { drained = ok; });
    });
  }

  // The newest sink acknowledges n held batches.
  void ack(int n = 1000) {
    caf::anon_send(caf::actor_cast<caf::actor>(spawned.back()), n);
    sched.run();
  }

  void advance(caf::timespan t) {
    sched.clock().advance_time(t);
    sched.run();
  }

  ~orderer_fixture() {
    if (orderer)
      caf::anon_send_exit(orderer, caf::exit_reason::user_shutdown);
    for (auto& s : spawned)
      caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
    sched.run();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(orderer_actor_tests, orderer_fixture)

BOOST_AUTO_TEST_CASE(duplicates_go_and_the_rest_comes_out_in_timestamp_order) {
  start(settings());
  ingest(batch(1, {ev("a", 1000), ev("c", 1200), ev("b", 1100)}));
  ingest(batch(2, {ev("b", 1100), ev("d", 1300), ev("a", 1000)}));
  BOOST_CHECK(acks == (std::vector<uint64_t>{1, 2})); // both in kept state
  // Newest is 1300: events up to 1050 are out, the rest is held.
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"a"}));
  advance(1s); // max hold
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"a", "b", "c", "d"}));
  auto st = stats();
  BOOST_CHECK_EQUAL(st.received, 6u);
  BOOST_CHECK_EQUAL(st.duplicates, 2u);
  BOOST_CHECK_EQUAL(st.reordering, 0u);
  BOOST_REQUIRE_EQUAL(st.sinks.size(), 1u);
  BOOST_CHECK_EQUAL(st.sinks[0].delivered, 4u);
}

BOOST_AUTO_TEST_CASE(an_event_without_an_id_is_never_a_duplicate) {
  start(settings());
  ingest(batch(1, {ev("", 1000), ev("", 1000)}));
  advance(1s);
  BOOST_CHECK_EQUAL(main_log.ids().size(), 2u);
  BOOST_CHECK_EQUAL(stats().duplicates, 0u);
}

BOOST_AUTO_TEST_CASE(nothing_is_released_before_the_max_hold) {
  start(settings());
  ingest(batch(1, {ev("a", 5000)}));
  advance(999ms);
  BOOST_CHECK(main_log.ids().empty());
  advance(1ms);
  BOOST_CHECK_EQUAL(main_log.ids().size(), 1u);
}

BOOST_AUTO_TEST_CASE(late_events_are_delivered_flagged_by_default) {
  start(settings());
  ingest(batch(1, {ev("a", 1000), ev("b", 2000)})); // a goes at once
  ingest(batch(2, {ev("old", 900)}));
  BOOST_REQUIRE_EQUAL(main_log.ids().size(), 2u);
  auto& last = main_log.batches.back().events.back();
  BOOST_CHECK_EQUAL(last.id(), "old");
  BOOST_CHECK(last.late);
  BOOST_CHECK(!main_log.batches.front().events.front().late);
  BOOST_CHECK_EQUAL(stats().late, 1u);
}

BOOST_AUTO_TEST_CASE(late_events_can_be_dropped_or_routed) {
  auto s = settings();
  s.late = late_policy::route;
  start(s, true);
  ingest(batch(1, {ev("a", 1000), ev("b", 2000)}));
  ingest(batch(2, {ev("old", 900)}));
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"a"}));
  BOOST_CHECK(late_log.ids() == (std::vector<std::string>{"old"}));
  advance(1s);
  BOOST_CHECK(late_log.ids() == (std::vector<std::string>{"old"})); // only late ones
}

BOOST_AUTO_TEST_CASE(dropped_late_events_are_counted) {
  auto s = settings();
  s.late = late_policy::drop;
  start(s);
  ingest(batch(1, {ev("a", 1000), ev("b", 2000)}));
  ingest(batch(2, {ev("old", 900), ev("old2", 800)}));
  advance(1s);
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"a", "b"}));
  auto st = stats();
  BOOST_CHECK_EQUAL(st.late, 2u);
  BOOST_CHECK_EQUAL(st.late_dropped, 2u);
}

BOOST_AUTO_TEST_CASE(a_sink_has_one_batch_at_a_time) {
  auto s = settings();
  s.reorder.allowed_lateness_ms = 0;
  s.outbox = {1, 1000};
  main_log.auto_ack = false;
  start(s);
  ingest(batch(1, {ev("a", 1), ev("b", 2), ev("c", 3), ev("d", 4)}));
  BOOST_CHECK_EQUAL(main_log.batches.size(), 1u);
  BOOST_CHECK_EQUAL(stats().sinks[0].waiting, 3u);
  ack(1);
  BOOST_CHECK_EQUAL(main_log.batches.size(), 2u);
  main_log.auto_ack = true;
  ack(1);
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"a", "b", "c", "d"}));
}

BOOST_AUTO_TEST_CASE(a_sink_busy_with_a_batch_costs_no_timer) {
  // Events wait while a batch is out: the next goes on the acknowledgement,
  // so no timer may spin meanwhile (a 0 ms linger once did, hundreds of
  // times a second).
  auto s = settings();
  s.reorder.allowed_lateness_ms = 0;
  s.outbox = {2, 1000};
  main_log.auto_ack = false;
  start(s);
  ingest(batch(1, {ev("a", 1), ev("b", 2), ev("c", 3), ev("d", 4), ev("e", 5)}));
  BOOST_REQUIRE_EQUAL(main_log.batches.size(), 1u);
  BOOST_CHECK_EQUAL(stats().sinks[0].waiting, 3u);
  BOOST_CHECK_EQUAL(sched.clock().advance_time(caf::timespan{0}), 0u); // nothing due
  for (auto& kv : sched.clock().schedule())
    BOOST_CHECK(kv.first > sched.clock().now()); // only the sink's deadline
  ack(1);
  BOOST_CHECK_EQUAL(main_log.batches.size(), 2u);
}

BOOST_AUTO_TEST_CASE(a_refused_batch_is_the_next_one_the_sink_gets) {
  auto s = settings();
  s.reorder.allowed_lateness_ms = 0;
  s.outbox = {1, 1000};
  main_log.refuse[2] = 2; // the second batch is refused twice
  start(s);
  ingest(batch(1, {ev("a", 1), ev("b", 2), ev("c", 3), ev("d", 4)}));
  // a went; b was refused and nothing overtook it.
  BOOST_CHECK((main_log.seqs() == std::vector<uint64_t>{1, 2}));
  advance(100ms); // the first retry's backoff is at most 100 ms
  advance(200ms); // the second's at most 200 ms
  BOOST_CHECK((main_log.seqs() == std::vector<uint64_t>{1, 2, 2, 2, 3, 4}));
  // The seqs never went backwards, and every event was acknowledged once.
  auto st = stats();
  BOOST_CHECK_EQUAL(st.sinks[0].delivered, 4u);
  BOOST_CHECK_EQUAL(st.sinks[0].refused, 2u);
  BOOST_CHECK_EQUAL(st.sinks[0].dead_lettered, 0u);
  auto refused = audited("batch_refused");
  BOOST_REQUIRE_EQUAL(refused.size(), 2u);
}

BOOST_AUTO_TEST_CASE(a_sink_that_does_not_answer_in_time_refuses) {
  auto s = settings();
  s.reorder.allowed_lateness_ms = 0;
  s.outbox = {10, 1000};
  s.sink_timeout_ms = 5000;
  main_log.auto_ack = false;
  start(s);
  ingest(batch(1, {ev("a", 1)}));
  BOOST_CHECK_EQUAL(main_log.batches.size(), 1u);
  main_log.held.clear(); // it never answers that one
  main_log.auto_ack = true;
  advance(5s);   // timed out: a refusal
  advance(100ms); // the retry
  BOOST_CHECK((main_log.seqs() == std::vector<uint64_t>{1, 1}));
  BOOST_CHECK_EQUAL(stats().sinks[0].delivered, 1u);
  auto refused = audited("batch_refused");
  BOOST_REQUIRE_EQUAL(refused.size(), 1u);
  bool says_timeout = false;
  for (auto& [k, v] : refused[0].fields)
    says_timeout = says_timeout || (k == "reason" && v.find("no answer") == 0);
  BOOST_CHECK(says_timeout);
}

BOOST_AUTO_TEST_CASE(past_max_refusals_the_batch_goes_to_the_dead_letters) {
  char tmpl[] = "/tmp/gcstream-dead-letters-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  auto s = settings();
  s.reorder.allowed_lateness_ms = 0;
  s.outbox = {2, 1000};
  s.max_refusals = 3;
  s.dead_letter_path = dir + "/acme.jsonl";
  main_log.refuse[1] = 100; // it never takes batch 1
  start(s);
  ingest(batch(1, {ev("a", 1), ev("b", 2), ev("c", 3)}));
  for (int i = 0; i < 5; ++i)
    advance(1s);
  // Three tries, then the stream went on with c.
  BOOST_CHECK((main_log.seqs() == std::vector<uint64_t>{1, 1, 1, 2}));
  auto st = stats();
  BOOST_CHECK_EQUAL(st.sinks[0].dead_lettered, 2u);
  BOOST_CHECK_EQUAL(st.sinks[0].delivered, 1u);
  BOOST_REQUIRE_EQUAL(audited("batch_dead_lettered").size(), 1u);
  std::ifstream in{s.dead_letter_path};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_CHECK_NE(lines[0].find(R"("dead_letter":{"sink":"main","batch":1,"reason":"busy","time":")"),
                 std::string::npos);
  BOOST_CHECK_NE(lines[0].find(R"("id":"a")"), std::string::npos);
  BOOST_CHECK_NE(lines[1].find(R"("id":"b")"), std::string::npos);
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(a_final_refusal_goes_to_the_dead_letters_at_once) {
  auto s = settings();
  s.reorder.allowed_lateness_ms = 0;
  s.outbox = {1, 1000};
  main_log.refuse[1] = 1;
  main_log.refusal = make_error(errc::sink_rejected, "HTTP 422");
  start(s);
  ingest(batch(1, {ev("a", 1), ev("b", 2)}));
  // No dead-letter file: counted, audited, dropped; b goes at once.
  BOOST_CHECK((main_log.seqs() == std::vector<uint64_t>{1, 2}));
  auto st = stats();
  BOOST_CHECK_EQUAL(st.sinks[0].dead_lettered, 1u);
  BOOST_CHECK_EQUAL(st.sinks[0].delivered, 1u);
  auto dl = audited("batch_dead_lettered");
  BOOST_REQUIRE_EQUAL(dl.size(), 1u);
}

BOOST_AUTO_TEST_CASE(a_sink_that_keeps_dying_ends_the_orderer_loudly) {
  auto s = settings();
  s.sink_restarts.max_restarts = 2;
  s.sink_restarts.window = std::chrono::milliseconds{60000};
  start(s);
  for (int i = 0; i < 3; ++i) {
    caf::anon_send_exit(spawned.back(), caf::exit_reason::kill);
    sched.run();
    advance(10s);
  }
  BOOST_CHECK_EQUAL(spawned.size(), 3u); // two restarts, then no more
  BOOST_CHECK_EQUAL(audited("actor_restarted").size(), 3u);
  // The orderer ended with restart_limit (its supervisor fails the tenant).
  bool gone = false;
  auto probe = sys.spawn([&](caf::event_based_actor* self) {
    self->request(orderer, caf::infinite, stats_atom::value)
      .then([](const orderer_stats&) {}, [&](caf::error&) { gone = true; });
  });
  sched.run();
  BOOST_CHECK(gone);
  orderer = nullptr;
}

BOOST_AUTO_TEST_CASE(a_restarted_sink_gets_the_unacknowledged_batch_again) {
  auto s = settings();
  s.reorder.allowed_lateness_ms = 0;
  s.outbox = {1, 1000};
  main_log.auto_ack = false;
  start(s);
  ingest(batch(1, {ev("a", 1), ev("b", 2), ev("c", 3)}));
  BOOST_REQUIRE_EQUAL(main_log.batches.size(), 1u);
  // The sink acknowledges the first batch, takes the second, then dies.
  ack(1);
  BOOST_REQUIRE_EQUAL(main_log.batches.size(), 2u);
  main_log.held.clear();
  auto first = spawned.front();
  caf::anon_send_exit(first, caf::exit_reason::kill);
  sched.run();
  main_log.batches.clear();
  main_log.auto_ack = true;
  advance(100ms); // the restart delay
  BOOST_REQUIRE_EQUAL(spawned.size(), 2u);
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"b", "c"}));
  BOOST_CHECK_EQUAL(main_log.batches[0].seq, 2u); // same seq as before
  auto st = stats();
  BOOST_CHECK_EQUAL(st.sinks[0].restarts, 1u);
  BOOST_CHECK_EQUAL(st.sinks[0].unacked_batches, 0u);
  BOOST_CHECK_EQUAL(st.sinks[0].delivered, 3u);
  // Dying with a batch out counts as a refusal of it.
  BOOST_CHECK_EQUAL(st.sinks[0].refused, 1u);
}

BOOST_AUTO_TEST_CASE(a_restarted_orderer_carries_on_from_the_kept_state) {
  auto s = settings();
  s.outbox = {1, 1000};
  main_log.auto_ack = false;
  start(s);
  ingest(batch(1, {ev("a", 1000), ev("b", 1100), ev("c", 5000)}));
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"a"}));
  // Killed with a batch unacknowledged, b waiting and c in its reorder
  // buffer.
  caf::anon_send_exit(orderer, caf::exit_reason::kill);
  sched.run();
  main_log.held.clear();
  main_log.batches.clear();
  main_log.auto_ack = true;
  orderer = sys.spawn(orderer_actor_impl, keep, audits);
  sched.run();
  // The same sink gets the batch again, with its seq, then b.
  BOOST_CHECK_EQUAL(spawned.size(), 1u);
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"a", "b"}));
  BOOST_CHECK_EQUAL(main_log.batches[0].seq, 1u);
  // c is released on time by the new orderer even if nothing else comes.
  advance(1s);
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"a", "b", "c"}));
  // A batch the session offers again is deduped.
  ingest(batch(1, {ev("a", 1000), ev("b", 1100), ev("c", 5000), ev("d", 5100)}));
  advance(1s);
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"a", "b", "c", "d"}));
  auto st = stats();
  BOOST_CHECK_EQUAL(st.incarnations, 2u);
  BOOST_CHECK_EQUAL(st.duplicates, 3u);
  BOOST_CHECK_EQUAL(st.received, 7u);
}

BOOST_AUTO_TEST_CASE(a_full_sink_queue_drops_the_oldest_and_counts_it) {
  auto s = settings();
  s.reorder.allowed_lateness_ms = 0;
  s.outbox = {1, 2};
  main_log.auto_ack = false;
  start(s);
  ingest(batch(1, {ev("a", 1), ev("b", 2), ev("c", 3), ev("d", 4), ev("e", 5)}));
  auto st = stats();
  BOOST_CHECK_EQUAL(st.sinks[0].dropped, 2u); // b and c: a in flight, d e wait
  main_log.auto_ack = true;
  ack();
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"a", "d", "e"}));
}

BOOST_AUTO_TEST_CASE(a_drain_releases_everything_and_answers_once_acknowledged) {
  auto s = settings();
  main_log.auto_ack = false;
  start(s);
  ingest(batch(1, {ev("a", 1000), ev("b", 9000)}));
  std::optional<bool> drained;
  auto client = drain(5s, drained);
  sched.run();
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"a"}));
  ack(1); // then b goes
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"a", "b"}));
  BOOST_CHECK(!drained);
  ack(1);
  BOOST_REQUIRE(drained);
  BOOST_CHECK(*drained);
}

BOOST_AUTO_TEST_CASE(a_drain_gives_up_at_its_timeout) {
  main_log.auto_ack = false;
  start(settings());
  ingest(batch(1, {ev("a", 1000)}));
  std::optional<bool> drained;
  auto client = drain(2s, drained);
  sched.run();
  advance(2s);
  BOOST_REQUIRE(drained);
  BOOST_CHECK(!*drained);
}

BOOST_AUTO_TEST_CASE(the_journal_keeps_what_no_sink_acknowledged_across_a_crash) {
  char tmpl[] = "/tmp/gcstream-orderer-journal-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  auto db = dir + "/acme.db";
  auto s = settings();
  s.reorder.allowed_lateness_ms = 0;
  s.outbox = {1, 1000};
  main_log.auto_ack = false;
  {
    keep = std::make_shared<orderer_keep>(s, std::vector<sink_spec>{spec(&main_log)});
    keep->attach_journal(std::move(*journal::open(db)));
    orderer = sys.spawn(orderer_actor_impl, keep, audits);
    sched.run();
    ingest(batch(1, {ev("a", 1), ev("b", 2), ev("c", 3)}));
    BOOST_REQUIRE_EQUAL(main_log.batches.size(), 1u);
    ack(1); // a is done: it leaves the journal; b goes out
    BOOST_CHECK_EQUAL(keep->store->size(), 2u);
    // The process dies: orderer, sinks and kept state all go.
    caf::anon_send_exit(orderer, caf::exit_reason::kill);
    for (auto& h : spawned)
      caf::anon_send_exit(h, caf::exit_reason::kill);
    sched.run();
    keep.reset();
  }
  // The next start replays b and c, once.
  main_log = sink_log{};
  keep = std::make_shared<orderer_keep>(s, std::vector<sink_spec>{spec(&main_log)});
  keep->attach_journal(std::move(*journal::open(db)));
  orderer = sys.spawn(orderer_actor_impl, keep, audits);
  sched.run();
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"b", "c"}));
  ingest(batch(1, {ev("b", 2), ev("d", 4)})); // b again from the service
  main_log.auto_ack = true;
  ack();
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"b", "c", "d"}));
  BOOST_CHECK_EQUAL(keep->store->size(), 0u);
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(a_batch_the_journal_cannot_store_is_refused_whole) {
  char tmpl[] = "/tmp/gcstream-orderer-journal-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  auto db = dir + "/acme.db";
  auto s = settings();
  s.reorder.allowed_lateness_ms = 0;
  keep = std::make_shared<orderer_keep>(s, std::vector<sink_spec>{spec(&main_log)});
  keep->attach_journal(std::move(*journal::open(db, 0)));
  orderer = sys.spawn(orderer_actor_impl, keep, audits);
  sched.run();
  // Another writer holds the database: the journal cannot write.
  sqlite3* other = nullptr;
  BOOST_REQUIRE_EQUAL(sqlite3_open(db.c_str(), &other), SQLITE_OK);
  BOOST_REQUIRE_EQUAL(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
                      SQLITE_OK);
  ingest(batch(1, {ev("a", 1), ev("b", 2)}));
  BOOST_CHECK(acks.empty()); // not acknowledged: the session keeps it
  BOOST_REQUIRE_EQUAL(ingest_errors.size(), 1u);
  BOOST_CHECK(code_of(ingest_errors[0]) == errc::journal_failed);
  BOOST_CHECK(main_log.ids().empty());
  auto st = stats();
  BOOST_CHECK_EQUAL(st.journal_errors, 1u);
  BOOST_CHECK_EQUAL(st.received, 0u); // nothing of it was taken
  BOOST_CHECK_EQUAL(audited("journal_failed").size(), 1u);
  // The writer goes; the same batch comes again and is new, not a duplicate.
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  ingest(batch(1, {ev("a", 1), ev("b", 2)}));
  BOOST_CHECK((acks == std::vector<uint64_t>{1}));
  BOOST_CHECK(main_log.ids() == (std::vector<std::string>{"a", "b"}));
  BOOST_CHECK_EQUAL(stats().duplicates, 0u);
  BOOST_CHECK_EQUAL(audited("journal_recovered").size(), 1u);
  BOOST_CHECK_EQUAL(keep->store->size(), 0u);
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()
