// fuzz_map.cpp — libFuzzer target: the input bytes drive the same operation
// sequences as the differential test (fuzz_ops.h). Built only with clang:
//   CXX=clang++-14 cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DGOMAP_BUILD_BENCH=OFF
//   cmake --build build/fuzz --target engine_fuzz_map
//   build/fuzz/tests/engine_fuzz_map -max_total_time=60
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fuzz_ops.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::size_t pos = 1;
  gf::Source src{[&]() -> std::uint64_t {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (pos < size ? data[pos] : 0);
      pos++;
    }
    return v;
  }};
  std::uint64_t ops = (size - 1) / 4 + 1;
  std::string err;
  switch (data[0] % 3) {
    case 0: err = gf::runOps<std::uint64_t>(src, ops, true); break;
    case 1: err = gf::runOps<gomap::String>(src, ops, true); break;
    default: err = gf::runOps<gf::Key136>(src, ops, true); break;
  }
  if (!err.empty()) {
    std::fprintf(stderr, "divergence: %s\n", err.c_str());
    std::abort();
  }
  if (gomap_heap_registry.count > 4000000) gomap::gc();
  return 0;
}
