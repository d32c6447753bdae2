// How many KV-cache slots fit: the arithmetic on made-up budgets, then a real device, where
// a Model with the answer must load.
#include <gtest/gtest.h>

#include <filesystem>

#include "engine/gpu_fixture.hpp"
#include "engine/model.hpp"
#include "model/checkpoint.hpp"

namespace sg::engine {
namespace {

SlotBudget budget() {
  SlotBudget b;
  b.available = 1000;
  b.usable_fraction = 0.8;  // 800 usable
  b.fixed = 200;            // 600 left for the cache
  b.kv_per_slot = 100;      // 6 slots by memory
  b.kv_layer_per_slot = 10;
  b.max_buffer = 1000;  // 100 slots by buffer range
  b.max_slots = 64;
  return b;
}

TEST(SlotsWithin, MemoryBounds) {
  EXPECT_EQ(slots_within(budget()), 6);
  auto b = budget();
  b.fixed = 201;  // 599 left: 5 whole slots
  EXPECT_EQ(slots_within(b), 5);
  b.usable_fraction = 1.0;  // 799 left
  EXPECT_EQ(slots_within(b), 7);
}

TEST(SlotsWithin, CapBounds) {
  auto b = budget();
  b.max_slots = 4;
  EXPECT_EQ(slots_within(b), 4);
  b.max_slots = 0;
  EXPECT_EQ(slots_within(b), 0);
}

TEST(SlotsWithin, BufferRangeBounds) {
  auto b = budget();
  b.max_buffer = 35;  // 3 slots of 10 bytes per layer
  EXPECT_EQ(slots_within(b), 3);
  b.max_buffer = 9;
  EXPECT_EQ(slots_within(b), 0);
}

TEST(SlotsWithin, NothingFits) {
  auto b = budget();
  b.fixed = 801;  // the weights alone exceed the usable memory
  EXPECT_EQ(slots_within(b), 0);
  b.fixed = 750;  // weights fit, not one slot
  EXPECT_EQ(slots_within(b), 0);
}

TEST(SlotsWithin, LargeNumbersDoNotOverflow) {
  SlotBudget b;
  b.available = 80ull << 30;  // an 80 GiB GPU
  b.usable_fraction = 0.9;
  b.fixed = 3ull << 30;
  b.kv_per_slot = 48ull * 2 * 1024 * 1600 * 4;  // GPT-2 1.5B, context 1024
  b.kv_layer_per_slot = 1024ull * 1600 * 4;
  b.max_buffer = 4ull << 30;
  b.max_slots = 1 << 20;
  const auto usable = static_cast<std::uint64_t>(static_cast<double>(b.available) * 0.9);
  EXPECT_EQ(slots_within(b), static_cast<int>((usable - b.fixed) / b.kv_per_slot));
}

class SlotsThatFitTest : public testing::GpuTest {};

TEST_F(SlotsThatFitTest, ModelWithTheAnswerLoads) {
  auto ckpt =
      model::Checkpoint::open(std::filesystem::path(STAGEGATE_FIXTURES) / "models" / "gpt2-f32");
  EngineOptions o;
  o.dtype = WeightType::kF32;
  o.max_sequences = 5;
  // A tiny model on any device: the cap decides.
  EXPECT_EQ(Model::slots_that_fit(gpu(), ckpt, o), 5);
  // The per-layer KV buffer (context x n_embd floats per slot) bounds it next.
  const std::uint64_t per_slot = 64ull * 64 * 4;
  o.max_sequences = 1 << 30;
  const int n = Model::slots_that_fit(gpu(), ckpt, o);
  EXPECT_GE(n, 1);
  EXPECT_LE(static_cast<std::uint64_t>(n) * per_slot, gpu().max_storage_buffer_range());
  // Nothing fits in no memory.
  o.max_sequences = 4;
  EXPECT_EQ(Model::slots_that_fit(gpu(), ckpt, o, 0.0), 0);
  o.max_sequences = 3;
  Model m(gpu(), ckpt, o);
  EXPECT_EQ(m.max_sequences(), 3);
}

}  // namespace
}  // namespace sg::engine
