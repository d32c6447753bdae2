// `stagegate keys add|list|revoke --keys FILE`: the API keys `stagegate serve` accepts
// (serve/api_keys.hpp). `add` prints the new key once, on standard output alone, so that
// `KEY=$(stagegate keys add ...)` captures it; the file keeps only its hash.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "common/errors.hpp"
#include "serve/api_keys.hpp"

namespace sg::cli {

namespace {

using nlohmann::json;

constexpr const char* kKeysUsage =
    "usage: stagegate keys add --keys FILE --audience NAME [--name LABEL]\n"
    "       stagegate keys list --keys FILE [--json]\n"
    "       stagegate keys revoke --keys FILE ID";

int add(const Args& args) {
  po::options_description desc("stagegate keys add");
  desc.add_options()("help,h", "show this help")("keys", po::value<std::string>()->required(),
                                                 "the keys file (created if absent)")(
      "audience", po::value<std::string>()->required(),
      "the policy audience the key belongs to ([audience.NAME])")(
      "name", po::value<std::string>()->default_value(""), "a label: who or what holds it");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm, kKeysUsage)) return 0;
  auto keys = serve::KeysFile::read(vm["keys"].as<std::string>());
  const auto key = keys.add(vm["audience"].as<std::string>(), vm["name"].as<std::string>());
  keys.write();
  const auto& made = keys.keys().back();
  std::cout << key << "\n";
  std::cerr << "key " << made.id << " for audience " << made.audience << " added to "
            << keys.file().string() << "; it is shown only now, the file keeps its hash\n";
  return 0;
}

int list(const Args& args) {
  po::options_description desc("stagegate keys list");
  desc.add_options()("help,h", "show this help")("keys", po::value<std::string>()->required(),
                                                 "the keys file")("json", "print JSON");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm, kKeysUsage)) return 0;
  const std::string file = vm["keys"].as<std::string>();
  if (!std::filesystem::exists(file)) throw InputError(file + ": no such keys file");
  const auto keys = serve::KeysFile::read(file);
  if (vm.count("json")) {
    json out = json::array();
    for (const auto& k : keys.keys())
      out.push_back({{"id", k.id},
                     {"audience", k.audience},
                     {"label", k.label},
                     {"created", k.created},
                     {"revoked", k.revoked ? json(*k.revoked) : json()}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  for (const auto& k : keys.keys())
    std::cout << k.id << "  " << k.audience << "  " << (k.label.empty() ? "-" : k.label) << "  "
              << k.created << "  " << (k.revoked ? "revoked " + *k.revoked : "active") << "\n";
  return 0;
}

int revoke(const Args& args) {
  po::options_description desc("stagegate keys revoke");
  desc.add_options()("help,h", "show this help")("keys", po::value<std::string>()->required(),
                                                 "the keys file")(
      "id", po::value<std::string>()->required(), "the key's id (stagegate keys list)");
  po::positional_options_description positional;
  positional.add("id", 1);
  po::variables_map vm;
  if (parse_or_help(args, desc, vm, kKeysUsage, &positional)) return 0;
  const std::string file = vm["keys"].as<std::string>();
  if (!std::filesystem::exists(file)) throw InputError(file + ": no such keys file");
  auto keys = serve::KeysFile::read(file);
  keys.revoke(vm["id"].as<std::string>());
  keys.write();
  std::cerr << "key " << vm["id"].as<std::string>() << " revoked in " << file << "\n";
  return 0;
}

}  // namespace

int cmd_keys(const Args& args) {
  if (args.empty()) throw UsageError(std::string("which action?\n") + kKeysUsage);
  const std::string& action = args.front();
  const Args rest(args.begin() + 1, args.end());
  if (action == "--help" || action == "-h" || action == "help") {
    std::cout << kKeysUsage << "\n\n(stagegate keys ACTION --help for an action's options)\n";
    return 0;
  }
  if (action == "add") return add(rest);
  if (action == "list") return list(rest);
  if (action == "revoke") return revoke(rest);
  throw UsageError("unknown action '" + action + "'\n" + kKeysUsage);
}

}  // namespace sg::cli
