// `stagegate serve --policy FILE --db FILE --keys FILE`: the OpenAI-compatible API over the
// stages the policy lets each audience use (serve/server.hpp). SIGHUP re-reads the policy and
// the keys and decides access again; SIGINT and SIGTERM stop taking connections, let the
// requests in flight finish, and exit 0.
#include <pthread.h>
#include <csignal>
#include <iostream>
#include <thread>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "serve/server.hpp"

namespace sg::cli {

namespace {

// The signals are taken by one thread with sigwait rather than by a handler, so that a
// reload runs as ordinary code (files, the store, the device) and not inside a handler.
class SignalThread {
 public:
  explicit SignalThread(serve::Server& server) : server_(server) {
    sigemptyset(&set_);
    for (int s : {SIGHUP, SIGINT, SIGTERM, SIGUSR1}) sigaddset(&set_, s);
    thread_ = std::thread([this] { loop(); });
  }
  ~SignalThread() {
    pthread_kill(thread_.native_handle(), SIGUSR1);  // wakes sigwait to end the thread
    thread_.join();
  }
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;

  // Called before any other thread starts, so that every thread inherits the mask and
  // these signals reach only sigwait.
  static void block() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGHUP, SIGINT, SIGTERM, SIGUSR1}) sigaddset(&set, s);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
  }

 private:
  void loop() {
    for (;;) {
      int signal = 0;
      if (sigwait(&set_, &signal) != 0 || signal == SIGUSR1) return;
      if (signal == SIGHUP) {
        try {
          server_.reload();
          std::cerr << "stagegate serve: reloaded: " << server_.describe() << std::endl;
        } catch (const std::exception& e) {
          std::cerr << "stagegate serve: reload refused, still serving as before: " << e.what()
                    << std::endl;
        }
        continue;
      }
      std::cerr << "stagegate serve: " << (signal == SIGINT ? "SIGINT" : "SIGTERM")
                << ": finishing the requests in flight" << std::endl;
      server_.stop();
      return;
    }
  }

  serve::Server& server_;
  sigset_t set_;
  std::thread thread_;
};

}  // namespace

int cmd_serve(const Args& args) {
  po::options_description desc("stagegate serve");
  desc.add_options()("help,h", "show this help")(
      "policy", po::value<std::string>()->required(),
      "release policy (policies/*.ini): which stages each audience may use, with which filters")(
      "db", po::value<std::string>()->required(),
      "the store holding the decisions; every request is logged there")(
      "keys", po::value<std::string>()->required(), "the API keys file (`stagegate keys add`)")(
      "host", po::value<std::string>()->default_value("127.0.0.1"), "address to listen on")(
      "port", po::value<int>()->default_value(8080), "port to listen on; 0: any free port")(
      "max-batch", po::value<int>()->default_value(8),
      "sequences decoded together per stage (KV-cache slots)")(
      "queue", po::value<int>()->default_value(256),
      "completions that may wait for a slot, per stage; beyond, 503")(
      "http-threads", po::value<int>()->default_value(64), "connections served at once")(
      "max-body-kb", po::value<int>()->default_value(1024), "largest request body; beyond, 413")(
      "read-timeout", po::value<int>()->default_value(10),
      "seconds a client may take to send its request")(
      "device", po::value<int>(), "Vulkan device index (see `stagegate devices`)");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm,
                    "usage: stagegate serve --policy FILE --db FILE --keys FILE [--host ADDR] "
                    "[--port N] [--max-batch N] [--queue N]"))
    return 0;
  serve::ServerOptions o;
  o.policy = vm["policy"].as<std::string>();
  o.db = vm["db"].as<std::string>();
  o.keys = vm["keys"].as<std::string>();
  o.host = vm["host"].as<std::string>();
  o.port = vm["port"].as<int>();
  auto positive = [&](const char* flag, int max) {
    const int v = vm[flag].as<int>();
    if (v < 1 || v > max)
      throw UsageError(std::string("--") + flag + " must be 1 to " + std::to_string(max));
    return v;
  };
  if (o.port < 0 || o.port > 65535) throw UsageError("--port must be 0 to 65535");
  o.max_batch = positive("max-batch", 256);
  o.queue = static_cast<std::size_t>(positive("queue", 1 << 20));
  o.http_threads = positive("http-threads", 4096);
  o.max_body_bytes = static_cast<std::size_t>(positive("max-body-kb", 1 << 20)) * 1024;
  o.read_timeout_seconds = positive("read-timeout", 3600);
  if (vm.count("device")) o.device = vm["device"].as<int>();

  SignalThread::block();
  serve::Server server(o);
  std::cerr << "stagegate serve: " << server.describe() << std::endl;
  {
    SignalThread signals(server);
    server.run();
  }
  std::cerr << "stagegate serve: stopped" << std::endl;
  return 0;
}

}  // namespace sg::cli
