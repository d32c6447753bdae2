// `stagegate index`: builds a training-corpus index (detectors/memorization) and queries
// it: how often a span occurs, the longest corpus match at each position, where it occurs.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "audit/family_manifest.hpp"
#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/tokenizer_dir.hpp"
#include "common/errors.hpp"
#include "memorization/corpus_index.hpp"

namespace sg::cli {

namespace {

namespace fs = std::filesystem;
namespace mem = detectors::memorization;
using nlohmann::json;

constexpr const char* kIndexUsage =
    "usage: stagegate index build (--corpus FILE... | --family DIR --stage NAME) [--model DIR] "
    "--out FILE.sgidx [--normalize] [--json]\n"
    "       stagegate index count|longest|locate --index FILE (--ids 1,2,3 | --text T --model "
    "DIR) [--limit K] [--json]\n"
    "       stagegate index info --index FILE [--json]";

int build(const Args& args) {
  po::options_description desc("stagegate index build");
  desc.add_options()("help,h", "show this help")(
      "corpus", po::value<std::vector<std::string>>()->multitoken(),
      "corpus files: plain text (one document each) or JSON lines ({\"text\": ...} per line), "
      "optionally .zst")("family", po::value<std::string>(),
                         "a model family directory (family.json); with --stage")(
      "stage", po::value<std::string>(),
      "index exactly the slices family.json lists for this stage (corpus/<slice>.jsonl.zst)")(
      "model", po::value<std::string>(),
      "checkpoint or tokenizer directory whose tokenizer to use (default with --family: the "
      "stage's)")("out", po::value<std::string>()->required(), "the index file to write")(
      "threads",
      po::value<unsigned>()->default_value(std::max(1u, std::thread::hardware_concurrency())),
      "threads for tokenizing")(
      "normalize",
      "lower-case ASCII letters and collapse whitespace before tokenizing: the leakage "
      "filter over this index then also blocks copies that differ only in case or spacing")(
      "json", "print a JSON summary");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm, kIndexUsage)) return 0;
  if ((vm.count("corpus") > 0) == (vm.count("family") > 0))
    throw UsageError("give either --corpus FILE... or --family DIR --stage NAME");
  if (vm.count("family") != vm.count("stage")) throw UsageError("--family and --stage go together");

  std::vector<fs::path> files;
  fs::path model_dir;
  if (vm.count("family")) {
    const fs::path family = vm["family"].as<std::string>();
    const auto stage = audit::read_family_stage(family, vm["stage"].as<std::string>());
    files = audit::stage_corpus_files(family, stage);
    model_dir = stage.directory;
  } else {
    for (const auto& f : vm["corpus"].as<std::vector<std::string>>()) files.emplace_back(f);
  }
  if (vm.count("model")) model_dir = vm["model"].as<std::string>();
  if (model_dir.empty()) throw UsageError("--model DIR is required with --corpus");

  const auto tok = load_tokenizer_dir(model_dir);
  const fs::path out = vm["out"].as<std::string>();
  const auto stats =
      mem::build_index(files, *tok, mem::tokenizer_hash(model_dir), out,
                       {.threads = vm["threads"].as<unsigned>(),
                        .progress = true,
                        .normalization = vm.count("normalize") ? mem::TextNormalization::kLowerSpace
                                                               : mem::TextNormalization::kNone});
  const auto index = mem::CorpusIndex::open(out);
  const double per_token =
      stats.tokens ? static_cast<double>(stats.file_bytes) / static_cast<double>(stats.tokens) : 0;
  if (vm.count("json")) {
    json files_json = json::array();
    for (const auto& f : files) files_json.push_back(f.string());
    std::cout << json{{"index", out.string()},
                      {"files", files_json},
                      {"tokens", stats.tokens},
                      {"documents", stats.documents},
                      {"bytes", stats.file_bytes},
                      {"bytes_per_token", per_token},
                      {"token_bytes", index.token_bytes()},
                      {"normalization", mem::to_string(index.normalization())},
                      {"tokenizer_hash", index.tokenizer_hash()},
                      {"corpus_hash", index.corpus_hash()},
                      {"seconds",
                       {{"tokenize", stats.tokenize_seconds},
                        {"sort", stats.sort_seconds},
                        {"write", stats.write_seconds}}}}
                     .dump()
              << "\n";
  } else {
    std::cout << out.string() << ": " << stats.tokens << " tokens in " << stats.documents
              << " documents from " << files.size() << " files, " << stats.file_bytes << " bytes ("
              << per_token << " per token; tokenize " << stats.tokenize_seconds << " s, sort "
              << stats.sort_seconds << " s, write " << stats.write_seconds << " s)\n";
  }
  return 0;
}

enum class Query { kCount, kLongest, kLocate, kInfo };

int query(Query what, const std::string& name, const Args& args) {
  po::options_description desc("stagegate index " + name);
  desc.add_options()("help,h", "show this help")("index", po::value<std::string>()->required(),
                                                 "the index file (.sgidx)");
  if (what != Query::kInfo) {
    desc.add_options()("ids", po::value<std::string>(), "the span as token ids, e.g. 464,3290")(
        "text", po::value<std::string>(), "the span as text (with --model)")(
        "model", po::value<std::string>(),
        "checkpoint or tokenizer directory to encode --text with; must be the index's tokenizer");
  }
  if (what == Query::kLocate)
    desc.add_options()("limit", po::value<std::size_t>()->default_value(10),
                       "report at most this many occurrences");
  desc.add_options()("json", "print JSON");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm, kIndexUsage)) return 0;
  const fs::path file = vm["index"].as<std::string>();
  const auto index = mem::CorpusIndex::open(file);
  const bool as_json = vm.count("json") > 0;

  if (what == Query::kInfo) {
    const json info{{"index", file.string()},
                    {"tokens", index.token_count()},
                    {"documents", index.document_count()},
                    {"vocab_size", index.vocab_size()},
                    {"token_bytes", index.token_bytes()},
                    {"normalization", mem::to_string(index.normalization())},
                    {"tokenizer_hash", index.tokenizer_hash()},
                    {"corpus_hash", index.corpus_hash()}};
    if (as_json) {
      std::cout << info.dump() << "\n";
    } else {
      for (const auto& [key, value] : info.items())
        std::cout << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump())
                  << "\n";
    }
    return 0;
  }

  if ((vm.count("ids") > 0) == (vm.count("text") > 0))
    throw UsageError("give exactly one of --ids, --text");
  std::vector<std::int32_t> ids;
  if (vm.count("ids")) {
    ids = parse_ids(vm["ids"].as<std::string>(), "--ids");
  } else {
    if (!vm.count("model"))
      throw UsageError("--text needs --model DIR (the tokenizer the index was built with)");
    const fs::path model_dir = vm["model"].as<std::string>();
    mem::check_tokenizer_matches(index.tokenizer_hash(), file, model_dir);
    // A normalized index holds normalized text: the query is normalized the same way.
    ids = load_tokenizer_dir(model_dir)->encode(
        mem::normalize(vm["text"].as<std::string>(), index.normalization()));
  }

  if (what == Query::kCount) {
    const auto n = index.count(ids);
    if (as_json)
      std::cout << json{{"count", n}}.dump() << "\n";
    else
      std::cout << n << "\n";
  } else if (what == Query::kLongest) {
    const auto longest = index.longest(ids);
    if (as_json) {
      std::cout << json{{"longest", longest}}.dump() << "\n";
    } else {
      for (std::size_t i = 0; i < longest.size(); ++i) std::cout << (i ? "," : "") << longest[i];
      std::cout << "\n";
    }
  } else {
    const auto range = index.find(ids);
    const auto found = index.locate(range, vm["limit"].as<std::size_t>());
    if (as_json) {
      json list = json::array();
      for (const auto& o : found)
        list.push_back({{"document", o.document},
                        {"name", index.document_name(o.document)},
                        {"offset", o.offset}});
      std::cout << json{{"count", range.size()}, {"occurrences", list}}.dump() << "\n";
    } else {
      std::cout << range.size() << " occurrences"
                << (found.size() < range.size() ? ", first " + std::to_string(found.size()) : "")
                << "\n";
      for (const auto& o : found)
        std::cout << index.document_name(o.document) << "\t(document " << o.document << ")\toffset "
                  << o.offset << "\n";
    }
  }
  return 0;
}

}  // namespace

int cmd_index(const Args& args) {
  if (args.empty()) throw UsageError(std::string("which action?\n") + kIndexUsage);
  const std::string& action = args.front();
  const Args rest(args.begin() + 1, args.end());
  if (action == "--help" || action == "-h" || action == "help") {
    std::cout << kIndexUsage << "\n\n(stagegate index ACTION --help for an action's options)\n";
    return 0;
  }
  if (action == "build") return build(rest);
  if (action == "count") return query(Query::kCount, action, rest);
  if (action == "longest") return query(Query::kLongest, action, rest);
  if (action == "locate") return query(Query::kLocate, action, rest);
  if (action == "info") return query(Query::kInfo, action, rest);
  throw UsageError("unknown action '" + action + "'\n" + kIndexUsage);
}

}  // namespace sg::cli
