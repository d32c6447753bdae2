// `stagegate serve`: the OpenAI-compatible completions API over the stages a release policy
// lets each audience use, with the policy's filters on every completion and every request
// logged to the store.
//
//   POST /v1/completions   the OpenAI API's (completion_request.hpp), streaming included
//   GET  /v1/models        the stages this key's audience may use now
//   GET  /health           {"status": "ok", "stages": [...]}; no key needed
//   GET  /metrics          Prometheus text: requests, tokens, queue depth, filter events
//
// Access is decided when the server starts and again on reload(): the policy and the keys
// file are read anew, each stage's decision is looked up and its weights hashed again, so a
// stage whose decision is no longer `approved` (or whose files changed) stops being served
// without a restart. Requests already running finish on what they started with.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace sg::serve {

struct ServerOptions {
  std::filesystem::path policy;
  std::filesystem::path db;
  std::filesystem::path keys;
  std::string host = "127.0.0.1";
  int port = 8080;                       // 0: any free port (port() says which)
  int max_batch = 8;                     // KV-cache slots per stage: sequences decoded together
  std::size_t queue = 256;               // choices waiting for a slot, per stage; beyond: 503
  int http_threads = 64;                 // connections handled at once
  std::size_t max_body_bytes = 1 << 20;  // beyond: 413
  int read_timeout_seconds = 10;         // a body slower than this is dropped (slowloris)
  std::optional<int> device;             // Vulkan device index
};

class Server {
 public:
  // Reads the policy, the keys and the store, decides access, loads every stage some
  // audience may use, and binds the port. InputError / RuntimeError say what is wrong.
  explicit Server(const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  // "http://127.0.0.1:8080 serving stage1 (public, researchers), stage2 (researchers)".
  std::string describe() const;
  // Serves until stop(): requests in flight finish first.
  void run();
  // Thread-safe; returns at once.
  void stop();
  // Re-reads the policy and the keys and decides access again; on a bad file the old
  // state stays and the error is thrown.
  void reload();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::serve
