// pages.h — memory mapped in 2 MiB-aligned runs and advised onto huge pages.
//
// Go's heap lives in arenas that the runtime advises onto transparent huge
// pages; a lookup in a big map then pays a cache miss, not also a TLB miss,
// for every key. The engine's own big allocations (heap.cpp's bucket arrays,
// string.cpp's key bytes, heap_span.cpp's arenas) do the same through these
// helpers. THP is often "madvise" only, so without the advice they would sit
// on 4 KiB pages.
#pragma once

#include <cstddef>
#include <cstdint>

#include <sys/mman.h>

namespace gomap::detail_rt {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

// `len` bytes (a multiple of 4 KiB), zeroed, starting on a multiple of
// `align` (a power of two, at least 4 KiB) and advised onto huge pages;
// nullptr when the kernel refuses. Give back with munmap(p, len).
inline void* mapAligned(std::size_t len, std::size_t align) {
  // Over-map by one alignment unit, then trim to an aligned start.
  void* m = mmap(nullptr, len + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return nullptr;
  auto base = reinterpret_cast<std::uintptr_t>(m);
  std::uintptr_t start = (base + align - 1) & ~(align - 1);
  if (start != base) munmap(m, start - base);
  std::uintptr_t end = base + len + align;
  if (end != start + len) munmap(reinterpret_cast<void*>(start + len), end - (start + len));
  madvise(reinterpret_cast<void*>(start), len, MADV_HUGEPAGE);  // advice only: failure is fine
  return reinterpret_cast<void*>(start);
}

// The same on a 2 MiB boundary: the big allocations' case.
inline void* mapHugeAligned(std::size_t len) { return mapAligned(len, kHugePage); }

}  // namespace gomap::detail_rt
