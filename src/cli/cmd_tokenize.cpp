// `stagegate tokenize`: text to ids and back with a checkpoint's tokenizer; streams large
// JSON-lines files in constant memory, encoding batches of lines on all cores.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "cli/tokenizer_dir.hpp"
#include "common/errors.hpp"
#include "common/progress.hpp"
#include "tokenizer/tokenizer.hpp"

namespace sg::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::size_t kBatchLines = 2048;

// Runs `work(i)` for i in [0, n) on up to `threads` threads.
template <typename F>
void parallel_for(std::size_t n, unsigned threads, F work) {
  if (threads <= 1 || n < 2) {
    for (std::size_t i = 0; i < n; ++i) work(i);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(threads);
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      try {
        for (std::size_t i = t; i < n; i += threads) work(i);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

std::string read_all(std::istream& in) {
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One jsonl line -> one output line. Errors name the line.
std::string process_line(const tokenizer::Tokenizer& tok, const std::string& line,
                         std::size_t number, const std::string& name, bool decode,
                         const tokenizer::EncodeOptions& enc) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception& e) {
    throw InputError(name + ":" + std::to_string(number) + ": not valid JSON (" + e.what() + ")");
  }
  const char* key = decode ? "tokens" : "text";
  if (!j.is_object() || !j.contains(key))
    throw InputError(name + ":" + std::to_string(number) + ": expected an object with \"" + key +
                     "\"");
  try {
    if (decode) {
      auto ids = j["tokens"].get<std::vector<std::int32_t>>();
      return json{{"text", tok.decode(ids)}}.dump();
    }
    if (!j["text"].is_string()) throw InputError("\"text\" is not a string");
    return json{{"tokens", tok.encode(j["text"].get<std::string>(), enc)}}.dump();
  } catch (const json::exception& e) {
    throw InputError(name + ":" + std::to_string(number) + ": " + e.what());
  } catch (const InputError& e) {
    throw InputError(name + ":" + std::to_string(number) + ": " + e.what());
  }
}

void run_jsonl(const tokenizer::Tokenizer& tok, std::istream& in, const std::string& name,
               std::uint64_t size, bool decode, const tokenizer::EncodeOptions& enc,
               unsigned threads) {
  ProgressBar bar("tokenize", size ? size : 1, "bytes");
  std::vector<std::string> lines, out;
  std::size_t first_line = 1;
  std::uint64_t consumed = 0;
  std::string line;
  auto flush = [&] {
    out.assign(lines.size(), std::string());
    parallel_for(lines.size(), threads, [&](std::size_t i) {
      out[i] = lines[i].empty() ? std::string()
                                : process_line(tok, lines[i], first_line + i, name, decode, enc);
    });
    for (const auto& o : out)
      if (!o.empty()) std::cout << o << '\n';
    first_line += lines.size();
    lines.clear();
    bar.set(consumed);
  };
  while (std::getline(in, line)) {
    consumed += line.size() + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    if (lines.size() == kBatchLines) flush();
  }
  flush();
  bar.finish();
}

}  // namespace

int cmd_tokenize(const Args& args) {
  po::options_description desc("stagegate tokenize");
  desc.add_options()("help,h", "show this help")(
      "model", po::value<std::string>()->required(),
      "checkpoint or tokenizer directory (vocab.json + merges.txt)")(
      "text", po::value<std::string>(), "text to encode")("input", po::value<std::string>(),
                                                          "file to read ('-' for standard input)")(
      "format", po::value<std::string>(),
      "text (the whole input is one text) or jsonl (one {\"text\": ...} per line); default: "
      "jsonl for a .jsonl file, else text")("ids", po::value<std::string>(),
                                            "ids to decode, e.g. 464,3290 (with --decode)")(
      "decode", "decode ids to text")("json", "print JSON ({\"tokens\": [...]} / {\"text\": ...})")(
      "no-special", "encode <|endoftext|> in the text as plain text, not as its id")(
      "invalid-utf8", po::value<std::string>()->default_value("error"),
      "error (default: name the byte offset) or replace (with U+FFFD, as Python does)")(
      "threads",
      po::value<unsigned>()->default_value(std::max(1u, std::thread::hardware_concurrency())),
      "threads for JSON-lines input");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm,
                    "usage: stagegate tokenize --model DIR (--text T | --input F [--format "
                    "text|jsonl] | --ids 1,2,3 --decode) [--json]"))
    return 0;
  tokenizer::EncodeOptions enc;
  enc.allow_special = vm.count("no-special") == 0;
  auto bad = vm["invalid-utf8"].as<std::string>();
  if (bad == "replace")
    enc.invalid_utf8 = tokenizer::InvalidUtf8::kReplace;
  else if (bad != "error")
    throw UsageError("--invalid-utf8 must be error or replace, not '" + bad + "'");
  const bool decode = vm.count("decode") > 0;
  const bool as_json = vm.count("json") > 0;
  const int sources = static_cast<int>(vm.count("text") + vm.count("input") + vm.count("ids"));
  if (sources != 1) throw UsageError("give exactly one of --text, --input, --ids");
  if (vm.count("ids") && !decode) throw UsageError("--ids goes with --decode");
  if (vm.count("text") && decode) throw UsageError("--decode takes --ids or --input, not --text");

  auto tok = load_tokenizer_dir(vm["model"].as<std::string>());

  if (vm.count("ids")) {
    auto text = tok->decode(parse_ids(vm["ids"].as<std::string>(), "--ids"));
    if (as_json)
      std::cout << json{{"text", text}}.dump() << "\n";
    else
      std::cout << text << "\n";
    return 0;
  }
  if (vm.count("text")) {
    auto ids = tok->encode(vm["text"].as<std::string>(), enc);
    if (as_json)
      std::cout << json{{"tokens", ids}}.dump() << "\n";
    else
      std::cout << ids_to_json(ids).substr(1, ids_to_json(ids).size() - 2) << "\n";
    return 0;
  }

  const std::string path = vm["input"].as<std::string>();
  std::string format = vm.count("format")
                           ? vm["format"].as<std::string>()
                           : (fs::path(path).extension() == ".jsonl" ? "jsonl" : "text");
  if (format != "text" && format != "jsonl")
    throw UsageError("--format must be text or jsonl, not '" + format + "'");
  std::ifstream file;
  std::istream* in = &std::cin;
  std::uint64_t size = 0;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) throw InputError(path + ": cannot be read");
    in = &file;
    size = fs::file_size(path);
  }
  const std::string name = path == "-" ? "<stdin>" : path;
  if (format == "jsonl") {
    run_jsonl(*tok, *in, name, size, decode, enc, vm["threads"].as<unsigned>());
    return 0;
  }
  std::string all = read_all(*in);
  if (decode) {
    auto text = tok->decode(parse_ids(all, name));
    if (as_json)
      std::cout << json{{"text", text}}.dump() << "\n";
    else
      std::cout << text;
    return 0;
  }
  std::vector<std::int32_t> ids;
  try {
    ids = tok->encode(all, enc);
  } catch (const InputError& e) {
    throw InputError(name + ": " + e.what());
  }
  if (as_json)
    std::cout << json{{"tokens", ids}}.dump() << "\n";
  else {
    auto s = ids_to_json(ids);
    std::cout << s.substr(1, s.size() - 2) << "\n";
  }
  return 0;
}

}  // namespace sg::cli
