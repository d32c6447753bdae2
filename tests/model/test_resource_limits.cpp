// Issue 19's resource limits: a file that claims an enormous model is refused before
// stagegate sizes anything from the claim. Memory is read as the growth of the process's
// peak resident set across the refusal (each test runs in its own process under ctest); the
// time bound is a generous sanity check of a refusal path, not a benchmark.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <string>

#include "checkpoint_builder.hpp"
#include "expect_refused.hpp"

namespace sg::model {
namespace {

using testing::CheckpointBuilder;
using testing::expect_refused;

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Opens `dir` expecting a refusal holding `fragments`, within 1 s and 50 MB of new peak memory.
void expect_cheap_refusal(const std::filesystem::path& dir,
                          const std::vector<std::string>& fragments) {
  const long rss_before = peak_rss_kib();
  const auto start = std::chrono::steady_clock::now();
  expect_refused(dir, fragments);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed.count(), 1.0);
  EXPECT_LT(peak_rss_kib() - rss_before, 50 * 1024);
}

TEST(ResourceLimits, HugeConfigClaimIsRefusedCheaply) {
  CheckpointBuilder b;
  auto& c = b.config();
  // 1.6e12 parameters, every size within its own limit: only their product gives it away.
  c["n_layer"] = 512;
  c["n_embd"] = 16384;
  c["n_head"] = 128;
  c["n_positions"] = 65536;
  c["vocab_size"] = 1 << 20;
  // Padding as Hugging Face's many unused keys, to about 100 KB.
  for (int i = 0; i < 2000; ++i) c["unused_" + std::to_string(i)] = std::string(40, 'x');
  const auto dir = b.write();
  ASSERT_GT(std::filesystem::file_size(dir / "config.json"), 100'000u);
  expect_cheap_refusal(dir, {"config.json", "'n_layer'", "parameters", "limit"});
}

TEST(ResourceLimits, HugeTensorInAHeaderIsRefusedCheaply) {
  CheckpointBuilder b;
  b.write();
  // 2^28 x 2^30 F32 = 2^60 bytes.
  CheckpointBuilder::write_raw(b.weights(), R"({"wte.weight": {"dtype": "F32",
      "shape": [268435456, 1073741824], "data_offsets": [0, 1152921504606846976]}})",
                               std::vector<std::uint8_t>(64));
  expect_cheap_refusal(b.dir(), {"model.safetensors", "wte.weight", "2^40 elements"});
  // The same bytes as a shape within the element limit: refused by the file's size.
  CheckpointBuilder::write_raw(b.weights(), R"({"wte.weight": {"dtype": "F32",
      "shape": [1048576, 1048576], "data_offsets": [0, 4398046511104]}})",
                               std::vector<std::uint8_t>(64));
  expect_cheap_refusal(b.dir(), {"model.safetensors", "wte.weight", "past the 64 bytes of data"});
}

}  // namespace
}  // namespace sg::model
