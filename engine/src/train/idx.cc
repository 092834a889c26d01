// IDX reader: validates magic, type, dims and size; gunzips in memory with zlib.
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "adaspring/engine/train/dataset.h"

namespace adaspring::engine::train {
namespace {

absl::Status Bad(const std::string& name, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", std::string(what)));
}

// Largest decompressed IDX we accept (guards against gzip bombs): 1 GiB.
constexpr size_t kMaxIdxBytes = size_t{1} << 30;

absl::StatusOr<std::string> Gunzip(const std::string& in, const std::string& name) {
  z_stream zs;
  std::memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Bad(name, "zlib init failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char chunk[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(chunk, sizeof(chunk) - zs.avail_out);
    if (out.size() > kMaxIdxBytes) {
      inflateEnd(&zs);
      return Bad(name, "decompressed data exceeds 1 GiB");
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended before the stream did
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END)
    return Bad(name, absl::StrCat("damaged or truncated gzip data (zlib: ",
                                  zs.msg ? zs.msg : "unexpected end of input", ")"));
  return out;
}

}  // namespace

absl::StatusOr<IdxArray> ParseIdx(std::string_view bytes, const std::string& name) {
  if (bytes.size() < 4) return Bad(name, "too short for an IDX header");
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (p[0] != 0 || p[1] != 0) return Bad(name, "bad IDX magic (first two bytes must be 0)");
  if (p[2] != 0x08)
    return Bad(name, absl::StrCat("unsupported IDX element type 0x", absl::Hex(p[2]),
                                  " (only unsigned bytes, 0x08)"));
  const int ndims = p[3];
  if (ndims < 1 || ndims > 4) return Bad(name, absl::StrCat("unsupported IDX rank ", ndims));
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  if (bytes.size() < header) return Bad(name, "truncated IDX header");
  IdxArray a;
  uint64_t total = 1;
  for (int i = 0; i < ndims; ++i) {
    const uint8_t* d = p + 4 + 4 * i;
    const uint32_t v =
        (uint32_t{d[0]} << 24) | (uint32_t{d[1]} << 16) | (uint32_t{d[2]} << 8) | d[3];
    if (v == 0 || v > (1u << 28)) return Bad(name, absl::StrCat("IDX dimension ", i, " is ", v));
    a.dims.push_back(static_cast<int>(v));
    total *= v;
    if (total > kMaxIdxBytes) return Bad(name, "IDX data larger than 1 GiB");
  }
  const uint64_t have = bytes.size() - header;
  if (have < total)
    return Bad(name, absl::StrCat("truncated: header promises ", total, " bytes of data, file has ",
                                  have));
  if (have > total)
    return Bad(name, absl::StrCat("trailing data: ", have - total, " bytes after the array"));
  a.data.assign(p + header, p + header + total);
  return a;
}

absl::StatusOr<IdxArray> ReadIdx(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream ss;
  ss << f.rdbuf();
  std::string bytes = ss.str();
  if (bytes.size() >= 2 && static_cast<uint8_t>(bytes[0]) == 0x1f &&
      static_cast<uint8_t>(bytes[1]) == 0x8b) {
    absl::StatusOr<std::string> raw = Gunzip(bytes, path);
    if (!raw.ok()) return raw.status();
    bytes = std::move(*raw);
  }
  return ParseIdx(bytes, path);
}

}  // namespace adaspring::engine::train
