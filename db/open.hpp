// Opening a store file safely: nothing is written to a file until it is known to be an
// SQLite database that this build of stagegate owns and understands.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include "db/sqlite.hpp"

namespace sg::db {

// The `application_id` every stagegate store carries ('SGAS'; set by migration 0001).
inline constexpr int kApplicationId = 1397178707;

// Checks the file, sets the connection's pragmas and migrates it to the latest version.
// `max_size_bytes` > 0 caps the file's size (PRAGMA max_page_count).
std::unique_ptr<sqlite::Connection> open_store(const std::filesystem::path& file,
                                               std::chrono::milliseconds busy_timeout,
                                               std::int64_t max_size_bytes = 0);

// Applies the migrations the database lacks, one transaction each (db/migrate.cpp).
void migrate(sqlite::Connection& db);
int latest_version();

// "CREATE ...;" for every table, index, view and trigger, in a fixed order: what
// db/schema.sql holds (db/schema_dump.cpp).
std::string canonical_schema(sqlite::Connection& db);

}  // namespace sg::db
