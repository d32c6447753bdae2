// Error kinds that map to stagegate's documented exit codes (README: "Exit codes").
#pragma once

#include <stdexcept>
#include <string>

namespace sg {

enum class ExitCode : int {
  kOk = 0,
  kRuntime = 1,   // the device, the disk or the database failed
  kUsage = 2,     // unknown flag, bad value, missing option
  kBadInput = 3,  // a checkpoint, file, text or id list that cannot be used
  kRejected = 4,  // decide: a stage was rejected (the decisions are recorded)
  kDenied = 5,    // a stage that is not available to this audience was asked for
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// A command line that cannot be obeyed.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(ExitCode::kUsage, message) {}
};

// Input data that cannot be used. The message names the file and the field, tensor,
// line or byte offset at fault.
class InputError : public Error {
 public:
  explicit InputError(const std::string& message) : Error(ExitCode::kBadInput, message) {}
};

// The runtime failed (device lost, out of memory, I/O error).
class RuntimeError : public Error {
 public:
  explicit RuntimeError(const std::string& message) : Error(ExitCode::kRuntime, message) {}
};

// A gated stage asked for by an audience that may not use it (release/access.hpp).
class AccessDenied : public Error {
 public:
  explicit AccessDenied(const std::string& message) : Error(ExitCode::kDenied, message) {}
};

}  // namespace sg
