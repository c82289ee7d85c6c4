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

caf::error open_file(file_sink_state& st) {
  if (is_stdout(st.cfg)) {
    st.fd = STDOUT_FILENO;
    return caf::none;
  }
  st.fd = ::open(st.cfg.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                 0600);
  if (st.fd < 0)
    return make_error(errc::sink_failed,
                      "cannot open " + st.cfg.path + ": " + std::strerror(errno));
  struct stat sb;
  st.size = ::fstat(st.fd, &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
  return caf::none;
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

caf::error write_all(file_sink_state& st, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    auto n = ::write(st.fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return make_error(errc::sink_failed, "cannot write " + st.cfg.path + ": "
                                             + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
  st.size += data.size();
  if (st.cfg.fsync == fsync_policy::batch && !is_stdout(st.cfg)
      && ::fdatasync(st.fd) != 0)
    return make_error(errc::sink_failed,
                      "cannot sync " + st.cfg.path + ": " + std::strerror(errno));
  return caf::none;
}

} // namespace

file_sink_state::~file_sink_state() {
  close_file(*this);
}

sink_actor::behavior_type file_sink(pointer self, file_sink_settings cfg) {
  self->state.cfg = std::move(cfg);
  if (auto err = open_file(self->state)) {
    self->quit(std::move(err));
    return {[](deliver_atom, const event_batch& b) { return b.seq; }};
  }
  return {
    [=](deliver_atom, const event_batch& b) -> caf::result<uint64_t> {
      auto& st = self->state;
      if (b.seq != 0 && b.seq <= st.handled.last())
        return b.seq; // written before a restart of the orderer
      st.buf.clear();
      for (auto& e : b.events)
        append_event_line(st.buf, b.tenant, e);
      caf::error err;
      if (st.cfg.rotate_bytes > 0 && st.size > 0
          && st.size + st.buf.size() > st.cfg.rotate_bytes)
        err = rotate(st);
      if (!err)
        err = write_all(st, st.buf);
      if (err) {
        self->quit(err);
        return err;
      }
      st.handled.seen(b.seq);
      st.events += b.events.size();
      return b.seq;
    },
  };
}

} // namespace gcstream
