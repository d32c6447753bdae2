// `stagegate repetition`: the repetition detector's per-sample figures (issue 13) of a text,
// of token ids, or of each line of a JSON-lines file, with a checkpoint's tokenizer (no
// weights are loaded).
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/tokenizer_dir.hpp"
#include "common/errors.hpp"
#include "repetition/metrics.hpp"

namespace sg::cli {

namespace {

using nlohmann::json;
using Ordered = nlohmann::ordered_json;  // keys in the documented order
namespace rep = detectors::repetition;

Ordered figures_json(const rep::SampleFigures& f) {
  Ordered out{{"seq_rep_2", f.seq_rep_2}, {"seq_rep_3", f.seq_rep_3}, {"seq_rep_4", f.seq_rep_4},
              {"rep_16", f.rep_16},       {"rep_32", f.rep_32},       {"rep_128", f.rep_128}};
  out["zlib_ratio"] = f.zlib_ratio ? Ordered(*f.zlib_ratio) : Ordered(nullptr);
  out["loop"] =
      f.loop ? Ordered{{"period", f.loop->period}, {"start", f.loop_start}} : Ordered(nullptr);
  return out;
}

std::string figures_line(const rep::SampleFigures& f) {
  std::ostringstream s;
  s << "seq_rep_2 " << f.seq_rep_2 << "  seq_rep_3 " << f.seq_rep_3 << "  seq_rep_4 " << f.seq_rep_4
    << "  rep_16 " << f.rep_16 << "  rep_32 " << f.rep_32 << "  rep_128 " << f.rep_128
    << "  zlib_ratio ";
  if (f.zlib_ratio)
    s << *f.zlib_ratio;
  else
    s << "-";
  s << "  loop ";
  if (f.loop)
    s << "period " << f.loop->period << " from token " << f.loop_start;
  else
    s << "none";
  return s.str();
}

void print(const rep::SampleFigures& f, bool as_json) {
  std::cout << (as_json ? figures_json(f).dump() : figures_line(f)) << "\n";
}

// One {"text": ...} or {"tokens": [...]} line; errors name the line.
rep::SampleFigures line_figures(const tokenizer::Tokenizer& tok, const std::string& line,
                                const std::string& where) {
  try {
    const auto j = json::parse(line);
    if (j.is_object() && j.contains("text") && j["text"].is_string()) {
      const auto text = j["text"].get<std::string>();
      return rep::sample_figures(tok.encode(text), text);
    }
    if (j.is_object() && j.contains("tokens") && j["tokens"].is_array()) {
      const auto ids = j["tokens"].get<std::vector<std::int32_t>>();
      return rep::sample_figures(ids, tok.decode(ids));
    }
    throw InputError("expected an object with \"text\" (a string) or \"tokens\" (ids)");
  } catch (const json::exception& e) {
    throw InputError(where + ": not valid JSON (" + e.what() + ")");
  } catch (const InputError& e) {
    throw InputError(where + ": " + e.what());
  }
}

}  // namespace

int cmd_repetition(const Args& args) {
  po::options_description desc("stagegate repetition");
  desc.add_options()("help,h", "show this help")(
      "model", po::value<std::string>()->required(),
      "checkpoint or tokenizer directory (only its tokenizer is read)")(
      "text", po::value<std::string>(), "text to measure")(
      "ids", po::value<std::string>(), "token ids to measure, e.g. 464,3290,318")(
      "input", po::value<std::string>(),
      "JSON lines ('-' for standard input): {\"text\": ...} or {\"tokens\": [...]} per line; "
      "one line of figures each")("json", "print each text's figures as one JSON object");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm,
                    "usage: stagegate repetition --model DIR (--text T | --ids 1,2,3 | --input "
                    "F.jsonl) [--json]"))
    return 0;
  if (vm.count("text") + vm.count("ids") + vm.count("input") != 1)
    throw UsageError("give exactly one of --text, --ids, --input");
  const bool as_json = vm.count("json") > 0;
  const auto tok = load_tokenizer_dir(vm["model"].as<std::string>());

  if (vm.count("text")) {
    const auto text = vm["text"].as<std::string>();
    print(rep::sample_figures(tok->encode(text), text), as_json);
    return 0;
  }
  if (vm.count("ids")) {
    const auto ids = parse_ids(vm["ids"].as<std::string>(), "--ids");
    print(rep::sample_figures(ids, tok->decode(ids)), as_json);
    return 0;
  }
  const auto path = vm["input"].as<std::string>();
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) throw InputError(path + ": cannot be read");
    in = &file;
  }
  const std::string name = path == "-" ? "<stdin>" : path;
  std::string line;
  for (int number = 1; std::getline(*in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    print(line_figures(*tok, line, name + ":" + std::to_string(number)), as_json);
  }
  return 0;
}

}  // namespace sg::cli
