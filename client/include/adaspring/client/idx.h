// Readers for the IDX format of MNIST / Fashion-MNIST (gzip-compressed or plain): images
// (magic 0x00000803, uint8 [count, rows, cols]) and labels (magic 0x00000801, uint8 [count]).
#ifndef ADASPRING_CLIENT_IDX_H_
#define ADASPRING_CLIENT_IDX_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace adaspring::client {

struct IdxImages {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count * rows * cols, row-major
  const uint8_t* image(int64_t i) const { return pixels.data() + i * rows * cols; }
};

// Reads a whole file, gunzipping it when it starts with the gzip magic. NOT_FOUND /
// PERMISSION_DENIED when it cannot be opened, INVALID_ARGUMENT (naming the file) when the
// content is not IDX of the expected kind or is truncated.
absl::StatusOr<IdxImages> ReadIdxImages(const std::string& path);
absl::StatusOr<std::vector<uint8_t>> ReadIdxLabels(const std::string& path);

// The same on bytes already in memory (after gunzip); `name` is used in messages.
absl::StatusOr<IdxImages> ParseIdxImages(std::string_view bytes, const std::string& name);
absl::StatusOr<std::vector<uint8_t>> ParseIdxLabels(std::string_view bytes,
                                                    const std::string& name);

// True when `path` looks like IDX (by content: the magic after optional gunzip).
bool LooksLikeIdx(const std::string& path);

}  // namespace adaspring::client

#endif  // ADASPRING_CLIENT_IDX_H_
