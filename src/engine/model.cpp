#include "engine/model.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "common/errors.hpp"

namespace sg::engine {

namespace {

Activation activation(gpu::Context& context, int rows, int cols,
                      gpu::Memory memory = gpu::Memory::kDevice) {
  int stride = round_up(cols, kColumnAlign);
  return Activation{
      gpu::Buffer(context,
                  static_cast<std::size_t>(rows) * static_cast<std::size_t>(stride) * sizeof(float),
                  memory),
      rows, cols, stride};
}

Act act_of(model::Activation a) {
  switch (a) {
    case model::Activation::kGeluTanh:
      return Act::kGeluTanh;
    case model::Activation::kGeluErf:
      return Act::kGeluErf;
    case model::Activation::kRelu:
      return Act::kRelu;
  }
  return Act::kNone;
}

std::string mib(std::uint64_t bytes) {
  return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
}

WeightType choose_dtype(const gpu::Context& context, const EngineOptions& options) {
  if (options.dtype) {
    if (*options.dtype == WeightType::kF16 && !context.info().int64)
      throw UsageError("--dtype f16: device '" + context.info().name +
                       "' lacks 64-bit integers, which the F16 kernels read weights with");
    return *options.dtype;
  }
  return context.info().storage_16bit && context.info().int64 ? WeightType::kF16 : WeightType::kF32;
}

// One layer's K (or V) cache for one slot.
std::uint64_t kv_layer_bytes(const model::Config& c, int context) {
  return static_cast<std::uint64_t>(context) * static_cast<std::uint64_t>(c.n_embd) * 4u;
}

std::uint64_t kv_bytes(const model::Config& c, int slots, int context) {
  return 2ull * static_cast<std::uint64_t>(c.n_layer) * static_cast<std::uint64_t>(slots) *
         kv_layer_bytes(c, context);
}

// The per-pass buffers the constructor makes for `tokens` tokens and `rows` logits rows per
// pass.
std::uint64_t activation_bytes(const model::Config& c, int tokens, int rows) {
  auto floats = [&](int count, int cols) {
    return static_cast<std::uint64_t>(count) *
           static_cast<std::uint64_t>(round_up(cols, kColumnAlign)) * sizeof(float);
  };
  // x, xn, tmp, att, qkv, hidden per token; picked, picked_norm, logits per row
  return 4 * floats(tokens, c.n_embd) + floats(tokens, 3 * c.n_embd) + floats(tokens, c.n_inner) +
         2 * floats(rows, c.n_embd) + floats(rows, c.output_width()) +
         4u * (5u * static_cast<std::uint64_t>(tokens) +  // ids, (slot, pos), span
               2u * static_cast<std::uint64_t>(rows)) +   // logit rows, summary temperatures
         static_cast<std::uint64_t>(rows) * kSummaryLanes * kSummaryWords * 4u;
}

gpu::Buffer int_buffer(gpu::Context& context, int count, int ints_per_item) {
  return gpu::Buffer(context,
                     static_cast<std::size_t>(count) * static_cast<std::size_t>(ints_per_item) * 4,
                     gpu::Memory::kHostUpload);
}

// Refuses, before anything is uploaded, a model that the device cannot hold.
void check_fits(const gpu::Context& context, std::uint64_t needed) {
  auto available = context.available_device_memory();
  if (needed > available)
    throw RuntimeError("the model needs " + mib(needed) + " of device memory but device '" +
                       context.info().name + "' has " + mib(available) +
                       " available (try --dtype f16, a shorter context or fewer sequences)");
}

int checked_context(const model::Config& c, const EngineOptions& o) {
  int ctx = o.context > 0 ? std::min(o.context, c.n_positions) : c.n_positions;
  if (o.max_sequences < 1) throw UsageError("the engine needs at least one sequence slot");
  return ctx;
}

// Tokens per pass: a classifier's sequence must be whole in one pass, so its passes hold at
// least one context's worth.
int step_tokens(const model::Config& c, const EngineOptions& o, int context) {
  int n = std::max(1, o.max_step_tokens);
  return c.classifier() ? std::max(n, context) : n;
}

// Logits rows per pass: a classifier's rows are a few labels wide, one per sequence.
int step_rows(const model::Config& c, const EngineOptions& o, int tokens) {
  return c.classifier() ? tokens : std::clamp(o.max_logit_rows, 1, tokens);
}

// Hugging Face's choice of the token a GPT-2 classifier reads: the last one that is not
// padding, or the first when all are.
int last_non_pad(std::span<const std::int32_t> ids, std::optional<int> pad) {
  for (int i = static_cast<int>(ids.size()) - 1; i >= 0; --i)
    if (!pad || ids[static_cast<std::size_t>(i)] != *pad) return i;
  return 0;
}

}  // namespace

int slots_within(const SlotBudget& b) {
  const auto usable =
      static_cast<std::uint64_t>(static_cast<double>(b.available) * b.usable_fraction);
  if (b.max_slots < 1 || usable < b.fixed) return 0;
  std::uint64_t slots = static_cast<std::uint64_t>(b.max_slots);
  if (b.kv_per_slot > 0) slots = std::min(slots, (usable - b.fixed) / b.kv_per_slot);
  if (b.kv_layer_per_slot > 0) slots = std::min(slots, b.max_buffer / b.kv_layer_per_slot);
  return static_cast<int>(slots);
}

int Model::slots_that_fit(const gpu::Context& context, const model::Checkpoint& checkpoint,
                          const EngineOptions& options, double usable_fraction) {
  const auto& c = checkpoint.config();
  const int ctx = checked_context(c, options);
  SlotBudget b;
  b.available = context.available_device_memory();
  b.usable_fraction = usable_fraction;
  const int tokens = step_tokens(c, options, ctx);
  b.fixed = planned_weight_bytes(checkpoint, choose_dtype(context, options)) +
            activation_bytes(c, tokens, step_rows(c, options, tokens));
  b.kv_per_slot = kv_bytes(c, 1, ctx);
  b.kv_layer_per_slot = kv_layer_bytes(c, ctx);
  b.max_buffer = context.max_storage_buffer_range();
  b.max_slots = options.max_sequences;
  return slots_within(b);
}

Model::Model(gpu::Context& context, const model::Checkpoint& checkpoint,
             const EngineOptions& options)
    : gpu_(&context),
      config_(checkpoint.config()),
      dtype_(choose_dtype(context, options)),
      slots_(options.max_sequences),
      context_len_(checked_context(config_, options)),
      max_tokens_(step_tokens(config_, options, context_len_)),
      max_rows_(step_rows(config_, options, max_tokens_)),
      kernels_(context, round_up(context_len_, 64), options.kernel_shapes),
      weights_((check_fits(context, planned_weight_bytes(checkpoint, dtype_) +
                                        kv_bytes(config_, slots_, context_len_)),
                upload_weights(context, checkpoint, dtype_, kernels_.weight_layout()))),
      ids_(int_buffer(context, max_tokens_, 1)),
      meta_(int_buffer(context, max_tokens_, 2)),
      spans_(int_buffer(context, max_tokens_, 2)),
      logit_rows_(int_buffer(context, max_rows_, 1)),
      summary_temperatures_(int_buffer(context, max_rows_, 1)),
      summary_records_(context,
                       static_cast<std::size_t>(max_rows_) * kSummaryLanes * kSummaryWords * 4,
                       gpu::Memory::kHostReadback),
      x_(activation(context, max_tokens_, config_.n_embd)),
      xn_(activation(context, max_tokens_, config_.n_embd)),
      tmp_(activation(context, max_tokens_, config_.n_embd)),
      qkv_(activation(context, max_tokens_, 3 * config_.n_embd)),
      att_(activation(context, max_tokens_, config_.n_embd)),
      hidden_(activation(context, max_tokens_, config_.n_inner)),
      picked_(activation(context, max_rows_, config_.n_embd)),
      picked_norm_(activation(context, max_rows_, config_.n_embd)),
      logits_(activation(context, max_rows_, config_.output_width(), gpu::Memory::kHostReadback)),
      stream_(context, options.stream_limits),
      profiling_(options.profile) {
  std::size_t cache_bytes = static_cast<std::size_t>(slots_) *
                            static_cast<std::size_t>(context_len_) *
                            static_cast<std::size_t>(config_.n_embd) * sizeof(float);
  if (cache_bytes > context.max_storage_buffer_range())
    throw RuntimeError("KV cache of " + mib(cache_bytes) + " per layer exceeds the device's " +
                       mib(context.max_storage_buffer_range()) +
                       " buffer limit: use fewer sequences or a shorter context");
  for (int l = 0; l < config_.n_layer; ++l) {
    k_cache_.emplace_back(context, cache_bytes, gpu::Memory::kDevice);
    v_cache_.emplace_back(context, cache_bytes, gpu::Memory::kDevice);
  }
  cached_.resize(static_cast<std::size_t>(slots_));
}

std::span<const std::int32_t> Model::cached_tokens(int slot) const {
  if (slot < 0 || slot >= slots_)
    throw RuntimeError("sequence slot " + std::to_string(slot) + " out of range");
  return cached_[static_cast<std::size_t>(slot)];
}

void Model::copy_kv(std::span<const KvCopy> copies) {
  std::vector<bool> source(static_cast<std::size_t>(slots_), false);
  std::vector<bool> destination(static_cast<std::size_t>(slots_), false);
  for (const auto& c : copies) {
    if (static_cast<std::size_t>(c.positions) > cached_tokens(c.from_slot).size() ||
        c.positions < 0)
      throw RuntimeError("copy of " + std::to_string(c.positions) + " positions from slot " +
                         std::to_string(c.from_slot) + ", which holds " +
                         std::to_string(cached_tokens(c.from_slot).size()));
    (void)cached_tokens(c.to_slot);  // checks the slot
    source[static_cast<std::size_t>(c.from_slot)] = true;
    destination[static_cast<std::size_t>(c.to_slot)] = true;
  }
  for (int s = 0; s < slots_; ++s)
    if (source[static_cast<std::size_t>(s)] && destination[static_cast<std::size_t>(s)])
      throw RuntimeError("slot " + std::to_string(s) + " is both copied from and copied to");
  const std::size_t slot_bytes = static_cast<std::size_t>(kv_layer_bytes(config_, context_len_));
  const std::size_t position_bytes = static_cast<std::size_t>(config_.n_embd) * sizeof(float);
  std::vector<gpu::BufferCopy> regions;
  for (const auto* cache : {&k_cache_, &v_cache_})
    for (const auto& buffer : *cache)
      for (const auto& c : copies)
        if (c.positions > 0)
          regions.push_back({&buffer, static_cast<std::size_t>(c.from_slot) * slot_bytes, &buffer,
                             static_cast<std::size_t>(c.to_slot) * slot_bytes,
                             static_cast<std::size_t>(c.positions) * position_bytes});
  for (const auto& c : copies) cached_[static_cast<std::size_t>(c.to_slot)].clear();
  gpu::copy_buffers(*gpu_, regions);
  for (const auto& c : copies) {
    const auto from = cached_tokens(c.from_slot).first(static_cast<std::size_t>(c.positions));
    cached_[static_cast<std::size_t>(c.to_slot)].assign(from.begin(), from.end());
  }
}

void Model::forward(std::span<const SequenceChunk> batch, const LogitsSink& sink) {
  if (config_.classifier())
    throw InputError("this checkpoint is a " + model::to_string(config_.arch) +
                     " sequence classifier: it has no language-model head to generate or score "
                     "text with");
  std::vector<Token> tokens;
  std::vector<bool> slot_used(static_cast<std::size_t>(slots_), false);
  for (std::size_t c = 0; c < batch.size(); ++c) {
    const auto& chunk = batch[c];
    if (chunk.slot < 0 || chunk.slot >= slots_)
      throw RuntimeError("sequence slot " + std::to_string(chunk.slot) + " out of range");
    // Attention reads a sequence's new tokens as one run (Kernels::attention).
    if (!chunk.tokens.empty() && slot_used[static_cast<std::size_t>(chunk.slot)])
      throw RuntimeError("sequence slot " + std::to_string(chunk.slot) +
                         " has two chunks in one batch; give each chunk its own slot");
    if (!chunk.tokens.empty()) slot_used[static_cast<std::size_t>(chunk.slot)] = true;
    int n = static_cast<int>(chunk.tokens.size());
    if (chunk.start_pos < 0 || chunk.start_pos + n > context_len_)
      throw InputError("sequence of " + std::to_string(chunk.start_pos + n) +
                       " tokens exceeds the context of " + std::to_string(context_len_));
    for (int i = 0; i < n; ++i) {
      std::int32_t id = chunk.tokens[static_cast<std::size_t>(i)];
      if (id < 0 || id >= config_.vocab_size)
        throw InputError("token id " + std::to_string(id) + " is outside the vocabulary (size " +
                         std::to_string(config_.vocab_size) + ")");
      const int pos = chunk.start_pos + i;
      const bool last = i == n - 1;
      tokens.push_back({c, i, id, chunk.slot, pos, pos + 1, chunk.all_logits || last,
                        last ? chunk.summarize : std::nullopt});
    }
  }
  // Positions from each chunk's start on are rewritten now: the cache no longer holds what
  // they held, and holds the new tokens only once every pass has run.
  for (const auto& chunk : batch) {
    if (chunk.tokens.empty()) continue;
    auto& cached = cached_[static_cast<std::size_t>(chunk.slot)];
    cached.resize(std::min(cached.size(), static_cast<std::size_t>(chunk.start_pos)));
  }
  profile_.clear();
  // Passes of at most max_tokens_ tokens, of which at most max_rows_ want logits.
  std::size_t begin = 0;
  int rows = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const int row = tokens[i].logits ? 1 : 0;
    if (i - begin == static_cast<std::size_t>(max_tokens_) || rows + row > max_rows_) {
      run_pass(std::span(tokens).subspan(begin, i - begin), sink);
      begin = i;
      rows = 0;
    }
    rows += row;
  }
  if (begin < tokens.size()) run_pass(std::span(tokens).subspan(begin), sink);
  for (const auto& chunk : batch) {
    auto& cached = cached_[static_cast<std::size_t>(chunk.slot)];
    if (cached.size() == static_cast<std::size_t>(chunk.start_pos))
      cached.insert(cached.end(), chunk.tokens.begin(), chunk.tokens.end());
  }
}

std::vector<std::vector<float>> Model::classify(
    std::span<const std::vector<std::int32_t>> sequences) {
  if (!config_.classifier())
    throw InputError("this checkpoint is a " + model::to_string(config_.arch) +
                     " language model, not a sequence classifier");
  for (std::size_t s = 0; s < sequences.size(); ++s) {
    const auto& seq = sequences[s];
    const std::string which = "sequence " + std::to_string(s);
    if (seq.empty()) throw InputError(which + " is empty: a classifier needs at least one token");
    if (static_cast<int>(seq.size()) > context_len_)
      throw InputError(which + " has " + std::to_string(seq.size()) +
                       " tokens, more than the classifier's context of " +
                       std::to_string(context_len_) + " positions (truncate it first)");
    for (std::size_t i = 0; i < seq.size(); ++i) {
      if (seq[i] < 0 || seq[i] >= config_.vocab_size)
        throw InputError(which + ": token id " + std::to_string(seq[i]) +
                         " is outside the vocabulary (size " + std::to_string(config_.vocab_size) +
                         ")");
      if (config_.arch == model::Arch::kRoberta && seq[i] == config_.pad_token_id)
        throw InputError(which + ": token " + std::to_string(i) + " is the padding id " +
                         std::to_string(seq[i]) +
                         ", which RoBERTa gives no position of its own; remove it");
    }
  }
  // An encoder's keys depend on the whole sequence: nothing it leaves is a reusable prefix.
  for (auto& cached : cached_) cached.clear();
  std::vector<std::vector<float>> out(sequences.size());
  const auto sink = [&](std::size_t chunk, int, std::span<const float> logits,
                        const LogitSummary*) { out[chunk].assign(logits.begin(), logits.end()); };
  // Passes of whole sequences, one KV-cache slot each.
  std::vector<Token> tokens;
  int slot = 0;
  profile_.clear();
  for (std::size_t s = 0; s < sequences.size(); ++s) {
    const auto& seq = sequences[s];
    const int n = static_cast<int>(seq.size());
    if (slot == slots_ || static_cast<int>(tokens.size()) + n > max_tokens_) {
      run_pass(tokens, sink);
      tokens.clear();
      slot = 0;
    }
    const int pick = config_.bidirectional() ? 0 : last_non_pad(seq, config_.pad_token_id);
    for (int i = 0; i < n; ++i)
      tokens.push_back({s, i, seq[static_cast<std::size_t>(i)], slot, i,
                        config_.bidirectional() ? n : i + 1, i == pick, std::nullopt});
    ++slot;
  }
  if (!tokens.empty()) run_pass(tokens, sink);
  return out;
}

void Model::record_layers(int n, TokenRuns kinds) {
  const auto& c = config_;
  const bool pre_ln = c.norm_placement() == model::NormPlacement::kPre;
  const Act act = act_of(c.activation);
  const int hd = c.head_dim();
  for (int l = 0; l < c.n_layer; ++l) {
    const auto& w = weights_.layers[static_cast<std::size_t>(l)];
    float scale = 1.0f;
    if (c.arch == model::Arch::kOpenAiGpt || c.scale_attn_weights)
      scale /= std::sqrt(static_cast<float>(hd));
    if (c.arch == model::Arch::kGpt2 && c.scale_attn_by_inverse_layer_idx)
      scale /= static_cast<float>(l + 1);
    const auto& k = k_cache_[static_cast<std::size_t>(l)];
    const auto& v = v_cache_[static_cast<std::size_t>(l)];
    if (pre_ln) {
      // GPT-2: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))
      kernels_.layer_norm(stream_, x_, w.ln_1_w, w.ln_1_b, xn_, n, c.layer_norm_epsilon);
      kernels_.matmul(stream_, xn_, w.c_attn, &w.c_attn_b, nullptr, qkv_, n);
      kernels_.attention(stream_, qkv_, meta_, spans_, k, v, att_, n, c.n_head, hd, context_len_,
                         scale, kinds);
      kernels_.matmul(stream_, att_, w.c_proj, &w.c_proj_b, &x_, x_, n);
      kernels_.layer_norm(stream_, x_, w.ln_2_w, w.ln_2_b, xn_, n, c.layer_norm_epsilon);
      kernels_.matmul(stream_, xn_, w.c_fc, &w.c_fc_b, nullptr, hidden_, n, act);
      kernels_.matmul(stream_, hidden_, w.mlp_proj, &w.mlp_proj_b, &x_, x_, n);
    } else {
      // GPT-1, BERT, RoBERTa: n = ln_1(x + attn(x)); x = ln_2(n + mlp(n))
      kernels_.matmul(stream_, x_, w.c_attn, &w.c_attn_b, nullptr, qkv_, n);
      kernels_.attention(stream_, qkv_, meta_, spans_, k, v, att_, n, c.n_head, hd, context_len_,
                         scale, kinds);
      kernels_.matmul(stream_, att_, w.c_proj, &w.c_proj_b, &x_, tmp_, n);
      kernels_.layer_norm(stream_, tmp_, w.ln_1_w, w.ln_1_b, x_, n, c.layer_norm_epsilon);
      kernels_.matmul(stream_, x_, w.c_fc, &w.c_fc_b, nullptr, hidden_, n, act);
      kernels_.matmul(stream_, hidden_, w.mlp_proj, &w.mlp_proj_b, &x_, tmp_, n);
      kernels_.layer_norm(stream_, tmp_, w.ln_2_w, w.ln_2_b, x_, n, c.layer_norm_epsilon);
    }
  }
}

// The picked rows' hidden states -> logits_: final norm (pre-LN), then the LM head or the
// classification head.
void Model::record_head(int picked, bool summarize) {
  kernels_.gather_rows(stream_, x_, logit_rows_, picked_, picked);
  const Activation* head_in = &picked_;
  if (config_.norm_placement() == model::NormPlacement::kPre) {
    kernels_.layer_norm(stream_, picked_, *weights_.ln_f_w, *weights_.ln_f_b, picked_norm_, picked,
                        config_.layer_norm_epsilon);
    head_in = &picked_norm_;
  }
  if (!weights_.classifier) {
    kernels_.matmul(stream_, *head_in, weights_.head(), nullptr, nullptr, logits_, picked);
    if (summarize)
      kernels_.logit_summary(stream_, logits_, summary_temperatures_, summary_records_, picked);
    return;
  }
  const auto& head = *weights_.classifier;
  if (head.pooler) {
    const Activation* pooled = head_in == &picked_ ? &picked_norm_ : &picked_;
    kernels_.matmul(stream_, *head_in, *head.pooler, &*head.pooler_b, nullptr, *pooled, picked,
                    Act::kTanh);
    head_in = pooled;
  }
  kernels_.matmul(stream_, *head_in, head.out, head.out_b ? &*head.out_b : nullptr, nullptr,
                  logits_, picked);
}

// Everything a pass runs. It depends only on the token count, the rows picked and the kinds
// of tokens attention meets (the per-token inputs live in buffers), which is what lets
// run_pass reuse a recording.
void Model::record_pass(int n, int picked, bool summarize, TokenRuns kinds) {
  if (weights_.embed_ln_w) {
    // BERT/RoBERTa normalize the embeddings' sum before the first layer.
    kernels_.embed(stream_, weights_.tok_embed, weights_.pos_embed, ids_, meta_, tmp_, n);
    kernels_.layer_norm(stream_, tmp_, *weights_.embed_ln_w, *weights_.embed_ln_b, x_, n,
                        config_.layer_norm_epsilon);
  } else {
    kernels_.embed(stream_, weights_.tok_embed, weights_.pos_embed, ids_, meta_, x_, n);
  }
  record_layers(n, kinds);
  if (picked > 0) record_head(picked, summarize);
}

void Model::run_pass(std::span<const Token> tokens, const LogitsSink& sink) {
  const int n = static_cast<int>(tokens.size());
  auto* ids = reinterpret_cast<std::int32_t*>(ids_.host_data());
  auto* meta = reinterpret_cast<std::int32_t*>(meta_.host_data());
  auto* spans = reinterpret_cast<std::int32_t*>(spans_.host_data());
  auto* rows = reinterpret_cast<std::int32_t*>(logit_rows_.host_data());
  auto* temperatures = reinterpret_cast<float*>(summary_temperatures_.host_data());
  int picked = 0;
  bool summarize = false;
  // Attention reads a sequence's tokens of this pass from their qkv rows, so they must be one
  // run of consecutive rows and positions (see Kernels::attention).
  std::vector<bool> seen(static_cast<std::size_t>(slots_), false);
  for (int i = 0; i < n; ++i) {
    const auto& t = tokens[static_cast<std::size_t>(i)];
    const bool continues = i > 0 && tokens[static_cast<std::size_t>(i) - 1].slot == t.slot &&
                           tokens[static_cast<std::size_t>(i) - 1].pos + 1 == t.pos;
    if (!continues && seen[static_cast<std::size_t>(t.slot)])
      throw RuntimeError("sequence slot " + std::to_string(t.slot) +
                         " appears twice in one batch; give each chunk its own slot");
    seen[static_cast<std::size_t>(t.slot)] = true;
    ids[i] = t.id;
    meta[2 * i] = t.slot;
    meta[2 * i + 1] = t.pos;
    spans[2 * i] = t.span;
    spans[2 * i + 1] = continues ? spans[2 * i - 1] : t.pos;
    if (t.logits) {
      temperatures[picked] = t.summarize.value_or(1.0f);
      summarize = summarize || t.summarize.has_value();
      rows[picked++] = i;
    }
  }

  const auto kinds = TokenRuns::of(std::span(meta, 2 * static_cast<std::size_t>(n)),
                                   std::span(spans, 2 * static_cast<std::size_t>(n)));
  // Profiling records afresh: its timestamps live in the recording.
  if (profiling_) {
    stream_.begin(true);
    record_pass(n, picked, summarize, kinds);
  } else if (!stream_.begin_reusable({static_cast<std::uint32_t>(n),
                                      static_cast<std::uint32_t>(picked), summarize ? 1u : 0u,
                                      kinds.singles ? 1u : 0u, kinds.runs ? 1u : 0u})) {
    record_pass(n, picked, summarize, kinds);
  }
  stream_.submit_and_wait();
  if (profiling_) {
    for (const auto& op : stream_.op_times()) profile_.push_back(op);
  }

  const auto* logits = reinterpret_cast<const float*>(logits_.buffer.host_data());
  const auto* records = reinterpret_cast<const std::uint32_t*>(summary_records_.host_data());
  constexpr std::size_t kRecordWords = std::size_t{kSummaryLanes} * kSummaryWords;
  for (int r = 0; r < picked; ++r) {
    const auto& t = tokens[static_cast<std::size_t>(rows[r])];
    std::optional<LogitSummary> summary;
    if (t.summarize)
      summary =
          merge_lanes(std::span(records + static_cast<std::size_t>(r) * kRecordWords, kRecordWords),
                      config_.output_width(), *t.summarize);
    sink(t.chunk, t.index,
         std::span(logits + static_cast<std::size_t>(r) * static_cast<std::size_t>(logits_.stride),
                   static_cast<std::size_t>(config_.output_width())),
         summary ? &*summary : nullptr);
  }
}

}  // namespace sg::engine
