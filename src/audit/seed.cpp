#include "audit/seed.hpp"

#include <string>

#include "common/sha256.hpp"

namespace sg::audit {

std::uint64_t sample_seed(std::string_view plan_hash, std::string_view strategy,
                          std::string_view prompt_id, std::int64_t sample_index) {
  using namespace std::string_view_literals;
  Sha256 h;
  h.update(plan_hash).update("\0"sv).update(strategy).update("\0"sv).update(prompt_id);
  h.update("\0"sv).update(std::to_string(sample_index));
  const auto d = h.digest();
  std::uint64_t seed = 0;
  for (int i = 0; i < 8; ++i) seed = (seed << 8) | d[static_cast<std::size_t>(i)];
  return seed;
}

}  // namespace sg::audit
