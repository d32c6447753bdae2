// Records a sequence of compute dispatches into one command buffer and submits it once
// (a whole decode step is one submission). Inserts a memory barrier only where a dispatch
// touches a buffer that an earlier, unbarriered dispatch wrote.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "vk/buffer.hpp"
#include "vk/context.hpp"
#include "vk/pipeline.hpp"

namespace sg::gpu {

struct Binding {
  const Buffer* buffer = nullptr;
  bool written = false;
  std::size_t offset = 0;
  std::size_t range = 0;  // 0: to the end of the buffer
};

inline Binding in(const Buffer& b, std::size_t offset = 0, std::size_t range = 0) {
  return {&b, false, offset, range};
}
inline Binding out(const Buffer& b, std::size_t offset = 0, std::size_t range = 0) {
  return {&b, true, offset, range};
}

struct OpTime {
  std::string label;
  double ms = 0;
};

class CommandStream {
 public:
  explicit CommandStream(Context& context);
  CommandStream(const CommandStream&) = delete;
  CommandStream& operator=(const CommandStream&) = delete;

  // Starts a new recording. With `profile`, each dispatch is bracketed by timestamps.
  void begin(bool profile = false);

  template <typename Push>
  void dispatch(const Pipeline& pipeline, std::span<const Binding> bindings, const Push& push,
                std::array<std::uint32_t, 3> groups, const char* label = "") {
    dispatch_raw(pipeline, bindings, &push, sizeof(Push), groups, label);
  }
  void dispatch_raw(const Pipeline& pipeline, std::span<const Binding> bindings, const void* push,
                    std::size_t push_bytes, std::array<std::uint32_t, 3> groups, const char* label);

  // Ends the recording, submits it and waits for the device to finish.
  void submit_and_wait();

  std::size_t dispatch_count() const { return dispatches_; }
  // Per-dispatch times of the last profiled submission.
  const std::vector<OpTime>& op_times() const { return op_times_; }

 private:
  void barrier();
  vk::DescriptorSet allocate_set(const Pipeline& pipeline);

  Context* context_;
  vk::raii::CommandBuffer cb_{nullptr};
  vk::raii::Fence fence_{nullptr};
  std::vector<vk::raii::DescriptorPool> pools_;
  std::size_t pool_index_ = 0;
  std::uint32_t sets_in_pool_ = 0;
  vk::raii::QueryPool queries_{nullptr};
  std::uint32_t query_capacity_ = 0;
  std::vector<std::string> labels_;
  std::vector<OpTime> op_times_;
  bool profile_ = false;
  bool recording_ = false;
  std::size_t dispatches_ = 0;
  std::unordered_set<const Buffer*> written_;
  std::unordered_set<const Buffer*> read_;
};

}  // namespace sg::gpu
