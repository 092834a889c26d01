#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "exec/variant_impl.h"

namespace adaspring::engine {

std::unique_ptr<Workspace> NewWorkspace(int threads) {
  return std::make_unique<exec::WorkspaceImpl>(exec::ResolveThreads(threads));
}

namespace exec {

WorkspaceImpl::WorkspaceImpl(int threads) : threads_(threads), stream_(CpuEngine()) {}

WorkspaceImpl::~WorkspaceImpl() {
  bindings_.clear();
  std::free(arena_);
  std::free(scratch_);
}

absl::StatusOr<WorkspaceImpl::Binding*> WorkspaceImpl::Bind(const VariantImpl& v, int batch) {
  for (size_t i = 0; i < bindings_.size(); ++i) {
    if (bindings_[i]->serial == v.serial() && bindings_[i]->batch == batch) {
      if (i != 0) std::rotate(bindings_.begin(), bindings_.begin() + i, bindings_.begin() + i + 1);
      return bindings_[0].get();
    }
  }
  const int64_t need = std::max<int64_t>(v.ArenaBytes(batch), 64);
  if (need > arena_size_) {
    // Grow-only: a steady state never reallocates. Old bindings point at the old arena.
    bindings_.clear();
    std::free(arena_);
    const int64_t size = (need + 63) / 64 * 64;
    arena_ = static_cast<char*>(std::aligned_alloc(64, static_cast<size_t>(size)));
    if (arena_ == nullptr) {
      arena_size_ = 0;
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot allocate a ", size, "-byte activation arena"));
    }
    arena_size_ = size;
  }
  // Primitives first: their scratchpad needs size the shared scratch buffer, which also
  // holds the blocked copies of a Winograd layer's tensors (layers run one at a time):
  // [scratchpad | blocked src | blocked dst].
  std::vector<const BuiltLayer::Exec*> execs;
  int64_t pad_need = 64, blk_src_need = 0, blk_dst_need = 0;
  auto align64 = [](int64_t n) { return (n + 63) / 64 * 64; };
  for (const auto& layer : v.layers()) {
    auto e = layer->ForBatch(batch, threads_);
    if (!e.ok()) return e.status();
    execs.push_back(*e);
    pad_need = std::max<int64_t>(pad_need, align64((*e)->scratchpad_md.get_size()));
    if ((*e)->winograd()) {
      blk_src_need = std::max<int64_t>(blk_src_need, align64((*e)->blk_src_md.get_size()));
      blk_dst_need = std::max<int64_t>(blk_dst_need, align64((*e)->blk_dst_md.get_size()));
    }
  }
  const int64_t scratch_need = pad_need + blk_src_need + blk_dst_need;
  if (scratch_need > scratch_size_) {
    bindings_.clear();
    std::free(scratch_);
    const int64_t size = (scratch_need + 4095) / 4096 * 4096;
    scratch_ = static_cast<char*>(std::aligned_alloc(64, static_cast<size_t>(size)));
    if (scratch_ == nullptr) {
      scratch_size_ = 0;
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot allocate a ", size, "-byte scratchpad"));
    }
    scratch_size_ = size;
  }
  auto b = std::make_unique<Binding>();
  b->serial = v.serial();
  b->batch = batch;
  const Plan& plan = v.plan();
  try {
    auto memory_for = [&](int tensor, const dnnl::memory::desc& md) -> dnnl::memory {
      if (tensor == kUserInput) {
        if (!b->input) b->input = dnnl::memory(md, CpuEngine(), DNNL_MEMORY_NONE);
        return b->input;
      }
      if (tensor == kUserLogits) {
        if (!b->logits) b->logits = dnnl::memory(md, CpuEngine(), DNNL_MEMORY_NONE);
        return b->logits;
      }
      return dnnl::memory(md, CpuEngine(), arena_ + batch * plan.tensors[tensor].offset_per_image);
    };
    auto add = [&](const dnnl::primitive& prim, std::vector<std::pair<int, dnnl::memory>> args) {
      std::vector<dnnl_exec_arg_t> c_args;
      for (auto& [arg, mem] : args) {
        c_args.push_back({arg, mem.get()});
        b->memories.push_back(std::move(mem));
      }
      b->prims.push_back(prim);
      b->c_args.push_back(std::move(c_args));
    };
    // The arguments of a layer's own primitive (conv, fc, pooling or reorder).
    auto layer_args = [&](const BuiltLayer::Exec& ex, const dnnl::memory& src,
                          const dnnl::memory& dst) {
      std::vector<std::pair<int, dnnl::memory>> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
      if (ex.weights) args.push_back({DNNL_ARG_WEIGHTS, ex.weights});
      if (ex.bias) args.push_back({DNNL_ARG_BIAS, ex.bias});
      if (ex.scratchpad_md.get_size() > 0)
        args.push_back(
            {DNNL_ARG_SCRATCHPAD, dnnl::memory(ex.scratchpad_md, CpuEngine(), scratch_)});
      return args;
    };
    for (size_t i = 0; i < plan.layers.size(); ++i) {
      const PlanLayer& l = plan.layers[i];
      const BuiltLayer::Exec& ex = *execs[i];
      b->layer_begin.push_back(b->prims.size());
      dnnl::memory src = memory_for(l.src, ex.src_md), dst = memory_for(l.dst, ex.dst_md);
      if (ex.winograd()) {
        dnnl::memory blk_src(ex.blk_src_md, CpuEngine(), scratch_ + pad_need);
        dnnl::memory blk_dst(ex.blk_dst_md, CpuEngine(), scratch_ + pad_need + blk_src_need);
        char* src_base = static_cast<char*>(src.get_data_handle());
        char* dst_base = static_cast<char*>(dst.get_data_handle());
        for (int image = 0; image < ex.images; ++image) {
          dnnl::memory src_i(ex.src_md, CpuEngine(), src_base + image * ex.src_md.get_size());
          dnnl::memory dst_i(ex.dst_md, CpuEngine(), dst_base + image * ex.dst_md.get_size());
          add(ex.to_blk_src, {{DNNL_ARG_FROM, src_i}, {DNNL_ARG_TO, blk_src}});
          if (ex.to_blk_dst) add(ex.to_blk_dst, {{DNNL_ARG_FROM, dst_i}, {DNNL_ARG_TO, blk_dst}});
          add(ex.prim, layer_args(ex, blk_src, blk_dst));
          add(ex.from_blk_dst, {{DNNL_ARG_FROM, blk_dst}, {DNNL_ARG_TO, dst_i}});
        }
        continue;
      }
      add(ex.prim, layer_args(ex, src, dst));
    }
    b->layer_begin.push_back(b->prims.size());
  } catch (const dnnl::error& e) {
    return FromDnnl(e, "binding a variant to a workspace");
  }
  bindings_.insert(bindings_.begin(), std::move(b));
  if (bindings_.size() > kMaxBindings) bindings_.pop_back();
  return bindings_[0].get();
}

}  // namespace exec
}  // namespace adaspring::engine
