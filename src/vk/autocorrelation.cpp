#include "vk/autocorrelation.hpp"

#include <vkFFT.h>

#include <algorithm>
#include <array>
#include <string>

#include "common/errors.hpp"
#include "vk/buffer.hpp"
#include "vk/pipeline.hpp"

namespace sg::gpu {

namespace {

constexpr std::uint32_t kGroupSize = 256;  // power_spectrum.comp's local_size_x
constexpr std::uint32_t kMaxGroupsX = 65535;

struct PowerPush {
  std::uint32_t count;
  std::uint32_t row;
};

}  // namespace

bool is_13_smooth(std::size_t n) {
  if (n == 0) return false;
  for (std::size_t f : {2, 3, 5, 7, 11, 13})
    while (n % f == 0) n /= f;
  return n == 1;
}

std::size_t next_13_smooth(std::size_t n) {
  n = std::max<std::size_t>(n, 1);
  while (!is_13_smooth(n)) ++n;
  return n;
}

// One VkFFT application over its own device buffer, and the recorded command buffer that
// runs forward FFT, power spectrum and inverse FFT on it. VkFFT keeps pointers to the
// handles in its configuration, so they live here, beside it.
struct Autocorrelation::Plan {
  Plan(Context& context, const Pipeline& power, std::size_t length, std::size_t batch)
      : data(context, length * batch * sizeof(std::complex<float>), Memory::kDevice),
        physical(static_cast<VkPhysicalDevice>(*context.physical())),
        device(static_cast<VkDevice>(*context.device())),
        queue(static_cast<VkQueue>(*context.queue())),
        pool(static_cast<VkCommandPool>(*context.command_pool())),
        fence(context.device(), vk::FenceCreateInfo{}),
        raw_fence(static_cast<VkFence>(*fence)),
        buffer(static_cast<VkBuffer>(*data.handle())),
        bytes(data.size()) {
    VkFFTConfiguration config{};
    config.FFTdim = 1;
    config.size[0] = length;
    config.numberBatches = batch;
    config.physicalDevice = &physical;
    config.device = &device;
    config.queue = &queue;
    config.commandPool = &pool;
    config.fence = &raw_fence;
    config.buffer = &buffer;
    config.bufferSize = &bytes;
    config.normalize = 1;
    if (const VkFFTResult r = initializeVkFFT(&app, config); r != VKFFT_SUCCESS)
      throw RuntimeError("VkFFT could not plan a length-" + std::to_string(length) +
                         " transform (VkFFT error " + std::to_string(static_cast<int>(r)) + ")");
    initialized = true;
    record(context, power, length * batch);
  }
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {
    if (initialized) deleteVkFFT(&app);
  }

  void record(Context& context, const Pipeline& power, std::size_t count) {
    const auto& dev = context.device();
    vk::raii::CommandBuffers cbs(
        dev, vk::CommandBufferAllocateInfo{.commandPool = *context.command_pool(),
                                           .level = vk::CommandBufferLevel::ePrimary,
                                           .commandBufferCount = 1});
    cb = std::move(cbs[0]);
    vk::DescriptorPoolSize size{.type = vk::DescriptorType::eStorageBuffer, .descriptorCount = 1};
    descriptors = vk::raii::DescriptorPool(
        dev, vk::DescriptorPoolCreateInfo{.maxSets = 1, .poolSizeCount = 1, .pPoolSizes = &size});
    vk::DescriptorSetLayout layout = *power.set_layout();
    vk::DescriptorSetAllocateInfo info{
        .descriptorPool = *descriptors, .descriptorSetCount = 1, .pSetLayouts = &layout};
    vk::DescriptorSet set;
    if ((*dev).allocateDescriptorSets(&info, &set) != vk::Result::eSuccess)
      throw RuntimeError("descriptor set allocation failed");
    vk::DescriptorBufferInfo binfo{.buffer = *data.handle(), .offset = 0, .range = VK_WHOLE_SIZE};
    dev.updateDescriptorSets(
        vk::WriteDescriptorSet{.dstSet = set,
                               .dstBinding = 0,
                               .descriptorCount = 1,
                               .descriptorType = vk::DescriptorType::eStorageBuffer,
                               .pBufferInfo = &binfo},
        {});

    const auto groups = (count + kGroupSize - 1) / kGroupSize;
    const auto groups_x = static_cast<std::uint32_t>(std::min<std::size_t>(groups, kMaxGroupsX));
    const auto groups_y = static_cast<std::uint32_t>((groups + groups_x - 1) / groups_x);
    const PowerPush push{static_cast<std::uint32_t>(count), groups_x * kGroupSize};

    const vk::MemoryBarrier between{
        .srcAccessMask = vk::AccessFlagBits::eShaderWrite,
        .dstAccessMask = vk::AccessFlagBits::eShaderRead | vk::AccessFlagBits::eShaderWrite};
    cb.begin(vk::CommandBufferBeginInfo{});
    VkCommandBuffer raw = static_cast<VkCommandBuffer>(*cb);
    VkFFTLaunchParams launch{};
    launch.commandBuffer = &raw;
    launch.buffer = &buffer;
    append(-1, launch);
    cb.pipelineBarrier(vk::PipelineStageFlagBits::eComputeShader,
                       vk::PipelineStageFlagBits::eComputeShader, {}, between, {}, {});
    cb.bindPipeline(vk::PipelineBindPoint::eCompute, *power.handle());
    cb.bindDescriptorSets(vk::PipelineBindPoint::eCompute, *power.layout(), 0, set, {});
    (*cb).pushConstants(*power.layout(), vk::ShaderStageFlagBits::eCompute, 0, sizeof(push), &push);
    cb.dispatch(groups_x, groups_y, 1);
    cb.pipelineBarrier(vk::PipelineStageFlagBits::eComputeShader,
                       vk::PipelineStageFlagBits::eComputeShader, {}, between, {}, {});
    append(1, launch);
    const vk::MemoryBarrier to_host{.srcAccessMask = vk::AccessFlagBits::eShaderWrite,
                                    .dstAccessMask = vk::AccessFlagBits::eHostRead};
    cb.pipelineBarrier(vk::PipelineStageFlagBits::eComputeShader, vk::PipelineStageFlagBits::eHost,
                       {}, to_host, {}, {});
    cb.end();
  }

  void append(int direction, VkFFTLaunchParams& launch) {
    if (const VkFFTResult r = VkFFTAppend(&app, direction, &launch); r != VKFFT_SUCCESS)
      throw RuntimeError("VkFFT could not record a transform (VkFFT error " +
                         std::to_string(static_cast<int>(r)) + ")");
  }

  Buffer data;
  VkPhysicalDevice physical;
  VkDevice device;
  VkQueue queue;
  VkCommandPool pool;
  vk::raii::Fence fence;
  VkFence raw_fence;
  VkBuffer buffer;
  std::uint64_t bytes;
  VkFFTApplication app{};
  bool initialized = false;
  vk::raii::CommandBuffer cb{nullptr};
  vk::raii::DescriptorPool descriptors{nullptr};
};

Autocorrelation::Autocorrelation(Context& context)
    : context_(&context),
      power_(std::make_unique<Pipeline>(context, PipelineDesc{.shader = "power_spectrum",
                                                              .buffers = 1,
                                                              .push_bytes = sizeof(PowerPush),
                                                              .constants = {}})) {}

Autocorrelation::~Autocorrelation() = default;

Autocorrelation::Plan& Autocorrelation::plan(std::size_t length, std::size_t batch) {
  if (!is_13_smooth(length))
    throw RuntimeError("FFT length " + std::to_string(length) +
                       " has a prime factor above 13; VkFFT would return zeros");
  if (batch == 0) throw RuntimeError("FFT batch of zero sequences");
  if (length * batch > std::size_t{kGroupSize} * kMaxGroupsX * kMaxGroupsX)
    throw RuntimeError("FFT batch too large for one dispatch");
  auto& slot = plans_[{length, batch}];
  if (!slot) slot = std::make_unique<Plan>(*context_, *power_, length, batch);
  return *slot;
}

void Autocorrelation::prepare(std::size_t length, std::size_t batch) {
  plan(length, batch);
}

void Autocorrelation::run(std::span<std::complex<float>> data, std::size_t length,
                          std::size_t batch) {
  if (data.size() != length * batch)
    throw RuntimeError("autocorrelation input holds " + std::to_string(data.size()) +
                       " values, expected " + std::to_string(length * batch));
  Plan& p = plan(length, batch);
  p.data.write(0, std::as_bytes(data));
  vk::CommandBuffer raw = *p.cb;
  context_->device().resetFences({*p.fence});
  context_->queue().submit(vk::SubmitInfo{.commandBufferCount = 1, .pCommandBuffers = &raw},
                           *p.fence);
  if (context_->device().waitForFences({*p.fence}, VK_TRUE, UINT64_MAX) != vk::Result::eSuccess)
    throw RuntimeError("device did not finish the autocorrelation");
  p.data.read(0, std::as_writable_bytes(data));
}

}  // namespace sg::gpu
