// `stagegate policy`: implemented on its branch.
#include "cli/commands.hpp"
#include "common/errors.hpp"

namespace sg::cli {

int cmd_policy(const Args&) {
  throw UsageError("stagegate policy: not implemented yet");
}

}  // namespace sg::cli
