// One executable layer of a variant: packed weights plus oneDNN primitives, shareable between
// variants (the evolver reuses a layer when its PlanLayer::key matches).
//
// Thread safety: immutable after Create() except the per-(batch, threads) primitive table,
// which ForBatch() fills on first use under mu_. Executing the returned primitives
// concurrently from several threads is safe (oneDNN primitives are stateless; the library
// scratchpad is per thread).
#ifndef ADASPRING_ENGINE_SRC_EXEC_LAYER_H_
#define ADASPRING_ENGINE_SRC_EXEC_LAYER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "exec/dnnl_util.h"
#include "exec/fold.h"
#include "exec/plan.h"
#include "exec/quant.h"

namespace adaspring::engine::exec {

// Everything a layer needs besides its PlanLayer: dtypes and quantisation steps of its
// tensors (int8 only) and, for weighted layers, the dense f32 weights.
struct LayerInputs {
  dnnl::memory::data_type src_dt = dnnl::memory::data_type::f32;
  dnnl::memory::data_type dst_dt = dnnl::memory::data_type::f32;
  float src_step = 1, dst_step = 1, sum_step = 1;  // int8 only
  const DenseConv* weights = nullptr;              // conv and fc
  QuantWeights* quant_scratch = nullptr;           // int8: reused for the quantised weights
  ActLayout layout = ActLayout::kNhwc;
  bool winograd = true;      // EvolverOptions::winograd
  int src_c = 0, dst_c = 0;  // channels of the src/dst tensors (memory dims)
};

class BuiltLayer {
 public:
  struct Exec {
    dnnl::primitive prim;
    dnnl::memory weights, bias;  // empty for unweighted layers
    dnnl::memory::desc src_md, dst_md, weights_md, scratchpad_md;
    std::string impl;
    // Winograd convolutions (see UseWinograd) run on nChw16c copies of their tensors, one
    // image at a time: per image, `to_blk_src` (and, with a residual sum, `to_blk_dst`)
    // reorder the NHWC tensors into the workspace's blocked buffers, `prim` runs on those and
    // `from_blk_dst` reorders the result back. src_md / dst_md then describe one image and
    // `images` is the batch. (oneDNN's Winograd weight formats differ between batch sizes and
    // cannot be reordered into each other, so every batch reuses the batch-1 primitive.)
    dnnl::primitive to_blk_src, to_blk_dst, from_blk_dst;
    dnnl::memory::desc blk_src_md, blk_dst_md;
    int images = 1;
    bool winograd() const { return static_cast<bool>(from_blk_dst); }
  };

  // Packs the weights and creates the primitive for (batch 1, `threads`).
  static absl::StatusOr<std::shared_ptr<BuiltLayer>> Create(const PlanLayer& layer,
                                                            const LayerInputs& in, int threads);

  // The primitive for `batch` images with `threads` OpenMP threads, created once under a lock
  // (the caller's thread must already have omp_set_num_threads(threads)).
  absl::StatusOr<const Exec*> ForBatch(int batch, int threads) const;
  // Whether ForBatch(batch, threads) would find its primitive made.
  bool HasBatch(int batch, int threads) const;

  const PlanLayer& layer() const { return layer_; }
  int64_t packed_bytes() const { return packed_bytes_; }
  const std::string& impl() const { return impl_; }  // oneDNN implementation (batch 1)

  // Whether a layer is computed with oneDNN's Winograd convolution: f32, 3 x 3, stride 1, not
  // grouped, at least 16 input and output channels and at least 20 M multiply-adds (the
  // 56 x 56 .. 7 x 7 layers of 224-pixel networks, 1.3-2.9x faster than the direct kernel with
  // the reorders counted, at 1 and 2 threads; smaller layers gain at most 1.6x at one thread
  // and lose at two, where the reorders' thread synchronisation costs more than the kernel
  // saves). A function of the layer alone, so the cost model's per-layer latencies stay valid.
  static bool UseWinograd(const PlanLayer& l, const LayerInputs& in);

 private:
  BuiltLayer(const PlanLayer& layer, const LayerInputs& in);
  absl::StatusOr<std::unique_ptr<Exec>> MakeExec(int batch, bool first) const;
  // The Winograd form of a convolution (one image) with weights `w_md`; false when oneDNN has
  // none for it or, with `check_thread_counts`, when another thread count (1 .. cores) would
  // reject the weight format it chose (the layer is then made with the direct kernel).
  bool MakeWinogradExec(const dnnl::memory::desc& w_md, bool check_thread_counts,
                        const dnnl::memory::desc& b_md, Exec* e) const;
  // The descriptor of the batch-1 convolution (weights `any`): from the process-wide memo,
  // else oneDNN's first choice as PreferPlainJit adjusts it.
  dnnl::convolution_forward::primitive_desc FirstConvPd(const dnnl::convolution_forward::desc& d,
                                                        int batch, bool has_bias) const;
  // At one thread, replaces oneDNN's first choice for a small convolution (<= 2 M
  // multiply-adds), brgconv, by its plain direct JIT kernel of the same ISA (jit:avx512_core,
  // jit_int8:avx512_core_vnni), which has lower fixed costs: timed on every convolution of
  // smallres28's space at one thread, it was faster in all int8 ones (by up to 1.6x) and in
  // the f32 ones with a 7 x 7 or larger output (by up to 2x), and slower only in some f32
  // ones at 4 x 4 (by up to 13%), which keep brgconv.
  void PreferPlainJit(dnnl::convolution_forward::primitive_desc* pd) const;
  // Whether an implementation is a reference or gemm fallback (slow for these shapes).
  static bool IsSlow(const std::string& impl);
  // Copies the packed weights into layout `md` for `e` (false when oneDNN cannot reorder).
  bool Repack(const dnnl::memory::desc& md, Exec* e) const;

  PlanLayer layer_;
  LayerInputs in_;
  dnnl::primitive_attr attr_;
  std::string attr_values_;  // int8: the values attr_ holds (output scales, sum scale), as bytes
  dnnl::memory weights_, bias_;  // packed for the batch-1 primitive
  bool winograd_ = false;        // UseWinograd and oneDNN has the primitive
  dnnl::memory::desc weights_md_;
  dnnl::memory::dims weight_dims_;
  dnnl::memory::data_type weight_dt_ = dnnl::memory::data_type::f32;
  int64_t packed_bytes_ = 0;
  std::string impl_;
  mutable absl::Mutex mu_;
  mutable std::map<std::pair<int, int>, std::unique_ptr<Exec>> execs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adaspring::engine::exec

#endif  // ADASPRING_ENGINE_SRC_EXEC_LAYER_H_
