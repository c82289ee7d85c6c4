#include "runtime/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "messages/errors.hpp"

namespace gcstream {

caf::expected<std::unique_ptr<journal>> journal::open(const std::string& path,
                                                      int busy_ms) {
  std::unique_ptr<journal> j{new journal};
  auto fail = [&](const std::string& what) {
    std::string msg = "journal " + path + ": " + what;
    if (j->db_)
      msg += std::string{": "} + sqlite3_errmsg(j->db_);
    return make_error(errc::bad_config, msg);
  };
  // The journal holds whole events (names, numbers): readable by its owner
  // only, like the file sink. SQLite gives its -wal and -shm files the
  // database file's mode, so making that one 0600 first covers all three.
  if (int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); fd >= 0) {
    ::fchmod(fd, 0600);
    ::close(fd);
  }
  if (sqlite3_open_v2(path.c_str(), &j->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                        | SQLITE_OPEN_NOMUTEX,
                      nullptr)
      != SQLITE_OK)
    return fail("cannot open");
  sqlite3_busy_timeout(j->db_, busy_ms);
  if (!j->exec("PRAGMA journal_mode=WAL") || !j->exec("PRAGMA synchronous=NORMAL")
      || !j->exec("CREATE TABLE IF NOT EXISTS events ("
                  " jid INTEGER PRIMARY KEY AUTOINCREMENT,"
                  " id TEXT NOT NULL, topic TEXT NOT NULL,"
                  " ts INTEGER NOT NULL, received INTEGER NOT NULL,"
                  " frame BLOB NOT NULL)"))
    return fail("cannot set up");
  if (sqlite3_prepare_v2(j->db_,
                         "INSERT INTO events (id, topic, ts, received, frame)"
                         " VALUES (?, ?, ?, ?, ?)",
                         -1, &j->insert_, nullptr)
        != SQLITE_OK
      || sqlite3_prepare_v2(j->db_, "DELETE FROM events WHERE jid = ?", -1,
                            &j->delete_, nullptr)
           != SQLITE_OK)
    return fail("cannot prepare statements");
  return j;
}

journal::~journal() {
  sqlite3_finalize(insert_);
  sqlite3_finalize(delete_);
  sqlite3_close(db_);
}

bool journal::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) == SQLITE_OK)
    return true;
  error_ = msg ? msg : "unknown error";
  sqlite3_free(msg);
  return false;
}

// Ends a failed transaction: the statements are reset first (SQLite refuses
// to end a transaction while one is in progress), and whatever is still
// open is rolled back, so that the next write starts clean.
void journal::abort_transaction() {
  sqlite3_reset(insert_);
  sqlite3_reset(delete_);
  if (!sqlite3_get_autocommit(db_)) {
    auto keep = error_;
    exec("ROLLBACK");
    error_ = keep;
  }
}

bool journal::begin() {
  if (!sqlite3_get_autocommit(db_))
    abort_transaction(); // left open by an earlier failure
  return exec("BEGIN");
}

bool journal::commit() {
  sqlite3_reset(insert_);
  sqlite3_reset(delete_);
  if (exec("COMMIT"))
    return true;
  abort_transaction();
  return false;
}

bool journal::append(std::vector<event*>& events) {
  if (events.empty())
    return true;
  auto fail = [&] {
    abort_transaction();
    for (auto* x : events)
      x->journal_id = 0;
    return false;
  };
  if (!begin())
    return fail();
  for (auto* e : events) {
    sqlite3_reset(insert_);
    sqlite3_bind_text(insert_, 1, e->id().data(), static_cast<int>(e->id().size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(insert_, 2, e->topic().data(), static_cast<int>(e->topic().size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(insert_, 3, e->ts_ms);
    sqlite3_bind_int64(insert_, 4, e->received_ms);
    const auto& f = e->frame().str();
    sqlite3_bind_blob(insert_, 5, f.data(), static_cast<int>(f.size()),
                      SQLITE_STATIC);
    if (sqlite3_step(insert_) != SQLITE_DONE) {
      error_ = sqlite3_errmsg(db_);
      return fail();
    }
    e->journal_id = static_cast<uint64_t>(sqlite3_last_insert_rowid(db_));
  }
  return commit() || fail();
}

bool journal::remove(const std::vector<uint64_t>& ids) {
  if (ids.empty())
    return true;
  if (!begin()) {
    abort_transaction();
    return false;
  }
  for (auto id : ids) {
    sqlite3_reset(delete_);
    sqlite3_bind_int64(delete_, 1, static_cast<sqlite3_int64>(id));
    if (sqlite3_step(delete_) != SQLITE_DONE) {
      error_ = sqlite3_errmsg(db_);
      abort_transaction();
      return false;
    }
  }
  return commit();
}

std::vector<event> journal::load() {
  std::vector<event> out;
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT jid, id, topic, ts, received, frame FROM events"
                         " ORDER BY ts, jid",
                         -1, &q, nullptr)
      != SQLITE_OK)
    return out;
  auto text = [&](int col) {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(q, col));
    return p ? std::string{p, static_cast<size_t>(sqlite3_column_bytes(q, col))}
             : std::string{};
  };
  while (sqlite3_step(q) == SQLITE_ROW) {
    auto blob = static_cast<const char*>(sqlite3_column_blob(q, 5));
    frame_ref frame{std::string{blob ? blob : "",
                                static_cast<size_t>(sqlite3_column_bytes(q, 5))}};
    event e{text(2), text(1), sqlite3_column_int64(q, 3),
            sqlite3_column_int64(q, 4), false, std::move(frame),
            static_cast<uint64_t>(sqlite3_column_int64(q, 0))};
    out.push_back(std::move(e));
  }
  sqlite3_finalize(q);
  return out;
}

uint64_t journal::size() {
  sqlite3_stmt* q = nullptr;
  uint64_t n = 0;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM events", -1, &q, nullptr)
      == SQLITE_OK
      && sqlite3_step(q) == SQLITE_ROW)
    n = static_cast<uint64_t>(sqlite3_column_int64(q, 0));
  sqlite3_finalize(q);
  return n;
}

} // namespace gcstream
