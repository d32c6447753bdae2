#include "model/checkpoint_facts.hpp"

#include <fstream>
#include <sstream>

#include "common/errors.hpp"
#include "model/identity.hpp"

namespace sg::model {

CheckpointFacts checkpoint_facts(const Checkpoint& checkpoint) {
  CheckpointFacts f;
  f.sha256 = checkpoint_sha256(checkpoint.weight_files());
  f.path = std::filesystem::absolute(checkpoint.dir()).lexically_normal().string();
  f.architecture = std::string(to_string(checkpoint.config().arch));
  f.parameters = static_cast<std::int64_t>(checkpoint.parameter_count());
  const auto config = checkpoint.dir() / "config.json";
  std::ifstream in(config, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in || in.bad()) throw InputError(config.string() + ": cannot be read");
  f.config_json = text.str();
  return f;
}

}  // namespace sg::model
