// Records a sequence of compute dispatches into one command buffer and submits it once
// (a whole decode step is one submission). Inserts a memory barrier only where a dispatch
// touches a buffer that an earlier, unbarriered dispatch wrote.
//
// Nothing is rebuilt that can be reused: a descriptor set is written once per distinct
// (layout, bindings) and found again by its key, and a recording saved under a key (what a
// pass records depends only on its shape; the per-step inputs live in buffers) is submitted
// again without recording. Both caches are bounded (StreamLimits).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <unordered_map>
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
  vk::BufferView view{};  // a texel binding's view of `buffer`
};

inline Binding in(const Buffer& b, std::size_t offset = 0, std::size_t range = 0) {
  return {&b, false, offset, range};
}
// The whole buffer as RGBA32UI texels, for a uniform texel binding.
inline Binding texels(const Buffer& b) {
  return {&b, false, 0, 0, b.texel_view()};
}
inline Binding out(const Buffer& b, std::size_t offset = 0, std::size_t range = 0) {
  return {&b, true, offset, range};
}

struct OpTime {
  std::string label;
  double ms = 0;
};

// Everything that changes what a reusable recording contains (token count, rows picked,
// per-pass choices). Values that live in buffers (token ids, positions) do not belong in it.
using RecordingKey = std::vector<std::uint32_t>;

struct StreamLimits {
  std::size_t recordings = 32;  // saved recordings; the least recently used goes first
  // Descriptor sets kept. Reaching it empties both caches at the next begin (a saved
  // recording refers to its sets), so one recording may take the count past it once.
  std::size_t descriptor_sets = 8192;
};

struct StreamStats {
  std::size_t sets_held = 0;       // descriptor sets in the cache now
  std::uint64_t sets_written = 0;  // descriptor sets allocated and written, ever
  std::uint64_t set_reuses = 0;    // dispatches recorded with a set found in the cache
  std::size_t recordings_held = 0;
  std::uint64_t recordings_made = 0;  // recordings saved, ever
  std::uint64_t replays = 0;          // submissions of a saved recording
  std::uint64_t flushes = 0;          // times the caches were emptied at their bound
};

class CommandStream {
 public:
  explicit CommandStream(Context& context, StreamLimits limits = {});
  CommandStream(const CommandStream&) = delete;
  CommandStream& operator=(const CommandStream&) = delete;

  // Starts a new recording, used once. With `profile`, each dispatch is bracketed by
  // timestamps.
  void begin(bool profile = false);

  // With a recording saved under `key`, makes submit_and_wait() submit it again and returns
  // true: the caller records nothing. Otherwise starts a recording that submit_and_wait()
  // saves under `key` and returns false. A saved recording refers to the pipelines and
  // buffers it was made with: they must outlive the stream.
  bool begin_reusable(const RecordingKey& key);

  template <typename Push>
  void dispatch(const Pipeline& pipeline, std::span<const Binding> bindings, const Push& push,
                std::array<std::uint32_t, 3> groups, const char* label = "") {
    dispatch_raw(pipeline, bindings, &push, sizeof(Push), groups, label);
  }
  void dispatch_raw(const Pipeline& pipeline, std::span<const Binding> bindings, const void* push,
                    std::size_t push_bytes, std::array<std::uint32_t, 3> groups, const char* label);

  // Ends the recording (or takes the saved one), submits it and waits for the device.
  void submit_and_wait();

  // Dispatches in the last recording submitted or being recorded.
  std::size_t dispatch_count() const { return dispatches_; }
  // Per-dispatch times of the last profiled submission.
  const std::vector<OpTime>& op_times() const { return op_times_; }
  StreamStats stats() const;

 private:
  struct KeyHash {
    std::size_t operator()(const std::vector<std::uint64_t>& key) const;
  };
  struct Recording {
    vk::raii::CommandBuffer cb{nullptr};
    std::size_t dispatches = 0;
    std::uint64_t last_used = 0;
  };

  void start(vk::raii::CommandBuffer& cb, bool one_time);
  void barrier();
  void flush_caches();
  vk::DescriptorSet descriptor_set(const Pipeline& pipeline, std::span<const Binding> bindings);
  vk::DescriptorSet allocate_set(const Pipeline& pipeline);

  Context* context_;
  StreamLimits limits_;
  vk::raii::CommandBuffer cb_{nullptr};        // one-off recordings
  vk::raii::CommandBuffer saving_{nullptr};    // a recording to be saved under saving_key_
  vk::raii::CommandBuffer* active_ = nullptr;  // the one being recorded
  RecordingKey saving_key_;
  Recording* replay_ = nullptr;
  std::map<RecordingKey, Recording> recordings_;
  std::uint64_t use_clock_ = 0;
  vk::raii::Fence fence_{nullptr};
  std::vector<vk::raii::DescriptorPool> pools_;
  std::size_t pool_index_ = 0;
  std::uint32_t sets_in_pool_ = 0;
  std::map<std::pair<std::uint32_t, std::uint32_t>, vk::raii::DescriptorSetLayout> layouts_;
  std::unordered_map<std::vector<std::uint64_t>, vk::DescriptorSet, KeyHash> sets_;
  std::vector<std::uint64_t> set_key_;  // scratch, to look a set up without allocating
  StreamStats counts_;
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
