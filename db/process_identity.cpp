#include "db/process_identity.hpp"

#include <unistd.h>

#include <array>
#include <fstream>
#include <random>
#include <sstream>

namespace sg::db {

namespace {

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string host_name() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "unknown";
  return buf.data();
}

}  // namespace

std::optional<std::int64_t> process_start_ticks(std::int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return std::nullopt;
  // "pid (comm) state ppid ..." where comm may hold spaces and parentheses: fields are
  // counted from the last ')'. The start time is field 22 of the line, the 20th after comm.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  if (!(fields >> field) || field == "Z" || field == "X") return std::nullopt;  // died, unreaped
  for (int i = 1; i < 20; ++i)
    if (!(fields >> field)) return std::nullopt;
  try {
    return std::stoll(field);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

ProcessIdentity current_process() {
  ProcessIdentity me;
  me.host = host_name();
  me.boot_id = first_line("/proc/sys/kernel/random/boot_id");
  me.pid = static_cast<std::int64_t>(getpid());
  me.start_ticks = process_start_ticks(me.pid).value_or(0);
  return me;
}

Liveness liveness(const ProcessIdentity& holder) {
  const ProcessIdentity me = current_process();
  if (holder.host != me.host || holder.boot_id.empty() || me.boot_id.empty())
    return Liveness::kUnknown;
  if (holder.boot_id != me.boot_id) return Liveness::kDead;  // the machine restarted since
  const auto start = process_start_ticks(holder.pid);
  return start && *start == holder.start_ticks ? Liveness::kAlive : Liveness::kDead;
}

std::string new_lease_token() {
  std::random_device rd;
  std::ostringstream out;
  out << std::hex;
  for (int i = 0; i < 4; ++i) {
    out.width(8);
    out.fill('0');
    out << rd();
  }
  return out.str();
}

}  // namespace sg::db
