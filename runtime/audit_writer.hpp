#pragma once

// The audit log's writer: one JSON line per decision or state transition,
//
//   {"seq":12,"time":"2026-11-22T16:58:01.123Z","tenant":"acme",
//    "event":"backoff_scheduled","delay_ms":812,"attempt":2,"reason":"..."}
//
// with a sequence number that only grows and the wall-clock time. To a file
// (created with mode 0600, appended, rotated by size: audit.jsonl ->
// audit.jsonl.1 -> ...) or to stderr ("-"). Callers never pass a secret;
// the writer adds nothing but the sequence number and the time.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gcstream {

/// Formats an epoch-milliseconds time as ISO-8601 UTC with milliseconds.
std::string iso8601_utc(int64_t epoch_ms);

/// Appends audit lines to a file or stderr.
class audit_writer {
public:
  /// `path` "-" writes to stderr. rotate_bytes 0: never rotate.
  audit_writer(std::string path, uint64_t rotate_bytes = 0, unsigned keep = 5);
  ~audit_writer();

  audit_writer(const audit_writer&) = delete;
  audit_writer& operator=(const audit_writer&) = delete;

  /// Whether the file could be opened (else: why, in error()).
  bool ok() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }

  /// Writes one line; values that are integers are written as numbers,
  /// everything else as strings. Returns false when the write failed.
  bool write(const std::string& tenant, const std::string& event,
             const std::vector<std::pair<std::string, std::string>>& fields,
             int64_t epoch_ms);

  uint64_t lines() const { return seq_; }

private:
  void open_file();
  void rotate();

  std::string path_;
  uint64_t rotate_bytes_;
  unsigned keep_;
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t seq_ = 0;
  std::string error_;
  std::string buf_;
};

} // namespace gcstream
