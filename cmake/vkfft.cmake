# VkFFT (Debian libvkfft-dev) for the GPU loop finder. The package ships only vkFFT.h, no
# CMake or pkg-config file; the header compiles its shaders at run time with glslang, whose
# static libraries (glslang-dev) come with CMake configs that need Threads and SPIRV-Tools
# found first.
find_package(SPIRV-Tools-opt CONFIG REQUIRED)
find_package(SPIRV-Tools-link CONFIG REQUIRED)
find_package(glslang CONFIG REQUIRED)
find_path(VKFFT_INCLUDE_DIR vkFFT.h REQUIRED)

# VkFFT 1.2.26 fills glslang_resource_t by position. glslang 12 (Debian 12) added nine
# max_mesh_*_ext fields after max_mesh_view_count_nv, so VkFFT's `1` for
# maxDualSourceDrawBuffersEXT lands in max_mesh_output_vertices_ext and its `limits` braces in
# an int: C accepts that with a warning, C++ refuses to compile. When (and only when) the
# installed glslang has those fields, we compile against a copy of the header with the nine
# values inserted (glslang's own defaults), generated here at configure time.
include(CheckStructHasMember)
check_struct_has_member(glslang_resource_t max_mesh_view_count_ext
  glslang/Include/glslang_c_interface.h SG_GLSLANG_HAS_MESH_EXT LANGUAGE CXX)
if(SG_GLSLANG_HAS_MESH_EXT)
  file(READ ${VKFFT_INCLUDE_DIR}/vkFFT.h vkfft_text)
  set(nv_line "/* .maxMeshViewCountNV = */ 4,")
  string(REPLACE "${nv_line}" "${nv_line}
				/* .maxMeshOutputVerticesEXT = */ 256,
				/* .maxMeshOutputPrimitivesEXT = */ 256,
				/* .maxMeshWorkGroupSizeX_EXT = */ 128,
				/* .maxMeshWorkGroupSizeY_EXT = */ 128,
				/* .maxMeshWorkGroupSizeZ_EXT = */ 128,
				/* .maxTaskWorkGroupSizeX_EXT = */ 128,
				/* .maxTaskWorkGroupSizeY_EXT = */ 128,
				/* .maxTaskWorkGroupSizeZ_EXT = */ 128,
				/* .maxMeshViewCountEXT = */ 4," patched_text "${vkfft_text}")
  if(patched_text STREQUAL vkfft_text)
    message(FATAL_ERROR "vkFFT.h in ${VKFFT_INCLUDE_DIR} does not fill glslang_resource_t as "
                        "VkFFT 1.2.26 does; the glslang 12 fix in cmake/vkfft.cmake needs updating")
  endif()
  set(vkfft_dir ${CMAKE_BINARY_DIR}/vkfft_patched)
  # Rewritten only when it changes, so a re-configure does not rebuild its users.
  file(WRITE ${vkfft_dir}/vkFFT.h.new "${patched_text}")
  file(COPY_FILE ${vkfft_dir}/vkFFT.h.new ${vkfft_dir}/vkFFT.h ONLY_IF_DIFFERENT)
  file(REMOVE ${vkfft_dir}/vkFFT.h.new)
  message(STATUS "VkFFT: using ${vkfft_dir}/vkFFT.h (glslang 12 mesh-shader fields filled)")
else()
  set(vkfft_dir ${VKFFT_INCLUDE_DIR})
endif()

add_library(sg_vkfft INTERFACE)
# SYSTEM: the header is not ours and would trip -Wshadow, -Wpedantic and friends.
target_include_directories(sg_vkfft SYSTEM INTERFACE ${vkfft_dir})
target_compile_definitions(sg_vkfft INTERFACE VKFFT_BACKEND=0)
target_link_libraries(sg_vkfft INTERFACE glslang::glslang glslang::SPIRV Vulkan::Vulkan)
