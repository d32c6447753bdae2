// Reads a .safetensors file: an 8-byte little-endian header length, a JSON header naming
// each tensor's dtype, shape and [begin, end) offsets in the data that follows. Every
// offset and size is checked at open, so a truncated or malicious file is an error naming
// the file, tensor and bytes, never a read past the end.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "model/mapped_file.hpp"
#include "model/tensor.hpp"

namespace sg::model {

class SafetensorsFile {
 public:
  // `skip` returns true for names whose content is not needed (mask buffers): they are
  // bounds-checked but may have any dtype, and are not listed in tensors().
  using SkipFn = std::function<bool(const std::string&)>;
  explicit SafetensorsFile(const std::filesystem::path& path, const SkipFn& skip = {});

  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const MappedFile& file() const { return file_; }

 private:
  MappedFile file_;
  std::map<std::string, TensorView> tensors_;
};

}  // namespace sg::model
