#include "memorization/leakage_filter.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/errors.hpp"
#include "memorization/corpus_suffix.hpp"
#include "memorization/tokenizer_hash.hpp"

namespace sg::detectors::memorization {

namespace {

class LeakageFilter : public engine::OutputFilter {
 public:
  LeakageFilter(const CorpusIndex& index, std::uint32_t n)
      : index_(&index), n_(n), suffix_(index, n - 1) {}

  std::optional<engine::FilterEvent> veto(const engine::GenerationState& state,
                                          std::int32_t token) override {
    catch_up(state);
    if (suffix_.match().depth + 1 < n_) return std::nullopt;
    const auto span = index_->extend(suffix_.match(), token);
    if (span.empty()) return std::nullopt;
    const auto where = index_->locate(span, 1);
    nlohmann::json detail{{"span_length", n_}, {"token", token}, {"occurrences", span.size()}};
    if (!where.empty()) {
      detail["document"] = {{"id", where.front().document},
                            {"name", std::string(index_->document_name(where.front().document))}};
      detail["offset"] = where.front().offset;
    }
    return engine::FilterEvent{kLeakageFilterName, "block",
                               static_cast<std::int64_t>(state.generated.size()), detail.dump()};
  }

  std::optional<engine::FilterStop> stop(const engine::GenerationState& state) override {
    catch_up(state);  // pays for the accepted token now, not inside the next veto
    return std::nullopt;
  }

 private:
  // Feeds the tokens of prompt + output not yet seen. Only the last n-1 of the prompt can
  // be part of a span the output completes.
  void catch_up(const engine::GenerationState& state) {
    const std::uint64_t total = state.prompt.size() + state.generated.size();
    if (!started_) {
      started_ = true;
      fed_ = state.prompt.size() > n_ - 1 ? state.prompt.size() - (n_ - 1) : 0;
    }
    if (fed_ > total) throw std::logic_error("leakage filter: the sequence it follows shrank");
    for (; fed_ < total; ++fed_)
      suffix_.push(fed_ < state.prompt.size() ? state.prompt[fed_]
                                              : state.generated[fed_ - state.prompt.size()]);
  }

  const CorpusIndex* index_;
  std::uint32_t n_;
  CorpusSuffix suffix_;
  bool started_ = false;
  std::uint64_t fed_ = 0;  // tokens of prompt + output fed to suffix_ (or skipped)
};

}  // namespace

LeakageFilterFactory::LeakageFilterFactory(std::shared_ptr<const CorpusIndex> index,
                                           std::uint32_t n)
    : index_(std::move(index)), n_(n) {
  if (n_ == 0) throw std::invalid_argument("leakage filter: n must be at least 1");
  if (!index_) throw std::invalid_argument("leakage filter: no index");
}

std::unique_ptr<engine::OutputFilter> LeakageFilterFactory::make() const {
  return std::make_unique<LeakageFilter>(*index_, n_);
}

std::shared_ptr<const LeakageFilterFactory> leakage_filter_for_model(
    const std::filesystem::path& index_file, std::uint32_t n,
    const std::filesystem::path& model_dir) {
  if (n == 0) throw InputError(index_file.string() + ": the leakage span N must be at least 1");
  auto index = std::make_shared<const CorpusIndex>(CorpusIndex::open(index_file));
  check_tokenizer_matches(index->tokenizer_hash(), index_file, model_dir);
  return std::make_shared<const LeakageFilterFactory>(std::move(index), n);
}

}  // namespace sg::detectors::memorization
