// JSON of checkpoint metadata (config.json, a safetensors header, the shard index), parsed
// strictly, because these files come from strangers and other tools read them too.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace sg::model {

// Deeper nesting than any of these files has; deeper input is refused at parse time, because
// printing a value in an error message (json::dump) recurses once per level.
inline constexpr int kMaxJsonDepth = 64;

// The most bytes of JSON stagegate reads from a checkpoint: config.json, the shard index, a
// safetensors header. GPT-2 XL's header is 60 KB; a parsed JSON value takes many times its
// text in memory, so the safetensors format's own 100 MB header cap is too loose to hold to.
inline constexpr std::uintmax_t kMaxJsonBytes = 16u << 20;

// Parses `text` as one JSON object. Refuses (sg::InputError naming `where`): invalid JSON, a
// value that is not an object, nesting beyond kMaxJsonDepth, and a key repeated within one
// object, since Python keeps the last of two equal keys and other readers the first: a file
// that means different things to different readers is not audited as either.
nlohmann::json parse_strict_json_object(std::string_view text, const std::string& where);

// Reads a whole metadata file, refusing one beyond kMaxJsonBytes before reading it.
std::string read_metadata_file(const std::filesystem::path& path);

}  // namespace sg::model
