// The schema migrations, embedded at build time from db/migrations/ (db/embed_sql.cmake).
#pragma once

#include <span>
#include <string_view>

namespace sg::db {

struct Migration {
  int version;            // 1, 2, 3... = the PRAGMA user_version after it is applied
  std::string_view name;  // "0001_initial"
  std::string_view sql;
};

// In version order, without gaps.
std::span<const Migration> migrations();

}  // namespace sg::db
