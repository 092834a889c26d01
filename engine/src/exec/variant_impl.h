// The built variant and the per-thread workspace that runs it.
#ifndef ADASPRING_ENGINE_SRC_EXEC_VARIANT_IMPL_H_
#define ADASPRING_ENGINE_SRC_EXEC_VARIANT_IMPL_H_

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adaspring/engine/variant.h"
#include "exec/dnnl_util.h"
#include "exec/layer.h"
#include "exec/plan.h"

namespace adaspring::engine::exec {

class VariantImpl;

class WorkspaceImpl final : public Workspace {
 public:
  // Memory objects and primitives of one (variant, batch): built once, then only executed.
  // A layer is one primitive, or several (a Winograd convolution with its reorders).
  struct Binding {
    uint64_t serial = 0;
    int batch = 0;
    std::vector<dnnl::primitive> prims;
    // The arguments as C arrays: the C++ execute() converts its map into a fresh vector on
    // every call, the C API takes them as they are (no allocation per run).
    std::vector<std::vector<dnnl_exec_arg_t>> c_args;
    std::vector<size_t> layer_begin;     // layer i runs prims [layer_begin[i], layer_begin[i+1])
    std::vector<dnnl::memory> memories;  // keeps the memories of c_args alive
    size_t num_layers() const { return layer_begin.empty() ? 0 : layer_begin.size() - 1; }
    // Executes layer i.
    void Execute(size_t i, dnnl::stream& s) const {
      for (size_t k = layer_begin[i]; k < layer_begin[i + 1]; ++k) {
        dnnl::error::wrap_c_api(
            dnnl_primitive_execute(prims[k].get(), s.get(), static_cast<int>(c_args[k].size()),
                                   c_args[k].data()),
            "could not execute a primitive");
      }
    }
    dnnl::memory input, logits;  // caller buffers, re-pointed per run (no allocation)
  };

  explicit WorkspaceImpl(int threads);
  ~WorkspaceImpl() override;
  int threads() const override { return threads_; }
  int64_t arena_bytes() const override { return arena_size_ + scratch_size_; }

  // The binding for (v, batch); builds it on a miss (grows the arena, which invalidates the
  // other bindings). Keeps the kMaxBindings most recently used.
  absl::StatusOr<Binding*> Bind(const VariantImpl& v, int batch);
  dnnl::stream& stream() { return stream_; }
  char* arena() { return arena_; }

 private:
  static constexpr size_t kMaxBindings = 4;
  int threads_;
  dnnl::stream stream_;
  char* arena_ = nullptr;
  int64_t arena_size_ = 0;
  char* scratch_ = nullptr;  // oneDNN scratchpad shared by the layers (they run one at a time)
  int64_t scratch_size_ = 0;
  std::vector<std::unique_ptr<Binding>> bindings_;  // most recently used first
};

class VariantImpl final : public Variant {
 public:
  VariantImpl(std::shared_ptr<const Model> model, Config config, std::string text, uint64_t id,
              Plan plan, std::vector<std::shared_ptr<const BuiltLayer>> layers);

  const Config& config() const override { return config_; }
  const std::string& text() const override { return text_; }
  uint64_t id() const override { return id_; }
  const VariantStats& stats() const override { return plan_.stats; }
  int64_t ArenaBytes(int batch) const override { return batch * plan_.arena_bytes_per_image; }
  absl::Status Run(const float* input, int batch, float* logits, Workspace* ws) const override;
  bool Ready(int batch, int threads) const override;
  absl::Status MakeReady(int batch, Workspace* ws) const override;
  std::vector<std::string> LayerNames() const override;
  absl::StatusOr<std::vector<double>> TimeLayersAlone(int batch, int reps,
                                                      Workspace* ws) const override;
  int64_t PackedWeightBytes() const override { return packed_bytes_; }
  int num_layers() const override { return static_cast<int>(layers_.size()); }

  // Runs like Run() and calls `hook(layer index, dst data, element count)` after each layer
  // whose dst is in the arena (f32 variants: calibration).
  absl::Status RunWithHook(const float* input, int batch, float* logits, Workspace* ws,
                           const std::function<void(int, const float*, int64_t)>& hook) const;

  uint64_t serial() const { return serial_; }
  const Plan& plan() const { return plan_; }
  const std::vector<std::shared_ptr<const BuiltLayer>>& layers() const { return layers_; }

 private:
  absl::StatusOr<WorkspaceImpl::Binding*> Prepare(const float* input, int batch, float* logits,
                                                  Workspace* ws) const;

  std::shared_ptr<const Model> model_;
  Config config_;
  std::string text_;
  uint64_t id_;
  Plan plan_;
  std::vector<std::shared_ptr<const BuiltLayer>> layers_;
  uint64_t serial_;
  int64_t packed_bytes_ = 0;
};

}  // namespace adaspring::engine::exec

#endif  // ADASPRING_ENGINE_SRC_EXEC_VARIANT_IMPL_H_
