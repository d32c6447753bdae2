#include "common/sha256.hpp"
#include "db/migrations.hpp"
#include "db/open.hpp"

namespace sg::db {

int latest_version() {
  return static_cast<int>(migrations().size());
}

void migrate(sqlite::Connection& db) {
  for (const Migration& m : migrations()) {
    const std::string doing = "applying migration " + std::string(m.name);
    sqlite::Transaction tx(db, doing);
    // Read inside the write lock: another process opening the same new file may have
    // applied it a moment ago.
    std::int64_t version = 0;
    {
      sqlite::Query q(db, "PRAGMA user_version", doing);
      if (q.next()) version = q.integer(0);
    }
    if (version >= m.version) continue;
    db.exec(m.sql, doing);
    sqlite::Query(db,
                  "INSERT INTO schema_migrations (version, name, sha256, applied_at) "
                  "VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                  doing)
        .bind_all(m.version, m.name, sha256_hex(m.sql))
        .run();
    db.exec("PRAGMA user_version = " + std::to_string(m.version), doing);
    tx.commit();
  }
}

}  // namespace sg::db
