// Who holds a run: enough about a process to tell later, without its help, whether it is
// still alive. A lease that needs its holder to let go is useless after kill -9; one that
// only expires after a timeout either lets two processes work one run (a slow step outlives
// the timeout) or makes a resume wait. On the holder's own machine (and WAL databases live on
// one machine: WAL needs shared memory) the kernel knows: the holder is alive exactly while a
// process with its pid and its start time exists in the same boot. Only a holder on another
// host falls back to its heartbeat's age.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sg::db {

struct ProcessIdentity {
  std::string host;
  std::string boot_id;  // /proc/sys/kernel/random/boot_id: pids restart at each boot
  std::int64_t pid = 0;
  std::int64_t start_ticks = 0;  // /proc/PID/stat start time: tells a reused pid apart
};

ProcessIdentity current_process();

enum class Liveness { kAlive, kDead, kUnknown /* another host: only its heartbeat tells */ };

Liveness liveness(const ProcessIdentity& holder);

// Start time (clock ticks after boot) of a running process; nullopt when there is none.
std::optional<std::int64_t> process_start_ticks(std::int64_t pid);

// 128 random bits in hex: names one claim, so a holder can tell its own lease from a
// later claim of the same run by a process that happens to reuse its pid.
std::string new_lease_token();

}  // namespace sg::db
