// Training checkpoints: everything a resumed run needs to continue bit-identically —
// parameters, momentum buffers, BN running statistics, and the position (epoch, step). The
// random streams need no state of their own: they derive from (seed, epoch) and (seed, step).
//
// File: "ASCKPT01", then little-endian fields (see checkpoint.cc), then a CRC32 of everything
// before it. Written to a temporary file and renamed (atomic). A damaged file gives DATA_LOSS
// naming the path; a checkpoint of another architecture, seed or batch size INVALID_ARGUMENT.
#ifndef ADASPRING_ENGINE_SRC_TRAIN_CHECKPOINT_H_
#define ADASPRING_ENGINE_SRC_TRAIN_CHECKPOINT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "adaspring/engine/train/supernet.h"

namespace adaspring::engine::train {

struct CheckpointHeader {
  std::string arch;
  uint64_t seed = 0;
  int32_t batch = 0;
  int32_t epochs_done = 0;
  int64_t global_step = 0;
  double train_seconds = 0;  // wall time spent training so far (for the report)
};

absl::Status SaveCheckpoint(const std::string& path, const CheckpointHeader& header,
                            const Supernet& net);
// Loads into `net` (which must be of the same architecture). `expect` gives arch, seed and
// batch to check; the position is returned in *header.
absl::Status LoadCheckpoint(const std::string& path, const CheckpointHeader& expect, Supernet* net,
                            CheckpointHeader* header);

}  // namespace adaspring::engine::train

#endif  // ADASPRING_ENGINE_SRC_TRAIN_CHECKPOINT_H_
