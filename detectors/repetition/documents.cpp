#include "repetition/documents.hpp"

#include <zstd.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "common/errors.hpp"
#include "common/sha256.hpp"

namespace sg::detectors::repetition {

namespace {

std::string read_bytes(const std::filesystem::path& file) {
  // A directory opens as a stream on Linux and then fails inside the read with an exception
  // of the standard library's own: refuse it by name first.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw InputError(file.string() + ": not a readable file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot be read");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) throw InputError(file.string() + ": read error");
  return std::move(bytes).str();
}

std::string unzstd(const std::filesystem::path& file, const std::string& packed) {
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) throw RuntimeError(file.string() + ": zstd: out of memory");
  std::string out;
  std::vector<char> buf(ZSTD_DStreamOutSize());
  ZSTD_inBuffer in{packed.data(), packed.size(), 0};
  std::size_t last = 0;
  while (in.pos < in.size) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    last = ZSTD_decompressStream(ctx.get(), &o, &in);
    if (ZSTD_isError(last))
      throw InputError(file.string() + ": not a valid zstd stream (" + ZSTD_getErrorName(last) +
                       ")");
    out.append(buf.data(), o.pos);
  }
  if (last != 0) throw InputError(file.string() + ": truncated zstd stream");
  return out;
}

// As the prompt files name records (seam/text_jsonl.cpp), since a prompt's id is looked up
// here: the integer's decimal digits. get<std::int64_t> would wrap ids above 2^63 - 1.
std::string id_of(const nlohmann::json& id) {
  if (id.is_string()) return id.get<std::string>();
  if (id.is_number_integer()) return id.dump();
  throw InputError("\"id\" is neither a string nor an integer");
}

}  // namespace

Documents read_documents(const std::filesystem::path& file, const std::set<std::string>& ids) {
  std::string text = read_bytes(file);
  Documents out;
  out.sha256 = sha256_hex(text);
  if (file.extension() == ".zst") text = unzstd(file, text);
  std::set<std::string> seen;
  int line = 0;
  for (std::size_t begin = 0; begin < text.size();) {
    auto end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string_view row(text.data() + begin, end - begin);
    begin = end + 1;
    ++line;
    if (row.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const auto where = file.string() + ":" + std::to_string(line) + ": ";
    try {
      const auto j = nlohmann::json::parse(row);
      if (!j.is_object() || !j.contains("id") || !j.contains("text") || !j["text"].is_string())
        throw InputError("expected an object with an \"id\" and a string \"text\"");
      auto id = id_of(j["id"]);
      if (!seen.insert(id).second) throw InputError("id '" + id + "' repeated");
      if (ids.count(id))
        out.by_id.emplace(std::move(id), Document{j["text"].get<std::string>(), line});
    } catch (const nlohmann::json::exception& e) {
      throw InputError(where + "not valid JSON (" + e.what() + ")");
    } catch (const InputError& e) {
      throw InputError(where + e.what());
    }
  }
  return out;
}

}  // namespace sg::detectors::repetition
