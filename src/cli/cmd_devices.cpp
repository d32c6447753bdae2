// `stagegate devices`: the Vulkan devices, so that --device N can pick one.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "vk/context.hpp"

namespace sg::cli {

int cmd_devices(const Args& args) {
  po::options_description desc("stagegate devices");
  desc.add_options()("help,h", "show this help")("json", "print a JSON array");
  po::variables_map vm;
  if (parse_or_help(args, desc, vm, "usage: stagegate devices [--json]")) return 0;
  auto devices = gpu::list_devices();
  if (vm.count("json")) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : devices)
      out.push_back({{"index", d.index},
                     {"name", d.name},
                     {"type", d.type},
                     {"memory_mb", d.memory_bytes >> 20},
                     {"storage_16bit", d.storage_16bit},
                     {"driver", d.driver}});
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cout << "index  type        memory     16-bit  name\n";
  for (const auto& d : devices) {
    std::printf("%-6d %-11s %6llu MiB  %-6s  %s (%s)\n", d.index, d.type.c_str(),
                static_cast<unsigned long long>(d.memory_bytes >> 20),
                d.storage_16bit ? "yes" : "no", d.name.c_str(), d.driver.c_str());
  }
  return 0;
}

}  // namespace sg::cli
