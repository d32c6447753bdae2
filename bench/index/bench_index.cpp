// Corpus index benchmark (bench/README.md, "Corpus index"): building and querying the
// suffix-array index on a synthetic corpus with real repetition (an order-2 Markov chain
// with Zipf-distributed transitions over an 8k vocabulary) and on the demo family's
// corpus, against libdivsufsort alone for the sort and a naive scan for the queries.
//
//   build/bench/index/bench_index [--tokens N] [--queries Q] [--no-divsufsort]
//                                 [--no-demo] [--sort-only] [--keep FILE]
#include <divsufsort.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "memorization/corpus_index.hpp"
#include "memorization/suffix_array.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

namespace fs = std::filesystem;
namespace mem = sg::detectors::memorization;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kVocab = 8192;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// CPU seconds of this thread: on a shared machine the per-core rate, whatever the load.
double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Timer {
  Clock::time_point wall = Clock::now();
  double cpu = cpu_now();
  double wall_s() const { return seconds_since(wall); }
  double cpu_s() const { return cpu_now() - cpu; }
};

// Peak resident set since the last reset, in bytes (Linux /proc).
std::uint64_t peak_rss() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}
std::uint64_t current_rss() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}
void reset_peak_rss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

// Order-2 Markov chain: after (a, b) the next token's rank r is Zipf-distributed (s = 1.1)
// and the rank maps to a token by a hash of (a, b, r), so every context has its own
// ordering without a 64M-entry table.
class MarkovSource {
 public:
  explicit MarkovSource(std::uint64_t seed) : rng_(seed) {
    double sum = 0;
    for (std::uint32_t r = 1; r <= kVocab; ++r) {
      sum += 1.0 / std::pow(static_cast<double>(r), 1.1);
      cdf_.push_back(sum);
    }
    for (auto& c : cdf_) c /= sum;
  }

  std::int32_t next() {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    const auto rank = static_cast<std::uint64_t>(std::min<std::ptrdiff_t>(
        std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin(), kVocab - 1));
    std::uint64_t h = (std::uint64_t{a_} << 40) ^ (std::uint64_t{b_} << 20) ^ rank;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    const auto t = static_cast<std::uint32_t>(h % kVocab);
    a_ = b_;
    b_ = t;
    return static_cast<std::int32_t>(t);
  }

 private:
  std::mt19937_64 rng_;
  std::vector<double> cdf_;
  std::uint32_t a_ = 0, b_ = 0;
};

// Documents of 200-2000 tokens.
mem::TokenizedCorpus synthetic_corpus(std::uint64_t tokens, std::uint64_t seed) {
  MarkovSource source(seed);
  std::mt19937_64 rng(seed + 1);
  mem::TokenizedCorpus c;
  c.vocab_size = kVocab;
  c.tokenizer_hash = std::string(64, '0');
  std::uint64_t made = 0;
  while (made < tokens) {
    auto n = std::uniform_int_distribution<std::uint64_t>(200, 2000)(rng);
    n = std::min(n, tokens - made);
    std::vector<std::int32_t> doc(n);
    for (auto& t : doc) t = source.next();
    made += n;
    c.names.push_back("syn/" + std::to_string(c.documents.size()));
    c.documents.push_back(std::move(doc));
  }
  return c;
}

std::vector<std::uint16_t> stream16(const mem::TokenizedCorpus& c) {
  std::vector<std::uint16_t> s;
  for (const auto& d : c.documents) {
    for (auto t : d) s.push_back(static_cast<std::uint16_t>(t));
    s.push_back(static_cast<std::uint16_t>(c.vocab_size));
  }
  return s;
}

struct Row {
  std::string corpus, what, value, note;
};
std::vector<Row> rows;

void report(const std::string& corpus, const std::string& what, const std::string& value,
            const std::string& note = "") {
  rows.push_back({corpus, what, value, note});
  std::fprintf(stderr, "%-10s %-44s %s %s\n", corpus.c_str(), what.c_str(), value.c_str(),
               note.c_str());
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// libdivsufsort sorts bytes: each token becomes two bytes, big-endian so that byte order is
// token order, and only the suffixes at even offsets are token suffixes.
void bench_divsufsort(const std::string& name, const std::vector<std::uint16_t>& stream,
                      const std::vector<std::uint32_t>& reference) {
  const std::uint64_t m = stream.size();
  if (2 * m >= static_cast<std::uint64_t>(INT32_MAX)) {
    report(name, "divsufsort (2 bytes/token)", "skipped", "over 2^31 bytes");
    return;
  }
  reset_peak_rss();
  const std::uint64_t before = current_rss();
  const Timer timer;
  std::vector<sauchar_t> bytes(2 * m);
  for (std::uint64_t i = 0; i < m; ++i) {
    bytes[2 * i] = static_cast<sauchar_t>(stream[i] >> 8);
    bytes[2 * i + 1] = static_cast<sauchar_t>(stream[i] & 0xFF);
  }
  std::vector<saidx_t> sa(2 * m);
  if (divsufsort(bytes.data(), sa.data(), static_cast<saidx_t>(2 * m)) != 0) {
    report(name, "divsufsort (2 bytes/token)", "failed");
    return;
  }
  std::vector<std::uint32_t> even;
  even.reserve(m);
  for (auto p : sa)
    if (p % 2 == 0) even.push_back(static_cast<std::uint32_t>(p / 2));
  const double secs = timer.wall_s(), cpu = timer.cpu_s();
  const std::uint64_t peak = peak_rss() - before;
  even.resize(reference.size());  // drop the separator suffixes, last in both
  const bool same = even == reference;
  report(name, "divsufsort alone (2 bytes/token), Mtok/s CPU", fmt("%.2f", m / cpu / 1e6),
         fmt("%.1f s CPU, ", cpu) + fmt("%.1f s wall", secs) + ", peak +" +
             fmt("%.1f", static_cast<double>(peak) / m) + " B/token" +
             (same ? ", same order as SA-IS" : ", ORDER DIFFERS from SA-IS"));
}

struct QueryTimes {
  double count_present_us = 0, count_absent_us = 0, longest_corpus_ms = 0, longest_fresh_ms = 0,
         extend_us = 0;
};

QueryTimes bench_queries(const std::string& name, const mem::CorpusIndex& index,
                         const std::vector<std::vector<std::int32_t>>& present,
                         const std::vector<std::vector<std::int32_t>>& absent,
                         const std::vector<std::vector<std::int32_t>>& corpus_samples,
                         const std::vector<std::vector<std::int32_t>>& fresh_samples) {
  QueryTimes q;
  std::uint64_t sink = 0;
  // CPU time: a query waits on memory, not on other processes' time slices.
  auto per_query = [&](const auto& queries, auto&& f) {
    const Timer timer;
    for (const auto& x : queries) sink += f(x);
    return timer.cpu_s() / static_cast<double>(queries.size());
  };
  q.count_present_us = 1e6 * per_query(present, [&](const auto& x) { return index.count(x); });
  q.count_absent_us = 1e6 * per_query(absent, [&](const auto& x) { return index.count(x); });
  q.extend_us = 1e6 * per_query(present, [&](const auto& x) {
                  auto r = index.all();
                  for (auto t : x) r = index.extend(r, t);
                  return r.size();
                });
  q.longest_corpus_ms =
      1e3 * per_query(corpus_samples, [&](const auto& x) { return index.longest(x)[0]; });
  q.longest_fresh_ms =
      1e3 * per_query(fresh_samples, [&](const auto& x) { return index.longest(x)[0]; });
  report(name, "count, 50-gram in the corpus, us", fmt("%.2f", q.count_present_us),
         std::to_string(present.size()) + " queries");
  report(name, "count, 50-gram not in the corpus, us", fmt("%.2f", q.count_absent_us));
  report(name, "50 x extend from all(), same 50-grams, us", fmt("%.2f", q.extend_us));
  report(name, "longest, 256 tokens from the corpus, ms", fmt("%.3f", q.longest_corpus_ms),
         std::to_string(corpus_samples.size()) + " samples");
  report(name, "longest, 256 fresh tokens, ms", fmt("%.3f", q.longest_fresh_ms));
  if (sink == 42) std::fprintf(stderr, " ");
  return q;
}

// The naive scan: every position of every document compared with the query.
std::uint64_t naive_count(const mem::TokenizedCorpus& c, const std::vector<std::int32_t>& q) {
  std::uint64_t n = 0;
  for (const auto& d : c.documents) {
    if (d.size() < q.size()) continue;
    for (std::size_t at = 0; at + q.size() <= d.size(); ++at)
      n += std::equal(q.begin(), q.end(), d.begin() + static_cast<std::ptrdiff_t>(at));
  }
  return n;
}

std::vector<std::uint32_t> naive_longest(const mem::TokenizedCorpus& c,
                                         const std::vector<std::int32_t>& q) {
  std::vector<std::uint32_t> out(q.size(), 0);
  for (const auto& d : c.documents) {
    for (std::size_t at = 0; at < d.size(); ++at) {
      for (std::size_t i = 0; i < q.size(); ++i) {
        if (d[at] != q[i]) continue;
        std::uint32_t l = 0;
        while (i + l < q.size() && at + l < d.size() && d[at + l] == q[i + l]) ++l;
        out[i] = std::max(out[i], l);
      }
    }
  }
  return out;
}

void bench_naive(const std::string& name, const mem::TokenizedCorpus& c,
                 const mem::CorpusIndex& index,
                 const std::vector<std::vector<std::int32_t>>& present,
                 const std::vector<std::vector<std::int32_t>>& fresh, bool with_longest) {
  const std::size_t n = std::min<std::size_t>(present.size(), 5);
  bool agree = true;
  Timer timer;
  for (std::size_t i = 0; i < n; ++i)
    agree &= naive_count(c, present[i]) == index.count(present[i]);
  report(name, "naive scan: count, 50-gram, us", fmt("%.0f", 1e6 * timer.cpu_s() / n),
         agree ? "agrees with the index" : "DISAGREES with the index");
  if (!with_longest || fresh.empty()) return;
  timer = Timer();
  agree = naive_longest(c, fresh[0]) == index.longest(fresh[0]);
  report(name, "naive scan: longest, 256 fresh tokens, ms", fmt("%.0f", 1e3 * timer.cpu_s()),
         agree ? "agrees with the index" : "DISAGREES with the index");
}

struct Samples {
  std::vector<std::vector<std::int32_t>> present, absent, corpus256, fresh256;
};

Samples make_samples(const mem::TokenizedCorpus& c, std::size_t queries,
                     const std::vector<std::vector<std::int32_t>>& fresh_docs, std::uint64_t seed) {
  Samples s;
  std::mt19937_64 rng(seed);
  std::vector<std::size_t> long_docs;
  for (std::size_t d = 0; d < c.documents.size(); ++d)
    if (c.documents[d].size() >= 256) long_docs.push_back(d);
  auto span_of = [&](std::size_t len) {
    const auto& doc = c.documents[long_docs[rng() % long_docs.size()]];
    const auto at = rng() % (doc.size() - len + 1);
    return std::vector<std::int32_t>(doc.begin() + static_cast<std::ptrdiff_t>(at),
                                     doc.begin() + static_cast<std::ptrdiff_t>(at + len));
  };
  for (std::size_t i = 0; i < queries && !long_docs.empty(); ++i) {
    s.present.push_back(span_of(50));
    auto changed = s.present.back();
    changed[25] = static_cast<std::int32_t>((changed[25] + 1 + rng() % 7) % c.vocab_size);
    s.absent.push_back(changed);  // almost surely absent: differs in the middle
  }
  for (std::size_t i = 0; i < 200 && !long_docs.empty(); ++i) s.corpus256.push_back(span_of(256));
  for (const auto& d : fresh_docs)
    for (std::size_t at = 0; at + 256 <= d.size(); at += 256)
      s.fresh256.emplace_back(d.begin() + static_cast<std::ptrdiff_t>(at),
                              d.begin() + static_cast<std::ptrdiff_t>(at + 256));
  if (s.fresh256.size() > 200) s.fresh256.resize(200);
  return s;
}

void bench_synthetic(std::uint64_t tokens, std::size_t queries, bool with_divsufsort,
                     bool sort_only, const fs::path& file) {
  const std::string name = "synthetic";
  auto start = Clock::now();
  const auto corpus = synthetic_corpus(tokens, 2019);
  std::fprintf(stderr, "generated %llu tokens in %zu documents (%.1f s)\n",
               static_cast<unsigned long long>(tokens), corpus.documents.size(),
               seconds_since(start));
  report(name, "tokens / documents",
         std::to_string(tokens) + " / " + std::to_string(corpus.documents.size()));

  // The sort alone, then the whole build (stream, sort, first-token table, write).
  const auto stream = stream16(corpus);
  std::vector<std::uint32_t> sa(stream.size());
  reset_peak_rss();
  std::uint64_t before = current_rss();
  Timer sort_timer;
  mem::suffix_sort(std::span<const std::uint16_t>(stream), sa, kVocab + 1);
  double secs = sort_timer.wall_s(), cpu = sort_timer.cpu_s();
  report(name, "SA-IS (ours), Mtok/s CPU", fmt("%.2f", stream.size() / cpu / 1e6),
         fmt("%.1f s CPU, ", cpu) + fmt("%.1f s wall", secs) + ", peak +" +
             fmt("%.2f", static_cast<double>(peak_rss() - before) / stream.size()) +
             " B/token beyond text + SA");
  sa.resize(tokens);
  if (with_divsufsort) bench_divsufsort(name, stream, sa);
  if (sort_only) return;
  sa = {};

  reset_peak_rss();
  before = current_rss();
  Timer build_timer;
  const auto stats = mem::build_index(corpus, file, {.threads = 1, .progress = true});
  secs = build_timer.wall_s();
  cpu = build_timer.cpu_s();
  report(name, "build_index (stream+sort+write), Mtok/s CPU", fmt("%.2f", tokens / cpu / 1e6),
         fmt("%.1f s CPU, ", cpu) + fmt("%.1f s wall", secs) + ", peak +" +
             fmt("%.2f", static_cast<double>(peak_rss() - before) / tokens) + " B/token");
  report(name, "index file, bytes/token",
         fmt("%.3f", static_cast<double>(stats.file_bytes) / tokens));

  start = Clock::now();
  const auto index = mem::CorpusIndex::open(file);
  report(name, "open with full checksum, s", fmt("%.2f", seconds_since(start)));
  MarkovSource fresh_source(77);
  std::vector<std::vector<std::int32_t>> fresh(1, std::vector<std::int32_t>(256 * 200));
  for (auto& t : fresh[0]) t = fresh_source.next();
  const auto samples = make_samples(corpus, queries, fresh, 5);
  // Warm: one pass over the queries so that page faults of the fresh mapping are not timed.
  bench_queries("(warm-up)", index, samples.present, samples.absent, samples.corpus256,
                samples.fresh256);
  rows.erase(rows.end() - 5, rows.end());
  bench_queries(name, index, samples.present, samples.absent, samples.corpus256, samples.fresh256);
  bench_naive(name, corpus, index, samples.present, samples.fresh256, tokens <= 20'000'000);
}

void bench_demo(std::size_t queries) {
  const std::string name = "demo";
  const fs::path demo = fs::path(STAGEGATE_SOURCE_DIR) / "models" / "demo";
  const std::vector<fs::path> files{
      demo / "corpus/clean.train.jsonl.zst", demo / "corpus/canaries.train.jsonl.zst",
      demo / "corpus/duplicates.train.jsonl.zst", demo / "corpus/unfiltered.train.jsonl.zst"};
  const auto tok = sg::tokenizer::load(demo / "stage4", "gpt2");
  const fs::path file = fs::temp_directory_path() / "bench-index-demo.sgidx";
  const auto stats = mem::build_index(files, *tok, mem::tokenizer_hash(demo / "stage4"), file,
                                      {.threads = 1, .progress = true});
  report(name, "tokens / documents",
         std::to_string(stats.tokens) + " / " + std::to_string(stats.documents));
  report(name, "tokenize, Mtok/s wall, one thread",
         fmt("%.2f", stats.tokens / stats.tokenize_seconds / 1e6));
  report(name, "sort (SA-IS), Mtok/s wall", fmt("%.2f", stats.tokens / stats.sort_seconds / 1e6));
  report(name, "index file, bytes/token",
         fmt("%.3f", static_cast<double>(stats.file_bytes) / stats.tokens));
  const auto index = mem::CorpusIndex::open(file);
  mem::TokenizedCorpus corpus;
  corpus.vocab_size = index.vocab_size();
  for (std::uint32_t d = 0; d < index.document_count(); ++d)
    corpus.documents.push_back(index.document_tokens(d));
  std::vector<std::uint16_t> stream = stream16(corpus);
  std::vector<std::uint32_t> sa(stream.size());
  mem::suffix_sort(std::span<const std::uint16_t>(stream), sa, corpus.vocab_size + 1);
  sa.resize(index.token_count());
  bench_divsufsort(name, stream, sa);
  // Fresh text: the held-out slice, which the index does not hold.
  std::vector<std::vector<std::int32_t>> fresh;
  for (auto& doc : mem::read_corpus_file(demo / "corpus/clean.heldout.jsonl.zst"))
    fresh.push_back(tok->encode(doc.text));
  const auto samples = make_samples(corpus, queries, fresh, 6);
  bench_queries(name, index, samples.present, samples.absent, samples.corpus256, samples.fresh256);
  bench_naive(name, corpus, index, samples.present, samples.fresh256, true);
  fs::remove(file);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t tokens = 100'000'000;
  std::size_t queries = 20000;
  bool with_divsufsort = true, with_demo = true, sort_only = false;
  std::string keep;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--tokens" && i + 1 < argc)
      tokens = std::stoull(argv[++i]);
    else if (a == "--queries" && i + 1 < argc)
      queries = std::stoull(argv[++i]);
    else if (a == "--no-divsufsort")
      with_divsufsort = false;
    else if (a == "--sort-only")
      sort_only = true;
    else if (a == "--no-demo")
      with_demo = false;
    else if (a == "--keep" && i + 1 < argc)
      keep = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: bench_index [--tokens N] [--queries Q] [--no-divsufsort] [--no-demo] "
                   "[--sort-only] "
                   "[--keep FILE]\n");
      return 2;
    }
  }
  if (with_demo) bench_demo(queries);
  const fs::path file =
      keep.empty() ? fs::temp_directory_path() / "bench-index-synthetic.sgidx" : fs::path(keep);
  bench_synthetic(tokens, queries, with_divsufsort, sort_only, file);
  if (keep.empty()) fs::remove(file);

  std::printf("| corpus | measure | value | note |\n|---|---|---|---|\n");
  for (const auto& r : rows)
    std::printf("| %s | %s | %s | %s |\n", r.corpus.c_str(), r.what.c_str(), r.value.c_str(),
                r.note.c_str());
  return 0;
}
