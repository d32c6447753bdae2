// A running `stagegate serve`, in process, on a free loopback port: the GPT-2 test fixture as
// the policy's one stage (tests/release/gate_fixture.hpp), a keys file with a key for each
// audience, and an HTTP client. The policy: `researchers` may use the stage unreleased and
// have their text logged; `public` needs it approved, is limited to 30 requests a minute,
// and gets a loop stop; `strict` gets a toxicity filter that refuses every completion;
// `limited` may send one request a minute.
#pragma once

#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/sha256.hpp"
#include "release/gate_fixture.hpp"
#include "serve/api_keys.hpp"
#include "serve/server.hpp"

namespace sg::testing {

struct Reply {
  int status = 0;
  nlohmann::json body;
};

class ServeFixture {
 public:
  explicit ServeFixture(const std::string& extra_policy = "", int max_batch = 4,
                        std::size_t queue = 64) {
    const std::string text =
        "[family]\nname = test\n"
        "[stage.stage1]\ncheckpoint = stage1\nsha256 = " +
        g.sha256() +
        "\naudiences = researchers, public, strict, limited\n"
        "[audience.researchers]\nunreleased = true\nlog_text = true\n"
        "[audience.public]\nunreleased = false\nrequests_per_minute = 30\nfilters = loops\n"
        "[audience.strict]\nunreleased = true\nfilters = refuse-all\n"
        "[audience.limited]\nunreleased = true\nrequests_per_minute = 1\n"
        "[filter.loops]\ntype = repetition\nstop_on_loop = true\nloop_min_length = 8\n"
        // Threshold 0: every completion is refused, so a test sees that the filter ran.
        "[filter.refuse-all]\ntype = toxicity\naction = refuse\nthreshold = 0\n" +
        extra_policy;
    std::ofstream(policy_file(), std::ios::binary) << text;
    g.policy().sha256 = sha256_hex(text);  // decisions are recorded under the file's hash
    auto keys = serve::KeysFile::read(keys_file());
    researcher_key = keys.add("researchers", "r");
    public_key = keys.add("public", "p");
    strict_key = keys.add("strict", "s");
    limited_key = keys.add("limited", "l");
    revoked_key = keys.add("researchers", "gone");
    keys.revoke(keys.keys().back().id);
    keys.write();
    options.policy = policy_file();
    options.db = g.dir() / "audit.db";
    options.keys = keys_file();
    options.port = 0;
    options.max_batch = max_batch;
    options.queue = queue;
    options.read_timeout_seconds = 2;
    options.max_body_bytes = 64 * 1024;
  }
  ~ServeFixture() { stop(); }

  void start() {
    server = std::make_unique<serve::Server>(options);
    thread = std::thread([this] { server->run(); });
    client = std::make_unique<httplib::Client>("127.0.0.1", server->port());
    client->set_read_timeout(120, 0);
    // run() may not be listening yet: wait until it answers.
    for (int i = 0; i < 200 && !client->Get("/health"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  void stop() {
    if (!server) return;
    server->stop();
    if (thread.joinable()) thread.join();
    client.reset();
    server.reset();
  }

  Reply post(const std::string& key, const nlohmann::json& body) {
    return post_raw(key, body.dump());
  }
  Reply post_raw(const std::string& key, const std::string& body) {
    httplib::Headers h;
    if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
    auto r = client->Post("/v1/completions", h, body, "application/json");
    if (!r) return {-1, {}};
    return {r->status, nlohmann::json::parse(r->body, nullptr, false)};
  }
  Reply get(const std::string& path, const std::string& key = "") {
    httplib::Headers h;
    if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
    auto r = client->Get(path, h);
    if (!r) return {-1, {}};
    return {r->status, nlohmann::json::parse(r->body, nullptr, false)};
  }

  std::filesystem::path policy_file() const { return g.dir() / "policy.ini"; }
  std::filesystem::path keys_file() const { return g.dir() / "keys.json"; }

  GateFixture g;
  serve::ServerOptions options;
  std::string researcher_key, public_key, strict_key, limited_key, revoked_key;
  std::unique_ptr<serve::Server> server;
  std::thread thread;
  std::unique_ptr<httplib::Client> client;
};

}  // namespace sg::testing
