#include "model/identity.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/errors.hpp"
#include "common/sha256.hpp"

namespace sg::model {

namespace fs = std::filesystem;

namespace {

struct FileStamp {
  std::uint64_t dev, ino, size;
  std::int64_t mtime_ns, ctime_ns;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) throw InputError(file.string() + ": cannot stat");
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
          static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

nlohmann::json to_json(const FileStamp& s) {
  return {{"dev", s.dev},
          {"ino", s.ino},
          {"size", s.size},
          {"mtime_ns", s.mtime_ns},
          {"ctime_ns", s.ctime_ns}};
}

}  // namespace

std::string sha256_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string() + ": cannot be read");
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(std::string_view(buf.data(), static_cast<std::size_t>(in.gcount())));
  }
  if (in.bad()) throw RuntimeError(file.string() + ": read error while hashing");
  return h.hex();
}

std::string checkpoint_sha256(const std::vector<fs::path>& weight_files) {
  if (weight_files.size() == 1) return sha256_file(weight_files.front());
  auto files = weight_files;
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  Sha256 h;
  for (const auto& f : files) {
    std::string line = f.filename().string() + " " + sha256_file(f) + "\n";
    h.update(line);
  }
  return h.hex();
}

std::string cached_checkpoint_sha256(const std::vector<fs::path>& weight_files,
                                     const fs::path& cache_dir, bool force_rehash) {
  nlohmann::json stamps = nlohmann::json::array();
  std::string key_text;
  for (const auto& f : weight_files) {
    auto abs = fs::absolute(f).lexically_normal();
    stamps.push_back({{"path", abs.string()}, {"stamp", to_json(stamp(f))}});
    key_text += abs.string() + "\n";
  }
  Sha256 key;
  key.update(key_text);
  const fs::path entry = cache_dir / (key.hex() + ".json");
  if (!force_rehash && fs::exists(entry)) {
    try {
      std::ifstream in(entry);
      auto j = nlohmann::json::parse(in);
      if (j.at("files") == stamps) return j.at("sha256").get<std::string>();
    } catch (const std::exception&) {
      // A damaged cache entry is simply recomputed.
    }
  }
  std::string digest = checkpoint_sha256(weight_files);
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (!ec) {
    // Written to a temporary name of this process and renamed, so a reader never sees half
    // an entry and two processes filling the same entry never write into one file. The cache
    // is an optimisation: failing to write it is not an error.
    fs::path tmp = entry;
    tmp += ".tmp." + std::to_string(::getpid());
    bool written = false;
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << nlohmann::json{{"files", stamps}, {"sha256", digest}}.dump();
      out.flush();
      written = static_cast<bool>(out);
    }
    if (written) fs::rename(tmp, entry, ec);
    if (!written || ec) fs::remove(tmp, ec);
  }
  return digest;
}

}  // namespace sg::model
