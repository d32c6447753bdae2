// Kernel-only ceiling of the engine's matmuls: one GPT-2 124M layer's four F16 projections
// (768->2304, 768->768, 768->3072, 3072->768; --width W for another n_embd) for T tokens, recorded
// in one command buffer without the rest of the pass, best of N submissions. The ratio against a
// full pass shows what the other dispatches and the barriers cost. Every layer has its own
// weights, so a pass streams them from memory as the model's does (lavapipe's texel fetches are
// fast from the caches and slow from memory). --projections 3 times only the fourth.
// --ceiling (CPU devices) also times the kernel with x, the weights, or both taken from
// registers instead of memory (KernelShapes::matmul_ceiling): what each load path costs, and the
// arithmetic's own ceiling.
//   bench_matmul [--tokens 1,8,128] [--reps 5] [--layers 12] [--width 768] [--projections 0,1,2,3]
//                [--ceiling]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/kernels.hpp"
#include "engine/weights.hpp"

namespace {

using namespace sg;

struct Projection {
  int k, n;
  engine::Act act;
};

engine::Activation activation(gpu::Context& context, int rows, int cols, std::mt19937& gen) {
  const int stride = engine::round_up(cols, engine::kColumnAlign);
  std::vector<float> v(static_cast<std::size_t>(rows) * static_cast<std::size_t>(stride), 0.0f);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (auto& x : v) x = dist(gen);
  engine::Activation a{gpu::Buffer(context, v.size() * 4, gpu::Memory::kDevice), rows, cols,
                       stride};
  a.buffer.write(0, std::as_bytes(std::span(v)));
  return a;
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> token_counts{1, 8, 128};
  std::vector<int> chosen{0, 1, 2, 3};
  int reps = 5, layers = 12, width = 768;
  bool ceiling = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--ceiling")
      ceiling = true;
    else if (a == "--tokens" && has_value)
      token_counts = parse_list(argv[++i]);
    else if (a == "--reps" && has_value)
      reps = std::stoi(argv[++i]);
    else if (a == "--layers" && has_value)
      layers = std::stoi(argv[++i]);
    else if (a == "--width" && has_value)
      width = std::stoi(argv[++i]);
    else if (a == "--projections" && has_value)
      chosen = parse_list(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: bench_matmul [--tokens 1,8,128] [--reps 5] [--layers 12] [--width 768] "
                   "[--projections 0,1,2,3] [--ceiling]\n");
      return 2;
    }
  }
  for (int p : chosen)
    if (p < 0 || p > 3) {
      std::fprintf(stderr, "bench_matmul: --projections takes indices 0-3, got %d\n", p);
      return 2;
    }
  gpu::Context context(gpu::ContextOptions{gpu::device_index_from(std::nullopt), false});
  if (ceiling && !context.is_cpu()) {
    std::fprintf(stderr, "bench_matmul: --ceiling probes the CPU shape; %s is not a CPU device\n",
                 context.info().name.c_str());
    return 2;
  }
  using Ceiling = engine::KernelShapes::Ceiling;
  std::vector<std::pair<const char*, Ceiling>> variants{{"kernel", Ceiling::kNone}};
  if (ceiling)
    variants.insert(variants.end(), {{"free x", Ceiling::kFreeX},
                                     {"free w", Ceiling::kFreeW},
                                     {"no loads", Ceiling::kFreeLoads}});
  std::mt19937 gen(1);
  const std::vector<Projection> projections{{width, 3 * width, engine::Act::kNone},
                                            {width, width, engine::Act::kNone},
                                            {width, 4 * width, engine::Act::kGeluTanh},
                                            {4 * width, width, engine::Act::kNone}};
  const auto layout = engine::Kernels(context, 1024).weight_layout();
  std::vector<engine::Matrix> weights;  // [layer * 4 + projection]
  std::vector<gpu::Buffer> biases;
  std::normal_distribution<float> dist(0.0f, 0.02f);
  for (int l = 0; l < layers; ++l)
    for (const auto& p : projections) {
      std::vector<float> w(static_cast<std::size_t>(p.k) * static_cast<std::size_t>(p.n));
      for (auto& x : w) x = dist(gen);
      weights.push_back(engine::upload_matrix(context, w, p.n, p.k, true, 0, layout));
      biases.emplace_back(context, static_cast<std::size_t>(p.n) * 4, gpu::Memory::kDevice);
    }
  double flops_per_token = 0;
  for (int p : chosen)
    flops_per_token += 2.0 * projections[static_cast<std::size_t>(p)].k *
                       projections[static_cast<std::size_t>(p)].n * layers;
  std::printf("device: %s   %d layers x 4 F16 projections of width %d, best of %d\n",
              context.info().name.c_str(), layers, width, reps);
  std::printf("%8s %10s %12s %12s %12s\n", "tokens", "variant", "ms", "tok/s", "GFLOP/s");
  gpu::CommandStream cs(context);
  for (const auto& [variant, probe] : variants) {
    auto shapes = engine::KernelShapes::for_device(context);
    shapes.matmul_ceiling = probe;
    engine::Kernels kernels(context, 1024, shapes);
    for (int tokens : token_counts) {
      auto x = activation(context, tokens, width, gen);
      auto x4 = activation(context, tokens, 4 * width, gen);
      auto y3 = activation(context, tokens, 3 * width, gen);
      auto y = activation(context, tokens, width, gen);
      const std::vector<std::pair<const engine::Activation*, const engine::Activation*>> io{
          {&x, &y3}, {&x, &y}, {&x, &x4}, {&x4, &y}};
      double best = 1e30;
      for (int r = 0; r < reps; ++r) {
        cs.begin();
        for (int l = 0; l < layers; ++l)
          for (int i : chosen) {
            const auto p = static_cast<std::size_t>(i);
            const auto at = static_cast<std::size_t>(l) * projections.size() + p;
            kernels.matmul(cs, *io[p].first, weights[at], &biases[at], nullptr, *io[p].second,
                           tokens, projections[p].act);
          }
        auto t0 = std::chrono::steady_clock::now();
        cs.submit_and_wait();
        best = std::min(
            best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      std::printf("%8d %10s %12.2f %12.1f %12.1f\n", tokens, variant, best * 1e3, tokens / best,
                  flops_per_token * tokens / best * 1e-9);
    }
  }
  return 0;
}
