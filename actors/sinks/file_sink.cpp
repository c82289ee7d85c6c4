#include "actors/sinks/file_sink.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "messages/errors.hpp"
#include "runtime/event_line.hpp"

namespace gcstream {

namespace {

using pointer = sink_actor::stateful_pointer<file_sink_state>;

bool is_stdout(const file_sink_settings& cfg) {
  return cfg.path.empty() || cfg.path == "-";
}

caf::error fail(const file_sink_state& st, const char* what) {
  return make_error(errc::sink_failed, std::string{"cannot "} + what + " "
                                         + st.cfg.path + ": "
                                         + std::strerror(errno));
}

// A last line without its newline (the process died mid-write) is cut back
// to the end of the line before it.
caf::error cut_torn_line(file_sink_state& st) {
  if (st.size == 0)
    return caf::none;
  char c = 0;
  if (::pread(st.fd, &c, 1, static_cast<off_t>(st.size - 1)) != 1)
    return fail(st, "read");
  if (c == '\n')
    return caf::none;
  // Search backwards for the last newline; the file is cut just after it.
  off_t end = static_cast<off_t>(st.size);
  char buf[4096];
  bool found = false;
  while (end > 0 && !found) {
    auto from = std::max<off_t>(0, end - static_cast<off_t>(sizeof(buf)));
    auto n = ::pread(st.fd, buf, static_cast<size_t>(end - from), from);
    if (n <= 0)
      return fail(st, "read");
    end = from;
    for (auto i = n; i > 0 && !found; --i)
      if (buf[i - 1] == '\n') {
        end = from + i;
        found = true;
      }
  }
  if (::ftruncate(st.fd, end) != 0)
    return fail(st, "cut back the torn last line of");
  if (st.keep)
    st.keep->torn_bytes_cut += st.size - static_cast<uint64_t>(end);
  st.size = static_cast<uint64_t>(end);
  return caf::none;
}

caf::error open_file(file_sink_state& st) {
  if (is_stdout(st.cfg)) {
    st.fd = STDOUT_FILENO;
    return caf::none;
  }
  st.fd = ::open(st.cfg.path.c_str(),
                 O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (st.fd < 0)
    return fail(st, "open");
  struct stat sb;
  st.size = ::fstat(st.fd, &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
  return cut_torn_line(st);
}

void close_file(file_sink_state& st) {
  if (st.fd >= 0 && st.fd != STDOUT_FILENO)
    ::close(st.fd);
  st.fd = -1;
}

caf::error rotate(file_sink_state& st) {
  close_file(st);
  auto name = [&](unsigned k) { return st.cfg.path + "." + std::to_string(k); };
  if (st.cfg.keep == 0) {
    ::unlink(st.cfg.path.c_str());
  } else {
    for (unsigned k = st.cfg.keep; k > 1; --k)
      ::rename(name(k - 1).c_str(), name(k).c_str());
    ::rename(st.cfg.path.c_str(), name(1).c_str());
  }
  st.size = 0;
  return open_file(st);
}

// One batch, whole or not at all: a failed write is cut back.
caf::error write_all(file_sink_state& st, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    auto n = ::write(st.fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      auto err = fail(st, "write");
      if (!is_stdout(st.cfg) && off > 0
          && ::ftruncate(st.fd, static_cast<off_t>(st.size)) != 0) {
        close_file(st); // reopened (and its torn line cut) next time
      }
      return err;
    }
    off += static_cast<size_t>(n);
  }
  st.size += data.size();
  if (st.cfg.fsync == fsync_policy::batch && !is_stdout(st.cfg)
      && ::fdatasync(st.fd) != 0)
    return fail(st, "sync");
  return caf::none;
}

} // namespace

file_sink_state::~file_sink_state() {
  close_file(*this);
}

sink_actor::behavior_type file_sink(pointer self, file_sink_settings cfg,
                                    std::shared_ptr<file_sink_keep> keep) {
  self->state.cfg = std::move(cfg);
  self->state.keep = keep ? std::move(keep) : std::make_shared<file_sink_keep>();
  return {
    [=](deliver_atom, const event_batch& b) -> caf::result<uint64_t> {
      auto& st = self->state;
      if (b.seq != 0 && b.seq <= st.keep->last_written)
        return b.seq; // written already, before a restart
      if (st.fd < 0)
        if (auto err = open_file(st)) {
          close_file(st);
          return err;
        }
      st.buf.clear();
      for (auto& e : b.events)
        append_event_line(st.buf, b.tenant, e);
      caf::error err;
      if (st.cfg.rotate_bytes > 0 && st.size > 0
          && st.size + st.buf.size() > st.cfg.rotate_bytes)
        err = rotate(st);
      if (!err)
        err = write_all(st, st.buf);
      if (err)
        return err; // refused: the orderer offers it again
      st.keep->last_written = b.seq;
      st.events += b.events.size();
      return b.seq;
    },
  };
}

} // namespace gcstream
