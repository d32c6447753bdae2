// The Vulkan instance, the chosen physical device, its logical device and compute queue.
// The rest of stagegate sees only this type and the few in this folder, never a raw handle.
#pragma once

#define VULKAN_HPP_NO_CONSTRUCTORS
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>
#include <vulkan/vulkan_raii.hpp>

namespace sg::gpu {

struct DeviceInfo {
  int index = 0;
  std::string name;
  std::string type;                // "discrete", "integrated", "virtual", "cpu", "other"
  std::uint64_t memory_bytes = 0;  // largest device-local heap
  bool storage_16bit = false;      // F16 weights can live in storage buffers
  bool int64 = false;
  std::string driver;
};

struct ContextOptions {
  std::optional<int> device_index;  // --device N or STAGEGATE_DEVICE; else first discrete GPU
  bool validation = false;          // Khronos validation layer, when installed
};

// Lists the Vulkan devices the loader sees, in its order.
std::vector<DeviceInfo> list_devices();

// Device index from --device (when given) or STAGEGATE_DEVICE; nullopt for the default.
std::optional<int> device_index_from(std::optional<int> flag);

class Context {
 public:
  explicit Context(const ContextOptions& options);
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context();

  const DeviceInfo& info() const { return info_; }
  bool validation_enabled() const { return validation_enabled_; }
  // Validation errors reported since creation; tests fail when non-zero.
  std::uint32_t validation_errors() const { return validation_errors_.load(); }
  std::string last_validation_message() const;

  std::uint64_t max_storage_buffer_range() const { return max_storage_range_; }
  std::uint32_t max_texel_buffer_elements() const { return max_texel_elements_; }
  std::uint32_t subgroup_size() const { return subgroup_size_; }
  double timestamp_period_ns() const { return timestamp_period_ns_; }
  bool timestamps_supported() const { return timestamps_supported_; }
  bool is_cpu() const { return info_.type == "cpu"; }
  // Device-local memory still free, as far as the heap budget tells (else the heap size).
  std::uint64_t available_device_memory() const;
  std::uint64_t peak_allocated_bytes() const { return peak_allocated_; }
  std::uint64_t allocated_bytes() const { return allocated_; }

  // For the other types in src/vk only.
  const vk::raii::Device& device() const { return device_; }
  const vk::raii::PhysicalDevice& physical() const { return physical_; }
  const vk::raii::Queue& queue() const { return queue_; }
  std::uint32_t queue_family() const { return queue_family_; }
  const vk::raii::CommandPool& command_pool() const { return command_pool_; }
  std::uint32_t find_memory_type(std::uint32_t type_bits, vk::MemoryPropertyFlags required,
                                 vk::MemoryPropertyFlags preferred) const;
  vk::MemoryPropertyFlags memory_flags(std::uint32_t type_index) const;
  void note_allocation(std::int64_t bytes);
  // A number no other object of this context has had or will have (handles can be reused
  // once freed; caches key on these instead).
  std::uint64_t new_object_id() { return ++object_ids_; }
  void record_validation_message(const char* message);

 private:
  vk::raii::Context loader_;
  vk::raii::Instance instance_{nullptr};
  vk::raii::DebugUtilsMessengerEXT messenger_{nullptr};
  vk::raii::PhysicalDevice physical_{nullptr};
  vk::raii::Device device_{nullptr};
  vk::raii::Queue queue_{nullptr};
  vk::raii::CommandPool command_pool_{nullptr};
  std::uint32_t queue_family_ = 0;
  DeviceInfo info_;
  bool validation_enabled_ = false;
  bool memory_budget_ = false;
  bool timestamps_supported_ = false;
  std::uint64_t max_storage_range_ = 0;
  std::uint32_t max_texel_elements_ = 0;
  std::uint32_t subgroup_size_ = 1;
  double timestamp_period_ns_ = 1.0;
  std::atomic<std::uint32_t> validation_errors_{0};
  std::atomic<std::uint64_t> allocated_{0};
  std::atomic<std::uint64_t> peak_allocated_{0};
  std::atomic<std::uint64_t> object_ids_{0};
  mutable std::mutex message_mutex_;
  std::string last_message_;
};

}  // namespace sg::gpu
