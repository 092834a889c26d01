// Images for `adaspringctl infer`: IDX files (gzip or plain, e.g. Fashion-MNIST t10k) or PNG
// (decoded with libpng). Pixels are returned as uint8 CHW, which the daemon normalises.
#ifndef ADASPRING_CLIENT_CTL_IMAGE_INPUT_H_
#define ADASPRING_CLIENT_CTL_IMAGE_INPUT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace adaspring::ctl {

struct ImageBatch {
  int64_t count = 0, channels = 1, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count x channels x rows x cols
  std::vector<int> labels;      // per image, empty when unknown
  int64_t first_index = 0;      // index of the first image in the file
};

// Image and label files are read only when they are regular files of at most this size (the
// Fashion-MNIST test images are 7.5 MiB unpacked): /dev/zero or a FIFO would never end.
inline constexpr uint64_t kMaxInputFileBytes = uint64_t{256} << 20;

// OK for a regular file of at most kMaxInputFileBytes; else NOT_FOUND / INVALID_ARGUMENT
// saying what `path` is instead ("--input /dev/zero is a device; ...").
absl::Status CheckInputFile(const std::string& path, const std::string& option);

// Reads images [index, index + count) of an IDX file, or the single image of a PNG file
// (index 0, count 1) converted to `channels` (1 = gray, 3 = RGB). Labels come from
// `labels_path`, or for IDX from the sibling "*-labels-idx1-ubyte[.gz]" file when it exists.
// INVALID_ARGUMENT / NOT_FOUND with a message naming the file.
absl::StatusOr<ImageBatch> LoadImages(const std::string& path, int64_t index, int64_t count,
                                      int channels, const std::string& labels_path);

// Decodes PNG bytes with libpng into `channels` (1 or 3) planes, CHW.
absl::StatusOr<ImageBatch> DecodePng(std::string_view bytes, int channels, const std::string& name);

// "x/t10k-images-idx3-ubyte.gz" -> "x/t10k-labels-idx1-ubyte.gz" ("" when not of that form).
std::string SiblingLabelsPath(const std::string& images_path);

}  // namespace adaspring::ctl

#endif  // ADASPRING_CLIENT_CTL_IMAGE_INPUT_H_
