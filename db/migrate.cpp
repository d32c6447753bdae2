#include "common/errors.hpp"
#include "common/sha256.hpp"
#include "db/migrations.hpp"
#include "db/open.hpp"

namespace sg::db {

int latest_version() {
  return static_cast<int>(migrations().size());
}

namespace {

// A migration may rebuild a table (SQLite cannot change a constraint in place), and dropping
// the old table with foreign keys on would delete every row that references it. SQLite's
// procedure: keys off around the migration (the pragma is ignored inside a transaction),
// and a foreign_key_check before each commit.
class ForeignKeysOff {
 public:
  explicit ForeignKeysOff(sqlite::Connection& db) : db_(db) {
    db_.exec("PRAGMA foreign_keys=OFF", "disabling foreign keys for migrations");
  }
  ~ForeignKeysOff() {
    try {
      db_.exec("PRAGMA foreign_keys=ON", "enabling foreign keys");
    } catch (...) {
      // The connection is unusable for writes then; its next statement reports why.
    }
  }
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

 private:
  sqlite::Connection& db_;
};

}  // namespace

void migrate(sqlite::Connection& db) {
  ForeignKeysOff keys_off(db);
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
    {
      sqlite::Query check(db, "PRAGMA foreign_key_check", doing);
      if (check.next())
        throw RuntimeError(db.file().string() + ": " + doing + " would leave a row of table '" +
                           check.text(0) + "' pointing at a missing '" + check.text(2) +
                           "' row; nothing was changed");
    }
    tx.commit();
  }
}

}  // namespace sg::db
