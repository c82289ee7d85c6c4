#pragma once

// The file and stdout sinks: one JSON line per event (runtime/event_line.hpp).
//
//   (deliver_atom, event_batch) -> batch.seq once the lines are written (and
//                                  synced, with fsync = batch)
//
// The file is opened for appending (created with mode 0600: events carry
// customer data) and rotated by size: events.jsonl -> events.jsonl.1 -> ...
// up to `keep` old files.
//
// No duplicates across restarts: the last seq written lives in a
// file_sink_keep that the sink's factory holds, so a restarted sink knows
// which batches its file already has; a batch whose seq is not above it was
// written (the orderer resends the batch it had out): it is acknowledged and
// not written again.
//
// Whole lines only: a batch is one write(); a write that fails is cut back
// (ftruncate to the size before it), and the batch is refused with the
// error, so the orderer offers it again (and after its refusal limit puts it
// in the dead letters). At open, a last line without its newline (left by a
// process that died mid-write) is cut back too.

#include <cstdint>
#include <memory>
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

/// What a file sink's restarts share (held by its factory).
struct file_sink_keep {
  /// The last batch written to the file (0: none).
  uint64_t last_written = 0;
  /// Bytes of torn last lines cut back at open.
  uint64_t torn_bytes_cut = 0;
};

/// State of a file sink.
struct file_sink_state {
  file_sink_settings cfg;
  std::shared_ptr<file_sink_keep> keep;
  int fd = -1;
  uint64_t size = 0;
  uint64_t events = 0;
  std::string buf;
  ~file_sink_state();
  static inline const char* name = "gcstream.file_sink";
};

/// The file sink's behavior. `keep` (may be null: then a restart knows
/// nothing) outlives the actor.
sink_actor::behavior_type
file_sink(sink_actor::stateful_pointer<file_sink_state> self,
          file_sink_settings cfg, std::shared_ptr<file_sink_keep> keep);

} // namespace gcstream
