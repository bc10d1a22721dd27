// pages.h — memory mapped in 2 MiB-aligned runs and advised onto huge pages.
//
// Go's heap lives in arenas that the runtime advises onto transparent huge
// pages; a lookup in a big map then pays a cache miss, not also a TLB miss,
// for every key. The engine's own big allocations (heap.cpp's bucket arrays,
// string.cpp's key bytes) do the same through this one helper. THP is often
// "madvise" only, so without the advice they would sit on 4 KiB pages.
#pragma once

#include <cstddef>
#include <cstdint>

#include <sys/mman.h>

namespace gomap::detail_rt {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

// `len` bytes (a multiple of 4 KiB), zeroed, starting on a 2 MiB boundary;
// nullptr when the kernel refuses. Give back with munmap(p, len).
inline void* mapHugeAligned(std::size_t len) {
  // Over-map by one huge page, then trim to a 2 MiB-aligned start.
  void* m = mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return nullptr;
  auto base = reinterpret_cast<std::uintptr_t>(m);
  std::uintptr_t start = (base + kHugePage - 1) & ~(kHugePage - 1);
  if (start != base) munmap(m, start - base);
  std::uintptr_t end = base + len + kHugePage;
  if (end != start + len) munmap(reinterpret_cast<void*>(start + len), end - (start + len));
  madvise(reinterpret_cast<void*>(start), len, MADV_HUGEPAGE);  // advice only: failure is fine
  return reinterpret_cast<void*>(start);
}

}  // namespace gomap::detail_rt
