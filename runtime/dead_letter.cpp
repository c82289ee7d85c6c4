#include "runtime/dead_letter.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/audit_writer.hpp"
#include "runtime/event_line.hpp"

namespace gcstream {

dead_letter_file::~dead_letter_file() {
  if (fd_ >= 0)
    ::close(fd_);
}

bool dead_letter_file::append(const event_batch& b, const std::string& sink,
                              const std::string& reason, int64_t epoch_ms) {
  if (path_.empty()) {
    error_ = "no dead-letter file is configured";
    return false;
  }
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      error_ = "cannot open " + path_ + ": " + std::strerror(errno);
      return false;
    }
  }
  buf_.clear();
  std::string head = "{\"dead_letter\":{\"sink\":";
  append_json_string(head, sink);
  head += ",\"batch\":" + std::to_string(b.seq) + ",\"reason\":";
  append_json_string(head, reason);
  head += ",\"time\":\"" + iso8601_utc(epoch_ms) + "\"},";
  std::string line;
  for (auto& e : b.events) {
    line.clear();
    append_event_line(line, b.tenant, e);
    buf_ += head;
    buf_.append(line, 1, std::string::npos); // without the line's own '{'
  }
  struct stat sb;
  off_t before = ::fstat(fd_, &sb) == 0 ? sb.st_size : -1;
  size_t off = 0;
  while (off < buf_.size()) {
    auto n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error_ = "cannot write " + path_ + ": " + std::strerror(errno);
      if (before >= 0 && ::ftruncate(fd_, before) != 0)
        error_ += " (and the partial write could not be cut back)";
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

} // namespace gcstream
