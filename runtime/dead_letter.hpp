#pragma once

// A tenant's dead letters: the batches a sink refused too often (or refused
// for good), written so that nothing is thrown away silently. One JSON line
// per event: the line the file sink writes (runtime/event_line.hpp), with
// which sink refused it, why, in which batch, and when it was given up:
//
//   {"dead_letter":{"sink":"hook","batch":42,"reason":"...",
//    "time":"2026-12-02T10:00:00.000Z"},"tenant":"acme","topic":"...",
//    "id":"...","ts":...,"received":...,"late":false,"event":{...}}
//
// The file is opened (created with mode 0600) on the first dead letter, and
// a batch is written with one write() and cut back if that write fails, so a
// line is never torn. Used by one actor at a time (the tenant's orderer).

#include <cstdint>
#include <string>

#include "messages/event.hpp"

namespace gcstream {

class dead_letter_file {
public:
  /// `path` empty: no file (append() then fails with a reason).
  explicit dead_letter_file(std::string path) : path_(std::move(path)) {}
  ~dead_letter_file();

  dead_letter_file(const dead_letter_file&) = delete;
  dead_letter_file& operator=(const dead_letter_file&) = delete;

  /// Appends every event of `b`; false (and error()) when it could not.
  bool append(const event_batch& b, const std::string& sink,
              const std::string& reason, int64_t epoch_ms);

  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }

private:
  std::string path_;
  int fd_ = -1;
  std::string error_;
  std::string buf_;
};

} // namespace gcstream
