#include "vk/context.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "common/errors.hpp"
#include "common/log.hpp"

namespace sg::gpu {

namespace {

constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

std::string type_name(vk::PhysicalDeviceType type) {
  switch (type) {
    case vk::PhysicalDeviceType::eDiscreteGpu:
      return "discrete";
    case vk::PhysicalDeviceType::eIntegratedGpu:
      return "integrated";
    case vk::PhysicalDeviceType::eVirtualGpu:
      return "virtual";
    case vk::PhysicalDeviceType::eCpu:
      return "cpu";
    default:
      return "other";
  }
}

VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT,
    const VkDebugUtilsMessengerCallbackDataEXT* data, void* user) {
  if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
    static_cast<Context*>(user)->record_validation_message(data->pMessage);
  } else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
    log::debug(std::string("vulkan validation: ") + data->pMessage);
  }
  return VK_FALSE;
}

bool layer_available(const vk::raii::Context& loader, const char* name) {
  for (const auto& layer : loader.enumerateInstanceLayerProperties())
    if (std::strcmp(layer.layerName, name) == 0) return true;
  return false;
}

vk::raii::Instance make_instance(const vk::raii::Context& loader, bool validation) {
  vk::ApplicationInfo app{.pApplicationName = "stagegate",
                          .applicationVersion = 1,
                          .pEngineName = "stagegate",
                          .engineVersion = 1,
                          .apiVersion = VK_API_VERSION_1_1};
  std::vector<const char*> layers;
  std::vector<const char*> extensions;
  if (validation) {
    layers.push_back(kValidationLayer);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }
  vk::InstanceCreateInfo info{
      .pApplicationInfo = &app,
      .enabledLayerCount = static_cast<std::uint32_t>(layers.size()),
      .ppEnabledLayerNames = layers.data(),
      .enabledExtensionCount = static_cast<std::uint32_t>(extensions.size()),
      .ppEnabledExtensionNames = extensions.data()};
  return vk::raii::Instance(loader, info);
}

DeviceInfo describe(const vk::raii::PhysicalDevice& physical, int index) {
  auto props = physical.getProperties();
  auto memory = physical.getMemoryProperties();
  DeviceInfo info;
  info.index = index;
  info.name = props.deviceName.data();
  info.type = type_name(props.deviceType);
  for (std::uint32_t h = 0; h < memory.memoryHeapCount; ++h)
    if (memory.memoryHeaps[h].flags & vk::MemoryHeapFlagBits::eDeviceLocal)
      info.memory_bytes = std::max<std::uint64_t>(info.memory_bytes, memory.memoryHeaps[h].size);
  auto features =
      physical.getFeatures2<vk::PhysicalDeviceFeatures2, vk::PhysicalDevice16BitStorageFeatures>();
  info.storage_16bit =
      features.get<vk::PhysicalDevice16BitStorageFeatures>().storageBuffer16BitAccess;
  info.int64 = features.get<vk::PhysicalDeviceFeatures2>().features.shaderInt64;
  auto driver_props =
      physical.getProperties2<vk::PhysicalDeviceProperties2, vk::PhysicalDeviceDriverProperties>();
  const auto& driver = driver_props.get<vk::PhysicalDeviceDriverProperties>();
  info.driver = std::string(driver.driverName.data()) + " " + driver.driverInfo.data();
  return info;
}

int default_device(const std::vector<DeviceInfo>& devices) {
  for (const auto& d : devices)
    if (d.type == "discrete") return d.index;
  return 0;
}

}  // namespace

std::vector<DeviceInfo> list_devices() {
  vk::raii::Context loader;
  auto instance = make_instance(loader, false);
  std::vector<DeviceInfo> out;
  int index = 0;
  for (const auto& physical : instance.enumeratePhysicalDevices())
    out.push_back(describe(physical, index++));
  return out;
}

std::optional<int> device_index_from(std::optional<int> flag) {
  if (flag) return flag;
  if (const char* env = std::getenv("STAGEGATE_DEVICE"); env && *env) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (*end != '\0' || v < 0)
      throw UsageError(std::string("STAGEGATE_DEVICE='") + env + "' is not a device index");
    return static_cast<int>(v);
  }
  return std::nullopt;
}

Context::Context(const ContextOptions& options) {
  try {
    validation_enabled_ = options.validation && layer_available(loader_, kValidationLayer);
    if (options.validation && !validation_enabled_)
      log::info("Vulkan validation layer not installed; running without it");
    instance_ = make_instance(loader_, validation_enabled_);
    if (validation_enabled_) {
      using Severity = vk::DebugUtilsMessageSeverityFlagBitsEXT;
      using Type = vk::DebugUtilsMessageTypeFlagBitsEXT;
      vk::DebugUtilsMessengerCreateInfoEXT info{
          .messageSeverity = Severity::eError | Severity::eWarning,
          .messageType = Type::eGeneral | Type::eValidation | Type::ePerformance,
          .pfnUserCallback = &on_validation_message,
          .pUserData = this};
      messenger_ = vk::raii::DebugUtilsMessengerEXT(instance_, info);
    }

    auto physicals = instance_.enumeratePhysicalDevices();
    if (physicals.empty())
      throw RuntimeError(
          "no Vulkan device found: install a GPU driver, or Mesa's lavapipe "
          "(apt-get install mesa-vulkan-drivers)");
    std::vector<DeviceInfo> infos;
    for (std::size_t i = 0; i < physicals.size(); ++i)
      infos.push_back(describe(physicals[i], static_cast<int>(i)));
    int index = options.device_index.value_or(default_device(infos));
    if (index < 0 || index >= static_cast<int>(physicals.size()))
      throw UsageError("--device " + std::to_string(index) + ": there are only " +
                       std::to_string(physicals.size()) +
                       " Vulkan devices (see `stagegate devices`)");
    physical_ = std::move(physicals[static_cast<std::size_t>(index)]);
    info_ = infos[static_cast<std::size_t>(index)];

    auto families = physical_.getQueueFamilyProperties();
    bool found = false;
    for (std::uint32_t i = 0; i < families.size(); ++i) {
      if (families[i].queueFlags & vk::QueueFlagBits::eCompute) {
        queue_family_ = i;
        timestamps_supported_ = families[i].timestampValidBits > 0;
        found = true;
        break;
      }
    }
    if (!found) throw RuntimeError("device '" + info_.name + "' has no compute queue");

    auto props = physical_.getProperties();
    max_storage_range_ = props.limits.maxStorageBufferRange;
    max_texel_elements_ = props.limits.maxTexelBufferElements;
    timestamp_period_ns_ = props.limits.timestampPeriod;
    auto sub =
        physical_
            .getProperties2<vk::PhysicalDeviceProperties2, vk::PhysicalDeviceSubgroupProperties>();
    subgroup_size_ = sub.get<vk::PhysicalDeviceSubgroupProperties>().subgroupSize;

    std::vector<const char*> extensions;
    for (const auto& ext : physical_.enumerateDeviceExtensionProperties()) {
      if (std::strcmp(ext.extensionName, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME) == 0) {
        memory_budget_ = true;
        extensions.push_back(VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
      }
    }

    float priority = 1.0f;
    vk::DeviceQueueCreateInfo queue_info{
        .queueFamilyIndex = queue_family_, .queueCount = 1, .pQueuePriorities = &priority};
    auto supported =
        physical_
            .getFeatures2<vk::PhysicalDeviceFeatures2, vk::PhysicalDevice16BitStorageFeatures>();
    vk::PhysicalDevice16BitStorageFeatures storage16{.storageBuffer16BitAccess =
                                                         info_.storage_16bit ? VK_TRUE : VK_FALSE};
    vk::PhysicalDeviceFeatures2 features{.pNext = &storage16};
    features.features.shaderInt64 =
        supported.get<vk::PhysicalDeviceFeatures2>().features.shaderInt64;
    vk::DeviceCreateInfo device_info{
        .pNext = &features,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &queue_info,
        .enabledExtensionCount = static_cast<std::uint32_t>(extensions.size()),
        .ppEnabledExtensionNames = extensions.data()};
    device_ = vk::raii::Device(physical_, device_info);
    queue_ = vk::raii::Queue(device_, queue_family_, 0);
    command_pool_ = vk::raii::CommandPool(
        device_,
        vk::CommandPoolCreateInfo{.flags = vk::CommandPoolCreateFlagBits::eResetCommandBuffer,
                                  .queueFamilyIndex = queue_family_});
  } catch (const vk::SystemError& e) {
    throw RuntimeError(std::string("Vulkan initialisation failed: ") + e.what());
  }
}

Context::~Context() = default;

std::string Context::last_validation_message() const {
  std::lock_guard lock(message_mutex_);
  return last_message_;
}

void Context::record_validation_message(const char* message) {
  validation_errors_.fetch_add(1);
  std::lock_guard lock(message_mutex_);
  last_message_ = message;
  log::warn(std::string("vulkan validation error: ") + message);
}

namespace {
// Memory the kernel could still hand out (MemAvailable), for CPU devices.
std::uint64_t host_available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::uint64_t kb = 0;
  std::string unit;
  while (in >> key >> kb >> unit)
    if (key == "MemAvailable:") return kb * 1024;
  return 0;
}
}  // namespace

std::uint64_t Context::available_device_memory() const {
  // A CPU device (lavapipe) allocates ordinary host memory: its advertised heap (a fixed
  // 2 GiB in Mesa 22) is no limit, the machine's free RAM is.
  if (is_cpu())
    return std::max(host_available_memory(),
                    info_.memory_bytes > allocated_ ? info_.memory_bytes - allocated_ : 0);
  auto memory = physical_.getMemoryProperties();
  std::uint64_t best = 0;
  if (memory_budget_) {
    auto chain = physical_.getMemoryProperties2<vk::PhysicalDeviceMemoryProperties2,
                                                vk::PhysicalDeviceMemoryBudgetPropertiesEXT>();
    const auto& budget = chain.get<vk::PhysicalDeviceMemoryBudgetPropertiesEXT>();
    for (std::uint32_t h = 0; h < memory.memoryHeapCount; ++h) {
      if (!(memory.memoryHeaps[h].flags & vk::MemoryHeapFlagBits::eDeviceLocal)) continue;
      auto free = budget.heapBudget[h] > budget.heapUsage[h]
                      ? budget.heapBudget[h] - budget.heapUsage[h]
                      : 0;
      best = std::max<std::uint64_t>(best, free);
    }
    return best;
  }
  for (std::uint32_t h = 0; h < memory.memoryHeapCount; ++h)
    if (memory.memoryHeaps[h].flags & vk::MemoryHeapFlagBits::eDeviceLocal)
      best = std::max<std::uint64_t>(best, memory.memoryHeaps[h].size);
  return best > allocated_ ? best - allocated_ : 0;
}

std::uint32_t Context::find_memory_type(std::uint32_t type_bits, vk::MemoryPropertyFlags required,
                                        vk::MemoryPropertyFlags preferred) const {
  auto memory = physical_.getMemoryProperties();
  std::optional<std::uint32_t> fallback;
  for (std::uint32_t i = 0; i < memory.memoryTypeCount; ++i) {
    if (!(type_bits & (1u << i))) continue;
    auto flags = memory.memoryTypes[i].propertyFlags;
    if ((flags & required) != required) continue;
    if ((flags & preferred) == preferred) return i;
    if (!fallback) fallback = i;
  }
  if (!fallback) throw RuntimeError("device '" + info_.name + "' has no suitable memory type");
  return *fallback;
}

vk::MemoryPropertyFlags Context::memory_flags(std::uint32_t type_index) const {
  return physical_.getMemoryProperties().memoryTypes[type_index].propertyFlags;
}

void Context::note_allocation(std::int64_t bytes) {
  auto now =
      allocated_.fetch_add(static_cast<std::uint64_t>(bytes)) + static_cast<std::uint64_t>(bytes);
  auto peak = peak_allocated_.load();
  while (now > peak && !peak_allocated_.compare_exchange_weak(peak, now)) {
  }
}

}  // namespace sg::gpu
