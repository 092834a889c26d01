#include "scheduler/input_check.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace adaspring::daemon {
namespace {

std::string ShapeText(const v1::Tensor& t) {
  return absl::StrCat("[", absl::StrJoin(t.shape(), ","), "]");
}

std::string ExpectedText(const LoadedModel& m) {
  return absl::StrCat("[batch,", absl::StrJoin(m.input_shape, ","), "]");
}

}  // namespace

absl::StatusOr<int> CheckInput(const LoadedModel& model, const v1::Tensor& input,
                               uint32_t max_batch) {
  size_t elem_bytes = 0;
  switch (input.dtype()) {
    case v1::DATA_TYPE_FP32:
      elem_bytes = 4;
      break;
    case v1::DATA_TYPE_UINT8:
      elem_bytes = 1;
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "input.dtype ",
          v1::DataType_IsValid(input.dtype()) ? v1::DataType_Name(input.dtype())
                                              : absl::StrCat(static_cast<int>(input.dtype())),
          " not accepted (FP32 or UINT8)"));
  }
  const auto& shape = input.shape();
  if (static_cast<size_t>(shape.size()) != model.input_shape.size() + 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("input.shape ", ShapeText(input), " does not match ", ExpectedText(model)));
  }
  for (size_t i = 0; i < model.input_shape.size(); ++i) {
    if (shape[static_cast<int>(i) + 1] != model.input_shape[i]) {
      return absl::InvalidArgumentError(
          absl::StrCat("input.shape ", ShapeText(input), " does not match ", ExpectedText(model)));
    }
  }
  if (shape[0] < 1 || shape[0] > static_cast<int64_t>(max_batch)) {
    return absl::InvalidArgumentError(
        absl::StrCat("input.shape[0] (batch) = ", shape[0], " outside 1..", max_batch));
  }
  const int batch = static_cast<int>(shape[0]);
  const size_t want = static_cast<size_t>(batch) * model.image_elems * elem_bytes;
  if (input.raw_contents().size() != want) {
    return absl::InvalidArgumentError(
        absl::StrCat("input.raw_contents has ", input.raw_contents().size(), " bytes; shape ",
                     ShapeText(input), " x ", elem_bytes, " B needs ", want));
  }
  if (elem_bytes == 4) {
    const char* p = input.raw_contents().data();
    const size_t n = want / 4;
    for (size_t i = 0; i < n; ++i) {
      float v;
      std::memcpy(&v, p + i * 4, 4);
      if (!std::isfinite(v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("input value at index ", i, " is not finite (", v, ")"));
      }
    }
  }
  return batch;
}

void NormaliseInput(const LoadedModel& model, const v1::Tensor& input, int batch, float* dst) {
  const size_t n = static_cast<size_t>(batch) * model.image_elems;
  if (input.dtype() == v1::DATA_TYPE_FP32) {
    std::memcpy(dst, input.raw_contents().data(), n * 4);
    return;
  }
  const auto* src = reinterpret_cast<const uint8_t*>(input.raw_contents().data());
  const int64_t plane = model.image_elems / model.channels;
  for (int b = 0; b < batch; ++b) {
    for (int c = 0; c < model.channels; ++c) {
      const float mean = model.mean[c], inv_std = model.inv_std[c];
      const size_t base = (static_cast<size_t>(b) * model.channels + c) * plane;
      for (int64_t i = 0; i < plane; ++i) {
        dst[base + i] = (src[base + i] * (1.0f / 255.0f) - mean) * inv_std;
      }
    }
  }
}

}  // namespace adaspring::daemon
