// Plain value types of the client library: what an app sends (SLO, input tensors) and what it
// gets back (configurations, results, configuration-change events). They mirror the
// adaspring.v1 messages (proto/adaspring/v1/*.proto) without exposing generated code.
#ifndef ADASPRING_CLIENT_TYPES_H_
#define ADASPRING_CLIENT_TYPES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace adaspring::client {

enum class DataType { kUnspecified = 0, kFp32 = 1, kUint8 = 2, kInt8 = 3 };
enum class Precision { kUnspecified = 0, kFp32 = 1, kInt8 = 2 };
enum class EnergyPreference { kUnspecified = 0, kPerformance = 1, kBalanced = 2, kSaver = 3 };

// Service-level objective of a session (see adaspring.v1.Slo for ranges).
struct Slo {
  uint32_t latency_budget_us = 20000;  // queueing + compute per request, 100..60000000
  double min_accuracy = 0;             // fraction in [0, 1]; 0 = no minimum
  uint32_t priority = 0;               // 1..100; 0 = daemon default (10)
  EnergyPreference energy_preference = EnergyPreference::kBalanced;
  double expected_rate_hz = 0;  // 0 = unknown (daemon observes the rate)
};

// A compressed variant of the model and the daemon's predictions for it on this device.
struct Configuration {
  std::string text;  // canonical text, e.g. "d=2.1.2 w=100.50.25.100.75.100 r=... p=f32"
  uint64_t id = 0;
  Precision precision = Precision::kUnspecified;
  double predicted_accuracy = 0;  // fraction in [0, 1]
  double predicted_latency_us = 0;
  int64_t memory_bytes = 0;
  double predicted_energy_uj = 0;
  int64_t macs = 0;
};

// How the model wants its input; returned when a session opens.
struct InputSpec {
  std::vector<int64_t> shape;  // per image, e.g. {1, 28, 28}
  std::vector<DataType> accepted_dtypes;
  std::vector<float> mean, std;
  std::vector<std::string> labels;  // index = class
  // Elements per image (product of shape).
  int64_t ElementsPerImage() const;
};

// A batch of images: `shape` = {batch} + InputSpec::shape, `data` the row-major elements
// (uint8 pixels or normalised float32). The library copies `data` before returning from the
// call that takes it.
struct Input {
  DataType dtype = DataType::kUint8;
  std::vector<int64_t> shape;
  std::string_view data;
};

struct ClassScore {
  int index = 0;
  std::string label;
  float score = 0;  // softmax probability
};

struct InferResult {
  uint64_t request_id = 0;
  int64_t batch = 0, classes = 0;
  std::vector<float> logits;      // [batch, classes]
  std::vector<ClassScore> top_k;  // of the first image, best first
  std::string configuration;      // text of the configuration that served the request
  uint64_t configuration_id = 0;
  uint32_t queue_us = 0, compute_us = 0;  // time in the daemon
  // Streams only: the per-request outcome (a bad request does not end the stream).
  absl::Status status;
  // Index of the largest logit of image b.
  int ArgMax(int64_t b) const;
};

// A configuration change of a session, as streamed by WatchSession.
struct ConfigEvent {
  int64_t time_unix_us = 0;
  Configuration previous, current;
  std::string reason;      // e.g. "initial", "memory budget 180 MB < 240 MB needed"
  double reaction_ms = 0;  // context change -> new variant live
  // True for the synthetic event the library emits after it reopened the session on a
  // restarted daemon (the daemon's own "initial" event follows).
  bool reopened = false;
};

}  // namespace adaspring::client

#endif  // ADASPRING_CLIENT_TYPES_H_
