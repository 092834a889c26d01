// Latency table cache: text I/O, atomic replacement, and the device key (CPU model).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "adaspring/engine/build_id.h"
#include "adaspring/engine/search.h"

namespace adaspring::engine {
namespace {

constexpr char kHeader[] = "adaspring-latency-table v1";

absl::Status ErrnoStatus(const std::string& what, const std::string& path) {
  const int err = errno;
  const std::string msg = absl::StrCat(path, ": ", what, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

// FNV-1a: a stable hash for file names (std::hash is not guaranteed stable across builds).
uint64_t Fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string CpuModelName(const std::string& cpuinfo_path) {
  std::ifstream in(cpuinfo_path);
  if (!in) return "unknown";
  // x86 has "model name"; many ARM kernels only "Hardware", "Model" or "CPU part".
  std::string fallback;
  int fallback_rank = 99;
  const char* kFields[] = {"model name", "Hardware", "Model", "CPU part"};
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string field = Trim(line.substr(0, colon));
    const std::string value = Trim(line.substr(colon + 1));
    if (value.empty()) continue;
    for (int i = 0; i < 4; ++i) {
      if (field != kFields[i]) continue;
      if (i == 0) return value;
      if (i < fallback_rank) {
        fallback_rank = i;
        fallback = value;
      }
    }
  }
  return fallback.empty() ? "unknown" : fallback;
}

std::string LatencyTablePath(const std::string& state_dir, const std::string& cpu_model,
                             int threads) {
  // One file per (CPU, engine build, threads): another build's table is not overwritten (a
  // downgrade finds its own again) and never trusted.
  return absl::StrFormat("%s/latency-%016x-%016x-t%d.txt", state_dir, Fnv1a(cpu_model),
                         Fnv1a(EngineBuildId()), threads);
}

absl::Status SaveLatencyTable(const LatencyTable& table, const std::string& path) {
  std::ostringstream out;
  out << kHeader << "\n";
  out << "cpu " << table.cpu_model << "\n";
  out << "version " << table.engine_version << "\n";
  out << "threads " << table.threads << "\n";
  out << absl::StrFormat("scale %.9g\n", table.scale);
  out << absl::StrFormat("per_primitive_us %.9g\n", table.per_primitive_us);
  for (const auto& [key, row] : table.rows)
    out << absl::StrFormat("row %.9g %d %s\n", row.us, row.primitives, key);
  const std::string text = out.str();

  // Temporary file in the same directory, fsync, rename: readers see old or new, never torn.
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open", tmp);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status s = ErrnoStatus("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    absl::Status s = ErrnoStatus("fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = ErrnoStatus("rename", path);
    ::unlink(tmp.c_str());
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<LatencyTable> LoadLatencyTable(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ErrnoStatus("open", path);
  LatencyTable t;
  std::string line;
  int lineno = 0;
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", lineno, ": ", why));
  };
  bool header = false;
  while (std::getline(in, line)) {
    ++lineno;
    if (lineno == 1) {
      if (line != kHeader) return bad("not an adaspring latency table");
      header = true;
      continue;
    }
    if (line.empty()) continue;
    const auto sp = line.find(' ');
    const std::string field = line.substr(0, sp);
    const std::string rest = sp == std::string::npos ? "" : line.substr(sp + 1);
    if (field == "cpu") {
      t.cpu_model = rest;
    } else if (field == "version") {
      t.engine_version = rest;
    } else if (field == "threads") {
      if (!absl::SimpleAtoi(rest, &t.threads) || t.threads < 1) return bad("bad threads");
    } else if (field == "scale") {
      if (!absl::SimpleAtod(rest, &t.scale) || !(t.scale > 0)) return bad("bad scale");
    } else if (field == "per_primitive_us") {
      if (!absl::SimpleAtod(rest, &t.per_primitive_us)) return bad("bad per_primitive_us");
    } else if (field == "row") {
      const auto a = rest.find(' ');
      const auto b = a == std::string::npos ? a : rest.find(' ', a + 1);
      if (b == std::string::npos) return bad("row needs: us primitives key");
      LatencyTable::Row row;
      if (!absl::SimpleAtod(rest.substr(0, a), &row.us) || !(row.us >= 0) ||
          !absl::SimpleAtoi(rest.substr(a + 1, b - a - 1), &row.primitives) || row.primitives < 0)
        return bad("bad row numbers");
      t.rows[rest.substr(b + 1)] = row;
    } else {
      return bad(absl::StrCat("unknown field '", field, "'"));
    }
  }
  if (!header) return absl::InvalidArgumentError(absl::StrCat(path, ": empty file"));
  return t;
}

}  // namespace adaspring::engine
