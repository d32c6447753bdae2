#include "vk/command_stream.hpp"

#include <array>

#include "common/errors.hpp"

namespace sg::gpu {

namespace {
constexpr std::uint32_t kSetsPerPool = 512;
constexpr std::uint32_t kBuffersPerSet = 8;
constexpr std::uint32_t kMaxQueries = 4096;
}  // namespace

CommandStream::CommandStream(Context& context) : context_(&context) {
  const auto& device = context.device();
  vk::raii::CommandBuffers cbs(
      device, vk::CommandBufferAllocateInfo{.commandPool = *context.command_pool(),
                                            .level = vk::CommandBufferLevel::ePrimary,
                                            .commandBufferCount = 1});
  cb_ = std::move(cbs[0]);
  fence_ = vk::raii::Fence(device, vk::FenceCreateInfo{});
}

void CommandStream::begin(bool profile) {
  profile_ = profile && context_->timestamps_supported();
  pool_index_ = 0;
  sets_in_pool_ = 0;
  for (auto& pool : pools_) pool.reset();
  cb_.reset();
  cb_.begin({.flags = vk::CommandBufferUsageFlagBits::eOneTimeSubmit});
  labels_.clear();
  written_.clear();
  read_.clear();
  dispatches_ = 0;
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
  recording_ = true;
}

vk::DescriptorSet CommandStream::allocate_set(const Pipeline& pipeline) {
  const auto& device = context_->device();
  if (pool_index_ >= pools_.size() || sets_in_pool_ == kSetsPerPool) {
    if (pool_index_ < pools_.size() && sets_in_pool_ == kSetsPerPool) {
      ++pool_index_;
      sets_in_pool_ = 0;
    }
    if (pool_index_ >= pools_.size()) {
      std::array<vk::DescriptorPoolSize, 2> sizes{
          vk::DescriptorPoolSize{.type = vk::DescriptorType::eStorageBuffer,
                                 .descriptorCount = kSetsPerPool * kBuffersPerSet},
          vk::DescriptorPoolSize{.type = vk::DescriptorType::eUniformBuffer,
                                 .descriptorCount = kSetsPerPool}};
      pools_.emplace_back(
          device, vk::DescriptorPoolCreateInfo{
                      .maxSets = kSetsPerPool, .poolSizeCount = 2, .pPoolSizes = sizes.data()});
    }
  }
  vk::DescriptorSetLayout layout = *pipeline.set_layout();
  vk::DescriptorSet set;
  vk::DescriptorSetAllocateInfo info{
      .descriptorPool = *pools_[pool_index_], .descriptorSetCount = 1, .pSetLayouts = &layout};
  auto result = (*device).allocateDescriptorSets(&info, &set);
  if (result != vk::Result::eSuccess) throw RuntimeError("descriptor set allocation failed");
  ++sets_in_pool_;
  return set;
}

void CommandStream::barrier() {
  vk::MemoryBarrier mb{
      .srcAccessMask = vk::AccessFlagBits::eShaderWrite,
      .dstAccessMask = vk::AccessFlagBits::eShaderRead | vk::AccessFlagBits::eShaderWrite};
  cb_.pipelineBarrier(vk::PipelineStageFlagBits::eComputeShader,
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

  auto set = allocate_set(pipeline);
  std::vector<vk::DescriptorBufferInfo> infos;
  infos.reserve(bindings.size());
  for (const auto& b : bindings) {
    infos.push_back({.buffer = *b.buffer->handle(),
                     .offset = b.offset,
                     .range = b.range ? b.range : VK_WHOLE_SIZE});
  }
  std::vector<vk::WriteDescriptorSet> writes;
  for (std::uint32_t i = 0; i < infos.size(); ++i)
    writes.push_back({.dstSet = set,
                      .dstBinding = i,
                      .descriptorCount = 1,
                      .descriptorType = pipeline.is_uniform(i) ? vk::DescriptorType::eUniformBuffer
                                                               : vk::DescriptorType::eStorageBuffer,
                      .pBufferInfo = &infos[i]});
  context_->device().updateDescriptorSets(writes, {});

  cb_.bindPipeline(vk::PipelineBindPoint::eCompute, *pipeline.handle());
  cb_.bindDescriptorSets(vk::PipelineBindPoint::eCompute, *pipeline.layout(), 0, set, {});
  if (push_bytes)
    (*cb_).pushConstants(*pipeline.layout(), vk::ShaderStageFlagBits::eCompute, 0,
                         static_cast<std::uint32_t>(push_bytes), push);
  cb_.dispatch(groups[0], groups[1], groups[2]);
  ++dispatches_;
  for (const auto& b : bindings) (b.written ? written_ : read_).insert(b.buffer);
  if (profile_ && labels_.size() + 2 < query_capacity_) {
    labels_.emplace_back(label);
    cb_.writeTimestamp(vk::PipelineStageFlagBits::eComputeShader, *queries_,
                       static_cast<std::uint32_t>(labels_.size()));
  }
}

void CommandStream::submit_and_wait() {
  if (!recording_) throw RuntimeError("submit without a recording");
  vk::MemoryBarrier to_host{.srcAccessMask = vk::AccessFlagBits::eShaderWrite,
                            .dstAccessMask = vk::AccessFlagBits::eHostRead};
  cb_.pipelineBarrier(vk::PipelineStageFlagBits::eComputeShader, vk::PipelineStageFlagBits::eHost,
                      {}, to_host, {}, {});
  cb_.end();
  recording_ = false;
  vk::CommandBuffer raw = *cb_;
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

}  // namespace sg::gpu
