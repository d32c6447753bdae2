// `stagegate report`: the release report of a database, as one self-contained HTML file or
// as Markdown.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "common/errors.hpp"
#include "db/store.hpp"
#include "release/policy.hpp"
#include "report/release_report.hpp"
#include "report/report_data.hpp"

namespace sg::cli {

int cmd_report(const Args& args) {
  po::options_description desc("stagegate report");
  desc.add_options()("help,h", "show this help")("db", po::value<std::string>()->required(),
                                                 "SQLite audit database")(
      "policy", po::value<std::string>(), "the release policy: each stage's filters by audience")(
      "out", po::value<std::string>()->required(), "the report file to write")(
      "format", po::value<std::string>()->default_value("html"), "html or md");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm,
                    "usage: stagegate report --db FILE [--policy FILE] --out FILE [--format "
                    "html|md]"))
    return 0;
  const auto format = vm["format"].as<std::string>();
  if (format != "html" && format != "md")
    throw UsageError("--format must be html or md, not '" + format + "'");
  const std::filesystem::path file = vm["db"].as<std::string>();
  if (!std::filesystem::exists(file)) throw InputError(file.string() + ": no such database");
  std::optional<release::Policy> policy;
  if (vm.count("policy")) policy = release::Policy::load(vm["policy"].as<std::string>());

  db::Store store(file);
  const auto data = report::gather(store, file, policy ? &*policy : nullptr);
  const auto text = format == "md" ? report::report_markdown(data) : report::report_html(data);

  // Written whole or not at all: a report cut short by a full disk must not look complete.
  const std::filesystem::path out = vm["out"].as<std::string>();
  const auto partial = std::filesystem::path(out.string() + ".partial");
  {
    std::ofstream f(partial, std::ios::binary | std::ios::trunc);
    if (!f) throw InputError(out.string() + ": cannot be written");
    f << text;
    f.close();
    if (!f) {
      std::error_code ignored;
      std::filesystem::remove(partial, ignored);
      throw RuntimeError(out.string() + ": writing failed (disk full?); nothing was written");
    }
  }
  std::filesystem::rename(partial, out);
  std::cerr << "wrote " << out.string() << " (" << data.stages.size() << " stages, "
            << data.figures.rows.size() << " figures)\n";
  return 0;
}

}  // namespace sg::cli
