// Every shader against a CPU reference, at sizes that are not multiples of the workgroup.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "engine/activation_io.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/kernels.hpp"
#include "engine/weights.hpp"
#include "model/tensor.hpp"

namespace sg::engine {
namespace {

using testing::GpuTest;
using testing::random_values;

float round_f16(float v) {
  return model::half_to_float(model::float_to_half(v));
}

class KernelTest : public GpuTest {
 public:
  using GpuTest::gpu;
  Activation make_activation(int rows, int cols, const std::vector<float>& values = {}) {
    return testing::upload_activation(gpu(), rows, cols, values);
  }
  static std::vector<float> read(const Activation& a) { return testing::read_activation(a); }
  gpu::Buffer floats(const std::vector<float>& v) {
    gpu::Buffer b(gpu(), v.size() * 4, gpu::Memory::kDevice);
    b.write(0, std::as_bytes(std::span(v)));
    return b;
  }
  gpu::Buffer ints(const std::vector<std::int32_t>& v) {
    gpu::Buffer b(gpu(), v.size() * 4, gpu::Memory::kHostUpload);
    b.write(0, std::as_bytes(std::span(v)));
    return b;
  }
};

// Every shader shape runs on every device (the GPUs' forced here on lavapipe); each is
// checked against the CPU reference.
const std::vector<KernelShapes> kAllShapes{
    {.serial_rows = false, .texel_x = false, .split_k = false},
    KernelShapes::cpu(),
    KernelShapes::gpu()};
// The matmul's remaining variant: lane-interleaved weights read by storage loads.
const KernelShapes kInterleavedStorageWeights{.serial_rows = true,
                                              .texel_x = true,
                                              .split_k = false,
                                              .texel_weights = false,
                                              .interleave_weights = true};

std::string shape_name(const ::testing::TestParamInfo<KernelShapes>& info) {
  if (info.param.split_k) return "gpu_split";
  return info.param.serial_rows ? "serial_texels" : "workgroup_storage";
}

std::string matmul_variant(const KernelShapes& s) {
  if (s.split_k) return "split";
  return std::string(s.texel_x ? "x texels" : "x storage") +
         (s.texel_weights ? ", weights as texels" : ", weights from storage") +
         (s.interleave_weights ? ", interleaved" : ", row-major");
}

class ShapedKernelTest : public KernelTest, public ::testing::WithParamInterface<KernelShapes> {};

struct MatmulCase {
  int tokens, k, n;
  bool f16, bias, residual;
  Act act;
  int chunk_rows;
};

double activate(double x, Act act) {
  switch (act) {
    case Act::kGeluTanh:
      return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case Act::kGeluErf:
      return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case Act::kRelu:
      return x > 0 ? x : 0;
    case Act::kTanh:
      return std::tanh(x);
    case Act::kNone:
      return x;
  }
  return x;
}

class MatmulTest : public KernelTest, public ::testing::WithParamInterface<MatmulCase> {};

TEST_P(MatmulTest, MatchesCpuReference) {
  const auto c = GetParam();
  auto x = random_values(static_cast<std::size_t>(c.tokens * c.k), 1);
  auto w = random_values(static_cast<std::size_t>(c.n * c.k), 2, 0.2f);
  auto b = random_values(static_cast<std::size_t>(c.n), 3);
  auto r = random_values(static_cast<std::size_t>(c.tokens * c.n), 4);
  auto shapes_to_check = kAllShapes;
  shapes_to_check.push_back(kInterleavedStorageWeights);
  for (const auto& shapes : shapes_to_check) {
    SCOPED_TRACE(matmul_variant(shapes));
    Kernels kernels(gpu(), 64, shapes);
    auto xa = make_activation(c.tokens, c.k, x);
    auto wm = upload_matrix(gpu(), w, c.n, c.k, c.f16, c.chunk_rows, kernels.weight_layout());
    auto bb = floats(b);
    auto ya = make_activation(c.tokens, c.n, c.residual ? r : std::vector<float>{});
    gpu::CommandStream cs(gpu());
    cs.begin();
    kernels.matmul(cs, xa, wm, c.bias ? &bb : nullptr, c.residual ? &ya : nullptr, ya, c.tokens,
                   c.act);
    cs.submit_and_wait();
    auto y = read(ya);
    for (int t = 0; t < c.tokens; ++t) {
      for (int o = 0; o < c.n; ++o) {
        double acc = 0;
        for (int i = 0; i < c.k; ++i) {
          float wv = w[static_cast<std::size_t>(o * c.k + i)];
          acc += static_cast<double>(c.f16 ? round_f16(wv) : wv) *
                 x[static_cast<std::size_t>(t * c.k + i)];
        }
        if (c.bias) acc += b[static_cast<std::size_t>(o)];
        acc = activate(acc, c.act);
        if (c.residual) acc += r[static_cast<std::size_t>(t * c.n + o)];
        float got = y[static_cast<std::size_t>(t * c.n + o)];
        ASSERT_NEAR(got, acc, 1e-4 * (1 + std::abs(acc))) << "token " << t << " row " << o;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MatmulTest,
    ::testing::Values(MatmulCase{1, 16, 8, false, false, false, Act::kNone, 0},
                      MatmulCase{1, 80, 100, true, true, false, Act::kNone, 0},
                      MatmulCase{3, 131, 257, false, true, true, Act::kNone, 0},
                      MatmulCase{13, 96, 65, true, true, false, Act::kGeluTanh, 0},
                      MatmulCase{9, 64, 70, false, true, false, Act::kGeluErf, 0},
                      MatmulCase{17, 48, 33, true, false, true, Act::kRelu, 0},
                      MatmulCase{5, 40, 300, true, true, false, Act::kNone, 64},
                      MatmulCase{2, 200, 129, false, false, false, Act::kNone, 64}),
    [](const ::testing::TestParamInfo<MatmulCase>& i) {
      const auto& c = i.param;
      return "T" + std::to_string(c.tokens) + "_K" + std::to_string(c.k) + "_N" +
             std::to_string(c.n) + (c.f16 ? "_f16" : "_f32") + (c.bias ? "_bias" : "") +
             (c.residual ? "_res" : "") + "_act" + std::to_string(static_cast<int>(c.act)) +
             (c.chunk_rows ? "_chunked" : "");
    });

// The activations on their own: an identity weight makes y = act(x + b).
TEST_P(ShapedKernelTest, ActivationsMatchLibm) {
  const int n = 32;
  std::vector<float> eye(static_cast<std::size_t>(n * n), 0.0f);
  for (int i = 0; i < n; ++i) eye[static_cast<std::size_t>(i * n + i)] = 1.0f;
  std::vector<float> x(static_cast<std::size_t>(4 * n));
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = -12.0f + 24.0f * static_cast<float>(i) / static_cast<float>(x.size());
  Kernels kernels(gpu(), 64, GetParam());
  auto w = upload_matrix(gpu(), eye, n, n, false, 0, kernels.weight_layout());
  auto xa = make_activation(4, n, x);
  for (Act act : {Act::kGeluTanh, Act::kGeluErf, Act::kRelu, Act::kTanh}) {
    auto ya = make_activation(4, n);
    gpu::CommandStream cs(gpu());
    cs.begin();
    kernels.matmul(cs, xa, w, nullptr, nullptr, ya, 4, act);
    cs.submit_and_wait();
    auto y = read(ya);
    for (std::size_t i = 0; i < x.size(); ++i)
      ASSERT_NEAR(y[i], activate(x[i], act), 2e-6 * (1 + std::abs(x[i]))) << "x=" << x[i];
  }
}

TEST_P(ShapedKernelTest, MatmulIsBatchInvariant) {
  const int k = 96, n = 77, tokens = 11;
  auto x = random_values(static_cast<std::size_t>(tokens * k), 5);
  auto w = random_values(static_cast<std::size_t>(n * k), 6, 0.1f);
  Kernels kernels(gpu(), 64, GetParam());
  auto wm = upload_matrix(gpu(), w, n, k, true, 0, kernels.weight_layout());
  auto all_x = make_activation(tokens, k, x);
  auto all_y = make_activation(tokens, n);
  gpu::CommandStream cs(gpu());
  cs.begin();
  kernels.matmul(cs, all_x, wm, nullptr, nullptr, all_y, tokens, Act::kGeluTanh);
  cs.submit_and_wait();
  auto batched = read(all_y);
  for (int t = 0; t < tokens; ++t) {
    std::vector<float> one(x.begin() + t * k, x.begin() + (t + 1) * k);
    auto xa = make_activation(1, k, one);
    auto ya = make_activation(1, n);
    cs.begin();
    kernels.matmul(cs, xa, wm, nullptr, nullptr, ya, 1, Act::kGeluTanh);
    cs.submit_and_wait();
    auto alone = read(ya);
    ASSERT_EQ(0, std::memcmp(alone.data(), batched.data() + t * n, static_cast<std::size_t>(n) * 4))
        << "token " << t << " differs alone vs in a batch of " << tokens;
  }
}

TEST_P(ShapedKernelTest, LayerNormMatchesCpuReference) {
  for (int width : {7, 50, 768, 1600}) {
    const int rows = 3;
    auto x = random_values(static_cast<std::size_t>(rows * width), 7, 3.0f);
    for (auto& v : x) v += 5.0f;  // a large mean tests the two-pass variance
    auto w = random_values(static_cast<std::size_t>(width), 8);
    auto b = random_values(static_cast<std::size_t>(width), 9);
    Kernels kernels(gpu(), 64, GetParam());
    auto xa = make_activation(rows, width, x);
    auto ya = make_activation(rows, width);
    auto wb = floats(w), bb = floats(b);
    gpu::CommandStream cs(gpu());
    cs.begin();
    kernels.layer_norm(cs, xa, wb, bb, ya, rows, 1e-5f);
    cs.submit_and_wait();
    auto y = read(ya);
    for (int r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int c = 0; c < width; ++c) mean += x[static_cast<std::size_t>(r * width + c)];
      mean /= width;
      for (int c = 0; c < width; ++c) {
        double d = x[static_cast<std::size_t>(r * width + c)] - mean;
        var += d * d;
      }
      var /= width;
      for (int c = 0; c < width; ++c) {
        double want = (x[static_cast<std::size_t>(r * width + c)] - mean) / std::sqrt(var + 1e-5) *
                          w[static_cast<std::size_t>(c)] +
                      b[static_cast<std::size_t>(c)];
        ASSERT_NEAR(y[static_cast<std::size_t>(r * width + c)], want, 1e-4 * (1 + std::abs(want)))
            << "width " << width << " row " << r << " col " << c;
      }
    }
  }
}

TEST_P(ShapedKernelTest, EmbedMatchesCpuReferenceAcrossChunks) {
  const int vocab = 200, width = 40, positions = 20;
  auto tok = random_values(static_cast<std::size_t>(vocab * width), 10);
  auto pos = random_values(static_cast<std::size_t>(positions * width), 11);
  std::vector<std::int32_t> ids{0, 199, 64, 63, 128, 5, 130};
  std::vector<std::int32_t> meta;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    meta.push_back(static_cast<std::int32_t>(i % 2));
    meta.push_back(static_cast<std::int32_t>(3 * i % positions));
  }
  for (bool f16 : {false, true}) {
    Kernels kernels(gpu(), 64, GetParam());
    // Chunks of 64 rows, or of the layout's 128-row blocks: 4 or 2 chunks.
    auto tm = upload_matrix(gpu(), tok, vocab, width, f16, 64, kernels.weight_layout());
    auto pm = upload_matrix(gpu(), pos, positions, width, false);
    ASSERT_EQ(tm.chunks.size(), kernels.weight_layout().lanes > 0 ? 2u : 4u);
    auto ib = ints(ids), mb = ints(meta);
    auto xa = make_activation(static_cast<int>(ids.size()), width);
    gpu::CommandStream cs(gpu());
    cs.begin();
    kernels.embed(cs, tm, pm, ib, mb, xa, static_cast<int>(ids.size()));
    cs.submit_and_wait();
    auto x = read(xa);
    for (std::size_t t = 0; t < ids.size(); ++t)
      for (int e = 0; e < width; ++e) {
        float tv = tok[static_cast<std::size_t>(ids[t] * width + e)];
        float want =
            (f16 ? round_f16(tv) : tv) + pos[static_cast<std::size_t>(meta[2 * t + 1] * width + e)];
        ASSERT_FLOAT_EQ(x[t * width + static_cast<std::size_t>(e)], want) << "token " << t;
      }
  }
}

TEST_P(ShapedKernelTest, GatherRowsPicksRows) {
  const int rows = 9, width = 33;
  auto x = random_values(static_cast<std::size_t>(rows * width), 12);
  std::vector<std::int32_t> pick{8, 0, 3};
  Kernels kernels(gpu(), 64, GetParam());
  auto xa = make_activation(rows, width, x);
  auto ya = make_activation(3, width);
  auto pb = ints(pick);
  gpu::CommandStream cs(gpu());
  cs.begin();
  kernels.gather_rows(cs, xa, pb, ya, 3);
  cs.submit_and_wait();
  auto y = read(ya);
  for (int i = 0; i < 3; ++i)
    for (int e = 0; e < width; ++e)
      ASSERT_EQ(y[static_cast<std::size_t>(i * width + e)],
                x[static_cast<std::size_t>(pick[static_cast<std::size_t>(i)] * width + e)]);
}

// Attention appends each token's key and value to the KV cache, then attends over its
// sequence's positions 0..n-1: n = position + 1 (causal) or, for an encoder, the sequence's
// length. Sequences sit one after another in the batch, which is split into passes as the
// model splits it; keys of a token's own pass are read from qkv, earlier ones from the cache.
struct AttentionSeq {
  int slot;
  int cached;  // positions 0..cached-1 are already in the cache
  int fresh;   // new tokens, at positions cached..cached+fresh-1
};

struct AttentionCase {
  int heads, hd, context;
  std::vector<AttentionSeq> seqs;
  bool whole = false;  // encoder: every token sees its whole sequence
};

struct AttentionResult {
  std::vector<float> out;   // [tokens, width]
  std::vector<float> k, v;  // the caches after the last pass
};

struct AttentionTok {
  int slot, pos, span;
};

std::vector<AttentionTok> attention_tokens(const AttentionCase& c) {
  std::vector<AttentionTok> toks;
  for (const auto& s : c.seqs)
    for (int p = s.cached; p < s.cached + s.fresh; ++p)
      toks.push_back({s.slot, p, c.whole ? s.cached + s.fresh : p + 1});
  return toks;
}

std::size_t cache_floats(const AttentionCase& c) {
  const int slots = 1 + std::max_element(c.seqs.begin(), c.seqs.end(), [](auto& a, auto& b) {
                          return a.slot < b.slot;
                        })->slot;
  return static_cast<std::size_t>(slots * c.context * c.heads * c.hd);
}

// The input: every token's q|k|v row and the cache's earlier positions.
struct AttentionInput {
  std::vector<float> qkv, k, v;
};

AttentionInput attention_input(const AttentionCase& c) {
  const int width = c.heads * c.hd;
  const auto toks = attention_tokens(c);
  // A token's q|k|v row depends only on its slot and position, wherever it sits in the pass.
  AttentionInput in{
      {}, std::vector<float>(cache_floats(c), 0.0f), std::vector<float>(cache_floats(c), 0.0f)};
  for (const auto& t : toks) {
    const auto row = random_values(3 * static_cast<std::size_t>(width),
                                   static_cast<std::uint32_t>(13 + 4099 * t.slot + t.pos));
    in.qkv.insert(in.qkv.end(), row.begin(), row.end());
  }
  auto old_k = random_values(in.k.size(), 14), old_v = random_values(in.v.size(), 15);
  for (const auto& s : c.seqs)
    for (int p = 0; p < s.cached; ++p)
      for (int e = 0; e < width; ++e) {
        std::size_t i = static_cast<std::size_t>((s.slot * c.context + p) * width + e);
        in.k[i] = old_k[i];
        in.v[i] = old_v[i];
      }
  return in;
}

AttentionResult run_attention(KernelTest& test, const KernelShapes& shapes, const AttentionCase& c,
                              int pass_tokens) {
  const int width = c.heads * c.hd;
  const auto toks = attention_tokens(c);
  const auto in = attention_input(c);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.hd));
  Kernels kernels(test.gpu(), c.context, shapes);
  auto kb = test.floats(in.k), vb = test.floats(in.v);
  gpu::CommandStream cs(test.gpu());
  AttentionResult r;
  for (std::size_t begin = 0; begin < toks.size(); begin += static_cast<std::size_t>(pass_tokens)) {
    const std::size_t n = std::min(toks.size() - begin, static_cast<std::size_t>(pass_tokens));
    std::vector<std::int32_t> meta, spans;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& t = toks[begin + i];
      const bool continues = i > 0 && toks[begin + i - 1].slot == t.slot;
      meta.insert(meta.end(), {t.slot, t.pos});
      spans.insert(spans.end(), {t.span, continues ? spans[2 * i - 1] : t.pos});
    }
    const auto row = static_cast<std::ptrdiff_t>(begin) * 3 * width;
    auto qa = test.make_activation(
        static_cast<int>(n), 3 * width,
        std::vector<float>(in.qkv.begin() + row,
                           in.qkv.begin() + row + static_cast<std::ptrdiff_t>(n) * 3 * width));
    auto mb = test.ints(meta), sb = test.ints(spans);
    auto oa = test.make_activation(static_cast<int>(n), width);
    cs.begin();
    kernels.attention(cs, qa, mb, sb, kb, vb, oa, static_cast<int>(n), c.heads, c.hd, c.context,
                      scale, TokenRuns::of(meta, spans));
    cs.submit_and_wait();
    auto out = test.read(oa);
    r.out.insert(r.out.end(), out.begin(), out.end());
  }
  r.k.resize(in.k.size());
  r.v.resize(in.v.size());
  kb.read(0, std::as_writable_bytes(std::span(r.k)));
  vb.read(0, std::as_writable_bytes(std::span(r.v)));
  return r;
}

// CPU: append every token, then attend.
void check_attention(KernelTest& test, const KernelShapes& shapes, const AttentionCase& c,
                     int pass_tokens) {
  const int width = c.heads * c.hd;
  const auto toks = attention_tokens(c);
  auto in = attention_input(c);
  const auto got = run_attention(test, shapes, c, pass_tokens);
  const float scale = 1.0f / std::sqrt(static_cast<float>(c.hd));
  for (std::size_t t = 0; t < toks.size(); ++t)
    for (int e = 0; e < width; ++e) {
      std::size_t dst =
          static_cast<std::size_t>((toks[t].slot * c.context + toks[t].pos) * width + e);
      in.k[dst] =
          in.qkv[t * 3 * static_cast<std::size_t>(width) + static_cast<std::size_t>(width + e)];
      in.v[dst] =
          in.qkv[t * 3 * static_cast<std::size_t>(width) + static_cast<std::size_t>(2 * width + e)];
    }
  ASSERT_EQ(got.k, in.k);
  ASSERT_EQ(got.v, in.v);
  for (std::size_t t = 0; t < toks.size(); ++t) {
    const auto& tk = toks[t];
    for (int h = 0; h < c.heads; ++h) {
      std::vector<double> s(static_cast<std::size_t>(tk.span));
      double mx = -1e300;
      for (int j = 0; j < tk.span; ++j) {
        double d = 0;
        for (int i = 0; i < c.hd; ++i)
          d += static_cast<double>(in.qkv[t * 3 * static_cast<std::size_t>(width) +
                                          static_cast<std::size_t>(h * c.hd + i)]) *
               in.k[static_cast<std::size_t>((tk.slot * c.context + j) * width + h * c.hd + i)];
        s[static_cast<std::size_t>(j)] = d * scale;
        mx = std::max(mx, d * scale);
      }
      double total = 0;
      for (auto& v : s) total += (v = std::exp(v - mx));
      for (int i = 0; i < c.hd; ++i) {
        double acc = 0;
        for (int j = 0; j < tk.span; ++j)
          acc += s[static_cast<std::size_t>(j)] *
                 in.v[static_cast<std::size_t>((tk.slot * c.context + j) * width + h * c.hd + i)];
        ASSERT_NEAR(
            got.out[t * static_cast<std::size_t>(width) + static_cast<std::size_t>(h * c.hd + i)],
            acc / total, 2e-5)
            << "token " << t << " head " << h << " dim " << i;
      }
    }
  }
}

// Two sequences in one pass, the second continuing after 60 positions already cached.
const AttentionCase kTwoSequences{3, 24, 70, {{0, 0, 5}, {1, 60, 7}}};

TEST_P(ShapedKernelTest, CausalAttentionMatchesCpuReference) {
  check_attention(*this, GetParam(), kTwoSequences, 128);
}

// An encoder's tokens, all in one pass, each see the whole sequence: positions after their
// own too, and the earlier ones in the cache.
TEST_P(ShapedKernelTest, WholeSequenceAttentionMatchesCpuReference) {
  auto c = kTwoSequences;
  c.whole = true;
  check_attention(*this, GetParam(), c, 128);
}

// Prompts of odd lengths at a prime head size, split into passes of 128 tokens as the model
// splits them (129: a pass of 128 then one token that reads them all from the cache).
TEST_P(ShapedKernelTest, PromptAttentionAcrossPassesMatchesCpuReference) {
  for (int length : {1, 127, 129, 700}) {
    SCOPED_TRACE("prompt of " + std::to_string(length));
    check_attention(*this, GetParam(), {3, 13, 701, {{0, 0, length}}}, 128);
  }
}

// Decode steps: one new token per sequence, after cached prefixes of different lengths.
TEST_P(ShapedKernelTest, DecodeBatchAttentionMatchesCpuReference) {
  for (int batch : {1, 3, 8, 17}) {
    SCOPED_TRACE("batch of " + std::to_string(batch));
    AttentionCase c{3, 13, 131, {}};
    for (int s = 0; s < batch; ++s) c.seqs.push_back({s, (s * 37) % 130, 1});
    check_attention(*this, GetParam(), c, 128);
  }
}

// Keys read from the pass's own qkv rows and keys read back from the cache are the same
// floats: a token's output does not depend on how its sequence was split into passes. The
// CPU shape attends a sequence's run of tokens in tiles that share their key loads, and a
// token alone in its sequence's part of the pass in a workgroup of its own; a pass holding
// both dispatches both. Runs cut by a tile's end, two sequences in one tile, tokens after a
// cached prefix, head sizes with vec4 and scalar loads: every token's output is the same bits
// whether its sequence came as one run or token by token.
TEST_P(ShapedKernelTest, AttentionIsBitwiseTheSameWhateverThePasses) {
  for (int hd : {16, 13}) {
    SCOPED_TRACE("head_dim " + std::to_string(hd));
    const AttentionCase c{3, hd, 200, {{0, 0, 131}, {2, 40, 9}, {1, 7, 1}, {3, 0, 3}, {4, 9, 1}}};
    const auto whole = run_attention(*this, GetParam(), c, 160);
    for (int pass : {1, 5, 7}) {
      const auto split = run_attention(*this, GetParam(), c, pass);
      ASSERT_EQ(whole.out.size(), split.out.size());
      ASSERT_EQ(0, std::memcmp(whole.out.data(), split.out.data(), whole.out.size() * 4))
          << "passes of " << pass << " tokens";
      ASSERT_EQ(whole.k, split.k);
      ASSERT_EQ(whole.v, split.v);
    }
  }
}

// An encoder's tokens all come in one pass; where the tiles cut its sequence (after 0 or 3
// tokens of another) changes none of its outputs' bits.
TEST_P(ShapedKernelTest, WholeSequenceAttentionIsBitwiseTheSameWhereverItsTilesStart) {
  AttentionCase alone{3, 16, 64, {{0, 0, 11}}};
  alone.whole = true;
  AttentionCase after = alone;
  after.seqs.insert(after.seqs.begin(), AttentionSeq{1, 0, 3});
  const auto a = run_attention(*this, GetParam(), alone, 64);
  const auto b = run_attention(*this, GetParam(), after, 64);
  const std::size_t width = 3 * 16;
  ASSERT_EQ(a.out.size(), 11 * width);
  ASSERT_EQ(b.out.size(), 14 * width);
  ASSERT_EQ(0, std::memcmp(a.out.data(), b.out.data() + 3 * width, a.out.size() * 4));
}

INSTANTIATE_TEST_SUITE_P(Shapes, ShapedKernelTest, ::testing::ValuesIn(kAllShapes), shape_name);

}  // namespace
}  // namespace sg::engine
