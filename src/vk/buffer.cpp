#include "vk/buffer.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "common/errors.hpp"

namespace sg::gpu {

namespace {
using MP = vk::MemoryPropertyFlagBits;
constexpr std::size_t kStagingChunk = 32u << 20;
}  // namespace

Buffer::Buffer(Context& context, std::size_t bytes, Memory memory)
    : context_(&context), size_(std::max<std::size_t>(bytes, 16)), id_(context.new_object_id()) {
  const auto& device = context.device();
  buffer_ = vk::raii::Buffer(
      device, vk::BufferCreateInfo{.size = size_,
                                   .usage = vk::BufferUsageFlagBits::eStorageBuffer |
                                            vk::BufferUsageFlagBits::eUniformTexelBuffer |
                                            vk::BufferUsageFlagBits::eTransferSrc |
                                            vk::BufferUsageFlagBits::eTransferDst,
                                   .sharingMode = vk::SharingMode::eExclusive});
  auto req = buffer_.getMemoryRequirements();
  std::uint32_t type = 0;
  switch (memory) {
    case Memory::kDevice:
      type = context.find_memory_type(req.memoryTypeBits, MP::eDeviceLocal, MP::eDeviceLocal);
      break;
    case Memory::kHostUpload:
      type = context.find_memory_type(req.memoryTypeBits, MP::eHostVisible | MP::eHostCoherent,
                                      MP::eHostVisible | MP::eHostCoherent | MP::eDeviceLocal);
      break;
    case Memory::kHostReadback:
      type = context.find_memory_type(req.memoryTypeBits, MP::eHostVisible | MP::eHostCoherent,
                                      MP::eHostVisible | MP::eHostCoherent | MP::eHostCached);
      break;
  }
  try {
    memory_ = vk::raii::DeviceMemory(
        device, vk::MemoryAllocateInfo{.allocationSize = req.size, .memoryTypeIndex = type});
  } catch (const vk::SystemError& e) {
    throw RuntimeError("device out of memory allocating " + std::to_string(req.size >> 20) +
                       " MiB (" + e.what() + ")");
  }
  buffer_.bindMemory(*memory_, 0);
  allocation_ = req.size;
  context.note_allocation(static_cast<std::int64_t>(allocation_));
  auto flags = context.memory_flags(type);
  if ((flags & MP::eHostVisible) && (flags & MP::eHostCoherent))
    mapped_ = memory_.mapMemory(0, VK_WHOLE_SIZE);
  fill_zero();
}

Buffer::Buffer(Buffer&& other) noexcept
    : context_(other.context_),
      size_(other.size_),
      id_(std::exchange(other.id_, 0)),
      allocation_(std::exchange(other.allocation_, 0)),
      memory_(std::move(other.memory_)),
      buffer_(std::move(other.buffer_)),
      mapped_(std::exchange(other.mapped_, nullptr)),
      texel_(std::move(other.texel_)) {
  other.size_ = 0;
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    if (allocation_) context_->note_allocation(-static_cast<std::int64_t>(allocation_));
    texel_ = std::move(other.texel_);  // its view dies before its buffer
    context_ = other.context_;
    size_ = std::exchange(other.size_, 0);
    id_ = std::exchange(other.id_, 0);
    allocation_ = std::exchange(other.allocation_, 0);
    buffer_ = std::move(other.buffer_);
    memory_ = std::move(other.memory_);
    mapped_ = std::exchange(other.mapped_, nullptr);
  }
  return *this;
}

vk::BufferView Buffer::texel_view() const {
  std::call_once(texel_->made, [this] {
    if (size_ / 16 > context_->max_texel_buffer_elements())
      throw RuntimeError("a buffer of " + std::to_string(size_) + " bytes is more texels than " +
                         "the device's limit of " +
                         std::to_string(context_->max_texel_buffer_elements()));
    texel_->view = vk::raii::BufferView(
        context_->device(), vk::BufferViewCreateInfo{.buffer = *buffer_,
                                                     .format = vk::Format::eR32G32B32A32Uint,
                                                     .offset = 0,
                                                     .range = size_ / 16 * 16});
  });
  return *texel_->view;
}

Buffer::~Buffer() {
  if (allocation_) context_->note_allocation(-static_cast<std::int64_t>(allocation_));
}

void Buffer::write(std::size_t offset, std::span<const std::byte> data) {
  if (offset + data.size() > size_) throw RuntimeError("buffer write out of range");
  if (mapped_) {
    std::memcpy(static_cast<std::byte*>(mapped_) + offset, data.data(), data.size());
    return;
  }
  Buffer staging(*context_, std::min(kStagingChunk, data.size()), Memory::kHostUpload);
  for (std::size_t done = 0; done < data.size(); done += staging.size()) {
    std::size_t n = std::min(staging.size(), data.size() - done);
    std::memcpy(staging.host_data(), data.data() + done, n);
    copy_buffer(*context_, staging, 0, *this, offset + done, n);
  }
}

void Buffer::read(std::size_t offset, std::span<std::byte> out) const {
  if (offset + out.size() > size_) throw RuntimeError("buffer read out of range");
  if (mapped_) {
    std::memcpy(out.data(), static_cast<const std::byte*>(mapped_) + offset, out.size());
    return;
  }
  Buffer staging(*context_, std::min(kStagingChunk, out.size()), Memory::kHostReadback);
  for (std::size_t done = 0; done < out.size(); done += staging.size()) {
    std::size_t n = std::min(staging.size(), out.size() - done);
    copy_buffer(*context_, *this, offset + done, staging, 0, n);
    std::memcpy(out.data() + done, staging.host_data(), n);
  }
}

void Buffer::fill_zero() {
  if (mapped_) {
    std::memset(mapped_, 0, size_);
    return;
  }
  const auto& device = context_->device();
  vk::raii::CommandBuffers cbs(
      device, vk::CommandBufferAllocateInfo{.commandPool = *context_->command_pool(),
                                            .level = vk::CommandBufferLevel::ePrimary,
                                            .commandBufferCount = 1});
  auto& cb = cbs[0];
  cb.begin({.flags = vk::CommandBufferUsageFlagBits::eOneTimeSubmit});
  cb.fillBuffer(*buffer_, 0, VK_WHOLE_SIZE, 0);
  cb.end();
  vk::raii::Fence fence(device, vk::FenceCreateInfo{});
  vk::CommandBuffer raw = *cb;
  context_->queue().submit(vk::SubmitInfo{.commandBufferCount = 1, .pCommandBuffers = &raw},
                           *fence);
  (void)device.waitForFences({*fence}, VK_TRUE, UINT64_MAX);
}

void copy_buffers(Context& context, std::span<const BufferCopy> copies) {
  if (copies.empty()) return;
  const auto& device = context.device();
  vk::raii::CommandBuffers cbs(
      device, vk::CommandBufferAllocateInfo{.commandPool = *context.command_pool(),
                                            .level = vk::CommandBufferLevel::ePrimary,
                                            .commandBufferCount = 1});
  auto& cb = cbs[0];
  cb.begin({.flags = vk::CommandBufferUsageFlagBits::eOneTimeSubmit});
  auto barrier = [&](vk::PipelineStageFlags from_stage, vk::AccessFlags from_access,
                     vk::PipelineStageFlags to_stage, vk::AccessFlags to_access) {
    cb.pipelineBarrier(from_stage, to_stage, {},
                       vk::MemoryBarrier{.srcAccessMask = from_access, .dstAccessMask = to_access},
                       {}, {});
  };
  const auto compute = vk::PipelineStageFlagBits::eComputeShader;
  const auto transfer = vk::PipelineStageFlagBits::eTransfer;
  const auto shader_access = vk::AccessFlagBits::eShaderRead | vk::AccessFlagBits::eShaderWrite;
  const auto transfer_access =
      vk::AccessFlagBits::eTransferRead | vk::AccessFlagBits::eTransferWrite;
  barrier(compute, vk::AccessFlagBits::eShaderWrite, transfer, transfer_access);
  // Consecutive copies between the same two buffers go in one command.
  std::vector<vk::BufferCopy> regions;
  for (std::size_t i = 0; i < copies.size(); ++i) {
    const auto& c = copies[i];
    if (c.from_offset + c.bytes > c.from->size() || c.to_offset + c.bytes > c.to->size())
      throw RuntimeError("buffer copy out of range");
    regions.push_back(
        vk::BufferCopy{.srcOffset = c.from_offset, .dstOffset = c.to_offset, .size = c.bytes});
    const bool last =
        i + 1 == copies.size() || copies[i + 1].from != c.from || copies[i + 1].to != c.to;
    if (!last) continue;
    cb.copyBuffer(*c.from->handle(), *c.to->handle(), regions);
    regions.clear();
  }
  barrier(transfer, vk::AccessFlagBits::eTransferWrite, compute, shader_access);
  cb.end();
  vk::raii::Fence fence(device, vk::FenceCreateInfo{});
  vk::CommandBuffer raw = *cb;
  context.queue().submit(vk::SubmitInfo{.commandBufferCount = 1, .pCommandBuffers = &raw}, *fence);
  if (device.waitForFences({*fence}, VK_TRUE, UINT64_MAX) != vk::Result::eSuccess)
    throw RuntimeError("buffer copy did not complete");
}

void copy_buffer(Context& context, const Buffer& from, std::size_t from_offset, const Buffer& to,
                 std::size_t to_offset, std::size_t bytes) {
  const BufferCopy copy{&from, from_offset, &to, to_offset, bytes};
  copy_buffers(context, std::span(&copy, 1));
}

}  // namespace sg::gpu
