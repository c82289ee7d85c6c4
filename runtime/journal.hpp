#pragma once

// The journal: a tenant's events on disk between their arrival and the
// moment every sink acknowledged them (ARCHITECTURE.md, invariant 1, across
// a process crash). SQLite in WAL mode with synchronous=NORMAL: a committed
// write survives the process being killed (not a power cut: the WAL is
// synced at checkpoints). Writes are grouped: one transaction per ingested
// batch and one per acknowledgement.
//
// At start, what is still in the journal is replayed, oldest timestamp
// first: delivery is exactly once while the process lives and at least once
// across a crash (an event a sink wrote just before the crash, whose removal
// was not committed yet, is delivered again).
//
// Used by one actor at a time (the tenant's orderer); not thread-safe.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "messages/event.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace gcstream {

class journal {
public:
  /// Opens (creating) the journal at `path`; errc::bad_config when it cannot.
  /// A write waits at most `busy_ms` for another writer of the file (then it
  /// fails, and the batch is offered again later: the orderer's thread is
  /// not held long).
  static caf::expected<std::unique_ptr<journal>> open(const std::string& path,
                                                      int busy_ms = 100);

  ~journal();

  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  /// Stores events (one transaction) and sets each one's journal_id.
  /// Returns false when the write failed (the events stay unjournaled).
  bool append(std::vector<event*>& events);

  /// Removes events by journal id (one transaction).
  bool remove(const std::vector<uint64_t>& ids);

  /// Everything still stored, oldest timestamp first, with journal ids.
  std::vector<event> load();

  /// Events stored.
  uint64_t size();

  const std::string& last_error() const { return error_; }

private:
  journal() = default;
  bool exec(const char* sql);
  bool begin();
  bool commit();
  void abort_transaction();

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
  std::string error_;
};

} // namespace gcstream
