// Reads a .safetensors file: an 8-byte little-endian header length, a JSON header naming
// each tensor's dtype, shape and [begin, end) offsets in the data that follows. Every
// offset and size is checked at open, so a truncated or malicious file is an error naming
// the file, tensor and bytes, never a read past the end.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "model/mapped_file.hpp"
#include "model/tensor.hpp"

namespace sg::model {

// `skip` returns true for names whose content is not needed (mask buffers): they are
// bounds-checked but may have any dtype, and are not listed.
using SafetensorsSkipFn = std::function<bool(const std::string&)>;

// The tensors of a whole safetensors file held in `bytes`, by name; each view points into
// `bytes`, which must outlive it. Throws sg::InputError naming `where`, the tensor and the
// bytes at fault. Accepted tensors lie inside the data, do not overlap, and hold exactly
// dtype size x product(shape) bytes.
std::map<std::string, TensorView> parse_safetensors(std::span<const std::byte> bytes,
                                                    const std::string& where,
                                                    const SafetensorsSkipFn& skip = {});

class SafetensorsFile {
 public:
  using SkipFn = SafetensorsSkipFn;
  explicit SafetensorsFile(const std::filesystem::path& path, const SkipFn& skip = {});

  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const MappedFile& file() const { return file_; }

 private:
  MappedFile file_;
  std::map<std::string, TensorView> tensors_;
};

}  // namespace sg::model
