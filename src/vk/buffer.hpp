// A storage buffer and its memory. Device buffers live where the device computes fastest;
// host buffers are mapped so that the CPU writes inputs and reads results directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

#include "vk/context.hpp"

namespace sg::gpu {

enum class Memory {
  kDevice,        // weights, activations, KV cache
  kHostUpload,    // written by the CPU every step (token ids, positions)
  kHostReadback,  // read by the CPU after a step (logits)
};

class Buffer {
 public:
  // Zero-filled on creation (padding lanes of activations rely on it).
  Buffer(Context& context, std::size_t bytes, Memory memory);
  Buffer(Buffer&&) noexcept;
  Buffer& operator=(Buffer&&) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  std::size_t size() const { return size_; }
  bool mapped() const { return mapped_ != nullptr; }

  // Copies into / out of the buffer; through a staging buffer when it is not host-visible.
  void write(std::size_t offset, std::span<const std::byte> data);
  void read(std::size_t offset, std::span<std::byte> out) const;
  void fill_zero();

  // Direct pointer to host-visible memory (host buffers always; device buffers on
  // unified-memory devices such as lavapipe). Null otherwise.
  std::byte* host_data() const { return static_cast<std::byte*>(mapped_); }

  const vk::raii::Buffer& handle() const { return buffer_; }
  // Unique within its context for the process's lifetime, unlike the handle.
  std::uint64_t id() const { return id_; }

  // The whole buffer as RGBA32UI texels (16 bytes each) for uniform texel bindings, made on
  // first use. Thread-safe.
  vk::BufferView texel_view() const;

 private:
  Context* context_;
  std::size_t size_;
  std::uint64_t id_ = 0;
  std::size_t allocation_ = 0;  // bytes of device memory, for the peak-memory figures
  vk::raii::DeviceMemory memory_{nullptr};
  vk::raii::Buffer buffer_{nullptr};
  void* mapped_ = nullptr;
  struct TexelView {
    std::once_flag made;
    vk::raii::BufferView view{nullptr};
  };
  std::unique_ptr<TexelView> texel_ = std::make_unique<TexelView>();  // after buffer_: dies first
};

struct BufferCopy {
  const Buffer* from = nullptr;
  std::size_t from_offset = 0;
  const Buffer* to = nullptr;
  std::size_t to_offset = 0;
  std::size_t bytes = 0;
};

// Runs the copies in one submission and waits for them. They may run in any order, even at
// once, so none may write bytes that another reads or writes. What compute dispatches wrote
// before is visible to them, and what they write is visible to later dispatches.
void copy_buffers(Context& context, std::span<const BufferCopy> copies);

// One copy, as copy_buffers runs it.
void copy_buffer(Context& context, const Buffer& from, std::size_t from_offset, const Buffer& to,
                 std::size_t to_offset, std::size_t bytes);

}  // namespace sg::gpu
