// `stagegate decide`: implemented on its branch.
#include "cli/commands.hpp"
#include "common/errors.hpp"

namespace sg::cli {

int cmd_decide(const Args&) {
  throw UsageError("stagegate decide: not implemented yet");
}
int cmd_revoke(const Args&) {
  throw UsageError("stagegate revoke: not implemented yet");
}

}  // namespace sg::cli
