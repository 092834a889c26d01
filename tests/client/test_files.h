// Test fixtures written on the fly: temporary directories, IDX files and PNG files (PNG is
// encoded with zlib here; adaspringctl decodes it with libpng, so the two are independent).
#ifndef ADASPRING_TESTS_CLIENT_TEST_FILES_H_
#define ADASPRING_TESTS_CLIENT_TEST_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

namespace adaspring::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its content by the destructor.
// Short, because Unix socket paths are limited to 107 bytes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& bytes);
std::string IdxImagesBytes(int count, int rows, int cols, const std::vector<uint8_t>& pixels);
std::string IdxLabelsBytes(const std::vector<uint8_t>& labels);
// gzip-compressed file (gzopen/gzwrite).
void WriteGzFile(const std::string& path, const std::string& bytes);
// An 8-bit grayscale PNG.
std::string GrayPng(int width, int height, const std::vector<uint8_t>& pixels);

}  // namespace adaspring::testing

#endif  // ADASPRING_TESTS_CLIENT_TEST_FILES_H_
