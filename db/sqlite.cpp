#include "db/sqlite.hpp"

#include "common/errors.hpp"
#include "db/errors.hpp"

namespace sg::db::sqlite {

Connection::Connection(const std::filesystem::path& file) : file_(file) {
  // No URI parsing: a file name is a file name. FULLMUTEX: a Store may move between threads.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
  const int rc = sqlite3_open_v2(file.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw RuntimeError(file.string() + ": cannot open the database: " + why);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() {
  statements_.clear();  // finalized before the connection closes
  sqlite3_close_v2(db_);
}

void Connection::exec(std::string_view sql, std::string_view doing) {
  const std::string text(sql);
  check(sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr), doing);
}

Statement& Connection::statement(std::string_view sql) {
  auto it = statements_.find(std::string(sql));
  if (it == statements_.end())
    it = statements_.emplace(std::string(sql), std::make_unique<Statement>(*this, sql)).first;
  return *it->second;
}

void Connection::raise(int rc, std::string_view doing) const {
  const std::string what = file_.string() + ": " + std::string(doing) + ": ";
  const std::string detail = sqlite3_errmsg(db_);
  switch (rc & 0xff) {
    case SQLITE_FULL:
      throw DiskFullError(what +
                          "the database or the disk is full; nothing of this write was kept. "
                          "Free space (or raise the limit) and run again to continue");
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      throw InputError(what + "not a usable SQLite database (" + detail + ")");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      throw RuntimeError(what + "the database stayed locked by another process (" + detail + ")");
    case SQLITE_CONSTRAINT:
      throw ConstraintError(what + detail, rc);
    default:
      throw RuntimeError(what + detail + " (SQLite error " + std::to_string(rc) + ")");
  }
}

Statement::Statement(Connection& db, std::string_view sql) : db_(db) {
  const int rc = sqlite3_prepare_v3(db.handle(), sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  db.check(rc, "preparing a statement");
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Query::Query(Connection& db, std::string_view sql, std::string_view doing)
    : stmt_(db.statement(sql)), doing_(doing) {}

Query::~Query() {
  sqlite3_reset(stmt_.handle());
  sqlite3_clear_bindings(stmt_.handle());
}

Query& Query::bind(std::int64_t v) {
  stmt_.connection().check(sqlite3_bind_int64(stmt_.handle(), next_param_++, v), doing_);
  return *this;
}

Query& Query::bind(double v) {
  stmt_.connection().check(sqlite3_bind_double(stmt_.handle(), next_param_++, v), doing_);
  return *this;
}

Query& Query::bind(std::string_view v) {
  // An empty view may have no data pointer, which SQLite would bind as NULL.
  const char* data = v.data() ? v.data() : "";
  stmt_.connection().check(sqlite3_bind_text64(stmt_.handle(), next_param_++, data, v.size(),
                                               SQLITE_TRANSIENT, SQLITE_UTF8),
                           doing_);
  return *this;
}

Query& Query::bind(std::nullopt_t) {
  stmt_.connection().check(sqlite3_bind_null(stmt_.handle(), next_param_++), doing_);
  return *this;
}

bool Query::next() {
  const int rc = sqlite3_step(stmt_.handle());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  stmt_.connection().raise(rc, doing_);
}

void Query::run() {
  while (next()) {
  }
}

bool Query::is_null(int column) const {
  return sqlite3_column_type(stmt_.handle(), column) == SQLITE_NULL;
}

std::int64_t Query::integer(int column) const {
  return sqlite3_column_int64(stmt_.handle(), column);
}

double Query::real(int column) const {
  return sqlite3_column_double(stmt_.handle(), column);
}

std::string Query::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_.handle(), column);
  const int n = sqlite3_column_bytes(stmt_.handle(), column);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
           : std::string();
}

std::optional<std::string> Query::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::optional<double> Query::optional_real(int column) const {
  if (is_null(column)) return std::nullopt;
  return real(column);
}

std::optional<std::int64_t> Query::optional_integer(int column) const {
  if (is_null(column)) return std::nullopt;
  return integer(column);
}

Transaction::Transaction(Connection& db, std::string_view doing) : db_(db), doing_(doing) {
  db_.exec("BEGIN IMMEDIATE", doing_);
}

Transaction::~Transaction() {
  // After SQLITE_FULL or an I/O error SQLite may already have rolled back; autocommit then
  // says so and there is nothing left to undo.
  if (open_ && !sqlite3_get_autocommit(db_.handle()))
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT", doing_);
  open_ = false;
}

}  // namespace sg::db::sqlite
