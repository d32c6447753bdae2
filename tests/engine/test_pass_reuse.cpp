// Reuse of descriptor sets and recorded passes: a pass replayed from a saved recording gives
// exactly the logits of a pass recorded afresh, whatever shapes came before it and whichever
// model shares the process; the caches are hit and stay within their bounds.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>

#include "common/errors.hpp"
#include "engine/gpu_fixture.hpp"
#include "engine/kernels.hpp"
#include "engine/model.hpp"
#include "model/checkpoint.hpp"

namespace sg::engine {
namespace {

namespace fs = std::filesystem;

// Every descriptor set and recording dropped at each pass: each pass is recorded afresh,
// as before reuse existed.
constexpr gpu::StreamLimits kNoReuse{.recordings = 1, .descriptor_sets = 1};

class PassReuseTest : public testing::GpuTest {
 protected:
  static model::Checkpoint open(const std::string& name) {
    return model::Checkpoint::open(fs::path(STAGEGATE_FIXTURES) / "models" / name);
  }
  std::unique_ptr<Model> make(const model::Checkpoint& ckpt, gpu::StreamLimits limits,
                              int step_tokens = 16) {
    EngineOptions o;
    o.max_sequences = 4;
    o.max_step_tokens = step_tokens;
    o.stream_limits = limits;
    return std::make_unique<Model>(gpu(), ckpt, o);
  }
};

using Logits = std::vector<std::vector<float>>;

// Runs one forward call; the logits rows in the order the sink gets them.
Logits step(Model& m, const std::vector<SequenceChunk>& chunks) {
  Logits rows;
  m.forward(chunks, [&](std::size_t, int, std::span<const float> l, const engine::LogitSummary*) {
    rows.emplace_back(l.begin(), l.end());
  });
  return rows;
}

// A generation-like script of passes of changing shapes: prefills of different lengths
// (several passes of up to 16 tokens), decode steps at batch 1, 2, 3 and 4, a prefill sharing
// a pass with decode steps, scoring with every row's logits; then the same shapes again, now
// found in the caches.
std::vector<Logits> run_script(Model& m) {
  const int vocab = m.config().vocab_size;
  std::vector<std::vector<std::int32_t>> prompts(4);
  for (int s = 0; s < 4; ++s)
    for (int i = 0; i < 3 + 11 * s; ++i)
      prompts[static_cast<std::size_t>(s)].push_back((s * 97 + i * 31 + 5) % vocab);
  auto seqs = prompts;
  std::vector<Logits> out;
  for (int round = 0; round < 2; ++round) {
    auto chunk = [&](int s, int from, bool all) {
      const auto& q = seqs[static_cast<std::size_t>(s)];
      return SequenceChunk{s, from,
                           std::span(q).subspan(static_cast<std::size_t>(from),
                                                q.size() - static_cast<std::size_t>(from)),
                           all, std::nullopt};
    };
    out.push_back(step(m, {chunk(1, 0, false)}));                     // 14 tokens
    out.push_back(step(m, {chunk(0, 0, false), chunk(3, 0, true)}));  // 3 + 36 tokens
    for (int k = 0; k < 3; ++k) {
      for (int s : {0, 1, 3}) seqs[static_cast<std::size_t>(s)].push_back((k * 7 + s) % vocab);
      std::vector<SequenceChunk> decode;
      for (int s : {0, 1, 3})
        decode.push_back(
            chunk(s, static_cast<int>(seqs[static_cast<std::size_t>(s)].size()) - 1, false));
      if (k == 1) decode.push_back(chunk(2, 0, false));  // a prompt joins the decode steps
      if (k == 2) decode.resize(2);
      out.push_back(step(m, decode));
    }
    out.push_back(step(m, {chunk(0, 0, true)}));  // rescoring slot 0 from the start
    seqs = prompts;
  }
  return out;
}

void expect_same(const std::vector<Logits>& got, const std::vector<Logits>& want,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  std::size_t rows = 0;
  for (std::size_t s = 0; s < got.size(); ++s) {
    ASSERT_EQ(got[s].size(), want[s].size()) << what << " step " << s;
    for (std::size_t r = 0; r < got[s].size(); ++r) {
      ASSERT_EQ(got[s][r].size(), want[s][r].size());
      ASSERT_EQ(0, std::memcmp(got[s][r].data(), want[s][r].data(), got[s][r].size() * 4))
          << what << ": step " << s << " row " << r << " differs from a fresh recording";
      ++rows;
    }
  }
  EXPECT_GT(rows, 40u) << what << ": the script compared too few rows";
}

// Two models in one process, their passes interleaved: each replays its own recordings and
// matches, bit for bit, the same model recording every pass afresh.
TEST_F(PassReuseTest, ReplayedPassesEqualFreshOnesAcrossShapesAndModels) {
  const auto gpt2 = open("gpt2-f16");
  const auto gpt1 = open("openai-gpt-f32");
  auto a = make(gpt2, {}), b = make(gpt1, {});
  auto a_fresh = make(gpt2, kNoReuse), b_fresh = make(gpt1, kNoReuse);
  // a's script, then b's, then a's again: a finds its recordings after b ran.
  const auto got_a = run_script(*a);
  const auto got_b = run_script(*b);
  const auto a_stats = a->stream_stats();
  auto again_a = run_script(*a);  // a third and fourth round, after b's passes
  expect_same(got_a, run_script(*a_fresh), "gpt2 with reuse");
  expect_same(got_b, run_script(*b_fresh), "openai-gpt with reuse");
  expect_same(again_a, got_a, "gpt2 after the other model ran");

  EXPECT_GT(a_stats.replays, 0u) << "the second round never replayed a recording";
  EXPECT_GT(a_stats.set_reuses, 0u);
  EXPECT_EQ(a->stream_stats().recordings_made, a_stats.recordings_made)
      << "repeating the script recorded new passes";
  EXPECT_EQ(a->stream_stats().sets_written, a_stats.sets_written)
      << "repeating the script wrote new descriptor sets";
  EXPECT_EQ(a_fresh->stream_stats().replays, 0u);
  EXPECT_GT(a_fresh->stream_stats().flushes, 0u);
}

// A decode step at a batch size seen before is a replay: nothing recorded, no set written.
TEST_F(PassReuseTest, RepeatedDecodeShapeReplaysItsRecording) {
  const auto gpt2 = open("gpt2-f32");
  auto m = make(gpt2, {});
  std::vector<std::int32_t> ids{5, 9, 2, 7, 1, 3};
  std::vector<SequenceChunk> prompt{{0, 0, std::span(ids).first(3), false, std::nullopt},
                                    {1, 0, std::span(ids).first(3), false, std::nullopt}};
  step(*m, prompt);
  auto decode = [&](int pos) {
    const auto token = std::span(ids).subspan(static_cast<std::size_t>(pos), 1);
    return std::vector<SequenceChunk>{{0, pos, token, false, std::nullopt},
                                      {1, pos, token, false, std::nullopt}};
  };
  step(*m, decode(3));
  const auto before = m->stream_stats();
  const auto logits = step(*m, decode(4));
  const auto after = m->stream_stats();
  EXPECT_EQ(after.replays, before.replays + 1);
  EXPECT_EQ(after.recordings_made, before.recordings_made);
  EXPECT_EQ(after.sets_written, before.sets_written);
  ASSERT_EQ(logits.size(), 2u);
  EXPECT_EQ(logits[0], logits[1]) << "two identical sequences gave different logits";
}

// Attention reads a sequence's new tokens as one run of a pass: two chunks of one slot in a
// batch are a caller's error, refused before anything runs.
TEST_F(PassReuseTest, TwoChunksOfOneSlotAreRefused) {
  const auto gpt2 = open("gpt2-f32");
  auto m = make(gpt2, {});
  std::vector<std::int32_t> ids{5, 9, 2};
  std::vector<SequenceChunk> chunks{{1, 0, std::span(ids).first(2), false, std::nullopt},
                                    {1, 2, std::span(ids).subspan(2), false, std::nullopt}};
  EXPECT_THROW(step(*m, chunks), RuntimeError);
  EXPECT_EQ(m->stream_stats().recordings_made, 0u) << "a pass ran before the refusal";
}

// The caches stay within their bounds however many shapes and buffers pass through, and a
// cached set never outlives its buffer: a new buffer (whose handle may be the freed one's)
// gets a set of its own.
TEST_F(PassReuseTest, CachesStayBoundedAndFollowNewBuffers) {
  Kernels kernels(gpu(), 64);
  const gpu::StreamLimits limits{.recordings = 2, .descriptor_sets = 4};
  gpu::CommandStream cs(gpu(), limits);
  const int width = 16;
  auto ints = [&](std::vector<std::int32_t> v) {
    gpu::Buffer b(gpu(), v.size() * 4, gpu::Memory::kHostUpload);
    b.write(0, std::as_bytes(std::span(v)));
    return b;
  };
  auto gather_first = [&](float value, const gpu::RecordingKey* key) {
    std::vector<float> x(2 * width, value);
    Activation xa{gpu::Buffer(gpu(), x.size() * 4, gpu::Memory::kHostUpload), 2, width, width};
    xa.buffer.write(0, std::as_bytes(std::span(x)));
    Activation ya{gpu::Buffer(gpu(), width * 4, gpu::Memory::kHostReadback), 1, width, width};
    auto rows = ints({1});
    if (!key || !cs.begin_reusable(*key)) {
      if (!key) cs.begin();
      kernels.gather_rows(cs, xa, rows, ya, 1);
    }
    cs.submit_and_wait();
    std::vector<float> y(width);
    ya.buffer.read(0, std::as_writable_bytes(std::span(y)));
    return y;
  };
  for (int i = 0; i < 12; ++i) {
    const auto y = gather_first(static_cast<float>(i), nullptr);
    ASSERT_EQ(y, std::vector<float>(width, static_cast<float>(i)))
        << "pass " << i << " read a buffer freed before it";
    EXPECT_LE(cs.stats().sets_held, limits.descriptor_sets);
  }
  EXPECT_GT(cs.stats().flushes, 0u);
  EXPECT_EQ(cs.stats().sets_written, 12u);

  for (std::uint32_t k = 0; k < 5; ++k) {
    // Distinct buffers per key: a replay would read freed buffers, so record each afresh.
    const gpu::RecordingKey key{k};
    gather_first(1.0f, &key);
    EXPECT_LE(cs.stats().recordings_held, limits.recordings);
  }
  EXPECT_EQ(cs.stats().recordings_made, 5u);
  EXPECT_EQ(cs.stats().replays, 0u);
}

// A replay reads the buffers' current contents: only the inputs changed between passes.
TEST_F(PassReuseTest, ReplayReadsCurrentInputs) {
  Kernels kernels(gpu(), 64);
  gpu::CommandStream cs(gpu());
  const int width = 16;
  Activation xa{gpu::Buffer(gpu(), 3 * width * 4, gpu::Memory::kHostUpload), 3, width, width};
  Activation ya{gpu::Buffer(gpu(), width * 4, gpu::Memory::kHostReadback), 1, width, width};
  gpu::Buffer rows(gpu(), 4, gpu::Memory::kHostUpload);
  std::vector<float> x(3 * width);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i);
  xa.buffer.write(0, std::as_bytes(std::span(x)));
  const gpu::RecordingKey key{7};
  for (std::int32_t row : {2, 0, 1}) {
    rows.write(0, std::as_bytes(std::span(&row, 1)));
    const bool replay = cs.begin_reusable(key);
    EXPECT_EQ(replay, row != 2) << "only the first pass records";
    if (!replay) kernels.gather_rows(cs, xa, rows, ya, 1);
    cs.submit_and_wait();
    std::vector<float> y(width);
    ya.buffer.read(0, std::as_writable_bytes(std::span(y)));
    for (int e = 0; e < width; ++e)
      ASSERT_EQ(y[static_cast<std::size_t>(e)], x[static_cast<std::size_t>(row * width + e)])
          << "row " << row;
  }
  EXPECT_EQ(cs.stats().replays, 2u);
}

}  // namespace
}  // namespace sg::engine

namespace sg::engine {
namespace {

// Passes hold up to max_step_tokens tokens, of which at most max_logit_rows want logits: a
// 250-token prompt is one pass of 512 (two of 128), scoring its every row is two passes of
// 128 rows, and the logits are bit for bit the same however the tokens were split.
TEST_F(PassReuseTest, PassesSplitAtTheirTokenAndRowLimitsWithTheSameLogits) {
  const auto demo =
      model::Checkpoint::open(fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo" / "stage1");
  std::vector<std::int32_t> ids;
  for (int i = 0; i < 250; ++i) ids.push_back((i * 131 + 7) % demo.config().vocab_size);
  auto run = [&](int step_tokens, int logit_rows, bool all_logits) {
    EngineOptions o;
    o.max_step_tokens = step_tokens;
    o.max_logit_rows = logit_rows;
    Model m(gpu(), demo, o);
    const auto logits = step(m, {{0, 0, ids, all_logits, std::nullopt}});
    const auto stats = m.stream_stats();
    return std::pair(logits, stats.recordings_made + stats.replays);
  };
  const auto [one, one_passes] = run(512, 128, false);
  const auto [two, two_passes] = run(128, 128, false);
  EXPECT_EQ(one_passes, 1u);
  EXPECT_EQ(two_passes, 2u);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one, two);

  const auto [rows_split, split_passes] = run(512, 128, true);
  const auto [rows_whole, whole_passes] = run(512, 256, true);
  EXPECT_EQ(split_passes, 2u);
  EXPECT_EQ(whole_passes, 1u);
  ASSERT_EQ(rows_split.size(), ids.size());
  EXPECT_EQ(rows_split, rows_whole);
  EXPECT_EQ(rows_split.back(), one.front());
}

}  // namespace
}  // namespace sg::engine
