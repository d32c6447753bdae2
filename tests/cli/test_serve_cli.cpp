// `stagegate serve` as a process: it says where it listens and what it serves, reloads on
// SIGHUP (a stage revoked meanwhile stops being served), finishes on SIGTERM with exit 0 and
// the store consistent, and refuses bad options and files with their exit codes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "cli/run_command.hpp"
#include "db/store_test_util.hpp"
#include "serve/serve_fixture.hpp"

namespace sg::testing {
namespace {

// A port nobody listens on now (the kernel's pick, released again).
int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  close(s);
  return ntohs(addr.sin_port);
}

std::vector<std::string> serve_args(const ServeFixture& f, int port) {
  return {"serve",
          "--policy",
          f.policy_file().string(),
          "--db",
          f.options.db.string(),
          "--keys",
          f.keys_file().string(),
          "--port",
          std::to_string(port)};
}

TEST(ServeCli, ServesReloadsOnSighupAndStopsCleanlyOnSigterm) {
  ServeFixture f;
  f.g.decide("approved", "");
  const int port = free_port();
  RunningStagegate server(serve_args(f, port));
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(60, 0);
  const httplib::Headers auth{{"Authorization", "Bearer " + f.public_key}};
  const std::string body = R"({"model": "stage1", "prompt": "hi", "max_tokens": 4})";
  bool up = false;
  for (int i = 0; i < 300 && !up; ++i) {
    up = static_cast<bool>(client.Get("/health"));
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(up) << "the server never answered";
  auto post = [&] { return client.Post("/v1/completions", auth, body, "application/json"); };
  auto served = post();
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200) << served->body;

  f.g.decide("revoked", "a leak was found");
  server.signal(SIGHUP);
  int status = 200;
  for (int i = 0; i < 200 && status == 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto again = post();
    status = again ? again->status : -1;
  }
  EXPECT_EQ(status, 403) << "the revocation did not take effect on SIGHUP";

  server.signal(SIGTERM);
  const auto done = server.wait();
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.err.find("http://127.0.0.1:" + std::to_string(port) + " serving stage1"),
            std::string::npos)
      << done.err;
  EXPECT_NE(done.err.find("reloaded"), std::string::npos) << done.err;
  EXPECT_NE(done.err.find("stopped"), std::string::npos) << done.err;
  RawDb raw(f.options.db);
  EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(raw.text("SELECT group_concat(status_code, ' ') FROM (SELECT status_code FROM "
                     "server_requests ORDER BY id LIMIT 2)"),
            "200 403");
}

TEST(ServeCli, BadOptionsAndFilesAreRefusedWithTheirExitCodes) {
  ServeFixture f;
  auto args = serve_args(f, 0);
  auto with = [&](std::vector<std::string> extra) {
    auto a = args;
    a.insert(a.end(), extra.begin(), extra.end());
    return run_stagegate(a);
  };
  auto r = with({"--max-batch", "0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--max-batch"), std::string::npos) << r.err;
  r = with({"--bogus"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_stagegate({"serve", "--policy", f.policy_file().string(), "--db",
                     (f.g.dir() / "nothing.db").string(), "--keys", f.keys_file().string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("nothing.db"), std::string::npos) << r.err;
  r = run_stagegate({"serve", "--policy", f.policy_file().string(), "--db", f.options.db.string(),
                     "--keys", (f.g.dir() / "none.json").string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("none.json"), std::string::npos) << r.err;
  std::ofstream(f.policy_file(), std::ios::app) << "[stage.broken]\nnot_a_key = 1\n";
  r = with({});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("policy.ini:"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sg::testing
