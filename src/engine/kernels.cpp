#include "engine/kernels.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "common/errors.hpp"
#include "engine/logit_summary.hpp"

namespace sg::engine {

namespace {

std::uint32_t groups(int n, int per_group) {
  return static_cast<std::uint32_t>((n + per_group - 1) / per_group);
}
std::uint32_t u(int v) {
  return static_cast<std::uint32_t>(v);
}

struct EmbedPush {
  std::uint32_t tokens, width, stride, row_begin, rows, lanes, rows_per_lane;
};
struct LayerNormPush {
  std::uint32_t rows, width, stride;
  float eps;
};
struct MatmulPush {
  std::uint32_t tokens, k16, rows, row_begin, y_stride, flags;
};
struct AttentionPush {
  std::uint32_t tokens, width, head_dim, qkv_stride, out_stride, context;
  float scale;
};

// Tokens of one sequence an attention_serial workgroup takes, sharing each key and value load
// (a 255-token pass of the demo's stage 4, `bench --profile`: 4 tokens 51-54 ms, 8 tokens
// 38-43, 16 tokens 32-40; 8 keeps more workgroups for short prompts).
constexpr std::uint32_t kAttentionTile = 8;
// attention_serial's vec4 variant, for head sizes a multiple of 4, reads qkv and the caches
// (bindings 0, 6 and 7) as texels; the scalar variant reads them from storage.
bool serial_attention_texels(int head_dim) {
  return head_dim % 4 == 0;
}
struct GatherPush {
  std::uint32_t count, stride;
};
struct SummaryPush {
  std::uint32_t rows, width, stride;
};

// Shapes per device kind, measured on lavapipe (2 cores; a GPT-2 124M step of 49 matmuls):
// a workgroup of one SIMD vector (8 lanes), each lane owning 16 output rows: 26.5 ms (7.7 GB/s
// of F16 weights), against 34 ms for 8 rows. The accumulators that do not fit the registers
// spill to the stack, which costs less than lavapipe's lane-by-lane loads. Every variant
// computes each output with the same fma chain, so the choice never changes a bit of the
// result (batch invariance). GPUs run the split matmul instead (KernelShapes::split_k), whose
// order is its own; the GPU shape here serves a GPU made to run this shader (tests).
struct MatmulShape {
  std::uint32_t group, rows;
};
MatmulShape matmul_shape(const gpu::Context& context) {
  if (context.is_cpu()) return {8, 16};
  return {64, 2};
}
// The split matmul's variants (shaders/matmul_split.comp): row groups of 32 k-lanes per
// workgroup, rows per group and tokens per workgroup.
struct SplitShape {
  std::uint32_t groups, rows, tokens;
};
constexpr SplitShape kSplitOneToken{2, 1, 1};
constexpr SplitShape kSplitTile{4, 4, 8};

// Tokens an invocation of matmul.comp takes at once: every weight block it loads serves them
// all. A block is computed whole (a short pass pays for its missing tokens), so a pass of a
// few tokens takes the middle size (GPT-2 124M's projections, kernel-only on lavapipe: blocks
// of 16 against 8, 1.15x at 128 tokens, 0.65x at 8).
constexpr std::array<std::uint32_t, 3> kTokenBlocks{1, 8, 16};
std::size_t token_block_index(int tokens) {
  return tokens <= 1 ? 0 : tokens < static_cast<int>(kTokenBlocks[2]) ? 1 : 2;
}

std::size_t matmul_index(bool f16, std::size_t block, bool texel_x, bool texel_w) {
  return ((f16 ? kTokenBlocks.size() : 0u) + block) * 4u + (texel_x ? 2u : 0u) +
         (texel_w ? 1u : 0u);
}

const char* ceiling_suffix(KernelShapes::Ceiling ceiling) {
  switch (ceiling) {
    case KernelShapes::Ceiling::kFreeX:
      return "_ceil_x";
    case KernelShapes::Ceiling::kFreeW:
      return "_ceil_w";
    case KernelShapes::Ceiling::kFreeLoads:
      return "_ceil_xw";
    case KernelShapes::Ceiling::kNone:
      break;
  }
  return "";
}

std::vector<std::unique_ptr<gpu::LazyPipeline>> matmul_pipelines(const gpu::Context& context,
                                                                 const KernelShapes& shapes) {
  auto shape = matmul_shape(context);
  std::vector<std::unique_ptr<gpu::LazyPipeline>> out;
  for (bool f16 : {false, true})
    for (std::uint32_t block : kTokenBlocks)
      for (bool texel_x : {false, true})
        for (bool texel_w : {false, true}) {
          std::string name = std::string(f16 ? "matmul_f16" : "matmul_f32") +
                             (texel_x ? "_xt" : "") + (texel_w ? "_wt" : "") +
                             (f16 && texel_x ? ceiling_suffix(shapes.matmul_ceiling) : "");
          out.push_back(std::make_unique<gpu::LazyPipeline>(
              context, gpu::PipelineDesc{.shader = name,
                                         .buffers = 5,
                                         .push_bytes = sizeof(MatmulPush),
                                         .constants = {shape.group, shape.rows, block,
                                                       shapes.interleave_weights ? 1u : 0u},
                                         .texel_mask = (texel_x ? 1u : 0u) | (texel_w ? 2u : 0u)}));
        }
  return out;
}

std::vector<std::unique_ptr<gpu::LazyPipeline>> split_pipelines(const gpu::Context& context) {
  std::vector<std::unique_ptr<gpu::LazyPipeline>> out;
  for (bool f16 : {false, true})
    for (const auto& shape : {kSplitOneToken, kSplitTile})
      out.push_back(std::make_unique<gpu::LazyPipeline>(
          context, gpu::PipelineDesc{f16 ? "matmul_split_f16" : "matmul_split_f32",
                                     5,
                                     sizeof(MatmulPush),
                                     {shape.groups, shape.rows, shape.tokens}}));
  return out;
}

}  // namespace

TokenRuns TokenRuns::of(std::span<const std::int32_t> meta, std::span<const std::int32_t> spans) {
  // The test attention_serial.comp makes: same slot and first batch position, next position.
  const std::size_t n = meta.size() / 2;
  auto continues = [&](std::size_t t) {
    return t > 0 && t < n && meta[2 * t] == meta[2 * t - 2] &&
           spans[2 * t + 1] == spans[2 * t - 1] && meta[2 * t + 1] == meta[2 * t - 1] + 1;
  };
  TokenRuns kinds;
  for (std::size_t t = 0; t < n; ++t) {
    kinds.runs = kinds.runs || continues(t);
    kinds.singles = kinds.singles || (!continues(t) && !continues(t + 1));
  }
  return kinds;
}

KernelShapes KernelShapes::for_device(const gpu::Context& context) {
  return context.is_cpu() ? cpu() : gpu();
}

Kernels::Kernels(gpu::Context& context, int max_context, std::optional<KernelShapes> shapes)
    : context_(&context),
      dummy_(context, 64, gpu::Memory::kDevice),
      shapes_(shapes.value_or(KernelShapes::for_device(context))),
      embed_f16_(context, {"embed_f16", 5, sizeof(EmbedPush), {}}),
      embed_f32_(context, {"embed_f32", 5, sizeof(EmbedPush), {}}),
      layer_norm_(
          context,
          {shapes_.serial_rows ? "layer_norm_serial" : "layer_norm", 4, sizeof(LayerNormPush), {}}),
      attention_(context, {"attention", 6, sizeof(AttentionPush), {u(max_context)}}),
      gather_rows_(context, {"gather_rows", 3, sizeof(GatherPush), {}}),
      logit_summary_(
          context, {"logit_summary", 3, sizeof(SummaryPush), {u(kSummaryLanes), u(kSummaryKeep)}}),
      matmul_(matmul_pipelines(context, shapes_)),
      matmul_split_(split_pipelines(context)),
      matmul_group_(matmul_shape(context).group),
      matmul_rows_(matmul_shape(context).rows),
      max_context_(max_context) {}

WeightLayout Kernels::weight_layout() const {
  if (shapes_.split_k || !shapes_.interleave_weights) return {};
  return {static_cast<int>(matmul_group_), static_cast<int>(matmul_rows_)};
}

void Kernels::embed(gpu::CommandStream& cs, const Matrix& tok, const Matrix& pos,
                    const gpu::Buffer& ids, const gpu::Buffer& meta, const Activation& x,
                    int tokens) const {
  if (pos.layout != WeightLayout{})
    throw RuntimeError("embed: the position table must be row-major");
  for (const auto& chunk : tok.chunks) {
    EmbedPush push{u(tokens),
                   u(tok.cols),
                   u(x.stride),
                   u(chunk.row_begin),
                   u(chunk.rows),
                   u(tok.layout.lanes),
                   u(tok.layout.rows_per_lane)};
    std::array bindings{gpu::in(ids), gpu::in(meta), gpu::in(chunk.buffer),
                        gpu::in(pos.chunks.at(0).buffer), gpu::out(x.buffer)};
    cs.dispatch((tok.f16 ? embed_f16_ : embed_f32_).get(), bindings, push,
                {groups(tok.cols, 64), u(tokens), 1}, "embed");
  }
}

void Kernels::layer_norm(gpu::CommandStream& cs, const Activation& x, const gpu::Buffer& w,
                         const gpu::Buffer& b, const Activation& y, int rows, float eps) const {
  LayerNormPush push{u(rows), u(x.cols), u(x.stride), eps};
  std::array bindings{gpu::in(x.buffer), gpu::in(w), gpu::in(b), gpu::out(y.buffer)};
  cs.dispatch(layer_norm_.get(), bindings, push, {u(rows), 1, 1}, "layer_norm");
}

void Kernels::matmul(gpu::CommandStream& cs, const Activation& x, const Matrix& w,
                     const gpu::Buffer* bias, const Activation* residual, const Activation& y,
                     int tokens, Act act) const {
  if (x.stride != w.stride)
    throw RuntimeError("matmul: activation stride " + std::to_string(x.stride) +
                       " != weight stride " + std::to_string(w.stride));
  if (w.layout != weight_layout())
    throw RuntimeError("matmul: the weights are not laid out as these kernels read them");
  std::uint32_t flags =
      (bias ? 1u : 0u) | (residual ? 2u : 0u) | (static_cast<std::uint32_t>(act) << 2);
  if (shapes_.split_k) {
    const bool tile = tokens > 1;
    const auto& shape = tile ? kSplitTile : kSplitOneToken;
    const auto& pipeline = matmul_split_[(w.f16 ? 2u : 0u) + (tile ? 1u : 0u)]->get();
    for (const auto& chunk : w.chunks) {
      MatmulPush push{u(tokens),          u(w.stride / 16), u(chunk.rows),
                      u(chunk.row_begin), u(y.stride),      flags};
      std::array bindings{gpu::in(x.buffer), gpu::in(chunk.buffer), gpu::in(bias ? *bias : dummy_),
                          gpu::in(residual ? residual->buffer : dummy_), gpu::out(y.buffer)};
      cs.dispatch(pipeline, bindings, push,
                  {groups(chunk.rows, static_cast<int>(shape.groups * shape.rows)),
                   groups(tokens, static_cast<int>(shape.tokens)), 1},
                  "matmul");
    }
    return;
  }
  const bool texel_x = shapes_.texel_x;
  if (shapes_.matmul_ceiling != KernelShapes::Ceiling::kNone && !(w.f16 && texel_x))
    throw RuntimeError("matmul: the ceiling probes exist for F16 weights and texel activations");
  const bool texel_w = shapes_.texel_weights;
  const auto& pipeline =
      matmul_[matmul_index(w.f16, token_block_index(tokens), texel_x, texel_w)]->get();
  for (const auto& chunk : w.chunks) {
    MatmulPush push{u(tokens),          u(w.stride / 16), u(chunk.rows),
                    u(chunk.row_begin), u(y.stride),      flags};
    std::array bindings{texel_x ? gpu::texels(x.buffer) : gpu::in(x.buffer),
                        texel_w ? gpu::texels(chunk.buffer) : gpu::in(chunk.buffer),
                        gpu::in(bias ? *bias : dummy_),
                        gpu::in(residual ? residual->buffer : dummy_), gpu::out(y.buffer)};
    cs.dispatch(pipeline, bindings, push,
                {groups(chunk.rows, static_cast<int>(matmul_group_ * matmul_rows_)), 1, 1},
                "matmul");
  }
}

void Kernels::attention(gpu::CommandStream& cs, const Activation& qkv, const gpu::Buffer& meta,
                        const gpu::Buffer& span, const gpu::Buffer& k_cache,
                        const gpu::Buffer& v_cache, const Activation& out, int tokens, int n_head,
                        int head_dim, int context, float scale, TokenRuns kinds) const {
  if (head_dim > 256) throw RuntimeError("attention: head_dim > 256 is not supported");
  AttentionPush push{u(tokens),     u(n_head * head_dim), u(head_dim), u(qkv.stride),
                     u(out.stride), u(context),           scale};
  if (!shapes_.serial_rows) {
    std::array bindings{gpu::in(qkv.buffer), gpu::in(meta),        gpu::out(k_cache),
                        gpu::out(v_cache),   gpu::out(out.buffer), gpu::in(span)};
    cs.dispatch(attention_.get(), bindings, push, {u(tokens), u(n_head), 1}, "attention");
    return;
  }
  const bool texels = serial_attention_texels(head_dim);
  auto read = [&](const gpu::Buffer& b) { return texels ? gpu::texels(b) : gpu::in(b); };
  std::array bindings{read(qkv.buffer),     gpu::in(meta), gpu::out(k_cache), gpu::out(v_cache),
                      gpu::out(out.buffer), gpu::in(span), read(k_cache),     read(v_cache)};
  for (std::uint32_t tile : {kAttentionTile, 1u})
    if (tile == 1u ? kinds.singles : kinds.runs)
      cs.dispatch(serial_attention(head_dim, tile), bindings, push,
                  {groups(tokens, static_cast<int>(tile)) * u(n_head), 1, 1}, "attention");
}

const gpu::Pipeline& Kernels::serial_attention(int head_dim, std::uint32_t tile) const {
  std::lock_guard lock(serial_attention_mutex_);
  auto& pipeline = serial_attention_[{head_dim, tile}];
  const bool texels = serial_attention_texels(head_dim);
  if (!pipeline)
    pipeline = std::make_unique<gpu::Pipeline>(
        *context_,
        gpu::PipelineDesc{.shader = texels ? "attention_serial_vec4" : "attention_serial",
                          .buffers = 8,
                          .push_bytes = sizeof(AttentionPush),
                          .constants = {u(max_context_), tile, u(head_dim)},
                          .texel_mask = texels ? 0b11000001u : 0u});
  return *pipeline;
}

void Kernels::gather_rows(gpu::CommandStream& cs, const Activation& x, const gpu::Buffer& rows,
                          const Activation& y, int count) const {
  GatherPush push{u(count), u(x.stride)};
  std::array bindings{gpu::in(x.buffer), gpu::in(rows), gpu::out(y.buffer)};
  cs.dispatch(gather_rows_.get(), bindings, push, {groups(x.stride, 64), u(count), 1},
              "gather_rows");
}

void Kernels::logit_summary(gpu::CommandStream& cs, const Activation& logits,
                            const gpu::Buffer& temperatures, const gpu::Buffer& records,
                            int rows) const {
  SummaryPush push{u(rows), u(logits.cols), u(logits.stride)};
  std::array bindings{gpu::in(logits.buffer), gpu::in(temperatures), gpu::out(records)};
  cs.dispatch(logit_summary_.get(), bindings, push, {groups(kSummaryLanes, 64), u(rows), 1},
              "logit_summary");
}

}  // namespace sg::engine
