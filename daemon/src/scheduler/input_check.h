// Validation and normalisation of request tensors against a model's input spec.
#ifndef ADASPRING_DAEMON_SCHEDULER_INPUT_CHECK_H_
#define ADASPRING_DAEMON_SCHEDULER_INPUT_CHECK_H_

#include "absl/status/statusor.h"
#include "adaspring/v1/common.pb.h"
#include "models/loaded_model.h"

namespace adaspring::daemon {

// Returns the batch size, or INVALID_ARGUMENT naming what is wrong: dtype (FP32 or UINT8),
// rank and dimensions ([batch] + input shape), batch in 1..max_batch, byte count, and for FP32
// that every value is finite. Does not allocate.
absl::StatusOr<int> CheckInput(const LoadedModel& model, const v1::Tensor& input,
                               uint32_t max_batch);

// Writes the normalised NCHW floats of a checked tensor to `dst` (batch x image_elems):
// FP32 is copied, UINT8 becomes (x / 255 - mean[c]) / std[c].
void NormaliseInput(const LoadedModel& model, const v1::Tensor& input, int batch, float* dst);

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SCHEDULER_INPUT_CHECK_H_
