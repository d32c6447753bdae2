#include "serve/server.hpp"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "audit/decoding.hpp"
#include "common/errors.hpp"
#include "common/log.hpp"
#include "common/sha256.hpp"
#include "db/store.hpp"
#include "engine/model.hpp"
#include "release/access.hpp"
#include "release/policy.hpp"
#include "release/policy_filters.hpp"
#include "release/request_log.hpp"
#include "serve/api_error.hpp"
#include "serve/api_keys.hpp"
#include "serve/completion_request.hpp"
#include "serve/rate_limit.hpp"
#include "serve/served_stage.hpp"
#include "tokenizer/utf8.hpp"

namespace sg::serve {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
constexpr const char* kEndpoint = "/v1/completions";

// JSON as the API sends it: text that is not valid UTF-8 (a token's partial bytes) is
// repaired, never a reason to fail a response.
std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  res.set_content(dump(e.body()), "application/json");
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string completion_id() {
  char buf[32];
  std::snprintf(buf, sizeof buf, "cmpl-%016llx",
                static_cast<unsigned long long>(engine::random_seed()));
  return buf;
}

// One (stage, audience) pair the policy allows now, with the engine side of its filters.
struct Allowed {
  release::Grant grant;
  std::shared_ptr<ServedStage> stage;
  // The policy filters' processors and judges (loop stop, lexicon block, leakage, toxicity):
  // the same for every request of the pair, so made once and shared (they keep no
  // per-sequence state; output filters make a fresh one per sequence).
  std::vector<std::shared_ptr<const engine::OutputFilterFactory>> filters;
  std::vector<std::shared_ptr<engine::CompletionFilter>> completion_filters;
};

// The policy as applied between two reloads.
struct Snapshot {
  release::Policy policy;
  KeysFile keys;
  std::map<std::pair<std::string, std::string>, Allowed> allowed;  // (stage, audience)
  std::map<std::pair<std::string, std::string>, std::string> denied;
  std::vector<std::string> audiences_of(const std::string& stage) const {
    std::vector<std::string> out;
    for (const auto& [key, a] : allowed)
      if (key.first == stage) out.push_back(key.second);
    return out;
  }
};

// Per-stage counters for /metrics.
struct StageCounters {
  std::map<int, std::int64_t> requests_by_status;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::map<std::string, std::int64_t> filter_events;                     // by filter
  std::deque<std::pair<Clock::time_point, std::int64_t>> recent_tokens;  // last 60 s
};

// What the request log and the counters take from one answered request.
struct Outcome {
  std::string stage;
  const ApiKey* key = nullptr;
  std::string audience;
  int status = 200;
  std::string error;  // for a refusal or failure
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::vector<std::string> finish_reasons;
  std::vector<std::string> prompts;
  std::vector<std::string> completions;
  std::vector<engine::FilterEvent> events;
  const Allowed* allowed = nullptr;
  const release::FilteredDecoding* decoding = nullptr;
  Clock::time_point received;
  std::string received_utc;
};

struct Pending;

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::unique_ptr<db::Store> store;
  std::mutex store_mutex;
  std::mutex reload_mutex;  // one reload at a time
  std::mutex snapshot_mutex;
  std::shared_ptr<const Snapshot> snapshot;
  std::map<std::string, std::shared_ptr<ServedStage>> loaded;  // by stage name; reload's own
  RateLimiter limiter;
  std::mutex metrics_mutex;
  std::map<std::string, StageCounters> counters;
  std::atomic<std::int64_t> unauthorized{0};
  httplib::Server http;
  int port = 0;

  std::shared_ptr<const Snapshot> current() {
    std::lock_guard lock(snapshot_mutex);
    return snapshot;
  }

  std::shared_ptr<Snapshot> build_snapshot();
  std::shared_ptr<ServedStage> stage_for(const release::Stage& stage);
  void routes();
  void completions(const httplib::Request& req, httplib::Response& res);
  void answer(const std::shared_ptr<Pending>& p, httplib::Response& res);
  void stream(const std::shared_ptr<Pending>& p, httplib::Response& res);
  // Logs the finished request, counts its tokens against the key's limit; the log's id.
  std::int64_t finish(Pending& p, int status);
  void models(const httplib::Request& req, httplib::Response& res);
  void metrics(httplib::Response& res);
  const ApiKey& authenticate(const httplib::Request& req, const Snapshot& s);
  std::int64_t record(const Snapshot& s, const Outcome& o);
};

std::shared_ptr<ServedStage> Server::Impl::stage_for(const release::Stage& stage) {
  auto it = loaded.find(stage.name);
  if (it != loaded.end() && it->second->sha256 == stage.sha256) return it->second;
  StageLoadOptions lo{options.max_batch, options.queue, options.device};
  auto s = load_stage(stage.name, stage.checkpoint, stage.sha256, lo);
  {
    std::lock_guard lock(store_mutex);
    if (const auto c = store->checkpoint_by_sha256(stage.sha256)) s->checkpoint_id = c->id;
  }
  loaded[stage.name] = s;
  return s;
}

std::shared_ptr<Snapshot> Server::Impl::build_snapshot() {
  auto s = std::make_shared<Snapshot>();
  s->policy = release::Policy::load(options.policy);
  s->keys = KeysFile::read(options.keys);
  release::HashedCheckpoints hashed;  // each stage's weights read once per reload
  for (const auto& stage : s->policy.stages) {
    for (const auto& audience : stage.audiences) {
      std::optional<release::Grant> grant;
      try {
        std::lock_guard lock(store_mutex);
        grant = release::grant_access(s->policy, *store, stage.name, audience, &hashed);
      } catch (const AccessDenied& e) {
        s->denied[{stage.name, audience}] = e.what();
        continue;
      }
      Allowed a;
      a.grant = std::move(*grant);
      a.stage = stage_for(stage);
      // The policy's filters over the default decoding: what they add to every request.
      const auto fd = release::apply_filters(audit::Decoding{}, {}, a.grant.filters);
      audit::ScorerResources scorers;
      scorers.models = a.stage->models.get();
      scorers.audited_dir = a.stage->dir;
      auto p = audit::sampling_params(fd.decoding, &a.stage->tokenizer(), scorers);
      a.filters = std::move(p.filters);
      for (auto& f : release::leakage_filters(s->policy, a.grant.filters, stage.name, a.stage->dir))
        a.filters.push_back(std::move(f));
      a.completion_filters = std::move(p.completion_filters);
      s->allowed.emplace(std::pair{stage.name, audience}, std::move(a));
    }
  }
  // Stages no longer granted to anyone are let go (requests on them hold their own share).
  for (auto it = loaded.begin(); it != loaded.end();) {
    bool used = false;
    for (const auto& [key, a] : s->allowed) used = used || a.stage == it->second;
    it = used ? std::next(it) : loaded.erase(it);
  }
  return s;
}

const ApiKey& Server::Impl::authenticate(const httplib::Request& req, const Snapshot& s) {
  const auto header = req.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.empty()) {
    ++unauthorized;
    throw ApiError(401, "invalid_request_error",
                   "no API key: send the header 'Authorization: Bearer KEY' (keys are made by "
                   "`stagegate keys add`)",
                   "", "invalid_api_key");
  }
  const ApiKey* key = header.compare(0, kBearer.size(), kBearer) == 0
                          ? s.keys.find(std::string_view(header).substr(kBearer.size()))
                          : nullptr;
  if (!key || key->revoked) {
    ++unauthorized;
    throw ApiError(401, "invalid_request_error",
                   key ? "this API key was revoked" : "incorrect API key provided", "",
                   "invalid_api_key");
  }
  return *key;
}

std::int64_t Server::Impl::record(const Snapshot& s, const Outcome& o) {
  const auto now = Clock::now();
  db::ServerRequestRecord r;
  r.received_at = o.received_utc;
  r.endpoint = kEndpoint;
  r.stage = o.stage;
  r.client = o.audience;
  r.key_id = o.key ? std::optional(o.key->id) : std::nullopt;
  r.prompt_sha256 = sha256_hex(o.prompts.size() == 1 ? o.prompts.front() : dump(o.prompts));
  r.prompt_tokens = o.prompt_tokens;
  r.latency_ms = std::chrono::duration<double, std::milli>(now - o.received).count();
  bool log_text = false;
  if (o.allowed) {
    r.checkpoint_id = o.allowed->stage->checkpoint_id;
    log_text = o.allowed->grant.audience->log_text;
  }
  engine::GenerationResult all;  // the choices together, as the log counts them
  all.events = o.events;
  if (o.allowed && o.decoding && !o.finish_reasons.empty()) {  // it ran: 200, 499 or 500
    all.finish_reason = o.finish_reasons.front();
    for (const auto& f : o.finish_reasons)
      if (f == "content_filter") all.finish_reason = f;
    release::mark_served(r, s.policy, o.allowed->grant, *o.decoding, all);
    r.completion_tokens = o.completion_tokens;
    r.finish_reasons_json = dump(o.finish_reasons);
    if (o.status != 200) {
      r.status_code = o.status;  // 499: the client went away; 500: the engine failed
      r.outcome = "error";
    }
    r.completion_sha256 = sha256_hex(dump(o.completions));
    if (log_text) {
      r.prompt_text = dump(o.prompts);
      r.completion_text = dump(o.completions);
    }
  } else if (o.status == 403) {
    release::mark_refused(r, s.policy, o.error);
  } else {
    r.finished_at = release::utc_now();
    r.status_code = o.status;
    r.outcome = "error";
    r.settings_json = dump(json{{"policy", s.policy.file.string()},
                                {"policy_sha256", s.policy.sha256},
                                {"error", o.error}});
  }
  const auto events = release::event_records(all);
  std::int64_t id = 0;
  {
    std::lock_guard lock(store_mutex);
    id = store->log_request(r, events);
  }
  // Counted under a stage of the policy, else under "": a client must not be able to add
  // labels (series) by naming models that do not exist.
  const bool known = std::any_of(s.policy.stages.begin(), s.policy.stages.end(),
                                 [&](const auto& st) { return st.name == o.stage; });
  std::lock_guard lock(metrics_mutex);
  auto& c = counters[known ? o.stage : ""];
  ++c.requests_by_status[o.status];
  c.prompt_tokens += o.prompt_tokens;
  c.completion_tokens += o.completion_tokens;
  for (const auto& e : o.events) ++c.filter_events[e.filter];
  c.recent_tokens.emplace_back(now, o.completion_tokens);
  while (!c.recent_tokens.empty() && now - c.recent_tokens.front().first > std::chrono::seconds(60))
    c.recent_tokens.pop_front();
  return id;
}

namespace {

// The OpenAI API's finish reasons: a filter's own stop (e.g. "loop") is "stop", and the
// `stagegate` field says which.
std::string api_finish_reason(const std::string& reason) {
  if (reason == "length" || reason == "content_filter") return reason;
  return "stop";
}

// Code points in s[0, bytes): what Python clients index the text by.
std::int64_t code_points(const std::string& s, std::size_t bytes) {
  std::int64_t n = 0;
  for (std::size_t i = 0; i < std::min(bytes, s.size()); ++i)
    n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  return n;
}

// The OpenAI completions `logprobs` object of one choice whose delivered text is `text`:
// its tokens as text, their log-probs, the `top` alternatives of each and where each starts
// in the text. With echo the prompt's tokens come first (`prefix` is the prompt's text), the
// first with no log-prob (null), as the OpenAI API and the harnesses that read it expect.
json logprobs_json(const engine::GenerationResult& r, std::span<const std::int32_t> prompt,
                   bool echo, const std::string& prefix, const std::string& text, int top,
                   const tokenizer::Tokenizer& tok) {
  json tokens = json::array(), lps = json::array(), tops = json::array(), offsets = json::array();
  const std::string whole = prefix + text;
  auto alternatives = [&](const std::vector<std::pair<std::int32_t, double>>& alts) {
    json out = json::object();
    for (const auto& [id, lp] : alts)
      out[tokenizer::utf8::replace_invalid(tok.decode_bytes(std::span(&id, 1)))] = lp;
    return out;
  };
  std::size_t at = 0;
  auto add = [&](std::int32_t id, const json& lp, const json& alts) {
    const std::string bytes = tok.decode_bytes(std::span(&id, 1));
    tokens.push_back(tokenizer::utf8::replace_invalid(bytes));
    lps.push_back(lp);
    offsets.push_back(code_points(whole, at));
    if (top > 0) tops.push_back(alts);
    at += bytes.size();
  };
  if (echo) {
    for (std::size_t k = 0; k < prompt.size(); ++k) {
      const bool scored = k > 0 && k - 1 < r.prompt_logprobs.size();
      add(prompt[k], scored ? json(r.prompt_logprobs[k - 1]) : json(),
          scored && k - 1 < r.prompt_top_logprobs.size()
              ? alternatives(r.prompt_top_logprobs[k - 1])
              : json());
    }
    at = prefix.size();  // the completion's offsets count from the prompt text as given
  }
  for (std::size_t i = 0; i < r.tokens.size() && at < whole.size(); ++i)
    add(r.tokens[i], r.logprobs[i],
        i < r.top_logprobs.size() ? alternatives(r.top_logprobs[i]) : json());
  return {{"tokens", tokens},
          {"token_logprobs", lps},
          {"top_logprobs", top > 0 ? tops : json()},
          {"text_offset", offsets}};
}

json events_json(const std::vector<engine::FilterEvent>& events, std::size_t choice) {
  json out = json::array();
  for (const auto& e : events)
    out.push_back({{"choice", choice},
                   {"filter", e.filter},
                   {"action", e.action},
                   {"position", e.position},
                   {"detail", json::parse(e.detail_json, nullptr, false)}});
  return out;
}

// A completion request accepted and queued: what answering and logging it needs, kept
// alive for a stream's provider, which runs after the handler has returned.
struct Pending {
  std::shared_ptr<const Snapshot> snapshot;
  const Allowed* allowed = nullptr;
  CompletionRequest request;
  release::FilteredDecoding decoding;
  std::vector<std::string> prompt_texts;  // per prompt
  std::vector<std::size_t> prompt_of;     // per choice
  std::shared_ptr<Job> job;
  Outcome outcome;
  std::string id = completion_id();
  std::int64_t created = unix_now();
};

}  // namespace

void Server::Impl::models(const httplib::Request& req, httplib::Response& res) {
  auto snap = current();
  const auto& key = authenticate(req, *snap);
  json data = json::array();
  for (const auto& stage : snap->policy.stages)
    if (snap->allowed.count({stage.name, key.audience}))
      data.push_back({{"id", stage.name},
                      {"object", "model"},
                      {"created", unix_now()},
                      {"owned_by", snap->policy.family}});
  res.set_content(dump({{"object", "list"}, {"data", data}}), "application/json");
}

void Server::Impl::completions(const httplib::Request& req, httplib::Response& res) {
  auto p = std::make_shared<Pending>();
  p->snapshot = current();
  const Snapshot& snap = *p->snapshot;
  Outcome& o = p->outcome;
  o.received = Clock::now();
  o.received_utc = release::utc_now();
  try {
    const ApiKey& key = authenticate(req, snap);
    o.key = &key;
    o.audience = key.audience;
    p->request = parse_completion_request(req.body);
    const auto& r = p->request;
    o.stage = r.model;
    const auto stage = std::find_if(snap.policy.stages.begin(), snap.policy.stages.end(),
                                    [&](const auto& s) { return s.name == r.model; });
    if (stage == snap.policy.stages.end())
      throw ApiError(404, "invalid_request_error",
                     "The model '" + r.model + "' does not exist (GET /v1/models lists yours)",
                     "model", "model_not_found");
    const auto allowed = snap.allowed.find({r.model, key.audience});
    if (allowed == snap.allowed.end()) {
      const auto why = snap.denied.find({r.model, key.audience});
      throw ApiError(403, "invalid_request_error",
                     why != snap.denied.end()
                         ? why->second
                         : "stage " + r.model + " is not available to audience " + key.audience,
                     "model", "model_not_available");
    }
    p->allowed = &allowed->second;
    o.allowed = p->allowed;
    const auto& audience = *p->allowed->grant.audience;
    if (auto why = limiter.admit(key.id, audience.requests_per_minute, audience.tokens_per_minute,
                                 o.received))
      throw ApiError(429, "requests", *why, "", "rate_limit_exceeded");
    if (r.stream && r.logprobs)
      throw invalid_request("logprobs", "is not supported with stream yet");

    // The request's decoding under the policy's filters (which win), checked as a plan's is.
    audit::Decoding d;
    std::vector<std::string> set{"max_tokens"};
    // max_tokens 0 (echo alone: a text's log-likelihood) is the API's own; the settings'
    // table, shared with plans, starts at 1.
    d.max_tokens = std::max<std::int64_t>(r.max_tokens, 1);
    auto take = [&](const std::optional<double>& v, const char* name, double& field) {
      if (!v) return;
      field = *v;
      set.push_back(name);
    };
    take(r.temperature, "temperature", d.temperature);
    take(r.top_p, "top_p", d.top_p);
    take(r.presence_penalty, "presence_penalty", d.presence_penalty);
    take(r.frequency_penalty, "frequency_penalty", d.frequency_penalty);
    p->decoding = release::apply_filters(d, set, p->allowed->grant.filters);
    if (auto problem = audit::check_decoding(p->decoding.decoding, p->decoding.set))
      throw invalid_request(problem->key, problem->message);
    p->decoding.decoding.max_tokens = r.max_tokens;
    o.decoding = &p->decoding;
    audit::Decoding plain = p->decoding.decoding;  // the policy's filters are made already
    plain.filters.clear();
    plain.stop_on_loop = false;
    plain.toxicity_block_severity = 0;
    const auto& served = *p->allowed->stage;
    const auto& tok = served.tokenizer();
    auto params = audit::sampling_params(plain, &tok);
    params.filters = p->allowed->filters;
    params.completion_filters = p->allowed->completion_filters;
    params.top_logprobs = r.logprobs.value_or(0);

    // Prompts as tokens, each with room for max_tokens in the context.
    const auto eos = served.model.checkpoint->config().eos_token_id;
    std::vector<std::vector<std::int32_t>> prompts;
    for (std::size_t i = 0; i < r.prompt_count(); ++i) {
      const std::string param =
          r.prompt_count() > 1 ? "prompt[" + std::to_string(i) + "]" : "prompt";
      std::vector<std::int32_t> ids;
      if (r.prompt_is_ids) {
        ids = r.prompt_ids[i];
        for (auto id : ids)
          if (id >= tok.vocab_size())
            throw invalid_request(param, "token id " + std::to_string(id) +
                                             " is outside the vocabulary of " +
                                             std::to_string(tok.vocab_size()));
        p->prompt_texts.push_back(tok.decode(ids));
      } else {
        try {
          ids = tok.encode(r.prompt_texts[i]);
        } catch (const InputError& e) {
          throw invalid_request(param, e.what());
        }
        p->prompt_texts.push_back(r.prompt_texts[i]);
      }
      // An empty prompt starts from the end-of-text token, as GPT-2's unconditional samples do.
      if (ids.empty()) {
        if (!eos) throw invalid_request(param, "is empty, and this model has no end-of-text token");
        ids.push_back(*eos);
      }
      if (static_cast<std::int64_t>(ids.size()) + r.max_tokens > served.context())
        throw ApiError(400, "invalid_request_error",
                       "This model's maximum context length is " +
                           std::to_string(served.context()) + " tokens, however you requested " +
                           std::to_string(static_cast<std::int64_t>(ids.size()) + r.max_tokens) +
                           " tokens (" + std::to_string(ids.size()) + " in your prompt; " +
                           std::to_string(r.max_tokens) + " for the completion)",
                       "max_tokens", "context_length_exceeded");
      o.prompt_tokens += static_cast<std::int64_t>(ids.size());
      prompts.push_back(std::move(ids));
    }
    o.prompts = p->prompt_texts;

    // n choices per prompt, prompt-major as the API numbers them, each with its own seed.
    const std::uint64_t seed = r.seed.value_or(engine::random_seed());
    std::vector<Choice> choices;
    for (std::size_t i = 0; i < prompts.size(); ++i)
      for (std::int64_t k = 0; k < r.n; ++k) {
        Choice c;
        c.request.prompt = prompts[i];
        c.request.params = params;
        c.request.params.seed = seed + choices.size();
        c.request.prompt_logprobs = r.echo && r.logprobs.has_value();
        c.stop = r.stop;
        choices.push_back(std::move(c));
        p->prompt_of.push_back(i);
      }
    p->job = std::make_shared<Job>(std::move(choices));
    if (!served.worker->submit(p->job))
      throw ApiError(503, "server_error",
                     "the server is busy: stage " + r.model + "'s queue is full; retry later", "",
                     "queue_full");
  } catch (const ApiError& e) {
    if (o.key) {
      o.status = e.status();
      o.error = e.what();
      record(snap, o);
    }
    throw;
  }
  if (p->request.stream)
    stream(p, res);
  else
    answer(p, res);
}

std::int64_t Server::Impl::finish(Pending& p, int status) {
  Outcome& o = p.outcome;
  o.status = status;
  const auto& job = *p.job;
  for (std::size_t i = 0; i < job.choices.size(); ++i) {
    const auto& c = job.choices[i];
    const auto& r = *c.result;
    o.finish_reasons.push_back(r.finish_reason);
    o.completions.push_back(c.text);
    o.completion_tokens += static_cast<std::int64_t>(r.tokens.size());
    for (auto e : r.events) {
      // Positions index the choice's tokens; the log says which choice.
      if (job.choices.size() > 1) {
        auto detail = json::parse(e.detail_json, nullptr, false);
        if (detail.is_object()) {
          detail["choice"] = i;
          e.detail_json = dump(detail);
        }
      }
      o.events.push_back(std::move(e));
    }
  }
  if (!job.error.empty()) o.error = job.error;
  limiter.add_tokens(o.key->id, o.prompt_tokens + o.completion_tokens, Clock::now());
  return record(*p.snapshot, o);
}

void Server::Impl::answer(const std::shared_ptr<Pending>& p, httplib::Response& res) {
  auto& job = *p->job;
  {
    std::unique_lock lock(job.mutex);
    job.changed.wait(lock, [&] { return job.done(); });
  }
  if (!job.error.empty()) {
    finish(*p, 500);
    throw ApiError(500, "server_error", "generation failed: " + job.error);
  }
  const std::int64_t log_id = finish(*p, 200);
  const auto& r = p->request;
  const auto& served = *p->allowed->stage;
  json choices = json::array();
  json events = json::array();
  json reasons = json::array();
  for (std::size_t i = 0; i < job.choices.size(); ++i) {
    const auto& c = job.choices[i];
    const auto& result = *c.result;
    const std::string prefix = r.echo ? p->prompt_texts[p->prompt_of[i]] : "";
    choices.push_back(
        {{"text", prefix + c.text},
         {"index", i},
         {"logprobs", r.logprobs ? logprobs_json(result, c.request.prompt, r.echo, prefix, c.text,
                                                 *r.logprobs, served.tokenizer())
                                 : json()},
         {"finish_reason", api_finish_reason(result.finish_reason)}});
    for (auto& e : events_json(result.events, i)) events.push_back(std::move(e));
    reasons.push_back(result.finish_reason);
  }
  const auto& o = p->outcome;
  const auto& grant = p->allowed->grant;
  res.set_content(dump({{"id", p->id},
                        {"object", "text_completion"},
                        {"created", p->created},
                        {"model", r.model},
                        {"choices", choices},
                        {"usage",
                         {{"prompt_tokens", o.prompt_tokens},
                          {"completion_tokens", o.completion_tokens},
                          {"total_tokens", o.prompt_tokens + o.completion_tokens}}},
                        {"stagegate",
                         {{"checkpoint_sha256", grant.stage->sha256},
                          {"decision_id", grant.decision ? json(grant.decision->id) : json()},
                          {"request_id", log_id},
                          {"filters", release::filter_names(grant.filters)},
                          {"finish_reasons", reasons},
                          {"filter_events", events}}}}),
                  "application/json");
}

void Server::Impl::stream(const std::shared_ptr<Pending>& p, httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream", [this, p](std::size_t, httplib::DataSink& sink) {
        auto& job = *p->job;
        const auto& r = p->request;
        const std::size_t n = job.choices.size();
        auto chunk = [&](std::size_t i, const std::string& text, const json& finish) {
          return json{{"id", p->id},
                      {"object", "text_completion"},
                      {"created", p->created},
                      {"model", r.model},
                      {"choices", json::array({{{"text", text},
                                                {"index", i},
                                                {"logprobs", nullptr},
                                                {"finish_reason", finish}}})}};
        };
        auto write = [&](const json& j) {
          const std::string event = "data: " + dump(j) + "\n\n";
          return sink.write(event.data(), event.size());
        };
        // The client went away: cancel what still runs, log what it had, end the stream.
        auto abandon = [&] {
          job.abandoned = true;
          {
            std::unique_lock lock(job.mutex);
            job.changed.wait(lock, [&] { return job.done(); });
          }
          finish(*p, 499);
          return false;
        };
        if (r.echo)
          for (std::size_t i = 0; i < n; ++i)
            if (!write(chunk(i, p->prompt_texts[p->prompt_of[i]], nullptr))) return abandon();
        std::vector<std::size_t> sent(n, 0);
        std::vector<bool> closed(n, false);
        for (std::size_t open = n; open > 0;) {
          std::vector<json> out;
          {
            std::unique_lock lock(job.mutex);
            auto fresh = [&] {
              for (std::size_t i = 0; i < n; ++i)
                if (!closed[i] && (job.choices[i].ready > sent[i] || job.choices[i].result))
                  return true;
              return false;
            };
            // Wakes now and then to see whether the client is still there.
            if (!job.changed.wait_for(lock, std::chrono::milliseconds(250), fresh)) {
              lock.unlock();
              if (!sink.is_writable()) return abandon();
              continue;
            }
            for (std::size_t i = 0; i < n; ++i) {
              const auto& c = job.choices[i];
              if (closed[i]) continue;
              if (c.ready > sent[i]) {
                out.push_back(chunk(i, c.text.substr(sent[i], c.ready - sent[i]), nullptr));
                sent[i] = c.ready;
              }
              if (c.result && sent[i] == c.text.size()) {
                if (!job.error.empty()) continue;  // answered below
                auto last = chunk(i, "", api_finish_reason(c.result->finish_reason));
                last["stagegate"] = {{"finish_reason", c.result->finish_reason},
                                     {"filter_events", events_json(c.result->events, i)}};
                out.push_back(std::move(last));
                closed[i] = true;
                --open;
              }
            }
            if (!job.error.empty() && job.done()) break;
          }
          for (const auto& j : out)
            if (!write(j)) return abandon();
        }
        if (!job.error.empty()) {
          finish(*p, 500);
          write(ApiError(500, "server_error", "generation failed: " + job.error).body());
          sink.done();
          return true;
        }
        finish(*p, 200);
        const auto& o = p->outcome;
        if (r.stream_include_usage) {
          json usage = chunk(0, "", nullptr);
          usage["choices"] = json::array();
          usage["usage"] = {{"prompt_tokens", o.prompt_tokens},
                            {"completion_tokens", o.completion_tokens},
                            {"total_tokens", o.prompt_tokens + o.completion_tokens}};
          if (!write(usage)) return false;
        }
        const std::string done = "data: [DONE]\n\n";
        sink.write(done.data(), done.size());
        sink.done();
        return true;
      });
}

void Server::Impl::metrics(httplib::Response& res) {
  auto snap = current();
  std::ostringstream out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  };
  std::lock_guard lock(metrics_mutex);
  family("stagegate_requests_total", "counter",
         "Completion requests answered, by stage and status.");
  for (const auto& [stage, c] : counters)
    for (const auto& [status, count] : c.requests_by_status)
      out << "stagegate_requests_total{stage=\"" << stage << "\",status=\"" << status << "\"} "
          << count << '\n';
  family("stagegate_prompt_tokens_total", "counter", "Prompt tokens of answered requests.");
  for (const auto& [stage, c] : counters)
    out << "stagegate_prompt_tokens_total{stage=\"" << stage << "\"} " << c.prompt_tokens << '\n';
  family("stagegate_completion_tokens_total", "counter", "Tokens generated for answered requests.");
  for (const auto& [stage, c] : counters)
    out << "stagegate_completion_tokens_total{stage=\"" << stage << "\"} " << c.completion_tokens
        << '\n';
  family("stagegate_tokens_per_second", "gauge",
         "Tokens generated per second over the last 60 seconds.");
  const auto now = Clock::now();
  for (const auto& [stage, c] : counters) {
    std::int64_t sum = 0;
    for (const auto& [t, n] : c.recent_tokens)
      if (now - t <= std::chrono::seconds(60)) sum += n;
    out << "stagegate_tokens_per_second{stage=\"" << stage << "\"} "
        << static_cast<double>(sum) / 60.0 << '\n';
  }
  family("stagegate_filter_events_total", "counter", "Output filter actions, by stage and filter.");
  for (const auto& [stage, c] : counters)
    for (const auto& [filter, count] : c.filter_events)
      out << "stagegate_filter_events_total{stage=\"" << stage << "\",filter=\"" << filter << "\"} "
          << count << '\n';
  family("stagegate_queue_depth", "gauge", "Choices waiting for a KV-cache slot.");
  std::set<const ServedStage*> seen;
  std::vector<const ServedStage*> stages;
  for (const auto& [key, a] : snap->allowed)
    if (seen.insert(a.stage.get()).second) stages.push_back(a.stage.get());
  for (const auto* s : stages)
    out << "stagegate_queue_depth{stage=\"" << s->name << "\"} " << s->worker->gauges().queued
        << '\n';
  family("stagegate_running_sequences", "gauge", "Sequences in the running batch.");
  for (const auto* s : stages)
    out << "stagegate_running_sequences{stage=\"" << s->name << "\"} "
        << s->worker->gauges().running << '\n';
  family("stagegate_unauthorized_total", "counter", "Requests refused for a missing or bad key.");
  out << "stagegate_unauthorized_total " << unauthorized << '\n';
  res.set_content(out.str(), "text/plain; version=0.0.4");
}

void Server::Impl::routes() {
  // Every handler answers an ApiError in the OpenAI shape, and anything else as a 500
  // whose message is logged, never a dropped connection.
  auto guarded = [](auto handler) {
    return [handler](const httplib::Request& req, httplib::Response& res) {
      try {
        handler(req, res);
      } catch (const ApiError& e) {
        send_error(res, e);
      } catch (const std::exception& e) {
        log::warn(std::string("serve: ") + req.method + " " + req.path + ": " + e.what());
        send_error(res, ApiError(500, "server_error", e.what()));
      }
    };
  };
  http.Post("/v1/completions",
            guarded([this](const auto& req, auto& res) { completions(req, res); }));
  http.Get("/v1/models", guarded([this](const auto& req, auto& res) { models(req, res); }));
  http.Get("/health", guarded([this](const auto&, auto& res) {
             auto snap = current();
             json stages = json::array();
             std::set<std::string> seen;
             for (const auto& [key, a] : snap->allowed)
               if (seen.insert(key.first).second) stages.push_back(key.first);
             res.set_content(dump({{"status", "ok"}, {"stages", stages}}), "application/json");
           }));
  http.Get("/metrics", guarded([this](const auto&, auto& res) { metrics(res); }));
  // httplib's own refusals (no such path, a body over the limit) in the same shape.
  http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                     httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const ApiError e =
        res.status == 413 ? ApiError(413, "invalid_request_error",
                                     "the request body is larger than " +
                                         std::to_string(options.max_body_bytes) + " bytes")
        : res.status == 404
            ? ApiError(404, "invalid_request_error", "no such endpoint: " + req.path)
            : ApiError(res.status, "invalid_request_error",
                       "the request could not be read whole (HTTP " + std::to_string(res.status) +
                           "): sent too slowly, or not HTTP as this server reads it");
    send_error(res, e);
    return httplib::Server::HandlerResponse::Handled;
  }));
}

Server::Server(const ServerOptions& options) : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.options = options;
  // Never a new, empty store: a server told to read decisions from a misspelt path refuses.
  if (!std::filesystem::exists(options.db))
    throw InputError("--db " + options.db.string() +
                     ": no such store (decisions are recorded there by `stagegate decide`)");
  if (!std::filesystem::exists(options.keys))
    throw InputError("--keys " + options.keys.string() +
                     ": no such keys file (make a key with `stagegate keys add`)");
  m.store = std::make_unique<db::Store>(options.db);
  m.snapshot = m.build_snapshot();
  // httplib owns its task queue through a raw pointer: this is its documented way to size it.
  const auto threads = static_cast<std::size_t>(options.http_threads);
  m.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  m.http.set_payload_max_length(options.max_body_bytes);
  m.http.set_read_timeout(options.read_timeout_seconds, 0);
  m.http.set_write_timeout(options.read_timeout_seconds, 0);
  m.routes();
  if (options.port == 0) {
    m.port = m.http.bind_to_any_port(options.host);
  } else if (m.http.bind_to_port(options.host, options.port)) {
    m.port = options.port;
  } else {
    m.port = -1;
  }
  if (m.port < 0)
    throw RuntimeError("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                       " (in use, or not an address of this machine)");
}

Server::~Server() {
  impl_->http.stop();
  std::lock_guard lock(impl_->snapshot_mutex);
  impl_->snapshot.reset();
}

int Server::port() const {
  return impl_->port;
}

std::string Server::describe() const {
  auto snap = impl_->current();
  std::string out = "http://" + impl_->options.host + ":" + std::to_string(impl_->port);
  std::string served;
  for (const auto& stage : snap->policy.stages) {
    const auto audiences = snap->audiences_of(stage.name);
    if (audiences.empty()) continue;
    std::string list;
    for (const auto& a : audiences) list += (list.empty() ? "" : ", ") + a;
    served += (served.empty() ? "" : "; ") + stage.name + " (" + list + ")";
  }
  return out + " serving " +
         (served.empty() ? "no stage (none is approved for any audience)" : served);
}

void Server::run() {
  impl_->http.listen_after_bind();
}

void Server::stop() {
  impl_->http.stop();
}

void Server::reload() {
  auto& m = *impl_;
  std::lock_guard lock(m.reload_mutex);
  auto fresh = m.build_snapshot();
  std::lock_guard swap(m.snapshot_mutex);
  m.snapshot = std::move(fresh);
}

}  // namespace sg::serve
