// Reading training documents from corpus files: plain text (the whole file is one
// document) or JSON lines (one {"text": ...} object per line), either optionally
// zstd-compressed (".zst"). The format is told by the name: "*.jsonl" or "*.jsonl.zst" is
// JSON lines, anything else plain text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace sg::detectors::memorization {

// One training document as read from a corpus file.
struct CorpusDocument {
  std::string name;  // the jsonl "id" when present, else "FILE:LINE"; the file name for text
  std::string text;
};

// Called once per document in file order; `bytes_read` is how far into the file (as stored,
// i.e. compressed bytes for .zst) reading has come, for progress bars.
using DocumentSink = std::function<void(CorpusDocument&& document, std::uint64_t bytes_read)>;

// Streams the documents of `file` in constant memory (one line at a time). Errors are
// InputErrors naming the file and, for JSON lines, the line.
void for_each_corpus_document(const std::filesystem::path& file, const DocumentSink& sink);

// All documents of `file` at once.
std::vector<CorpusDocument> read_corpus_file(const std::filesystem::path& file);

}  // namespace sg::detectors::memorization
