// One process works a run at a time, and a process that died (kill -9, reboot) is recognised
// without its help, so its run is resumed rather than stuck or shared.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/errors.hpp"
#include "db/process_identity.hpp"
#include "store_test_util.hpp"

namespace sg::db {
namespace {

using testing::RawDb;
using testing::TempDir;
namespace fs = std::filesystem;

TEST(ProcessIdentity, TellsThisProcessAliveAndAReusedPidDead) {
  const auto me = current_process();
  EXPECT_FALSE(me.host.empty());
  EXPECT_GT(me.start_ticks, 0);
  EXPECT_EQ(liveness(me), Liveness::kAlive);
  auto reused = me;
  reused.start_ticks += 1;
  EXPECT_EQ(liveness(reused), Liveness::kDead);
  auto rebooted = me;
  rebooted.boot_id = "another-boot";
  EXPECT_EQ(liveness(rebooted), Liveness::kDead);
  auto remote = me;
  remote.host = "elsewhere.example";
  EXPECT_EQ(liveness(remote), Liveness::kUnknown);
}

TEST(Leases, AHeldRunIsNotClaimedByAnotherStore) {
  TempDir dir;
  Store a(dir / "s.db");
  const auto run = testing::create_run(a, testing::new_run(testing::add_checkpoint(a), 1));
  Store b(dir / "s.db");
  const auto claim = b.claim_run(run);
  EXPECT_EQ(claim.outcome, ClaimResult::Outcome::kHeld);
  ASSERT_TRUE(claim.holder);
  EXPECT_EQ(claim.holder->pid, static_cast<std::int64_t>(getpid()));
  EXPECT_THROW(b.heartbeat(run), LeaseLostError);
  EXPECT_THROW(b.add_prompts(run, {{"p", "prompts", "x"}}), LeaseLostError);
  EXPECT_TRUE(a.prompts(run).empty());
  a.heartbeat(run);
}

TEST(Leases, AKilledHoldersRunIsRecoveredAndResumed) {
  TempDir dir;
  const auto file = dir / "s.db";
  std::int64_t ckpt = 0;
  {
    Store s(file);
    ckpt = testing::add_checkpoint(s);
  }
  int to_parent[2], to_child[2];
  ASSERT_EQ(pipe(to_parent), 0);
  ASSERT_EQ(pipe(to_child), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Store s(file);
    std::int64_t run = testing::create_run(s, testing::new_run(ckpt, 2));
    s.add_prompts(run, {{"p1", "prompts", "Hi"}});
    s.add_sample(testing::sample(run, "greedy", "p1", 0));
    (void)!write(to_parent[1], &run, sizeof run);
    char c;
    (void)!read(to_child[0], &c, 1);  // held until killed
    _exit(0);
  }
  std::int64_t run = 0;
  ASSERT_EQ(read(to_parent[0], &run, sizeof run), static_cast<ssize_t>(sizeof run));

  Store s(file);
  EXPECT_EQ(s.claim_run(run).outcome, ClaimResult::Outcome::kHeld);  // alive: left alone
  EXPECT_TRUE(s.recover_abandoned_runs().empty());

  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_EQ(s.run(run)->status, RunStatus::kRunning);  // nothing has looked yet
  EXPECT_EQ(s.recover_abandoned_runs(), std::vector<std::int64_t>{run});
  const auto interrupted = s.run(run);
  EXPECT_EQ(interrupted->status, RunStatus::kInterrupted);
  EXPECT_NE(interrupted->error.find("pid " + std::to_string(child)), std::string::npos)
      << interrupted->error;
  EXPECT_TRUE(interrupted->ended_at);

  const auto claim = s.claim_run(run);
  EXPECT_EQ(claim.outcome, ClaimResult::Outcome::kClaimed);
  EXPECT_EQ(s.run(run)->status, RunStatus::kRunning);
  EXPECT_EQ(s.existing_sample_keys(run), (std::set<SampleKey>{{"greedy", "p1", 0}}));
  s.add_sample(testing::sample(run, "greedy", "p1", 1));
  s.finish_run(run, RunStatus::kCompleted);
  close(to_parent[0]);
  close(to_parent[1]);
  close(to_child[0]);
  close(to_child[1]);
}

TEST(Leases, ClaimRecognisesADeadHolderDirectly) {
  TempDir dir;
  const auto file = dir / "s.db";
  std::int64_t run = 0;
  {
    Store s(file);
    run = testing::create_run(s, testing::new_run(testing::add_checkpoint(s), 1));
    // Make the lease look like a previous process with this pid (a reused pid).
    RawDb raw(file);
    raw.exec("UPDATE run_leases SET pid_start = pid_start + 1");
    Store other(file);
    const auto claim = other.claim_run(run);
    EXPECT_EQ(claim.outcome, ClaimResult::Outcome::kClaimed);
    EXPECT_TRUE(claim.recovered);
    ASSERT_TRUE(claim.holder);
    // The first Store lost the run: its writes stop, and write nothing.
    EXPECT_THROW(s.add_prompts(run, {{"p", "prompts", "x"}}), LeaseLostError);
    EXPECT_THROW(s.heartbeat(run), LeaseLostError);
    other.add_prompts(run, {{"p", "prompts", "y"}});
    EXPECT_EQ(other.prompts(run).at(0).text, "y");
  }
}

TEST(Leases, AHolderOnAnotherHostExpiresWithItsHeartbeat) {
  TempDir dir;
  const auto file = dir / "s.db";
  Store::Options options;
  options.foreign_lease_timeout = std::chrono::seconds(60);
  Store s(file, options);
  const auto run = testing::create_run(s, testing::new_run(testing::add_checkpoint(s), 1));
  s.finish_run(run, RunStatus::kInterrupted);
  RawDb raw(file);
  raw.exec(
      "UPDATE audit_runs SET status = 'running';"
      "INSERT INTO run_leases VALUES (1, 'tok', 'elsewhere.example', 'b', 7, 7, "
      "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
  EXPECT_EQ(s.claim_run(run).outcome, ClaimResult::Outcome::kHeld);
  raw.exec(
      "UPDATE run_leases SET heartbeat_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-61 seconds')");
  const auto claim = s.claim_run(run);
  EXPECT_EQ(claim.outcome, ClaimResult::Outcome::kClaimed);
  EXPECT_TRUE(claim.recovered);
  EXPECT_EQ(claim.holder->host, "elsewhere.example");
}

TEST(Leases, ClosingAStoreReleasesItsRunsAsInterrupted) {
  TempDir dir;
  std::int64_t run = 0;
  {
    Store s(dir / "s.db");
    run = testing::create_run(s, testing::new_run(testing::add_checkpoint(s), 1));
  }
  Store s(dir / "s.db");
  const auto r = s.run(run);
  EXPECT_EQ(r->status, RunStatus::kInterrupted);
  EXPECT_FALSE(r->lease);
  const auto claim = s.claim_run(run);
  EXPECT_EQ(claim.outcome, ClaimResult::Outcome::kClaimed);
  EXPECT_FALSE(claim.recovered);
}

TEST(Leases, AClaimedRunIsReclaimedByItsHolderWithoutChange) {
  TempDir dir;
  Store s(dir / "s.db");
  const auto run = testing::create_run(s, testing::new_run(testing::add_checkpoint(s), 1));
  const auto claim = s.claim_run(run);
  EXPECT_EQ(claim.outcome, ClaimResult::Outcome::kClaimed);
  EXPECT_FALSE(claim.recovered);
  EXPECT_THROW(s.claim_run(99), InputError);
}

}  // namespace
}  // namespace sg::db
