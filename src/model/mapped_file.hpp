// A read-only memory mapping of a whole file, unmapped on destruction.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>

namespace sg::model {

class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);  // throws InputError
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }
  // Drops the mapped pages from the resident set; they are re-read from the file on access.
  void release_pages() const;
  // The same for the whole pages inside `range` (a part of this mapping).
  void release_pages(std::span<const std::byte> range) const;

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace sg::model
