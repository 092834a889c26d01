#include "test_files.h"

#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace adaspring::testing {
namespace {

void Put32(std::string* s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s->push_back(static_cast<char>((v >> shift) & 0xff));
}

void PngChunk(std::string* out, const char type[4], const std::string& data) {
  Put32(out, static_cast<uint32_t>(data.size()));
  std::string td(type, 4);
  td += data;
  out->append(td);
  Put32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(td.data()),
                                         static_cast<uInt>(td.size()))));
}

}  // namespace

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/asc-XXXXXX";
  if (templ.size() > 60) templ = "/tmp/asc-XXXXXX";
  char* p = mkdtemp(templ.data());
  path_ = p ? p : "/tmp";
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

std::string IdxImagesBytes(int count, int rows, int cols, const std::vector<uint8_t>& pixels) {
  std::string s;
  Put32(&s, 0x803);
  Put32(&s, static_cast<uint32_t>(count));
  Put32(&s, static_cast<uint32_t>(rows));
  Put32(&s, static_cast<uint32_t>(cols));
  s.append(pixels.begin(), pixels.end());
  return s;
}

std::string IdxLabelsBytes(const std::vector<uint8_t>& labels) {
  std::string s;
  Put32(&s, 0x801);
  Put32(&s, static_cast<uint32_t>(labels.size()));
  s.append(labels.begin(), labels.end());
  return s;
}

void WriteGzFile(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::string GrayPng(int width, int height, const std::vector<uint8_t>& pixels) {
  std::string out("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  Put32(&ihdr, static_cast<uint32_t>(width));
  Put32(&ihdr, static_cast<uint32_t>(height));
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit gray, deflate, no filter, no interlace
  PngChunk(&out, "IHDR", ihdr);
  std::string raw;
  for (int y = 0; y < height; ++y) {
    raw.push_back('\0');  // filter type: none
    raw.append(pixels.begin() + y * width, pixels.begin() + (y + 1) * width);
  }
  uLongf len = compressBound(static_cast<uLong>(raw.size()));
  std::string z(len, '\0');
  compress2(reinterpret_cast<Bytef*>(z.data()), &len, reinterpret_cast<const Bytef*>(raw.data()),
            static_cast<uLong>(raw.size()), 6);
  z.resize(len);
  PngChunk(&out, "IDAT", z);
  PngChunk(&out, "IEND", "");
  return out;
}

}  // namespace adaspring::testing
