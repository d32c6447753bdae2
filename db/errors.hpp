// Errors the store raises beyond sg::InputError (a file that is not a usable store) and
// sg::RuntimeError (any other database failure). Each message names the database file.
#pragma once

#include "common/errors.hpp"

namespace sg::db {

// SQLITE_FULL: the disk or the database's page limit is full. The write was rolled back; the
// database is consistent, and the same write succeeds once space is freed.
class DiskFullError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

// A constraint refused a write (unique key, foreign key, CHECK).
class ConstraintError : public RuntimeError {
 public:
  ConstraintError(const std::string& message, int sqlite_code)
      : RuntimeError(message), sqlite_code_(sqlite_code) {}
  int sqlite_code() const { return sqlite_code_; }  // extended code, e.g. SQLITE_CONSTRAINT_UNIQUE

 private:
  int sqlite_code_;
};

// The sample (run, strategy, prompt, index) is already stored; nothing was written.
class DuplicateSampleError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

// This process no longer holds the run it writes to (it was taken over after this process
// was presumed dead, or never claimed). Nothing was written.
class LeaseLostError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

}  // namespace sg::db
