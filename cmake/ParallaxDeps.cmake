# Third-party dependencies, all from Debian packages except LibTorch (PyPI torch wheel).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# ---- Bullet (Debian libbullet-dev). Its BulletConfig.cmake has broken relative paths: use
# pkg-config and wrap the result in one interface target with SYSTEM includes.
pkg_check_modules(BULLET REQUIRED IMPORTED_TARGET bullet)
add_library(parallax_bullet INTERFACE)
target_link_libraries(parallax_bullet INTERFACE PkgConfig::BULLET)
add_library(parallax::bullet ALIAS parallax_bullet)

# ---- JSON, CLI11, HDF5, stb (PNG writing)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 CONFIG QUIET)
if(NOT CLI11_FOUND)
  add_library(parallax_cli11 INTERFACE)
  add_library(CLI11::CLI11 ALIAS parallax_cli11)
endif()
# HDF5 through pkg-config (Debian's hdf5.pc points at the serial build); the same route works
# with a carried sysroot on the GPU machine (bench/device-check.sh).
pkg_check_modules(PXHDF5 REQUIRED IMPORTED_TARGET hdf5)
pkg_check_modules(STB REQUIRED IMPORTED_TARGET stb)

# ---- CUDA (optional language)
set(PARALLAX_HAVE_CUDA OFF)
if(NOT PARALLAX_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS "/usr/local/cuda/bin/nvcc")
    set(CMAKE_CUDA_COMPILER "/usr/local/cuda/bin/nvcc")
  endif()
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(CMAKE_CUDA_ARCHITECTURES "${PARALLAX_CUDA_ARCHITECTURES}")
    enable_language(CUDA)
    set(CMAKE_CUDA_STANDARD 17)  # CMake 3.25 does not know nvcc 13 C++20 dialect flags
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    find_package(CUDAToolkit REQUIRED)
    set(PARALLAX_HAVE_CUDA ON)
  elseif(PARALLAX_CUDA STREQUAL "ON")
    message(FATAL_ERROR "PARALLAX_CUDA=ON but no CUDA compiler was found")
  endif()
endif()
message(STATUS "Parallax: CUDA paths ${PARALLAX_HAVE_CUDA}")

# ---- LibTorch from the PyPI torch wheel. scripts/bootstrap passes its cmake_prefix_path; when
# configuring by hand, set PARALLAX_PYTHON to a python that has torch.
set(PARALLAX_PYTHON "" CACHE FILEPATH "Python interpreter whose torch provides LibTorch")
if(PARALLAX_PYTHON)
  execute_process(COMMAND "${PARALLAX_PYTHON}" -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
                  OUTPUT_VARIABLE _torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "PARALLAX_PYTHON=${PARALLAX_PYTHON} cannot import torch; run scripts/bootstrap")
  endif()
  list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
endif()

# The wheel is built against CUDA; its CMake config looks for the toolkit. Point it at the
# system CUDA 13 toolkit when present. Without one, LibTorch is used as a CPU library.
if(EXISTS "/usr/local/cuda/bin/nvcc" AND NOT DEFINED CUDAToolkit_ROOT)
  set(CUDAToolkit_ROOT "/usr/local/cuda")
endif()
# Torch's CMake config would try to detect the installed GPUs (and fail without one): give it
# the same explicit architectures.
if(NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  string(REGEX REPLACE "([0-9])([0-9])" "\\1.\\2" _torch_arch "${PARALLAX_CUDA_ARCHITECTURES}")
  set(ENV{TORCH_CUDA_ARCH_LIST} "${_torch_arch}")
endif()
find_package(Torch REQUIRED)

# ---- Viewer: SDL2 + OpenGL3 + Dear ImGui 1.86 (Debian ships libimgui.a and the backend
# sources as documentation examples; we compile the two backends we need).
if(PARALLAX_WITH_VIEWER)
  find_package(OpenGL REQUIRED)
  pkg_check_modules(SDL2 REQUIRED IMPORTED_TARGET sdl2)
  pkg_check_modules(IMGUI REQUIRED IMPORTED_TARGET imgui)
  set(_imgui_backends /usr/share/doc/libimgui-dev/examples/backends)
  if(NOT EXISTS ${_imgui_backends}/imgui_impl_sdl.cpp)
    message(FATAL_ERROR "Dear ImGui backend sources not found in ${_imgui_backends} (apt-get install libimgui-dev)")
  endif()
  add_library(parallax_imgui_backends STATIC
    ${_imgui_backends}/imgui_impl_sdl.cpp ${_imgui_backends}/imgui_impl_opengl3.cpp)
  target_include_directories(parallax_imgui_backends SYSTEM PUBLIC /usr/include/imgui /usr/include/imgui/backends)
  target_link_libraries(parallax_imgui_backends PUBLIC PkgConfig::IMGUI PkgConfig::SDL2 OpenGL::GL ${CMAKE_DL_LIBS})
  # Third-party code: its gl3w loader indexes a proc array through a union on purpose, which
  # UBSan reports; the asan preset still checks all of our own code.
  target_compile_options(parallax_imgui_backends PRIVATE -fno-sanitize=undefined)
endif()
