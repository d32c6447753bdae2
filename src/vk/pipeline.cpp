#include "vk/pipeline.hpp"

#include "common/errors.hpp"
#include "embedded_shaders.hpp"

namespace sg::gpu {

vk::DescriptorType descriptor_type(std::uint32_t texel_mask, std::uint32_t binding) {
  return ((texel_mask >> binding) & 1u) ? vk::DescriptorType::eUniformTexelBuffer
                                        : vk::DescriptorType::eStorageBuffer;
}

vk::raii::DescriptorSetLayout make_set_layout(const Context& context, std::uint32_t buffers,
                                              std::uint32_t texel_mask) {
  std::vector<vk::DescriptorSetLayoutBinding> bindings;
  for (std::uint32_t i = 0; i < buffers; ++i)
    bindings.push_back({.binding = i,
                        .descriptorType = descriptor_type(texel_mask, i),
                        .descriptorCount = 1,
                        .stageFlags = vk::ShaderStageFlagBits::eCompute});
  return vk::raii::DescriptorSetLayout(
      context.device(),
      vk::DescriptorSetLayoutCreateInfo{.bindingCount = static_cast<std::uint32_t>(bindings.size()),
                                        .pBindings = bindings.data()});
}

Pipeline::Pipeline(const Context& context, PipelineDesc desc) : desc_(std::move(desc)) {
  const auto& device = context.device();
  auto words = shaders::spirv(desc_.shader);
  if (words.empty()) throw RuntimeError("no embedded shader named '" + desc_.shader + "'");
  module_ = vk::raii::ShaderModule(
      device, vk::ShaderModuleCreateInfo{.codeSize = words.size_bytes(), .pCode = words.data()});

  set_layout_ = make_set_layout(context, desc_.buffers, desc_.texel_mask);

  vk::PushConstantRange push{
      .stageFlags = vk::ShaderStageFlagBits::eCompute, .offset = 0, .size = desc_.push_bytes};
  vk::DescriptorSetLayout raw_set = *set_layout_;
  layout_ = vk::raii::PipelineLayout(
      device, vk::PipelineLayoutCreateInfo{.setLayoutCount = 1,
                                           .pSetLayouts = &raw_set,
                                           .pushConstantRangeCount = desc_.push_bytes ? 1u : 0u,
                                           .pPushConstantRanges = &push});

  std::vector<vk::SpecializationMapEntry> entries;
  for (std::uint32_t i = 0; i < desc_.constants.size(); ++i)
    entries.push_back({.constantID = i,
                       .offset = static_cast<std::uint32_t>(i * sizeof(std::uint32_t)),
                       .size = sizeof(std::uint32_t)});
  vk::SpecializationInfo spec{.mapEntryCount = static_cast<std::uint32_t>(entries.size()),
                              .pMapEntries = entries.data(),
                              .dataSize = desc_.constants.size() * sizeof(std::uint32_t),
                              .pData = desc_.constants.data()};
  vk::ComputePipelineCreateInfo info{
      .stage = {.stage = vk::ShaderStageFlagBits::eCompute,
                .module = *module_,
                .pName = "main",
                .pSpecializationInfo = entries.empty() ? nullptr : &spec},
      .layout = *layout_};
  pipeline_ = vk::raii::Pipeline(device, nullptr, info);
}

}  // namespace sg::gpu
