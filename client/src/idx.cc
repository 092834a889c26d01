#include "adaspring/client/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace adaspring::client {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;
// Guards against absurd headers: no IDX file we read is larger than this.
constexpr int64_t kMaxElements = int64_t{1} << 31;

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

absl::StatusOr<std::string> ReadFileMaybeGz(const std::string& path) {
  // gzopen reads plain files transparently, so one path handles both forms.
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    const std::string msg = absl::StrCat(path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(msg);
    if (err == EACCES) return absl::PermissionDeniedError(msg);
    return absl::InvalidArgumentError(msg);
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const int n = gzread(f, buf, sizeof(buf));
    if (n < 0) {
      int errnum = 0;
      const std::string msg = gzerror(f, &errnum);
      gzclose(f);
      return absl::InvalidArgumentError(absl::StrCat(path, ": cannot decompress: ", msg));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  gzclose(f);
  return out;
}

}  // namespace

absl::StatusOr<IdxImages> ParseIdxImages(std::string_view bytes, const std::string& name) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 16) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": too short for an IDX image header"));
  }
  if (BigEndian32(p) != kImagesMagic) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not an IDX image file (magic 0x",
                                                   absl::Hex(BigEndian32(p)), ", expected 0x803)"));
  }
  IdxImages out;
  out.count = BigEndian32(p + 4);
  out.rows = BigEndian32(p + 8);
  out.cols = BigEndian32(p + 12);
  const int64_t elements = out.count * out.rows * out.cols;
  if (out.rows == 0 || out.cols == 0 || elements > kMaxElements) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": bad dimensions ", out.count, "x", out.rows, "x", out.cols));
  }
  if (static_cast<int64_t>(bytes.size()) - 16 < elements) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": truncated: header says ", elements,
                                                   " pixels, file has ", bytes.size() - 16));
  }
  out.pixels.assign(p + 16, p + 16 + elements);
  return out;
}

absl::StatusOr<std::vector<uint8_t>> ParseIdxLabels(std::string_view bytes,
                                                    const std::string& name) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 8 || BigEndian32(p) != kLabelsMagic) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not an IDX label file"));
  }
  const int64_t count = BigEndian32(p + 4);
  if (static_cast<int64_t>(bytes.size()) - 8 < count) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": truncated: header says ", count,
                                                   " labels, file has ", bytes.size() - 8));
  }
  return std::vector<uint8_t>(p + 8, p + 8 + count);
}

absl::StatusOr<IdxImages> ReadIdxImages(const std::string& path) {
  auto bytes = ReadFileMaybeGz(path);
  if (!bytes.ok()) return bytes.status();
  return ParseIdxImages(*bytes, path);
}

absl::StatusOr<std::vector<uint8_t>> ReadIdxLabels(const std::string& path) {
  auto bytes = ReadFileMaybeGz(path);
  if (!bytes.ok()) return bytes.status();
  return ParseIdxLabels(*bytes, path);
}

bool LooksLikeIdx(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  unsigned char head[4];
  const int n = gzread(f, head, sizeof(head));
  gzclose(f);
  if (n != 4) return false;
  const uint32_t magic = BigEndian32(head);
  return magic == kImagesMagic || magic == kLabelsMagic;
}

}  // namespace adaspring::client
