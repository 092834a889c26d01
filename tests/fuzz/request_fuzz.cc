// libFuzzer target for request validation: the bytes are an adaspring.v1.InferRequest in wire
// format (as gRPC hands it to the service) and its tensor goes through the daemon's input check
// against a fixed 1x28x28 model with 10 classes (the geometry of the bundled smallres28; the
// normalisation constants are fixed here, not read from the bundle). An accepted tensor must
// have a batch in 1..max_batch and normalise to finite floats; a refused one gives
// INVALID_ARGUMENT. The SLO check (Daemon::ValidateSlo) is a private member of Daemon and is not
// reached from here; an InferRequest carries no SLO anyway.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "adaspring/v1/inference.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "models/loaded_model.h"
#include "scheduler/input_check.h"

namespace {

// Says which promise broke (the reproducer alone does not) and stops the run.
[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "request_fuzz: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// limits.max_batch's default (config/daemon_config.h).
constexpr uint32_t kMaxBatch = 32;

const adaspring::daemon::LoadedModel& Model() {
  static const auto* model = [] {
    auto* m = new adaspring::daemon::LoadedModel;
    m->name = "fuzz28";
    m->input_shape = {1, 28, 28};
    m->channels = 1;
    m->image_elems = 28 * 28;
    m->num_classes = 10;
    m->mean = {0.5f};
    m->inv_std = {1.f / 0.25f};
    for (int64_t d : m->input_shape) m->input_spec.add_shape(d);
    return m;
  }();
  return *model;
}

}  // namespace

// Invalid UTF-8 in a string field is a parse failure; protobuf also logs each one, which would
// flood the output and slow the run.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace adaspring;  // NOLINT
  v1::InferRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  const daemon::LoadedModel& model = Model();
  absl::StatusOr<int> batch = daemon::CheckInput(model, request.input(), kMaxBatch);
  if (!batch.ok()) {
    if (batch.status().code() != absl::StatusCode::kInvalidArgument ||
        batch.status().message().empty()) {
      Fail("error is not INVALID_ARGUMENT with a message", batch.status().ToString());
    }
    return 0;
  }
  auto shape = [&] { return request.input().DebugString().substr(0, 200); };  // for messages
  if (*batch < 1 || *batch > static_cast<int>(kMaxBatch)) Fail("batch outside 1..max", shape());
  if (request.input().shape(0) != *batch) Fail("batch is not shape[0]", shape());
  std::vector<float> normalised(static_cast<size_t>(*batch) * model.image_elems);
  daemon::NormaliseInput(model, request.input(), *batch, normalised.data());
  for (float v : normalised) {
    if (!std::isfinite(v)) Fail("a normalised value is not finite", shape());
  }
  return 0;
}
