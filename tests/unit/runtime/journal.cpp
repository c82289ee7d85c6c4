// The journal: what is appended survives a reopen until it is removed.

#include "runtime/journal.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <sqlite3.h>

using namespace gcstream;
namespace fs = std::filesystem;

namespace {

struct journal_dir {
  fs::path dir;
  journal_dir() {
    char tmpl[] = "/tmp/gcstream-journal-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~journal_dir() { fs::remove_all(dir); }
  std::string db() const { return (dir / "acme.db").string(); }
};

event ev(const std::string& id, int64_t ts) {
  return event{"v2.users.u1.presence", id, ts, ts + 5, false,
               frame_ref{"{\"id\":\"" + id + "\"}"}};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(journal_tests, journal_dir)

BOOST_AUTO_TEST_CASE(appended_events_survive_a_reopen_until_removed) {
  std::vector<event> evs{ev("b", 20), ev("a", 10), ev("c", 30)};
  {
    auto j = journal::open(db());
    BOOST_REQUIRE(j);
    std::vector<event*> ptrs{&evs[0], &evs[1], &evs[2]};
    BOOST_REQUIRE((*j)->append(ptrs));
    for (auto& e : evs)
      BOOST_CHECK_NE(e.journal_id, 0u);
    BOOST_REQUIRE((*j)->remove({evs[2].journal_id}));
    BOOST_CHECK_EQUAL((*j)->size(), 2u);
  }
  auto j = journal::open(db());
  BOOST_REQUIRE(j);
  auto back = (*j)->load();
  BOOST_REQUIRE_EQUAL(back.size(), 2u);
  BOOST_CHECK_EQUAL(back[0].id(), "a"); // oldest timestamp first
  BOOST_CHECK_EQUAL(back[0].ts_ms, 10);
  BOOST_CHECK_EQUAL(back[0].received_ms, 15);
  BOOST_CHECK_EQUAL(back[0].frame().str(), "{\"id\":\"a\"}");
  BOOST_CHECK_EQUAL(back[0].journal_id, evs[1].journal_id);
  BOOST_CHECK_EQUAL(back[1].topic(), "v2.users.u1.presence");
}

BOOST_AUTO_TEST_CASE(the_journal_and_its_wal_are_readable_by_their_owner_only) {
  auto old = ::umask(022); // what a shell gives: files 0644 unless told
  {
    // One made 0644 by someone else is made 0600 too.
    { std::ofstream{db() + ".old"}; }
    fs::permissions(db() + ".old", fs::perms(0644));
    auto j = journal::open(db());
    auto k = journal::open(db() + ".old");
    BOOST_REQUIRE(j && k);
    std::vector<event> evs{ev("a", 1)};
    std::vector<event*> ptrs{&evs[0]};
    BOOST_REQUIRE((*j)->append(ptrs));
    for (auto name : {db(), db() + "-wal", db() + "-shm", db() + ".old"}) {
      BOOST_REQUIRE_MESSAGE(fs::exists(name), name);
      auto mode = static_cast<unsigned>(fs::status(name).permissions()) & 0777u;
      BOOST_CHECK_MESSAGE(mode == 0600u, name << " has mode " << std::oct << mode);
    }
  }
  ::umask(old);
}

BOOST_AUTO_TEST_CASE(a_journal_that_cannot_be_opened_is_a_clear_error) {
  auto j = journal::open((dir / "no" / "such" / "dir" / "x.db").string());
  BOOST_REQUIRE(!j);
  BOOST_CHECK_NE(caf::to_string(j.error()).find("cannot open"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_write_that_fails_leaves_no_transaction_open) {
  auto j = journal::open(db(), 0);
  BOOST_REQUIRE(j);
  std::vector<event> evs{ev("a", 1), ev("b", 2)};
  std::vector<event*> ptrs{&evs[0], &evs[1]};
  BOOST_REQUIRE((*j)->append(ptrs));
  // Another writer holds the file: removes and appends fail...
  sqlite3* other = nullptr;
  BOOST_REQUIRE_EQUAL(sqlite3_open(db().c_str(), &other), SQLITE_OK);
  BOOST_REQUIRE_EQUAL(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
                      SQLITE_OK);
  BOOST_CHECK(!(*j)->remove({evs[0].journal_id}));
  std::vector<event> more{ev("c", 3)};
  std::vector<event*> more_ptrs{&more[0]};
  BOOST_CHECK(!(*j)->append(more_ptrs));
  BOOST_CHECK_EQUAL(more[0].journal_id, 0u);
  BOOST_CHECK_NE((*j)->last_error().find("locked"), std::string::npos);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  // ...and once it lets go, the next ones work (no transaction was left
  // open by the failures).
  BOOST_CHECK((*j)->append(more_ptrs));
  BOOST_CHECK((*j)->remove({evs[0].journal_id}));
  BOOST_CHECK_EQUAL((*j)->size(), 2u);
}

BOOST_AUTO_TEST_SUITE_END()
