#include "memorization/index_builder.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <thread>

#include "common/errors.hpp"
#include "common/progress.hpp"
#include "common/sha256.hpp"
#include "memorization/index_format.hpp"
#include "memorization/suffix_array.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::detectors::memorization {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A progress bar that may be switched off (library callers that draw their own).
class Progress {
 public:
  Progress(bool on, const std::string& label, std::uint64_t total, const std::string& unit) {
    if (on) bar_.emplace(label, total, unit);
  }
  void set(std::uint64_t done) {
    if (bar_) bar_->set(done);
  }
  void finish() {
    if (bar_) bar_->finish();
  }

 private:
  std::optional<ProgressBar> bar_;
};

// The token stream being collected: documents one after another, each followed by the
// separator (= vocab_size, larger than every token, so a match stops at a document's end).
class StreamCollector {
 public:
  explicit StreamCollector(std::uint32_t vocab_size)
      : vocab_(vocab_size), narrow_(vocab_size <= 0xFFFF) {
    begins_.push_back(0);
  }

  // Throws InputError naming the document for a token outside the vocabulary.
  void add(std::string_view name, std::span<const std::int32_t> tokens) {
    if (begins_.size() > UINT32_MAX) throw InputError("corpus: more than 2^32-1 documents");
    if (narrow_)
      append(t16_, name, tokens);
    else
      append(t32_, name, tokens);
    begins_.push_back(stream_size());
    names_ += name;
    name_ends_.push_back(names_.size());
    tokens_ += tokens.size();
  }

  Sha256& corpus_sha() { return corpus_sha_; }

  // Sorts and writes `out` (through a temporary file renamed into place).
  BuildStats finish(const std::string& tokenizer_hash, const fs::path& out,
                    const BuildOptions& options) {
    BuildStats stats;
    stats.tokens = tokens_;
    stats.documents = static_cast<std::uint32_t>(begins_.size() - 1);
    if (stream_size() >= UINT32_MAX)
      throw InputError("corpus: " + std::to_string(tokens_) + " tokens in " +
                       std::to_string(begins_.size() - 1) +
                       " documents; an index holds fewer than 2^32 tokens + documents");
    if (tokenizer_hash.size() != kHashChars)
      throw InputError("tokenizer hash '" + tokenizer_hash + "' is not a hex SHA-256");

    auto start = Clock::now();
    std::vector<std::uint32_t> sa(stream_size());
    {
      Progress bar(options.progress, "suffix sort", 1, "");
      if (narrow_)
        suffix_sort(std::span<const std::uint16_t>(t16_), sa, vocab_ + 1);
      else
        suffix_sort(std::span<const std::uint32_t>(t32_), sa, vocab_ + 1);
      bar.set(1);
      bar.finish();
    }
    // Suffixes that start with a separator sort last; they are no match for anything.
    sa.resize(tokens_);
    stats.sort_seconds = seconds_since(start);

    start = Clock::now();
    stats.file_bytes = write(tokenizer_hash, sa, out, options);
    stats.write_seconds = seconds_since(start);
    return stats;
  }

 private:
  // Copies, then checks the document's largest id: no branch per token in the copy.
  template <typename Sym>
  void append(std::vector<Sym>& stream, std::string_view name,
              std::span<const std::int32_t> tokens) {
    const std::size_t at = stream.size();
    stream.resize(at + tokens.size() + 1);
    std::uint32_t largest = 0;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const auto t = static_cast<std::uint32_t>(tokens[i]);  // a negative id wraps to > vocab
      largest = std::max(largest, t);
      stream[at + i] = static_cast<Sym>(t);
    }
    stream.back() = static_cast<Sym>(vocab_);
    if (!tokens.empty() && largest >= vocab_) {
      stream.resize(at);
      for (std::int32_t t : tokens) {
        if (t < 0 || static_cast<std::uint32_t>(t) >= vocab_)
          throw InputError("document '" + std::string(name) + "': token " + std::to_string(t) +
                           " is outside the vocabulary of " + std::to_string(vocab_));
      }
    }
  }

  std::uint64_t stream_size() const { return narrow_ ? t16_.size() : t32_.size(); }

  std::vector<std::uint64_t> first_token_buckets(std::span<const std::uint32_t> sa) const {
    std::vector<std::uint64_t> buckets(static_cast<std::size_t>(vocab_) + 1, 0);
    auto count = [&](const auto& tokens) {
      for (auto t : tokens)
        if (t != vocab_) ++buckets[t + 1];
    };
    if (narrow_)
      count(t16_);
    else
      count(t32_);
    for (std::size_t c = 1; c < buckets.size(); ++c) buckets[c] += buckets[c - 1];
    (void)sa;
    return buckets;
  }

  std::uint64_t write(const std::string& tokenizer_hash, std::span<const std::uint32_t> sa,
                      const fs::path& out, const BuildOptions& options) {
    IndexHeader h;
    h.magic = kIndexMagic;
    h.version = kIndexVersion;
    h.token_bytes = narrow_ ? 2 : 4;
    h.token_count = tokens_;
    h.document_count = static_cast<std::uint32_t>(begins_.size() - 1);
    h.vocab_size = vocab_;
    h.normalization = static_cast<std::uint32_t>(options.normalization);
    h.tokens_offset = kHeaderBytes;
    h.suffixes_offset = align8(h.tokens_offset + stream_size() * h.token_bytes);
    h.buckets_offset = align8(h.suffixes_offset + sa.size() * 4);
    h.documents_offset = h.buckets_offset + (std::uint64_t{vocab_} + 1) * 8;
    h.name_ends_offset = h.documents_offset + begins_.size() * 8;
    h.names_offset = h.name_ends_offset + name_ends_.size() * 8;
    h.file_size = h.names_offset + names_.size();
    std::memcpy(h.tokenizer_hash.data(), tokenizer_hash.data(), kHashChars);
    const std::string corpus = corpus_sha_.hex();
    std::memcpy(h.corpus_hash.data(), corpus.data(), kHashChars);

    const fs::path temp = out.string() + ".partial-" + std::to_string(::getpid());
    struct RemoveOnFailure {
      const fs::path& path;
      bool keep = false;
      ~RemoveOnFailure() {
        std::error_code ec;
        if (!keep) fs::remove(path, ec);
      }
    } guard{temp};
    std::ofstream file(temp, std::ios::binary | std::ios::trunc);
    if (!file) throw RuntimeError(temp.string() + ": cannot be created");

    Progress bar(options.progress, "write index", h.file_size, "bytes");
    Checksum payload;
    std::uint64_t at = 0;
    auto put = [&](const void* data, std::uint64_t bytes, bool checksummed) {
      // Chunked, so that the progress bar moves and no single write is enormous.
      const auto* p = static_cast<const char*>(data);
      for (std::uint64_t done = 0; done < bytes;) {
        const std::uint64_t n = std::min<std::uint64_t>(bytes - done, 64u << 20);
        file.write(p + done, static_cast<std::streamsize>(n));
        if (checksummed) payload.update(std::as_bytes(std::span(p + done, n)));
        done += n;
        at += n;
        bar.set(at);
      }
    };
    auto pad_to = [&](std::uint64_t offset) {
      static constexpr char zeros[8] = {};
      put(zeros, offset - at, true);
    };
    const IndexHeader blank{};
    put(&blank, sizeof blank, false);
    if (narrow_)
      put(t16_.data(), t16_.size() * 2, true);
    else
      put(t32_.data(), t32_.size() * 4, true);
    pad_to(h.suffixes_offset);
    put(sa.data(), sa.size() * 4, true);
    pad_to(h.buckets_offset);
    const auto buckets = first_token_buckets(sa);
    put(buckets.data(), buckets.size() * 8, true);
    put(begins_.data(), begins_.size() * 8, true);
    put(name_ends_.data(), name_ends_.size() * 8, true);
    put(names_.data(), names_.size(), true);
    h.payload_checksum = payload.value();
    h.header_checksum = header_checksum(h);
    file.seekp(0);
    file.write(reinterpret_cast<const char*>(&h), sizeof h);
    file.close();
    if (!file) throw RuntimeError(temp.string() + ": write failed (disk full?)");
    bar.finish();
    std::error_code ec;
    fs::rename(temp, out, ec);
    if (ec) throw RuntimeError(out.string() + ": cannot be written (" + ec.message() + ")");
    guard.keep = true;
    return h.file_size;
  }

  std::uint32_t vocab_;
  bool narrow_;
  std::vector<std::uint16_t> t16_;
  std::vector<std::uint32_t> t32_;
  std::vector<std::uint64_t> begins_;
  std::vector<std::uint64_t> name_ends_;
  std::string names_;
  std::uint64_t tokens_ = 0;
  Sha256 corpus_sha_;
};

void hash_document(Sha256& sha, const CorpusDocument& doc) {
  const std::string zero(1, '\0');
  sha.update(std::to_string(doc.name.size())).update(zero).update(doc.name);
  sha.update(std::to_string(doc.text.size())).update(zero).update(doc.text);
}

// Encodes batches of documents on several threads and adds them to the stream in order.
class BatchTokenizer {
 public:
  BatchTokenizer(const tokenizer::Tokenizer& tok, StreamCollector& stream, unsigned threads,
                 TextNormalization normalization)
      : tok_(tok),
        stream_(stream),
        normalization_(normalization),
        threads_(threads ? threads : std::max(1u, std::thread::hardware_concurrency())) {}

  void push(CorpusDocument&& doc, std::string_view origin) {
    hash_document(stream_.corpus_sha(), doc);
    batch_bytes_ += doc.text.size();
    batch_.push_back({std::move(doc), std::string(origin)});
    if (batch_bytes_ >= (4u << 20) || batch_.size() >= 4096) flush();
  }

  void flush() {
    std::vector<std::vector<std::int32_t>> ids(batch_.size());
    std::vector<std::exception_ptr> errors(threads_);
    auto work = [&](unsigned t) {
      try {
        for (std::size_t i = t; i < batch_.size(); i += threads_) encode(i, ids[i]);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    };
    if (threads_ == 1 || batch_.size() < 2) {
      work(0);
    } else {
      std::vector<std::jthread> pool;
      for (unsigned t = 0; t < threads_; ++t) pool.emplace_back(work, t);
    }
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
    for (std::size_t i = 0; i < batch_.size(); ++i) stream_.add(batch_[i].doc.name, ids[i]);
    batch_.clear();
    batch_bytes_ = 0;
  }

 private:
  struct Pending {
    CorpusDocument doc;
    std::string origin;  // the file it came from, for errors
  };

  void encode(std::size_t i, std::vector<std::int32_t>& out) const {
    try {
      out = tok_.encode(normalize(batch_[i].doc.text, normalization_));
    } catch (const InputError& e) {
      throw InputError(batch_[i].origin + ": document '" + batch_[i].doc.name + "': " + e.what());
    }
  }

  const tokenizer::Tokenizer& tok_;
  StreamCollector& stream_;
  TextNormalization normalization_;
  unsigned threads_;
  std::vector<Pending> batch_;
  std::uint64_t batch_bytes_ = 0;
};

std::uint32_t checked_vocab(const tokenizer::Tokenizer& tok) {
  if (tok.vocab_size() <= 0) throw InputError("tokenizer: empty vocabulary");
  return static_cast<std::uint32_t>(tok.vocab_size());
}

}  // namespace

BuildStats build_index(std::span<const fs::path> corpus_files, const tokenizer::Tokenizer& tok,
                       const std::string& tokenizer_hash, const fs::path& out,
                       const BuildOptions& options) {
  if (corpus_files.empty()) throw UsageError("build_index: no corpus files");
  StreamCollector stream(checked_vocab(tok));
  std::uint64_t total_bytes = 0;
  for (const auto& f : corpus_files) {
    std::error_code ec;
    const auto size = fs::file_size(f, ec);
    if (ec) throw InputError(f.string() + ": cannot be read (" + ec.message() + ")");
    total_bytes += size;
  }
  const auto start = Clock::now();
  {
    Progress bar(options.progress, "read+tokenize", total_bytes, "bytes");
    BatchTokenizer batches(tok, stream, options.threads, options.normalization);
    std::uint64_t done_files = 0;
    for (const auto& f : corpus_files) {
      for_each_corpus_document(f, [&](CorpusDocument&& doc, std::uint64_t read) {
        batches.push(std::move(doc), f.string());
        bar.set(done_files + read);
      });
      batches.flush();
      done_files += fs::file_size(f);
    }
    bar.finish();
  }
  const double tokenize_seconds = seconds_since(start);
  BuildStats stats = stream.finish(tokenizer_hash, out, options);
  stats.tokenize_seconds = tokenize_seconds;
  return stats;
}

BuildStats build_index(const IndexBuildInput& input, const tokenizer::Tokenizer& tok,
                       const std::string& tokenizer_hash, const fs::path& out,
                       const BuildOptions& options) {
  StreamCollector stream(checked_vocab(tok));
  const auto start = Clock::now();
  {
    BatchTokenizer batches(tok, stream, options.threads, options.normalization);
    for (const auto& doc : input.documents) batches.push(CorpusDocument(doc), "input");
    batches.flush();
  }
  const double tokenize_seconds = seconds_since(start);
  BuildStats stats = stream.finish(tokenizer_hash, out, options);
  stats.tokenize_seconds = tokenize_seconds;
  return stats;
}

BuildStats build_index(const TokenizedCorpus& corpus, const fs::path& out,
                       const BuildOptions& options) {
  if (corpus.names.size() != corpus.documents.size())
    throw std::invalid_argument("build_index: names and documents differ in number");
  StreamCollector stream(corpus.vocab_size);
  for (std::size_t d = 0; d < corpus.documents.size(); ++d) {
    const auto& ids = corpus.documents[d];
    stream.corpus_sha()
        .update(std::to_string(corpus.names[d].size()))
        .update(std::string(1, '\0'))
        .update(corpus.names[d])
        .update(std::string(1, '\0'))
        .update(std::string_view(reinterpret_cast<const char*>(ids.data()), ids.size() * 4));
    stream.add(corpus.names[d], ids);
  }
  return stream.finish(corpus.tokenizer_hash, out, options);
}

}  // namespace sg::detectors::memorization
