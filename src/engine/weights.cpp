#include "engine/weights.hpp"

#include <algorithm>
#include <numeric>
#include <span>
#include <string>
#include <type_traits>

#include "common/errors.hpp"
#include "common/progress.hpp"

namespace sg::engine {

namespace {

using model::TensorView;

bool store_f16(const TensorView& t, WeightType type) {
  if (type != WeightType::kF16) return false;
  // BF16 has F32's range: such a tensor becomes F16 only when every value fits.
  if (t.dtype == model::DType::kBF16) return model::fits_f16(t);
  return true;
}

int rows_per_chunk(const gpu::Context& context, int stride, bool f16, int align) {
  std::uint64_t row_bytes = static_cast<std::uint64_t>(stride) * (f16 ? 2 : 4);
  auto rows = static_cast<int>(context.max_storage_buffer_range() / row_bytes);
  rows = rows / align * align;
  if (rows < align) throw RuntimeError("weight rows too long for the device's buffers");
  return rows;
}

// Row `r` of `values` ([rows, cols]) as `stride` elements of T, zero-padded.
template <typename T>
void padded_row(const std::vector<float>& values, int r, int cols, std::span<T> out) {
  std::span<const float> src(values.data() + static_cast<std::size_t>(r) * cols,
                             static_cast<std::size_t>(cols));
  std::fill(out.begin(), out.end(), T{});
  if constexpr (std::is_same_v<T, std::uint16_t>)
    model::floats_to_halves(src, out.first(src.size()));
  else
    std::copy(src.begin(), src.end(), out.begin());
}

// One chunk's rows [begin, begin + n) in `layout`, padded to `padded_rows` rows.
template <typename T>
std::vector<T> chunk_elements(const std::vector<float>& values, int begin, int n, int padded_rows,
                              int cols, int stride, const WeightLayout& layout) {
  const auto width = static_cast<std::size_t>(stride);
  std::vector<T> host(static_cast<std::size_t>(padded_rows) * width, T{});
  std::vector<T> row(width);
  const int k16 = stride / kColumnAlign;
  for (int r = 0; r < n; ++r) {
    padded_row(values, begin + r, cols, std::span(row));
    for (int kk = 0; kk < k16; ++kk)
      std::copy_n(row.begin() + kk * kColumnAlign, kColumnAlign,
                  host.begin() +
                      static_cast<std::ptrdiff_t>(weight_piece(layout, r, kk, k16) * kColumnAlign));
  }
  return host;
}

}  // namespace

Matrix upload_matrix(gpu::Context& context, const std::vector<float>& values, int rows, int cols,
                     bool f16, int max_chunk_rows, WeightLayout layout) {
  Matrix m;
  m.rows = rows;
  m.cols = cols;
  m.stride = round_up(cols, kColumnAlign);
  m.f16 = f16;
  m.layout = layout;
  const int align = std::lcm(kRowAlign, layout.block_rows());
  int per_chunk = rows_per_chunk(context, m.stride, f16, align);
  if (max_chunk_rows > 0) per_chunk = std::min(per_chunk, round_up(max_chunk_rows, align));
  for (int begin = 0; begin < rows; begin += per_chunk) {
    int n = std::min(per_chunk, rows - begin);
    int padded_rows = round_up(n, align);
    const auto bytes = static_cast<std::size_t>(padded_rows) * static_cast<std::size_t>(m.stride) *
                       (f16 ? 2u : 4u);
    gpu::Buffer buffer(context, bytes, gpu::Memory::kDevice);
    if (f16) {
      auto host =
          chunk_elements<std::uint16_t>(values, begin, n, padded_rows, cols, m.stride, layout);
      buffer.write(0, std::as_bytes(std::span(host)));
    } else {
      auto host = chunk_elements<float>(values, begin, n, padded_rows, cols, m.stride, layout);
      buffer.write(0, std::as_bytes(std::span(host)));
    }
    m.chunks.push_back({std::move(buffer), begin, n});
  }
  return m;
}

namespace {

// Hugging Face's Conv1D keeps [in, out]; the matmul wants [out, in].
std::vector<float> transposed(const std::vector<float>& v, int in, int out) {
  std::vector<float> t(v.size());
  constexpr int kBlock = 64;
  for (int i0 = 0; i0 < in; i0 += kBlock)
    for (int o0 = 0; o0 < out; o0 += kBlock)
      for (int i = i0; i < std::min(in, i0 + kBlock); ++i)
        for (int o = o0; o < std::min(out, o0 + kBlock); ++o)
          t[static_cast<std::size_t>(o) * in + i] = v[static_cast<std::size_t>(i) * out + o];
  return t;
}

Matrix conv1d(gpu::Context& context, const TensorView& t, WeightType type,
              const WeightLayout& layout) {
  int in = static_cast<int>(t.shape.at(0));
  int out = static_cast<int>(t.shape.at(1));
  return upload_matrix(context, transposed(model::to_f32(t), in, out), out, in, store_f16(t, type),
                       0, layout);
}

// nn.Linear already keeps [out, in].
Matrix linear(gpu::Context& context, const TensorView& t, WeightType type,
              const WeightLayout& layout) {
  return upload_matrix(context, model::to_f32(t), static_cast<int>(t.shape.at(0)),
                       static_cast<int>(t.shape.at(1)), store_f16(t, type), 0, layout);
}

// BERT's separate query, key and value [E, E] stacked into the engine's fused [3E, E].
Matrix fused_qkv(gpu::Context& context, const TensorView& q, const TensorView& k,
                 const TensorView& v, WeightType type, const WeightLayout& layout) {
  std::vector<float> all;
  for (const auto* t : {&q, &k, &v}) {
    auto part = model::to_f32(*t);
    all.insert(all.end(), part.begin(), part.end());
  }
  const bool f16 = store_f16(q, type) && store_f16(k, type) && store_f16(v, type);
  return upload_matrix(context, all, 3 * static_cast<int>(q.shape.at(0)),
                       static_cast<int>(q.shape.at(1)), f16, 0, layout);
}

gpu::Buffer floats(gpu::Context& context, const std::vector<float>& v) {
  gpu::Buffer b(context, v.size() * sizeof(float), gpu::Memory::kDevice);
  b.write(0, std::as_bytes(std::span(v)));
  return b;
}

Matrix embedding(gpu::Context& context, const TensorView& t, bool f16,
                 const WeightLayout& layout = {}) {
  return upload_matrix(context, model::to_f32(t), static_cast<int>(t.shape.at(0)),
                       static_cast<int>(t.shape.at(1)), f16, 0, layout);
}

gpu::Buffer vector(gpu::Context& context, const TensorView& t) {
  auto v = model::to_f32(t);
  gpu::Buffer b(context, v.size() * sizeof(float), gpu::Memory::kDevice);
  b.write(0, std::as_bytes(std::span(v)));
  return b;
}

std::uint64_t matrix_bytes(int rows, int cols, bool f16) {
  return static_cast<std::uint64_t>(round_up(rows, std::lcm(kRowAlign, kMaxBlockRows))) *
         static_cast<std::uint64_t>(round_up(cols, kColumnAlign)) * (f16 ? 2u : 4u);
}

// BERT/RoBERTa positions: rows position_offset.. of the table, plus token type 0's row.
std::vector<float> encoder_positions(const model::Checkpoint& checkpoint) {
  const auto& c = checkpoint.config();
  const auto table = model::to_f32(checkpoint.tensor("pos_embed"));
  const auto type0 = model::to_f32(checkpoint.tensor("type_embed"));
  const auto e = static_cast<std::size_t>(c.n_embd);
  std::vector<float> out(static_cast<std::size_t>(c.n_positions) * e);
  for (std::size_t p = 0; p < static_cast<std::size_t>(c.n_positions); ++p)
    for (std::size_t i = 0; i < e; ++i)
      out[p * e + i] = table[(p + static_cast<std::size_t>(c.position_offset)) * e + i] + type0[i];
  return out;
}

}  // namespace

std::uint64_t Matrix::bytes() const {
  std::uint64_t total = 0;
  for (const auto& c : chunks) total += c.buffer.size();
  return total;
}

std::uint64_t planned_weight_bytes(const model::Checkpoint& checkpoint, WeightType type) {
  const auto& c = checkpoint.config();
  bool f16 = type == WeightType::kF16;
  std::uint64_t per_layer =
      matrix_bytes(3 * c.n_embd, c.n_embd, f16) + matrix_bytes(c.n_embd, c.n_embd, f16) +
      matrix_bytes(c.n_inner, c.n_embd, f16) + matrix_bytes(c.n_embd, c.n_inner, f16) +
      4ull * (9ull * c.n_embd + c.n_inner);
  std::uint64_t total = per_layer * static_cast<std::uint64_t>(c.n_layer);
  total += matrix_bytes(c.vocab_size, c.n_embd, f16) *
           (checkpoint.lm_head_tied() || c.classifier() ? 1 : 2);
  total += matrix_bytes(c.n_positions, c.n_embd, false);
  if (c.classifier())
    total += matrix_bytes(c.num_labels, c.n_embd, f16) + matrix_bytes(c.n_embd, c.n_embd, f16) +
             4ull * (3ull * c.n_embd + c.num_labels);
  return total;
}

DeviceWeights upload_weights(gpu::Context& context, const model::Checkpoint& checkpoint,
                             WeightType type, const WeightLayout& layout) {
  const auto& cfg = checkpoint.config();
  // Each tensor's file pages are dropped as soon as it is on the device, so the resident set
  // never holds the whole file and its copy at once.
  std::vector<const TensorView*> uploaded;
  auto get = [&](const std::string& name) -> const TensorView& {
    const auto& t = checkpoint.tensor(name);
    uploaded.push_back(&t);
    return t;
  };
  auto release = [&] {
    for (const auto* t : uploaded) checkpoint.release_pages(*t);
    uploaded.clear();
  };
  DeviceWeights w;
  ProgressBar bar("uploading weights", static_cast<std::uint64_t>(cfg.n_layer) + 2, "layers");
  const auto& tok = get("tok_embed");
  w.tok_embed = embedding(context, tok, store_f16(tok, type), layout);
  if (cfg.bidirectional()) {
    get("pos_embed");
    get("type_embed");
    w.pos_embed =
        upload_matrix(context, encoder_positions(checkpoint), cfg.n_positions, cfg.n_embd, false);
    w.embed_ln_w = vector(context, get("embed_ln.weight"));
    w.embed_ln_b = vector(context, get("embed_ln.bias"));
  } else {
    w.pos_embed = embedding(context, get("pos_embed"), false);
  }
  w.tied = checkpoint.lm_head_tied();
  if (!w.tied && !cfg.classifier()) {
    const auto& head = get("lm_head");
    w.lm_head = embedding(context, head, store_f16(head, type), layout);
  }
  release();
  bar.advance();
  for (int i = 0; i < cfg.n_layer; ++i) {
    std::string p = "h." + std::to_string(i) + ".";
    if (cfg.linear_weights()) {
      std::vector<float> qkv_b;
      for (const char* part : {"q", "k", "v"}) {
        auto b = model::to_f32(get(p + "attn." + part + ".bias"));
        qkv_b.insert(qkv_b.end(), b.begin(), b.end());
      }
      w.layers.push_back(LayerWeights{
          .ln_1_w = vector(context, get(p + "ln_1.weight")),
          .ln_1_b = vector(context, get(p + "ln_1.bias")),
          .ln_2_w = vector(context, get(p + "ln_2.weight")),
          .ln_2_b = vector(context, get(p + "ln_2.bias")),
          .c_attn = fused_qkv(context, get(p + "attn.q.weight"), get(p + "attn.k.weight"),
                              get(p + "attn.v.weight"), type, layout),
          .c_proj = linear(context, get(p + "attn.c_proj.weight"), type, layout),
          .c_fc = linear(context, get(p + "mlp.c_fc.weight"), type, layout),
          .mlp_proj = linear(context, get(p + "mlp.c_proj.weight"), type, layout),
          .c_attn_b = floats(context, qkv_b),
          .c_proj_b = vector(context, get(p + "attn.c_proj.bias")),
          .c_fc_b = vector(context, get(p + "mlp.c_fc.bias")),
          .mlp_proj_b = vector(context, get(p + "mlp.c_proj.bias")),
      });
      release();
      bar.advance();
      continue;
    }
    w.layers.push_back(LayerWeights{
        .ln_1_w = vector(context, get(p + "ln_1.weight")),
        .ln_1_b = vector(context, get(p + "ln_1.bias")),
        .ln_2_w = vector(context, get(p + "ln_2.weight")),
        .ln_2_b = vector(context, get(p + "ln_2.bias")),
        .c_attn = conv1d(context, get(p + "attn.c_attn.weight"), type, layout),
        .c_proj = conv1d(context, get(p + "attn.c_proj.weight"), type, layout),
        .c_fc = conv1d(context, get(p + "mlp.c_fc.weight"), type, layout),
        .mlp_proj = conv1d(context, get(p + "mlp.c_proj.weight"), type, layout),
        .c_attn_b = vector(context, get(p + "attn.c_attn.bias")),
        .c_proj_b = vector(context, get(p + "attn.c_proj.bias")),
        .c_fc_b = vector(context, get(p + "mlp.c_fc.bias")),
        .mlp_proj_b = vector(context, get(p + "mlp.c_proj.bias")),
    });
    release();
    bar.advance();
  }
  if (cfg.norm_placement() == model::NormPlacement::kPre) {
    w.ln_f_w = vector(context, get("ln_f.weight"));
    w.ln_f_b = vector(context, get("ln_f.bias"));
  }
  if (cfg.classifier()) {
    ClassifierHead head{.pooler = {},
                        .pooler_b = {},
                        .out = linear(context, get("classifier.weight"), type, layout),
                        .out_b = {}};
    if (cfg.bidirectional()) {
      head.pooler = linear(context, get("pooler.weight"), type, layout);
      head.pooler_b = vector(context, get("pooler.bias"));
      head.out_b = vector(context, get("classifier.bias"));
    }
    w.classifier = std::move(head);
  }
  release();
  bar.advance();
  bar.finish();
  w.device_bytes = w.tok_embed.bytes() + w.pos_embed.bytes() + (w.tied ? 0 : w.lm_head.bytes());
  for (const auto& l : w.layers)
    w.device_bytes += l.c_attn.bytes() + l.c_proj.bytes() + l.c_fc.bytes() + l.mlp_proj.bytes();
  if (w.classifier)
    w.device_bytes +=
        w.classifier->out.bytes() + (w.classifier->pooler ? w.classifier->pooler->bytes() : 0);
  checkpoint.release_pages();
  return w;
}

}  // namespace sg::engine
