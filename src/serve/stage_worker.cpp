#include "serve/stage_worker.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "engine/model.hpp"

namespace sg::serve {

std::size_t find_stop(const std::string& text, const std::vector<std::string>& stops,
                      std::size_t from) {
  std::size_t best = std::string::npos;
  for (const auto& s : stops) {
    // A stop sequence may straddle `from`: start early enough to see it whole.
    const std::size_t start = from > s.size() ? from - s.size() + 1 : 0;
    best = std::min(best, text.find(s, start));
  }
  return best;
}

std::size_t stop_prefix_tail(const std::string& text, const std::vector<std::string>& stops) {
  std::size_t tail = 0;
  for (const auto& s : stops)
    for (std::size_t k = std::min(s.size() - 1, text.size()); k > tail; --k)
      if (text.compare(text.size() - k, k, s, 0, k) == 0) {
        tail = k;
        break;
      }
  return tail;
}

StageWorker::StageWorker(engine::Model& model, const tokenizer::Tokenizer& tokenizer,
                         std::optional<std::int32_t> eos, std::size_t queue_limit)
    : model_(model), tokenizer_(tokenizer), eos_(eos), queue_limit_(queue_limit) {
  thread_ = std::thread([this] { run(); });
}

StageWorker::~StageWorker() {
  stop();
}

int StageWorker::slots() const {
  return model_.max_sequences();
}

bool StageWorker::submit(const std::shared_ptr<Job>& job) {
  std::lock_guard lock(mutex_);
  if (stopping_ || queue_.size() + job->choices.size() > queue_limit_) return false;
  for (auto& c : job->choices) queue_.push_back({job, &c, nullptr});
  gauges_.queued = static_cast<std::int64_t>(queue_.size());
  work_.notify_one();
  return true;
}

void StageWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  for (auto& e : queue_) running_.emplace(&e.choice->request, std::move(e));
  queue_.clear();
  gauges_.queued = 0;
  fail_all("the server is shutting down");
}

const engine::GenerationRequest* StageWorker::next() {
  std::lock_guard lock(mutex_);
  while (!queue_.empty()) {
    Entry e = std::move(queue_.front());
    queue_.pop_front();
    gauges_.queued = static_cast<std::int64_t>(queue_.size());
    if (e.job->abandoned) {
      // Gone before it started: it finishes with nothing, so the job completes.
      std::lock_guard job_lock(e.job->mutex);
      engine::GenerationResult r;
      r.finish_reason = "cancelled";
      e.choice->result = std::move(r);
      ++e.job->finished;
      e.job->changed.notify_all();
      continue;
    }
    if (e.choice->request.params.completion_filters.empty())
      e.decoder = std::make_unique<tokenizer::StreamDecoder>(tokenizer_);
    const auto* request = &e.choice->request;
    running_.emplace(request, std::move(e));
    gauges_.running = static_cast<std::int64_t>(running_.size());
    return request;
  }
  return nullptr;
}

bool StageWorker::cancelled(const engine::GenerationRequest& request) {
  const auto& e = running_.at(&request);
  if (e.job->abandoned) return true;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return true;
  }
  std::lock_guard lock(e.job->mutex);
  return e.choice->stop_seen;
}

bool StageWorker::wait() {
  std::unique_lock lock(mutex_);
  work_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
  return !stopping_;
}

void StageWorker::on_token(const engine::GenerationRequest& request, std::int32_t token) {
  auto& e = running_.at(&request);
  if (!e.decoder) return;
  const std::string piece = e.decoder->push(token);
  std::lock_guard lock(e.job->mutex);
  Choice& c = *e.choice;
  if (c.stop_seen) return;
  const std::size_t before = c.text.size();
  c.text += piece;
  if (const auto at = find_stop(c.text, c.stop, before); at != std::string::npos) {
    c.text.resize(at);
    c.stop_seen = true;
  }
  c.ready = c.stop_seen ? c.text.size() : c.text.size() - stop_prefix_tail(c.text, c.stop);
  e.job->changed.notify_all();
}

void StageWorker::on_finished(const engine::GenerationRequest& request,
                              engine::GenerationResult&& result) {
  auto node = running_.extract(&request);
  gauges_.running = static_cast<std::int64_t>(running_.size());
  gauges_.tokens += static_cast<std::int64_t>(result.tokens.size());
  Entry& e = node.mapped();
  std::lock_guard lock(e.job->mutex);
  Choice& c = *e.choice;
  if (!c.stop_seen) {
    // The whole text as delivered (a judged completion's is the filter's), cut at a stop
    // sequence the stream could not yet see (a judged completion is not streamed).
    c.text = engine::delivered_text(result, tokenizer_);
    if (const auto at = find_stop(c.text, c.stop, 0); at != std::string::npos) {
      c.text.resize(at);
      c.stop_seen = true;
    }
  }
  if (c.stop_seen && result.finish_reason != "content_filter") result.finish_reason = "stop";
  c.ready = c.text.size();
  c.result = std::move(result);
  ++e.job->finished;
  e.job->changed.notify_all();
}

void StageWorker::fail_all(const std::string& why) {
  for (auto& [request, e] : running_) {
    std::lock_guard lock(e.job->mutex);
    if (e.job->error.empty()) e.job->error = why;
    engine::GenerationResult r;
    r.finish_reason = "error";
    e.choice->result = std::move(r);
    ++e.job->finished;
    e.job->changed.notify_all();
  }
  running_.clear();
  gauges_.running = 0;
}

void StageWorker::run() {
  engine::Generator generator(model_, eos_);
  for (;;) {
    try {
      generator.run_source(
          *this,
          [&](const engine::GenerationRequest& r, engine::GenerationResult&& result) {
            on_finished(r, std::move(result));
          },
          [&](const engine::GenerationRequest& r, std::int32_t t) { on_token(r, t); });
    } catch (const std::exception& e) {
      // The device or a filter failed: the choices in flight end with the error; the
      // stage goes on serving (a lost device fails the next step too, and says so).
      log::warn(std::string("engine: ") + e.what());
      fail_all(e.what());
    }
    std::lock_guard lock(mutex_);
    if (stopping_) return;
  }
}

}  // namespace sg::serve
