#include "memorization/corpus_reader.hpp"

#include <zstd.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"

namespace sg::detectors::memorization {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct DStreamDeleter {
  void operator()(ZSTD_DStream* s) const { ZSTD_freeDStream(s); }
};

// The bytes of a file, decompressed when it is zstd, in chunks.
class ByteSource {
 public:
  explicit ByteSource(const fs::path& file)
      : file_(file), in_(file, std::ios::binary), raw_(1 << 17) {
    if (!in_) throw InputError(file.string() + ": cannot be read");
    if (file.extension() == ".zst") {
      stream_.reset(ZSTD_createDStream());
      if (!stream_) throw RuntimeError("zstd: out of memory");
      ZSTD_initDStream(stream_.get());
      out_.resize(ZSTD_DStreamOutSize());
    }
  }

  // The next chunk of decompressed bytes; empty at the end of the file.
  std::string_view next() {
    if (!stream_) {
      in_.read(raw_.data(), static_cast<std::streamsize>(raw_.size()));
      const auto got = static_cast<std::size_t>(in_.gcount());
      consumed_ += got;
      if (got == 0 && in_.bad()) throw RuntimeError(file_.string() + ": read error");
      return {raw_.data(), got};
    }
    for (;;) {
      if (input_.pos == input_.size && !output_full_) {
        in_.read(raw_.data(), static_cast<std::streamsize>(raw_.size()));
        const auto got = static_cast<std::size_t>(in_.gcount());
        if (got == 0) {
          if (in_.bad()) throw RuntimeError(file_.string() + ": read error");
          if (frame_open_)
            throw InputError(file_.string() + ": truncated zstd stream (ends inside a frame)");
          return {};
        }
        consumed_ += got;
        input_ = {raw_.data(), got, 0};
      }
      ZSTD_outBuffer output{out_.data(), out_.size(), 0};
      const std::size_t ret = ZSTD_decompressStream(stream_.get(), &output, &input_);
      if (ZSTD_isError(ret))
        throw InputError(file_.string() + ": not a valid zstd stream (" + ZSTD_getErrorName(ret) +
                         ")");
      frame_open_ = ret != 0;
      // A full output buffer may leave decoded bytes inside zstd: drain them before reading.
      output_full_ = output.pos == output.size;
      if (output.pos > 0) return {out_.data(), output.pos};
    }
  }

  std::uint64_t consumed() const { return consumed_; }

 private:
  fs::path file_;
  std::ifstream in_;
  std::vector<char> raw_;
  std::vector<char> out_;
  std::unique_ptr<ZSTD_DStream, DStreamDeleter> stream_;
  ZSTD_inBuffer input_{nullptr, 0, 0};
  bool frame_open_ = false;
  bool output_full_ = false;
  std::uint64_t consumed_ = 0;
};

bool is_jsonl(const fs::path& file) {
  fs::path name = file.filename();
  if (name.extension() == ".zst") name = name.stem();
  return name.extension() == ".jsonl";
}

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

CorpusDocument parse_line(const fs::path& file, std::string_view line, std::uint64_t number) {
  const std::string where = file.string() + ":" + std::to_string(number);
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception& e) {
    throw InputError(where + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw InputError(where + ": expected an object with \"text\"");
  auto text = j.find("text");
  if (text == j.end() || !text->is_string())
    throw InputError(where + ": expected a string \"text\"");
  CorpusDocument doc;
  doc.text = text->get<std::string>();
  auto id = j.find("id");
  if (id == j.end() || id->is_null())
    doc.name = file.filename().string() + ":" + std::to_string(number);
  else
    doc.name = id->is_string() ? id->get<std::string>() : id->dump();
  return doc;
}

}  // namespace

void for_each_corpus_document(const fs::path& file, const DocumentSink& sink) {
  ByteSource source(file);
  if (!is_jsonl(file)) {
    CorpusDocument doc{file.filename().string(), {}};
    for (auto chunk = source.next(); !chunk.empty(); chunk = source.next()) doc.text += chunk;
    sink(std::move(doc), source.consumed());
    return;
  }
  std::string line;
  std::uint64_t number = 0;
  auto emit = [&] {
    ++number;
    if (!blank(line)) sink(parse_line(file, line, number), source.consumed());
    line.clear();
  };
  for (auto chunk = source.next(); !chunk.empty(); chunk = source.next()) {
    for (std::size_t at = 0; at < chunk.size();) {
      const std::size_t end = chunk.find('\n', at);
      if (end == std::string_view::npos) {
        line += chunk.substr(at);
        break;
      }
      line += chunk.substr(at, end - at);
      emit();
      at = end + 1;
    }
  }
  if (!line.empty()) emit();
}

std::vector<CorpusDocument> read_corpus_file(const fs::path& file) {
  std::vector<CorpusDocument> docs;
  for_each_corpus_document(
      file, [&](CorpusDocument&& doc, std::uint64_t) { docs.push_back(std::move(doc)); });
  return docs;
}

}  // namespace sg::detectors::memorization
