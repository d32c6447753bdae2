#include "vk/command_stream.hpp"

#include <algorithm>
#include <array>

#include "common/errors.hpp"

namespace sg::gpu {

namespace {
constexpr std::uint32_t kSetsPerPool = 512;
constexpr std::uint32_t kBuffersPerSet = 8;
constexpr std::uint32_t kMaxQueries = 4096;

vk::raii::CommandBuffer new_command_buffer(const Context& context) {
  vk::raii::CommandBuffers cbs(
      context.device(), vk::CommandBufferAllocateInfo{.commandPool = *context.command_pool(),
                                                      .level = vk::CommandBufferLevel::ePrimary,
                                                      .commandBufferCount = 1});
  return std::move(cbs[0]);
}
}  // namespace

std::size_t CommandStream::KeyHash::operator()(const std::vector<std::uint64_t>& key) const {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the words
  for (std::uint64_t v : key) {
    h ^= v;
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h);
}

CommandStream::CommandStream(Context& context, StreamLimits limits)
    : context_(&context), limits_(limits) {
  if (limits_.recordings == 0 || limits_.descriptor_sets == 0)
    throw RuntimeError("a command stream needs room for at least one recording and set");
  cb_ = new_command_buffer(context);
  fence_ = vk::raii::Fence(context.device(), vk::FenceCreateInfo{});
}

void CommandStream::flush_caches() {
  recordings_.clear();
  sets_.clear();
  for (auto& pool : pools_) pool.reset();
  pool_index_ = 0;
  sets_in_pool_ = 0;
  ++counts_.flushes;
}

void CommandStream::start(vk::raii::CommandBuffer& cb, bool one_time) {
  // A recording left open by an exception is dropped, not resumed.
  recording_ = false;
  if (sets_.size() >= limits_.descriptor_sets) flush_caches();
  replay_ = nullptr;
  active_ = &cb;
  cb.reset();
  cb.begin({.flags = one_time ? vk::CommandBufferUsageFlagBits::eOneTimeSubmit
                              : vk::CommandBufferUsageFlags{}});
  labels_.clear();
  written_.clear();
  read_.clear();
  dispatches_ = 0;
  recording_ = true;
}

void CommandStream::begin(bool profile) {
  saving_key_.clear();
  start(cb_, true);
  profile_ = profile && context_->timestamps_supported();
  if (profile_) {
    if (!*queries_) {
      query_capacity_ = kMaxQueries;
      queries_ = vk::raii::QueryPool(context_->device(),
                                     vk::QueryPoolCreateInfo{.queryType = vk::QueryType::eTimestamp,
                                                             .queryCount = query_capacity_});
    }
    cb_.resetQueryPool(*queries_, 0, query_capacity_);
    cb_.writeTimestamp(vk::PipelineStageFlagBits::eTopOfPipe, *queries_, 0);
  }
}

bool CommandStream::begin_reusable(const RecordingKey& key) {
  recording_ = false;
  if (sets_.size() >= limits_.descriptor_sets) flush_caches();
  profile_ = false;
  if (auto it = recordings_.find(key); it != recordings_.end()) {
    replay_ = &it->second;
    replay_->last_used = ++use_clock_;
    dispatches_ = replay_->dispatches;
    return true;
  }
  if (!*saving_) saving_ = new_command_buffer(*context_);
  start(saving_, false);
  saving_key_ = key;
  return false;
}

vk::DescriptorSet CommandStream::allocate_set(const Pipeline& pipeline) {
  const auto& device = context_->device();
  if (pool_index_ < pools_.size() && sets_in_pool_ == kSetsPerPool) {
    ++pool_index_;
    sets_in_pool_ = 0;
  }
  if (pool_index_ >= pools_.size()) {
    // Every binding of a set may be either kind (attention binds 3 texel buffers).
    std::array<vk::DescriptorPoolSize, 2> sizes{
        vk::DescriptorPoolSize{.type = vk::DescriptorType::eStorageBuffer,
                               .descriptorCount = kSetsPerPool * kBuffersPerSet},
        vk::DescriptorPoolSize{.type = vk::DescriptorType::eUniformTexelBuffer,
                               .descriptorCount = kSetsPerPool * kBuffersPerSet}};
    pools_.emplace_back(
        device, vk::DescriptorPoolCreateInfo{
                    .maxSets = kSetsPerPool, .poolSizeCount = 2, .pPoolSizes = sizes.data()});
  }
  // Sets come from the stream's own layouts, identically defined to the pipeline's, so that
  // a cached set never refers to a layout that died with a pipeline.
  const auto shape = std::pair(pipeline.desc().buffers, pipeline.desc().texel_mask);
  auto layout_it = layouts_.find(shape);
  if (layout_it == layouts_.end())
    layout_it =
        layouts_.emplace(shape, make_set_layout(*context_, shape.first, shape.second)).first;
  vk::DescriptorSetLayout layout = *layout_it->second;
  vk::DescriptorSet set;
  vk::DescriptorSetAllocateInfo info{
      .descriptorPool = *pools_[pool_index_], .descriptorSetCount = 1, .pSetLayouts = &layout};
  auto result = (*device).allocateDescriptorSets(&info, &set);
  if (result != vk::Result::eSuccess) throw RuntimeError("descriptor set allocation failed");
  ++sets_in_pool_;
  return set;
}

vk::DescriptorSet CommandStream::descriptor_set(const Pipeline& pipeline,
                                                std::span<const Binding> bindings) {
  set_key_.clear();
  set_key_.push_back(pipeline.desc().buffers);
  set_key_.push_back(pipeline.desc().texel_mask);
  for (const auto& b : bindings) {
    set_key_.push_back(b.buffer->id());
    set_key_.push_back(b.offset);
    set_key_.push_back(b.range);
  }
  if (auto it = sets_.find(set_key_); it != sets_.end()) {
    ++counts_.set_reuses;
    return it->second;
  }

  auto set = allocate_set(pipeline);
  std::array<vk::DescriptorBufferInfo, kBuffersPerSet> infos;
  std::array<vk::WriteDescriptorSet, kBuffersPerSet> writes;
  if (bindings.size() > kBuffersPerSet)
    throw RuntimeError("shader " + pipeline.desc().shader + " binds more than " +
                       std::to_string(kBuffersPerSet) + " buffers");
  for (std::uint32_t i = 0; i < bindings.size(); ++i) {
    const auto& b = bindings[i];
    infos[i] = vk::DescriptorBufferInfo{.buffer = *b.buffer->handle(),
                                        .offset = b.offset,
                                        .range = b.range ? b.range : VK_WHOLE_SIZE};
    const auto type = descriptor_type(pipeline.desc().texel_mask, i);
    if (type == vk::DescriptorType::eUniformTexelBuffer && !b.view)
      throw RuntimeError("shader " + pipeline.desc().shader + ": binding " + std::to_string(i) +
                         " needs a texel view (gpu::texels)");
    writes[i] = vk::WriteDescriptorSet{.dstSet = set,
                                       .dstBinding = i,
                                       .descriptorCount = 1,
                                       .descriptorType = type,
                                       .pBufferInfo = &infos[i],
                                       .pTexelBufferView = &b.view};
  }
  context_->device().updateDescriptorSets(
      vk::ArrayProxy<const vk::WriteDescriptorSet>(static_cast<std::uint32_t>(bindings.size()),
                                                   writes.data()),
      {});
  sets_.emplace(set_key_, set);
  ++counts_.sets_written;
  return set;
}

void CommandStream::barrier() {
  vk::MemoryBarrier mb{
      .srcAccessMask = vk::AccessFlagBits::eShaderWrite,
      .dstAccessMask = vk::AccessFlagBits::eShaderRead | vk::AccessFlagBits::eShaderWrite};
  active_->pipelineBarrier(vk::PipelineStageFlagBits::eComputeShader,
                           vk::PipelineStageFlagBits::eComputeShader, {}, mb, {}, {});
  written_.clear();
  read_.clear();
}

void CommandStream::dispatch_raw(const Pipeline& pipeline, std::span<const Binding> bindings,
                                 const void* push, std::size_t push_bytes,
                                 std::array<std::uint32_t, 3> groups, const char* label) {
  if (!recording_) throw RuntimeError("dispatch outside a recording");
  if (bindings.size() != pipeline.desc().buffers)
    throw RuntimeError("shader " + pipeline.desc().shader + " takes " +
                       std::to_string(pipeline.desc().buffers) + " buffers, given " +
                       std::to_string(bindings.size()));
  if (push_bytes != pipeline.desc().push_bytes)
    throw RuntimeError("shader " + pipeline.desc().shader + ": push-constant size mismatch");
  if (groups[0] == 0 || groups[1] == 0 || groups[2] == 0) return;

  bool hazard = false;
  for (const auto& b : bindings) {
    if (written_.count(b.buffer) || (b.written && read_.count(b.buffer))) hazard = true;
  }
  if (hazard) barrier();

  auto set = descriptor_set(pipeline, bindings);
  auto& cb = *active_;
  cb.bindPipeline(vk::PipelineBindPoint::eCompute, *pipeline.handle());
  cb.bindDescriptorSets(vk::PipelineBindPoint::eCompute, *pipeline.layout(), 0, set, {});
  if (push_bytes)
    (*cb).pushConstants(*pipeline.layout(), vk::ShaderStageFlagBits::eCompute, 0,
                        static_cast<std::uint32_t>(push_bytes), push);
  cb.dispatch(groups[0], groups[1], groups[2]);
  ++dispatches_;
  for (const auto& b : bindings) (b.written ? written_ : read_).insert(b.buffer);
  if (profile_ && labels_.size() + 2 < query_capacity_) {
    labels_.emplace_back(label);
    cb.writeTimestamp(vk::PipelineStageFlagBits::eComputeShader, *queries_,
                      static_cast<std::uint32_t>(labels_.size()));
  }
}

void CommandStream::submit_and_wait() {
  if (!recording_ && !replay_) throw RuntimeError("submit without a recording");
  vk::CommandBuffer raw;
  if (replay_) {
    raw = *replay_->cb;
    ++counts_.replays;
  } else {
    vk::MemoryBarrier to_host{.srcAccessMask = vk::AccessFlagBits::eShaderWrite,
                              .dstAccessMask = vk::AccessFlagBits::eHostRead};
    active_->pipelineBarrier(vk::PipelineStageFlagBits::eComputeShader,
                             vk::PipelineStageFlagBits::eHost, {}, to_host, {}, {});
    active_->end();
    recording_ = false;
    raw = **active_;
    if (active_ == &saving_) {
      if (recordings_.size() >= limits_.recordings) {
        auto oldest = std::min_element(
            recordings_.begin(), recordings_.end(),
            [](const auto& a, const auto& b) { return a.second.last_used < b.second.last_used; });
        recordings_.erase(oldest);
      }
      auto& saved = recordings_[saving_key_];
      saved = Recording{std::move(saving_), dispatches_, ++use_clock_};
      saving_ = vk::raii::CommandBuffer(nullptr);
      ++counts_.recordings_made;
    }
  }
  replay_ = nullptr;
  active_ = nullptr;
  context_->device().resetFences({*fence_});
  context_->queue().submit(vk::SubmitInfo{.commandBufferCount = 1, .pCommandBuffers = &raw},
                           *fence_);
  auto result = context_->device().waitForFences({*fence_}, VK_TRUE, UINT64_MAX);
  if (result != vk::Result::eSuccess) throw RuntimeError("device did not finish the step");

  op_times_.clear();
  if (profile_ && !labels_.empty()) {
    auto count = static_cast<std::uint32_t>(labels_.size() + 1);
    std::vector<std::uint64_t> stamps(count);
    auto r =
        (*context_->device())
            .getQueryPoolResults(*queries_, 0, count, stamps.size() * sizeof(std::uint64_t),
                                 stamps.data(), sizeof(std::uint64_t),
                                 vk::QueryResultFlagBits::e64 | vk::QueryResultFlagBits::eWait);
    if (r == vk::Result::eSuccess) {
      for (std::size_t i = 0; i < labels_.size(); ++i)
        op_times_.push_back({labels_[i], static_cast<double>(stamps[i + 1] - stamps[i]) *
                                             context_->timestamp_period_ns() * 1e-6});
    }
  }
}

StreamStats CommandStream::stats() const {
  StreamStats s = counts_;
  s.sets_held = sets_.size();
  s.recordings_held = recordings_.size();
  return s;
}

}  // namespace sg::gpu
