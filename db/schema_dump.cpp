#include "db/open.hpp"

namespace sg::db {

std::string canonical_schema(sqlite::Connection& db) {
  std::string out =
      "-- The stagegate audit store's schema after every migration in db/migrations/.\n"
      "-- Generated; do not edit. Regenerate: cmake --build build --target db_schema\n";
  for (const char* pragma : {"user_version", "application_id"}) {
    sqlite::Query q(db, std::string("PRAGMA ") + pragma, "reading the schema");
    out += std::string("-- PRAGMA ") + pragma + " = " +
           std::to_string(q.next() ? q.integer(0) : 0) + ";\n";
  }
  // sqlite_schema keeps each CREATE statement's text as written; objects are ordered by
  // kind, then name, so the text does not depend on creation order.
  sqlite::Query q(db,
                  "SELECT sql FROM sqlite_schema "
                  "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
                  "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 "
                  "WHEN 'view' THEN 2 ELSE 3 END, name",
                  "reading the schema");
  while (q.next()) out += "\n" + q.text(0) + ";\n";
  return out;
}

}  // namespace sg::db
