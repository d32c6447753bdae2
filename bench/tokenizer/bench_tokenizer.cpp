// Encode throughput of stagegate's GPT-2 tokenizer on a text file: MB/s of UTF-8 input on
// one thread and on all threads (lines split across threads), best of several runs, with a
// fresh tokenizer (cold word cache) per run. Prints JSON lines for bench/tokenizer/run.sh.
//   bench_tokenizer TOKENIZER_DIR TEXT_FILE [RUNS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace {

double encode_all(const std::string& dir, const std::vector<std::string>& lines, unsigned threads,
                  std::size_t& tokens) {
  auto tok = sg::tokenizer::load(dir);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::size_t> counts(threads, 0);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (std::size_t i = t; i < lines.size(); i += threads)
        counts[t] += tok->encode(lines[i]).size();
    });
  for (auto& th : pool) th.join();
  tokens = 0;
  for (auto c : counts) tokens += c;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_tokenizer TOKENIZER_DIR TEXT_FILE [RUNS]\n");
    return 2;
  }
  const int runs = argc > 3 ? std::atoi(argv[3]) : 5;
  std::ifstream in(argv[2], std::ios::binary);
  std::vector<std::string> lines;
  std::size_t bytes = 0;
  for (std::string line; std::getline(in, line);) {
    line += '\n';
    bytes += line.size();
    lines.push_back(std::move(line));
  }
  for (unsigned threads : {1u, std::max(1u, std::thread::hardware_concurrency())}) {
    double best = 1e30;
    std::size_t tokens = 0;
    for (int r = 0; r < runs; ++r)
      best = std::min(best, encode_all(argv[1], lines, threads, tokens));
    std::printf(
        "{\"impl\":\"stagegate\",\"threads\":%u,\"mb_s\":%.2f,\"tokens\":%zu,\"bytes\":%zu}\n",
        threads, static_cast<double>(bytes) / best / 1e6, tokens, bytes);
  }
  return 0;
}
