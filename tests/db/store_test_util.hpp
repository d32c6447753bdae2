// Helpers for the store tests: a scratch directory, raw SQLite access for inspecting and
// tampering with a database from outside the Store, and small records to write.
#pragma once

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "../common/temp_dir.hpp"
#include "db/store.hpp"

namespace sg::testing {

namespace fs = std::filesystem;

inline std::string file_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

// A connection of the test's own, outside the Store.
class RawDb {
 public:
  explicit RawDb(const fs::path& file) {
    if (sqlite3_open(file.c_str(), &db_) != SQLITE_OK)
      throw std::runtime_error("cannot open " + file.string());
    sqlite3_busy_timeout(db_, 10000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(sql + ": " + message);
    }
  }
  // The first column of the first row, as text ("" when there is no row or it is NULL).
  std::string text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  }
  long long integer(const std::string& sql) { return std::stoll("0" + text(sql)); }
  // Every row, each as its columns' values in SQLite's text form ("NULL" for NULL) joined
  // by '|'; REAL columns with 17 significant digits so that equal text means equal values.
  std::vector<std::string> rows(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
    std::vector<std::string> out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        if (c) row += "|";
        switch (sqlite3_column_type(st, c)) {
          case SQLITE_NULL:
            row += "NULL";
            break;
          case SQLITE_FLOAT: {
            char buf[40];
            std::snprintf(buf, sizeof buf, "%.17g", sqlite3_column_double(st, c));
            row += buf;
            break;
          }
          default:
            row += reinterpret_cast<const char*>(sqlite3_column_text(st, c));
        }
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(st);
    return out;
  }
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

inline std::string sha_of(char c) {
  return std::string(64, c);
}

inline std::int64_t add_checkpoint(db::Store& store, char sha = 'a',
                                   const std::string& stage = "small") {
  db::CheckpointRecord c;
  c.sha256 = sha_of(sha);
  c.path = "/models/" + stage;
  c.family = "demo";
  c.stage = stage;
  c.architecture = "gpt2";
  c.parameters = 124000000;
  c.config_json = R"({"model_type":"gpt2"})";
  return store.upsert_checkpoint(c);
}

inline db::NewRun new_run(std::int64_t checkpoint_id, std::int64_t planned,
                          const std::string& plan_hash = std::string(64, 'p')) {
  db::NewRun r;
  r.checkpoint_id = checkpoint_id;
  r.plan_path = "plans/demo.ini";
  r.plan_hash = plan_hash;
  r.plan_text = "[strategy.greedy]\nsamples = 1\n";
  r.tool_version = "0.1.0";
  r.tool_commit = "abc1234";
  r.device = "lavapipe";
  r.samples_planned = planned;
  return r;
}

// A new run held by `store` (an unfinished run of the same checkpoint and plan is abandoned).
inline std::int64_t create_run(db::Store& store, const db::NewRun& run) {
  const auto started = store.start_run(run, true);
  if (started.outcome != db::StartRunResult::Outcome::kCreated)
    throw std::runtime_error("create_run: the run was not created");
  return started.run_id;
}

inline db::SampleRecord sample(std::int64_t run_id, const std::string& strategy,
                               const std::string& prompt_id, std::int64_t index) {
  db::SampleRecord s;
  s.run_id = run_id;
  s.key = {strategy, prompt_id, index};
  s.seed = 0x8000000000000005ull + static_cast<std::uint64_t>(index);
  s.settings.temperature = 0.7;
  s.settings.top_k = 40;
  s.settings.top_p = 0.95;
  s.token_ids = {15496, 995, 0};
  s.text = "Hello world!";
  s.logprobs = {-0.1, -2.5, -1e-9};
  s.finish_reason = "length";
  s.metrics = {{"repetition.seq_rep_4", 0.25}, {"toxicity.score", 0.01}};
  return s;
}

// Appends `d` to the decision chain with a stand-in seal (the store's tests do not need the
// real hash, src/release's): the previous row's hash or 64 zeros, and the sequence as hex.
inline db::DecisionRecord append_decision(db::Store& store, const db::DecisionRecord& d) {
  return store.append_decision(d, [](db::DecisionRecord& row, const db::ChainLink& link) {
    row.prev_hash = link.head_hash.value_or(std::string(64, '0'));
    char hash[65];
    std::snprintf(hash, sizeof hash, "%064llx", static_cast<unsigned long long>(link.sequence));
    row.hash = hash;
  });
}

// Runs `body` in a child process, which exits 0 when it returns and 1 (after printing the
// error) when it throws. The child never returns into the test framework.
template <class F>
pid_t fork_child(F&& body) {
  const pid_t pid = fork();
  if (pid != 0) return pid;
  int code = 0;
  try {
    body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child %d: %s\n", static_cast<int>(getpid()), e.what());
    code = 1;
  }
  _exit(code);
}

// The child's exit code, or 128 + the signal that ended it.
inline int wait_child(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace sg::testing
