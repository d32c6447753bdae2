// `stagegate verify`: implemented on its branch.
#include "cli/commands.hpp"
#include "common/errors.hpp"

namespace sg::cli {

int cmd_verify(const Args&) {
  throw UsageError("stagegate verify: not implemented yet");
}

}  // namespace sg::cli
