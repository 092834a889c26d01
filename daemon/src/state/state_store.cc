#include "state/state_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string_view>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "log/logger.h"

namespace adaspring::daemon {
namespace {

// State files are small (profiles, a model list); anything bigger is not ours.
constexpr size_t kMaxStateFileBytes = 16u << 20;
constexpr char kTempMarker[] = ".tmp.";

absl::Status Errno(int error_number, const std::string& what) {
  return absl::ErrnoToStatus(error_number, what);
}

// Closes on scope exit unless released.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

absl::Status MakeDirs(const std::string& dir, mode_t mode) {
  if (dir.empty()) return absl::InvalidArgumentError("state directory is empty");
  // mkdir -p: every prefix ending before a '/', then the whole path.
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    const std::string partial = dir.substr(0, pos);
    if (partial.empty() || partial.back() == '/') continue;
    if (::mkdir(partial.c_str(), mode) != 0 && errno != EEXIST) {
      return Errno(errno, absl::StrCat("creating state directory ", partial));
    }
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return Errno(errno, absl::StrCat("state directory ", dir));
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("state directory ", dir, " exists but is not a directory"));
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(errno, absl::StrCat("writing ", path));
    }
    if (n == 0) return Errno(EIO, absl::StrCat("writing ", path, " (wrote 0 bytes)"));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// A state file that was not saved means a change a restart will not bring back: the caller
// gets the Status, and the log says it too (whatever the caller does with it).
void LogFailedWrite(const std::string& path, const absl::Status& status,
                    std::string_view what = "state file not saved") {
  Log(LogLevel::kWarning, what, {{"file", path}, {"error", status.message()}});
}

bool IsTempName(const std::string& name) {
  return !name.empty() && name[0] == '.' && name.find(kTempMarker) != std::string::npos;
}

}  // namespace

bool StateStore::IsValidName(const std::string& name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

absl::Status StateStore::Init() {
  if (absl::Status s = MakeDirs(dir_, 0750); !s.ok()) return s;
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return Errno(errno, absl::StrCat("opening state directory ", dir_));
  // Temp files left by a crash between create and rename: never valid state, remove them.
  while (struct dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (IsTempName(name)) ::unlink(PathOf(name).c_str());
  }
  ::closedir(d);
  return absl::OkStatus();
}

absl::Status StateStore::Write(const std::string& name, const std::string& contents) {
  if (!IsValidName(name)) {
    return absl::InvalidArgumentError(absl::StrCat("state file name \"", name,
                                                   "\": must match [A-Za-z0-9._-]+ and not "
                                                   "start with '.'"));
  }
  const std::string path = PathOf(name);
  std::string temp = absl::StrCat(dir_, "/.", name, kTempMarker, "XXXXXX");
  Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
  absl::Status status = absl::OkStatus();
  if (fd.get() < 0) {
    status = Errno(errno, absl::StrCat("creating a temp file for ", path));
    temp.clear();  // nothing was created
  }
  if (status.ok() && ::fchmod(fd.get(), 0640) != 0) {
    status = Errno(errno, absl::StrCat("chmod ", temp));
  }
  if (status.ok()) status = WriteAll(fd.get(), contents, temp);
  // fsync before rename: otherwise a crash may leave the NEW name pointing at an empty file.
  if (status.ok() && ::fsync(fd.get()) != 0) status = Errno(errno, absl::StrCat("fsync ", temp));
  if (status.ok() && ::close(fd.Release()) != 0) {
    status = Errno(errno, absl::StrCat("closing ", temp));
  }
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = Errno(errno, absl::StrCat("renaming ", temp, " to ", path));
  }
  if (!status.ok()) {
    if (!temp.empty()) ::unlink(temp.c_str());  // the old file (if any) was never touched
    status = absl::Status(status.code(), absl::StrCat("saving state file ", path,
                                                      " failed (the "
                                                      "previous version is kept): ",
                                                      status.message()));
    LogFailedWrite(path, status);
    return status;
  }
  // fsync the directory so the rename itself survives a power loss.
  Fd dir_fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) status = Errno(errno, absl::StrCat("opening ", dir_, " for fsync"));
  if (status.ok() && ::fsync(dir_fd.get()) != 0)
    status = Errno(errno, absl::StrCat("fsync ", dir_));
  if (!status.ok()) {
    LogFailedWrite(path, status, "state file saved, but a power loss now may undo it");
  }
  return status;
}

absl::StatusOr<std::string> StateStore::Read(const std::string& name) const {
  if (!IsValidName(name)) {
    return absl::InvalidArgumentError(absl::StrCat("state file name \"", name, "\" is invalid"));
  }
  const std::string path = PathOf(name);
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Errno(errno, absl::StrCat("reading state file ", path));
  std::string data;
  char buffer[8192];
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(errno, absl::StrCat("reading state file ", path));
    }
    if (n == 0) break;
    data.append(buffer, static_cast<size_t>(n));
    if (data.size() > kMaxStateFileBytes) {
      return absl::FailedPreconditionError(
          absl::StrCat("state file ", path, " is larger than ", kMaxStateFileBytes, " bytes"));
    }
  }
  return data;
}

absl::Status StateStore::Remove(const std::string& name) {
  if (!IsValidName(name)) {
    return absl::InvalidArgumentError(absl::StrCat("state file name \"", name, "\" is invalid"));
  }
  const std::string path = PathOf(name);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Errno(errno, absl::StrCat("removing state file ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> StateStore::List() const {
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return Errno(errno, absl::StrCat("opening state directory ", dir_));
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (IsValidName(name)) names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

// ---- loaded-model list ----

namespace {
constexpr char kModelListHeader[] = "# adaspringd loaded models v1";
}  // namespace

absl::StatusOr<std::string> EncodeModelList(const std::vector<LoadedModelRecord>& models) {
  std::string text = absl::StrCat(kModelListHeader, "\n");
  for (const LoadedModelRecord& m : models) {
    for (const std::string* field : {&m.name, &m.path}) {
      if (field->empty() ||
          field->find_first_of(std::string_view("\t\n\r\0", 4)) != std::string::npos) {
        // Escaped: the raw value would break the message (and the log line it ends up in).
        return absl::InvalidArgumentError(absl::StrCat(
            "loaded model \"", absl::CEscape(m.name), "\" at \"", absl::CEscape(m.path),
            "\": name and path must be non-empty, without tabs, newlines or NULs"));
      }
    }
    absl::StrAppend(&text, m.name, "\t", m.path, "\n");
  }
  return text;
}

absl::StatusOr<std::vector<LoadedModelRecord>> DecodeModelList(const std::string& text) {
  std::vector<LoadedModelRecord> models;
  int line_number = 0;
  bool header_seen = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (line_number == 1) {
        if (std::string(line) != kModelListHeader) {
          return absl::InvalidArgumentError(absl::StrCat(kModelListFile, ":1: unknown header \"",
                                                         std::string(line), "\" (expected \"",
                                                         kModelListHeader, "\")"));
        }
        header_seen = true;
      }
      continue;
    }
    const size_t tab = line.find('\t');
    if (tab == absl::string_view::npos || tab == 0 || tab + 1 == line.size() ||
        line.find('\t', tab + 1) != absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(kModelListFile, ":", line_number,
                                                     ": expected \"name<TAB>path\", got \"",
                                                     std::string(line), "\""));
    }
    models.push_back({std::string(line.substr(0, tab)), std::string(line.substr(tab + 1))});
  }
  if (!header_seen && !text.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kModelListFile, ":1: missing header \"", kModelListHeader, "\""));
  }
  return models;
}

std::string ProfileFileName(const std::string& device) {
  return absl::StrCat("profile-", device, ".json");
}

}  // namespace adaspring::daemon
