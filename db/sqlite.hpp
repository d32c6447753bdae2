// RAII over the SQLite C API: a connection, cached prepared statements, and write
// transactions. Every SQLite error becomes one of our exceptions naming the database file.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sg::db::sqlite {

class Statement;

class Connection {
 public:
  // Opens (creating if missing) read-write. Opening validates nothing: see Store's open.
  explicit Connection(const std::filesystem::path& file);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::filesystem::path& file() const { return file_; }
  sqlite3* handle() const { return db_; }

  // Runs statements that return no rows.
  void exec(std::string_view sql, std::string_view doing);
  // A prepared statement, compiled once per connection and reused.
  Statement& statement(std::string_view sql);
  // Throws the exception for SQLite result `rc` while `doing` (e.g. "storing a sample").
  [[noreturn]] void raise(int rc, std::string_view doing) const;
  void check(int rc, std::string_view doing) const {
    if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) raise(rc, doing);
  }

 private:
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
};

class Statement {
 public:
  Statement(Connection& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Connection& connection() const { return db_; }
  sqlite3_stmt* handle() const { return stmt_; }

 private:
  Connection& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// One use of a cached statement: binds parameters in order, steps through rows, and resets
// the statement (and its bindings) when it goes out of scope.
class Query {
 public:
  Query(Connection& db, std::string_view sql, std::string_view doing);
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(std::int64_t v);
  Query& bind(int v) { return bind(static_cast<std::int64_t>(v)); }
  Query& bind(double v);
  Query& bind(std::string_view v);
  Query& bind(const std::string& v) { return bind(std::string_view(v)); }
  Query& bind(const char* v) { return bind(std::string_view(v)); }
  Query& bind(std::nullopt_t);
  template <class T>
  Query& bind(const std::optional<T>& v) {
    return v ? bind(*v) : bind(std::nullopt);
  }
  template <class... A>
  Query& bind_all(const A&... values) {
    (bind(values), ...);
    return *this;
  }

  // Steps once: true when a row is available.
  bool next();
  // Steps a statement that returns no rows.
  void run();

  bool is_null(int column) const;
  std::int64_t integer(int column) const;
  double real(int column) const;
  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::optional<double> optional_real(int column) const;
  std::optional<std::int64_t> optional_integer(int column) const;

 private:
  Statement& stmt_;
  std::string doing_;
  int next_param_ = 1;
};

// A write transaction, started with BEGIN IMMEDIATE so the write lock is taken up front:
// a second writer then waits on the busy timeout instead of failing with SQLITE_BUSY when
// it would have upgraded a read lock. Rolled back unless committed.
class Transaction {
 public:
  Transaction(Connection& db, std::string_view doing);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  Connection& db_;
  std::string doing_;
  bool open_ = true;
};

}  // namespace sg::db::sqlite
