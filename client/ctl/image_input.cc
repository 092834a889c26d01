#include "image_input.h"

#include <png.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "adaspring/client/idx.h"

namespace adaspring::ctl {
namespace {

constexpr unsigned char kPngMagic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// At most `limit` bytes of the file.
absl::StatusOr<std::string> ReadFile(const std::string& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string out(limit, '\0');
  in.read(out.data(), static_cast<std::streamsize>(limit));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

}  // namespace

absl::Status CheckInputFile(const std::string& path, const std::string& option) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(option, " ", path, ": no such file"));
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, " ", path, " is a directory; give an IDX or PNG file"));
  }
  if (!S_ISREG(st.st_mode)) {
    const char* kind = S_ISFIFO(st.st_mode)                         ? "a FIFO"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                       : S_ISSOCK(st.st_mode)                       ? "a socket"
                                                                    : "not a regular file";
    return absl::InvalidArgumentError(
        absl::StrCat(option, " ", path, " is ", kind, "; give a regular IDX or PNG file"));
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxInputFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(option, " ", path, " is ", st.st_size >> 20,
                                                   " MiB; adaspringctl reads files of at most ",
                                                   kMaxInputFileBytes >> 20, " MiB"));
  }
  return absl::OkStatus();
}

std::string SiblingLabelsPath(const std::string& images_path) {
  const std::string from = "-images-idx3-ubyte";
  const auto pos = images_path.rfind(from);
  if (pos == std::string::npos) return "";
  std::string out = images_path;
  out.replace(pos, from.size(), "-labels-idx1-ubyte");
  return out;
}

absl::StatusOr<ImageBatch> DecodePng(std::string_view bytes, int channels,
                                     const std::string& name) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size())) {
    const std::string msg = image.message;
    png_image_free(&image);
    return absl::InvalidArgumentError(absl::StrCat(name, ": not a readable PNG: ", msg));
  }
  // libpng converts any colour type / bit depth to the format we ask for (gray: luminance of
  // colour images; alpha composited onto black is not needed for the datasets we use).
  image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  std::vector<uint8_t> hwc(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, hwc.data(), 0, nullptr)) {
    const std::string msg = image.message;
    png_image_free(&image);
    return absl::InvalidArgumentError(absl::StrCat(name, ": cannot decode PNG: ", msg));
  }
  ImageBatch b;
  b.count = 1;
  b.channels = channels;
  b.rows = image.height;
  b.cols = image.width;
  b.pixels.resize(hwc.size());
  const int64_t plane = b.rows * b.cols;
  for (int64_t p = 0; p < plane; ++p) {
    for (int c = 0; c < channels; ++c) b.pixels[c * plane + p] = hwc[p * channels + c];
  }
  png_image_free(&image);
  return b;
}

absl::StatusOr<ImageBatch> LoadImages(const std::string& path, int64_t index, int64_t count,
                                      int channels, const std::string& labels_path) {
  if (auto st = CheckInputFile(path, "--input"); !st.ok()) return st;
  auto head = ReadFile(path, sizeof(kPngMagic));
  if (!head.ok()) return head.status();
  if (head->size() >= 8 && std::memcmp(head->data(), kPngMagic, 8) == 0) {
    if (index != 0 || count != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": a PNG holds one image; --index/--count apply to IDX files"));
    }
    auto bytes = ReadFile(path, kMaxInputFileBytes);
    if (!bytes.ok()) return bytes.status();
    auto b = DecodePng(*bytes, channels, path);
    if (!b.ok()) return b.status();
    if (!labels_path.empty()) {
      return absl::InvalidArgumentError("--labels applies to IDX files only");
    }
    return b;
  }
  if (!client::LooksLikeIdx(path)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": neither PNG nor IDX (gzip or plain) images"));
  }
  auto idx = client::ReadIdxImages(path);
  if (!idx.ok()) return idx.status();
  if (channels != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": IDX images are gray; the model wants ", channels, " channels"));
  }
  if (index < 0 || count < 1 || index + count > idx->count) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " holds ", idx->count, " images; cannot take ", count, " starting at index ", index));
  }
  ImageBatch b;
  b.count = count;
  b.rows = idx->rows;
  b.cols = idx->cols;
  b.first_index = index;
  const int64_t n = idx->rows * idx->cols;
  b.pixels.assign(idx->pixels.begin() + index * n, idx->pixels.begin() + (index + count) * n);
  std::string lp = labels_path;
  if (lp.empty()) {
    lp = SiblingLabelsPath(path);
    if (!lp.empty() && !FileExists(lp)) lp.clear();
  }
  if (!lp.empty()) {
    if (auto st = CheckInputFile(lp, "--labels"); !st.ok()) return st;
    auto labels = client::ReadIdxLabels(lp);
    if (!labels.ok()) return labels.status();
    if (static_cast<int64_t>(labels->size()) < index + count) {
      return absl::InvalidArgumentError(absl::StrCat(lp, ": fewer labels than images"));
    }
    for (int64_t i = index; i < index + count; ++i) b.labels.push_back((*labels)[i]);
  }
  return b;
}

}  // namespace adaspring::ctl
