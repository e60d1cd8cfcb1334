#include "common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>

namespace facetrail {

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

namespace {
Status ErrnoStatus(const std::string& path, const char* what, int err) {
  std::string m = path + ": " + what + ": " + ErrnoMessage(err);
  if (err == ENOENT) return NotFound(std::move(m));
  return IoError(std::move(m));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};
}  // namespace

Expected<std::vector<uint8_t>> ReadFileBytes(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer (for ever); it is
  // then refused as not a regular file. On a regular file the flag changes nothing.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return ErrnoStatus(path, "cannot open", errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(path, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return ResourceExhausted(path + ": file is " + std::to_string(st.st_size) +
                             " bytes, more than the limit of " + std::to_string(max_bytes));
  }
  std::vector<uint8_t> data(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(path, "read failed", errno);
    if (n == 0) break;  // file shrank while reading
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

Status WriteFileAtomically(const std::string& path, std::span<const uint8_t> data) {
  std::filesystem::path target(path);
  std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : ".";
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
    if (fd.get() < 0) return ErrnoStatus(tmp, "cannot create", errno);
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        Status s = ErrnoStatus(tmp, "write failed", errno);
        ::unlink(tmp.c_str());
        return s;
      }
      done += static_cast<size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
      Status s = ErrnoStatus(tmp, "fsync failed", errno);
      ::unlink(tmp.c_str());
      return s;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = ErrnoStatus(path, "rename failed", errno);
    ::unlink(tmp.c_str());
    return s;
  }
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0) ::fsync(dfd.get());
  return Status::Ok();
}

namespace {

std::filesystem::path Resolved(const std::string& path) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  if (ec) return std::filesystem::path(path).lexically_normal();
  std::filesystem::path resolved = std::filesystem::weakly_canonical(abs, ec);
  return ec ? abs.lexically_normal() : resolved;
}

// "0644" for the permission bits of `mode`.
std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

bool IsWithinFolder(const std::string& path, const std::string& folder) {
  const std::filesystem::path p = Resolved(path);
  const std::filesystem::path f = Resolved(folder);
  auto pi = p.begin();
  for (auto fi = f.begin(); fi != f.end(); ++fi, ++pi) {
    if (fi->empty()) continue;  // a trailing separator
    if (pi == p.end() || *pi != *fi) return false;
  }
  return true;
}

std::vector<std::string> OwnerOnlyWarnings(const std::string& db_path) {
  std::vector<std::string> paths = {db_path, db_path + "-wal", db_path + "-shm",
                                    db_path + "-journal"};
  const std::filesystem::path db(db_path);
  const std::filesystem::path dir = db.has_parent_path() ? db.parent_path() : ".";
  const std::string prefix = db.filename().string() + ".";
  std::error_code ec;
  for (const auto& item : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = item.path().filename().string();
    if (name.size() > prefix.size() && name.starts_with(prefix) && !name.ends_with(".pub")) {
      paths.push_back((dir / name).string());
    }
  }
  std::sort(paths.begin() + 4, paths.end());
  std::vector<std::string> out;
  for (const std::string& path : paths) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if ((st.st_mode & 077) == 0) continue;
    std::string m = path;
    m += " is open to group or others (mode ";
    m += OctalMode(st.st_mode);
    m += "); it holds audit, account or image data: run chmod 600 ";
    m += path;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace facetrail
