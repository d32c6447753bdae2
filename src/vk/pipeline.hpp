// A compute pipeline built from an embedded SPIR-V shader: its descriptor layout (N storage or
// texel buffers at bindings 0..N-1), push-constant block and specialization constants.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vk/context.hpp"

namespace sg::gpu {

struct PipelineDesc {
  std::string shader;                    // name in shaders/CMakeLists.txt, e.g. "matmul_f16"
  std::uint32_t buffers = 0;             // buffers at bindings 0..buffers-1
  std::uint32_t push_bytes = 0;          // size of the push-constant block
  std::vector<std::uint32_t> constants;  // specialization constants, ids 0..n-1
  // bit i: binding i is a uniform texel buffer of RGBA32UI texels (gpu::texels), else a
  // storage buffer
  std::uint32_t texel_mask = 0;
};

// Binding `binding`'s descriptor type in a layout with this texel mask.
vk::DescriptorType descriptor_type(std::uint32_t texel_mask, std::uint32_t binding);
// The descriptor layout of a pipeline whose bindings 0..buffers-1 are buffers (bit i of
// `texel_mask`: texels, else storage). Layouts made with the same arguments are identically
// defined, so a descriptor set allocated with one binds to any pipeline made with the other.
vk::raii::DescriptorSetLayout make_set_layout(const Context& context, std::uint32_t buffers,
                                              std::uint32_t texel_mask);

class Pipeline {
 public:
  Pipeline(const Context& context, PipelineDesc desc);
  Pipeline(Pipeline&&) noexcept = default;
  Pipeline& operator=(Pipeline&&) noexcept = default;

  const PipelineDesc& desc() const { return desc_; }
  const vk::raii::Pipeline& handle() const { return pipeline_; }
  const vk::raii::PipelineLayout& layout() const { return layout_; }
  const vk::raii::DescriptorSetLayout& set_layout() const { return set_layout_; }

 private:
  PipelineDesc desc_;
  vk::raii::ShaderModule module_{nullptr};
  vk::raii::DescriptorSetLayout set_layout_{nullptr};
  vk::raii::PipelineLayout layout_{nullptr};
  vk::raii::Pipeline pipeline_{nullptr};
};

}  // namespace sg::gpu
