#include "model/safetensors_reader.hpp"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/errors.hpp"
#include "model/strict_json.hpp"

namespace sg::model {

namespace {

// Far beyond any real tensor (GPT-2 XL's largest has 8e7 elements), and small enough that
// elements x dtype size cannot overflow.
constexpr std::uint64_t kMaxElements = 1ull << 40;

std::optional<DType> parse_dtype(const std::string& s) {
  if (s == "F32") return DType::kF32;
  if (s == "F16") return DType::kF16;
  if (s == "BF16") return DType::kBF16;
  return std::nullopt;
}

std::size_t any_dtype_size(const std::string& s) {
  if (s == "F64" || s == "I64" || s == "U64") return 8;
  if (s == "F32" || s == "I32" || s == "U32") return 4;
  if (s == "F16" || s == "BF16" || s == "I16" || s == "U16") return 2;
  if (s == "I8" || s == "U8" || s == "BOOL" || s == "F8_E4M3" || s == "F8_E5M2") return 1;
  return 0;
}

}  // namespace

std::map<std::string, TensorView> parse_safetensors(std::span<const std::byte> bytes,
                                                    const std::string& where,
                                                    const SafetensorsSkipFn& skip) {
  std::map<std::string, TensorView> tensors;
  if (bytes.size() < 8)
    throw InputError(where + ": " + std::to_string(bytes.size()) +
                     " bytes; a safetensors file starts with an 8-byte header length "
                     "(truncated file?)");
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i)
    header_len = (header_len << 8) | static_cast<std::uint8_t>(bytes[static_cast<std::size_t>(i)]);
  if (header_len > bytes.size() - 8)
    throw InputError(where + ": header length " + std::to_string(header_len) +
                     " (bytes 0-7) runs past the end of the file (" + std::to_string(bytes.size()) +
                     " bytes): truncated or not a safetensors file");
  if (header_len > kMaxJsonBytes)
    throw InputError(where + ": header length " + std::to_string(header_len) +
                     " (bytes 0-7) exceeds stagegate's limit of 16 MiB (" +
                     std::to_string(kMaxJsonBytes) + " bytes)");
  const nlohmann::json header = parse_strict_json_object(
      std::string_view(reinterpret_cast<const char*>(bytes.data()) + 8, header_len),
      where + ": header");

  const std::size_t data_start = 8 + static_cast<std::size_t>(header_len);
  const std::size_t data_size = bytes.size() - data_start;
  struct Extent {
    std::uint64_t begin, end;
    std::string name;
  };
  std::vector<Extent> extents;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string at = where + ": tensor '" + name + "'";
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") ||
        !info.contains("data_offsets"))
      throw InputError(at + " lacks dtype, shape or data_offsets");
    if (!info["dtype"].is_string()) throw InputError(at + ": dtype is not a string");
    std::string dtype_name = info["dtype"].get<std::string>();
    const auto& shape_j = info["shape"];
    const auto& off = info["data_offsets"];
    if (!shape_j.is_array()) throw InputError(at + ": shape is not an array");
    std::vector<std::int64_t> shape;
    std::uint64_t numel = 1;
    for (const auto& d : shape_j) {
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
        throw InputError(at + ": shape " + shape_j.dump() +
                         " has a dimension that is not a whole number >= 0");
      shape.push_back(d.get<std::int64_t>());
      if (shape.back() != 0 && numel > kMaxElements / static_cast<std::uint64_t>(shape.back()))
        throw InputError(at + ": shape " + shape_j.dump() + " has more than 2^40 elements");
      numel *= static_cast<std::uint64_t>(shape.back());
    }
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned())
      throw InputError(at + ": data_offsets " + off.dump() + " is not [begin, end]");
    auto begin = off[0].get<std::uint64_t>(), end = off[1].get<std::uint64_t>();
    if (begin > end) throw InputError(at + ": data_offsets " + off.dump() + " has begin > end");
    if (end > data_size)
      throw InputError(at + ": data_offsets " + off.dump() + " end past the " +
                       std::to_string(data_size) + " bytes of data (its bytes " +
                       std::to_string(data_start + begin) + "-" + std::to_string(data_start + end) +
                       " of a " + std::to_string(bytes.size()) + "-byte file; truncated file?)");
    bool skipped = skip && skip(name);
    auto dtype = parse_dtype(dtype_name);
    std::size_t elem = dtype ? dtype_size(*dtype) : any_dtype_size(dtype_name);
    if (!dtype && !skipped)
      throw InputError(at + " has dtype " + dtype_name + "; stagegate reads F32, F16 and BF16");
    // A skipped buffer of a dtype we cannot size is still bounds- and overlap-checked.
    if (elem != 0 && end - begin != numel * elem)
      throw InputError(at + ": " + std::to_string(end - begin) + " bytes for shape " +
                       shape_j.dump() + " of " + dtype_name + " (expected " +
                       std::to_string(numel * elem) + ")");
    if (end > begin) extents.push_back({begin, end, name});  // an empty tensor overlaps nothing
    if (skipped) continue;
    TensorView t;
    t.name = name;
    t.file = where;
    t.dtype = *dtype;
    t.shape = std::move(shape);
    t.data = bytes.subspan(data_start + begin, end - begin);
    tensors.emplace(name, std::move(t));
  }
  std::sort(extents.begin(), extents.end(),
            [](const Extent& a, const Extent& b) { return a.begin < b.begin; });
  for (std::size_t i = 1; i < extents.size(); ++i) {
    if (extents[i].begin < extents[i - 1].end)
      throw InputError(
          where + ": tensors '" + extents[i - 1].name + "' and '" + extents[i].name +
          "' overlap in the data (data_offsets [" + std::to_string(extents[i - 1].begin) + ", " +
          std::to_string(extents[i - 1].end) + "] and [" + std::to_string(extents[i].begin) + ", " +
          std::to_string(extents[i].end) + "])");
  }
  return tensors;
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path, const SkipFn& skip)
    : file_(path), tensors_(parse_safetensors(file_.bytes(), file_.path().string(), skip)) {}

}  // namespace sg::model
