#include "cli/model_setup.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/errors.hpp"
#include "common/log.hpp"

namespace sg::cli {

namespace fs = std::filesystem;

void add_model_options(po::options_description& desc, bool require_model) {
  auto* model = po::value<std::string>();
  if (require_model) model->required();
  desc.add_options()("model", model,
                     "checkpoint directory in Hugging Face layout (config.json, "
                     "model.safetensors, vocab.json, merges.txt)")(
      "device", po::value<int>(),
      "Vulkan device index (see `stagegate devices`; default: STAGEGATE_DEVICE, else the "
      "first discrete GPU, else the first device)")(
      "dtype", po::value<std::string>(),
      "weight storage: f16 (default where the device supports it) or f32")(
      "strict", "treat unexpected extra tensors in the checkpoint as an error");
}

std::unique_ptr<model::Checkpoint> open_checkpoint(const po::variables_map& vm) {
  model::OpenOptions open;
  open.strict = vm.count("strict") > 0;
  return std::make_unique<model::Checkpoint>(
      model::Checkpoint::open(vm["model"].as<std::string>(), open));
}

LoadedModel load_model(const po::variables_map& vm, engine::EngineOptions size,
                       const BeforeUpload& before_upload) {
  if (vm.count("dtype")) {
    auto d = vm["dtype"].as<std::string>();
    if (d == "f16")
      size.dtype = engine::WeightType::kF16;
    else if (d == "f32")
      size.dtype = engine::WeightType::kF32;
    else
      throw UsageError("--dtype must be f16 or f32, not '" + d + "'");
  }
  LoadedModel m;
  m.checkpoint = open_checkpoint(vm);
  for (const auto& w : m.checkpoint->warnings()) log::warn(w);
  const fs::path dir = vm["model"].as<std::string>();
  if (tokenizer::has_tokenizer_files(dir)) {
    m.tokenizer = tokenizer::load(dir, model::to_string(m.checkpoint->config().arch));
    if (m.tokenizer->vocab_size() > m.checkpoint->config().vocab_size)
      throw InputError(dir.string() + ": the tokenizer has " +
                       std::to_string(m.tokenizer->vocab_size()) +
                       " tokens but config.json's vocab_size is " +
                       std::to_string(m.checkpoint->config().vocab_size));
  }
  gpu::ContextOptions gopts;
  gopts.device_index = gpu::device_index_from(
      vm.count("device") ? std::optional(vm["device"].as<int>()) : std::nullopt);
  const char* validation = std::getenv("STAGEGATE_VALIDATION");
  gopts.validation = validation && std::string(validation) == "1";
  m.gpu = std::make_unique<gpu::Context>(gopts);
  if (before_upload) before_upload(*m.checkpoint, m.tokenizer.get(), *m.gpu, size);
  m.engine = std::make_unique<engine::Model>(*m.gpu, *m.checkpoint, size);
  return m;
}

const tokenizer::Tokenizer& LoadedModel::require_tokenizer(const std::string& option) const {
  if (!tokenizer)
    throw InputError(option + ": tokenizer not available: " + checkpoint->dir().string() +
                     " has no vocab.json + merges.txt nor vocab.txt (give token ids with --ids)");
  return *tokenizer;
}

std::vector<std::int32_t> ids_from(const po::variables_map& vm, const LoadedModel& m,
                                   const std::string& text_option, const std::string& file_option) {
  if (vm.count("ids")) return parse_ids(vm["ids"].as<std::string>(), "--ids");
  tokenizer::EncodeOptions enc;
  if (vm.count(text_option))
    return m.require_tokenizer("--" + text_option).encode(vm[text_option].as<std::string>(), enc);
  if (!file_option.empty() && vm.count(file_option)) {
    auto path = vm[file_option].as<std::string>();
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": cannot read");
    std::stringstream ss;
    ss << in.rdbuf();
    return m.require_tokenizer("--" + file_option).encode(ss.str(), enc);
  }
  std::string choices = "--ids or --" + text_option;
  if (!file_option.empty()) choices += " or --" + file_option;
  throw UsageError("give the input with " + choices);
}

}  // namespace sg::cli
