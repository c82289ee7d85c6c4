#pragma once

// The file and stdout sinks: one JSON line per event (runtime/event_line.hpp).
//
//   (deliver_atom, event_batch) -> batch.seq once the lines are written (and
//                                  synced, with fsync = batch)
//
// The file is opened for appending (created with mode 0600: events carry
// customer data) and rotated by size: events.jsonl -> events.jsonl.1 -> ...
// up to `keep` old files. A batch whose seq is not above the last one
// written was already written (the orderer resends unacknowledged batches
// after a restart of its own): it is acknowledged and not written again.
// A write that fails ends the sink with the error; the orderer starts it
// again and resends what it had not acknowledged, so nothing is lost and
// the failure shows in the audit log (sink_restarted).

#include <cstdint>
#include <string>

#include "messages/sink.hpp"

namespace gcstream {

enum class fsync_policy { never, batch };

/// Settings of a file sink; path "-" writes to stdout.
struct file_sink_settings {
  std::string path = "-";
  fsync_policy fsync = fsync_policy::never;
  /// Rotate when the file would grow past this (0: never).
  uint64_t rotate_bytes = 0;
  /// Rotated files kept.
  unsigned keep = 5;
};

/// State of a file sink.
struct file_sink_state {
  file_sink_settings cfg;
  int fd = -1;
  uint64_t size = 0;
  seen_batches handled;
  uint64_t events = 0;
  std::string buf;
  ~file_sink_state();
  static inline const char* name = "gcstream.file_sink";
};

/// The file sink's behavior.
sink_actor::behavior_type
file_sink(sink_actor::stateful_pointer<file_sink_state> self,
          file_sink_settings cfg);

} // namespace gcstream
