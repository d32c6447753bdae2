// Per-sample seeds: derived from the plan and the sample's place in it, so a resumed run
// draws exactly the samples an uninterrupted one would have, on any device.
#pragma once

#include <cstdint>
#include <string_view>

namespace sg::audit {

// The first 8 bytes (big-endian) of SHA-256(plan_hash NUL strategy NUL prompt_id NUL
// decimal sample_index). The NULs keep ("ab", "c") and ("a", "bc") apart.
std::uint64_t sample_seed(std::string_view plan_hash, std::string_view strategy,
                          std::string_view prompt_id, std::int64_t sample_index);

}  // namespace sg::audit
