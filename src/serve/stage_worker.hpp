// One served stage's engine: a thread that owns the stage's model and runs every queued
// choice through engine::Generator with continuous batching (sequences join and leave the
// running batch between decode steps, each in its own KV-cache slot). HTTP handlers queue
// a Job and read its choices' text as it grows; a job whose client went away is cancelled
// at the next step, which frees its slots.
//
// Stop sequences are applied here, on the engine's thread, as each token's text arrives:
// a choice that reaches one ends before the next step, its text cut before the sequence.
// Text that might still turn out to begin a stop sequence is held back from streaming.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/generator.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::serve {

// One completion asked for: a prompt and its settings (n choices of one prompt are n of
// these, each with its own seed).
struct Choice {
  engine::GenerationRequest request;
  std::vector<std::string> stop;
  // Written on the engine's thread under the job's mutex.
  std::string text;       // delivered text so far, cut before a stop sequence
  std::size_t ready = 0;  // bytes of `text` that can be sent: they cannot begin a stop sequence
  bool stop_seen = false;
  std::optional<engine::GenerationResult> result;  // once finished; finish_reason as served
};

struct Job {
  explicit Job(std::vector<Choice> c) : choices(std::move(c)) {}
  std::vector<Choice> choices;
  std::mutex mutex;
  std::condition_variable changed;     // text grew or a choice finished
  std::size_t finished = 0;            // choices with a result
  std::string error;                   // the engine failed: every choice ends with it
  std::atomic<bool> abandoned{false};  // the client went away: cancel what still runs

  bool done() const { return finished == choices.size(); }
};

// Gauges for /metrics, read from any thread.
struct WorkerGauges {
  std::atomic<std::int64_t> queued{0};   // choices waiting for a slot
  std::atomic<std::int64_t> running{0};  // choices in a slot
  std::atomic<std::int64_t> tokens{0};   // tokens generated since start
};

class StageWorker : private engine::RequestSource {
 public:
  // Starts the engine thread. `queue_limit`: choices that may wait for a slot.
  StageWorker(engine::Model& model, const tokenizer::Tokenizer& tokenizer,
              std::optional<std::int32_t> eos, std::size_t queue_limit);
  ~StageWorker() override;  // stop()s
  StageWorker(const StageWorker&) = delete;
  StageWorker& operator=(const StageWorker&) = delete;

  // Queues every choice of `job`, or none when that would pass the queue limit (false:
  // the server answers 503). Prompts must already fit the model's context.
  bool submit(const std::shared_ptr<Job>& job);
  // Cancels what runs and waits, ends the thread; queued jobs end with an error.
  void stop();

  const WorkerGauges& gauges() const { return gauges_; }
  int slots() const;

 private:
  const engine::GenerationRequest* next() override;
  bool cancelled(const engine::GenerationRequest& request) override;
  bool wait() override;

  void run();
  void on_token(const engine::GenerationRequest& request, std::int32_t token);
  void on_finished(const engine::GenerationRequest& request, engine::GenerationResult&& result);
  void fail_all(const std::string& why);

  struct Entry {
    std::shared_ptr<Job> job;
    Choice* choice = nullptr;
    std::unique_ptr<tokenizer::StreamDecoder> decoder;
  };

  engine::Model& model_;
  const tokenizer::Tokenizer& tokenizer_;
  std::optional<std::int32_t> eos_;
  std::size_t queue_limit_;
  std::mutex mutex_;  // guards queue_ and stopping_
  std::condition_variable work_;
  std::deque<Entry> queue_;
  bool stopping_ = false;
  // The engine thread's own: choices taken from the queue, by their request's address.
  std::map<const engine::GenerationRequest*, Entry> running_;
  WorkerGauges gauges_;
  std::thread thread_;
};

// Where `text` may be cut: the first stop sequence found at or after `from` (so that text
// already scanned is not scanned again), or npos.
std::size_t find_stop(const std::string& text, const std::vector<std::string>& stops,
                      std::size_t from);
// How many bytes at the end of `text` begin some stop sequence (and so cannot be sent yet).
std::size_t stop_prefix_tail(const std::string& text, const std::vector<std::string>& stops);

}  // namespace sg::serve
