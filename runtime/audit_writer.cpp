#include "runtime/audit_writer.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/event_line.hpp"

namespace gcstream {

std::string iso8601_utc(int64_t epoch_ms) {
  auto secs = static_cast<time_t>(epoch_ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[96]; // room for any value the compiler can imagine
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(epoch_ms % 1000));
  return buf;
}

audit_writer::audit_writer(std::string path, uint64_t rotate_bytes, unsigned keep)
  : path_(std::move(path)), rotate_bytes_(rotate_bytes), keep_(keep) {
  open_file();
}

audit_writer::~audit_writer() {
  if (fd_ > STDERR_FILENO)
    ::close(fd_);
}

void audit_writer::open_file() {
  if (path_ == "-") {
    fd_ = STDERR_FILENO;
    return;
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    error_ = "cannot open the audit log " + path_ + ": " + std::strerror(errno);
    return;
  }
  // An existing file keeps its content but not looser permissions.
  ::fchmod(fd_, 0600);
  struct stat sb;
  size_ = ::fstat(fd_, &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
}

void audit_writer::rotate() {
  ::close(fd_);
  fd_ = -1;
  auto name = [&](unsigned k) { return path_ + "." + std::to_string(k); };
  for (unsigned k = keep_; k > 1; --k)
    ::rename(name(k - 1).c_str(), name(k).c_str());
  if (keep_ > 0)
    ::rename(path_.c_str(), name(1).c_str());
  else
    ::unlink(path_.c_str());
  size_ = 0;
  open_file();
}

namespace {

bool is_integer(const std::string& v) {
  if (v.empty() || v.size() > 18)
    return false;
  size_t i = v[0] == '-' ? 1 : 0;
  if (i == v.size())
    return false;
  for (; i < v.size(); ++i)
    if (v[i] < '0' || v[i] > '9')
      return false;
  return true;
}

} // namespace

bool audit_writer::write(const std::string& tenant, const std::string& event,
                         const std::vector<std::pair<std::string, std::string>>& fields,
                         int64_t epoch_ms) {
  if (fd_ < 0)
    return false;
  buf_.clear();
  buf_ += "{\"seq\":";
  buf_ += std::to_string(++seq_);
  buf_ += ",\"time\":\"";
  buf_ += iso8601_utc(epoch_ms);
  buf_ += "\",\"tenant\":";
  append_json_string(buf_, tenant);
  buf_ += ",\"event\":";
  append_json_string(buf_, event);
  for (auto& [k, v] : fields) {
    if (k == "seq" || k == "time" || k == "tenant" || k == "event")
      continue; // never shadow the envelope
    buf_ += ',';
    append_json_string(buf_, k);
    buf_ += ':';
    if (is_integer(v))
      buf_ += v;
    else
      append_json_string(buf_, v);
  }
  buf_ += "}\n";
  if (fd_ != STDERR_FILENO && rotate_bytes_ > 0 && size_ > 0
      && size_ + buf_.size() > rotate_bytes_) {
    rotate();
    if (fd_ < 0)
      return false;
  }
  size_t off = 0;
  while (off < buf_.size()) {
    auto n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    off += static_cast<size_t>(n);
  }
  size_ += buf_.size();
  return true;
}

} // namespace gcstream
