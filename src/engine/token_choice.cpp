#include "engine/token_choice.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/sparse_logits.hpp"

namespace sg::engine {

TokenChooser::TokenChooser(const SamplingParams& params)
    : greedy_(params.temperature <= 0.0f),
      temperature_(greedy_ ? 1.0f : params.temperature),
      rng_(params.seed),
      chain_(make_chain(params)) {
  // Plain sampling draws from every id: only a cut by top-k or top-p leaves a short list.
  wants_summary_ =
      !chain_.needs_full_logits() && (greedy_ || params.top_k > 0 || params.top_p < 1.0f);
  for (const auto& f : params.filters) filters_.push_back(f->make());
}

TokenChoice TokenChooser::choose(const GenerationState& state, std::span<const float> logits,
                                 ChoiceScratch& scratch, const LogitSummary* summary) {
  auto& work = scratch.logits;
  std::optional<SparseLogits> sparse;
  if (summary && wants_summary_) {
    sparse.emplace(*summary);
    if (!chain_.apply_sparse(state, *sparse)) sparse.reset();
  }
  std::vector<std::int32_t> vetoed;
  std::size_t live = 0;  // unmasked ids in `work`
  auto go_dense = [&] {
    sparse.reset();
    work.assign(logits.begin(), logits.end());
    chain_.apply(state, work);
    for (auto id : vetoed) work[static_cast<std::size_t>(id)] = kMaskedLogit;
    live = static_cast<std::size_t>(
        std::count_if(work.begin(), work.end(), [](float l) { return l != kMaskedLogit; }));
  };
  if (!sparse) go_dense();

  TokenChoice out;
  for (;;) {
    std::int32_t token = 0;
    SparseDraw d;
    if (sparse) d = draw(*sparse, greedy_, rng_);
    if (sparse && d.kind == SparseDraw::Kind::kNone) return out;
    if (sparse && d.kind == SparseDraw::Kind::kToken) {
      token = d.token;
    } else {
      if (sparse) go_dense();  // the summary cannot tell; no random number was drawn
      if (live == 0) return out;
      if (greedy_) {
        token = argmax(work);
      } else {
        Normalizer normalizer;
        token = sample(work, rng_, scratch.exps, normalizer);
        // `work` is the raw row when no processor ran and nothing was vetoed yet.
        out.raw_normalizer.reset();
        if (chain_.empty() && vetoed.empty()) out.raw_normalizer = normalizer;
      }
    }
    std::optional<FilterEvent> veto;
    for (auto& f : filters_) {
      veto = f->veto(state, token);
      if (veto) break;
    }
    if (!veto) {
      out.token = token;
      out.from_summary = sparse.has_value();
      return out;
    }
    out.events.push_back(std::move(*veto));
    // Masking and drawing again is sampling from the renormalized rest; greedy takes the
    // next best.
    vetoed.push_back(token);
    if (sparse) {
      sparse->mask(token);
    } else {
      work[static_cast<std::size_t>(token)] = kMaskedLogit;
      --live;
    }
  }
}

std::optional<FilterStop> TokenChooser::after_accept(const GenerationState& state) {
  for (auto& f : filters_)
    if (auto s = f->stop(state)) return s;
  return std::nullopt;
}

}  // namespace sg::engine
