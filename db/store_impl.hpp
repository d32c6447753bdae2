// Store's private state, shared by the files that implement its calls (store*.cpp).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "db/process_identity.hpp"
#include "db/sqlite.hpp"
#include "db/store.hpp"

namespace sg::db {

// The current time in SQL, as every stored time is written: ISO-8601 UTC, milliseconds. A
// macro so that statements stay compile-time literals (and so cached statement keys).
#define SG_SQL_NOW "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

struct Store::Impl {
  std::unique_ptr<sqlite::Connection> db;
  Options options;
  ProcessIdentity me;
  std::map<std::int64_t, std::string> leases;          // runs this Store holds -> lease token
  std::map<std::int64_t, std::string> pending_leases;  // taken in the open transaction

  std::string where() const { return db->file().string(); }
  // Inside a write transaction: the run is still held by this Store (else LeaseLostError);
  // refreshes its heartbeat.
  void require_lease(std::int64_t run_id, std::string_view doing);
  // Inside a write transaction (store_runs.cpp): a new 'running' run held by this Store,
  // the claim of an existing one, and the lease they take (held once commit_leases runs).
  std::int64_t insert_run(const NewRun& run, std::string_view doing);
  ClaimResult claim(std::int64_t run_id, std::string_view status, std::string_view doing);
  void take_lease(std::int64_t run_id, std::string_view doing);
  void commit_leases();
};

// Inside a write transaction (store_samples.cpp).
void store_filter_event(sqlite::Connection& db, const FilterEventRecord& event,
                        std::string_view doing);

}  // namespace sg::db
