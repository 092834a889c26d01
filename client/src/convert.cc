#include "convert.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "channel.h"

namespace adaspring::client::internal {

v1::Slo ToProto(const Slo& slo) {
  v1::Slo p;
  p.set_latency_budget_us(slo.latency_budget_us);
  p.set_min_accuracy(slo.min_accuracy);
  p.set_priority(slo.priority);
  p.set_energy_preference(static_cast<v1::EnergyPreference>(slo.energy_preference));
  p.set_expected_rate_hz(slo.expected_rate_hz);
  return p;
}

Configuration FromProto(const v1::Configuration& c) {
  Configuration out;
  out.text = c.text();
  out.id = c.id();
  out.precision = static_cast<Precision>(c.precision());
  out.predicted_accuracy = c.predicted_accuracy();
  out.predicted_latency_us = c.predicted_latency_us();
  out.memory_bytes = c.memory_bytes();
  out.predicted_energy_uj = c.predicted_energy_uj();
  out.macs = c.macs();
  return out;
}

InputSpec FromProto(const v1::InputSpec& s) {
  InputSpec out;
  out.shape.assign(s.shape().begin(), s.shape().end());
  for (int d : s.accepted_dtypes()) out.accepted_dtypes.push_back(static_cast<DataType>(d));
  out.mean.assign(s.mean().begin(), s.mean().end());
  out.std.assign(s.std().begin(), s.std().end());
  out.labels.assign(s.labels().begin(), s.labels().end());
  return out;
}

ConfigEvent FromProto(const v1::SessionEvent& e) {
  ConfigEvent out;
  out.time_unix_us = e.time().seconds() * 1000000 + e.time().nanos() / 1000;
  out.previous = FromProto(e.previous());
  out.current = FromProto(e.current());
  out.reason = e.reason();
  out.reaction_ms = e.reaction_ms();
  return out;
}

void FillTensor(const Input& input, v1::Tensor* tensor) {
  tensor->set_dtype(static_cast<v1::DataType>(input.dtype));
  tensor->mutable_shape()->Assign(input.shape.begin(), input.shape.end());
  tensor->set_raw_contents(input.data.data(), input.data.size());
}

absl::StatusOr<InferResult> FromProto(const v1::InferResponse& r) {
  InferResult out;
  out.request_id = r.request_id();
  out.configuration = r.configuration();
  out.configuration_id = r.configuration_id();
  out.queue_us = r.queue_us();
  out.compute_us = r.compute_us();
  out.status = FromCode(r.status_code(), r.status_message());
  for (const auto& s : r.top_k()) {
    out.top_k.push_back(ClassScore{static_cast<int>(s.index()), s.label(), s.score()});
  }
  if (!out.status.ok()) return out;
  const auto& t = r.output();
  if (t.shape_size() == 2) {
    out.batch = t.shape(0);
    out.classes = t.shape(1);
  }
  const size_t expected = static_cast<size_t>(out.batch * out.classes) * sizeof(float);
  if (t.dtype() != v1::DATA_TYPE_FP32 || out.batch < 0 || out.classes < 0 ||
      t.raw_contents().size() != expected) {
    return absl::InternalError(absl::StrCat("malformed output tensor from the daemon (dtype ",
                                            t.dtype(), ", ", t.raw_contents().size(), " bytes)"));
  }
  out.logits.resize(static_cast<size_t>(out.batch * out.classes));
  if (expected > 0) std::memcpy(out.logits.data(), t.raw_contents().data(), expected);
  return out;
}

}  // namespace adaspring::client::internal
