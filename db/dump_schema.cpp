// Writes db/schema.sql: the schema an empty database has after every migration. Run through
// the `db_schema` build target; tests/db checks that the committed file matches.
#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "db/open.hpp"
#include "db/store.hpp"

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc != 2) {
    std::cerr << "usage: stagegate_db_schema OUTPUT.sql\n";
    return 2;
  }
  try {
    const fs::path dir = fs::temp_directory_path() / ("sg-schema-" + std::to_string(getpid()));
    fs::create_directories(dir);
    std::string schema;
    { sg::db::Store store(dir / "store.db"); }
    {
      sg::db::sqlite::Connection db(dir / "store.db");
      schema = sg::db::canonical_schema(db);
    }
    fs::remove_all(dir);
    std::ofstream(argv[1], std::ios::binary | std::ios::trunc) << schema;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "stagegate_db_schema: " << e.what() << "\n";
    return 1;
  }
}
