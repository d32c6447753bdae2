// The compute shaders compiled at build time (see shaders/CMakeLists.txt for the names).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace sg::shaders {

// SPIR-V words of a shader variant by name ("matmul_f16", ...); empty when unknown.
std::span<const std::uint32_t> spirv(std::string_view name);

}  // namespace sg::shaders
