// Internal: adaspring.v1 messages <-> the library's plain types (types.h).
#ifndef ADASPRING_CLIENT_SRC_CONVERT_H_
#define ADASPRING_CLIENT_SRC_CONVERT_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "adaspring/client/types.h"
#include "adaspring/v1/inference.pb.h"

namespace adaspring::client::internal {

v1::Slo ToProto(const Slo& slo);
Configuration FromProto(const v1::Configuration& c);
InputSpec FromProto(const v1::InputSpec& s);
ConfigEvent FromProto(const v1::SessionEvent& e);
// Fills request.input from `input` (copies the bytes).
void FillTensor(const Input& input, v1::Tensor* tensor);
// Decodes a response; INTERNAL when the output tensor is malformed.
absl::StatusOr<InferResult> FromProto(const v1::InferResponse& r);

}  // namespace adaspring::client::internal

#endif  // ADASPRING_CLIENT_SRC_CONVERT_H_
