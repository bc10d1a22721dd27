// iter_inline.h — finding the next cell of mapiternext's common step.
//
// An iterator visits a bucket's cells in the order offset, offset+1, ... mod 8
// (hiter.offset is random per loop); it->i counts the cells of the current
// bucket already visited. Shared by iter.cpp's mapiternext and Map<K,V>'s
// inline step (map.h).
//
// Why a branch per cell and not a mask of the eight tophash bytes (ctz of the
// live cells, rotated by offset): the mask has one unpredictable branch per
// bucket instead of one per cell, but it makes the address of the key and
// elem loads depend on the tophash load. In a loop over a big map that load
// misses, and the key and elem loads (on the bucket's second and third cache
// lines) wait for it. With a branch per cell the predictor guesses the cell,
// the key and elem loads go out at once with the tophash load, and a wrong
// guess costs a pipeline flush but no second trip to memory. Measured on
// 10M uint64 entries (alternating A/B): per-cell branches 50 ms, mask 60 ms,
// mask for skipping only after a cell found empty 50-56 ms.
#pragma once

#include <cstdint>
#include <cstring>

#include "gomap/abi.h"

namespace gomap::detail {

// The cell at visiting position j.
[[gnu::always_inline]] inline unsigned cellAt(unsigned j, unsigned offset) {
  return (j + offset) & (bucketCnt - 1);
}

// The visiting position (i..7) of the first live cell at or after position
// i; bucketCnt if there is none; -1 if an evacuation mark comes first (only
// mapiternext's general step handles those). Empty cells (emptyOne,
// emptyRest) are passed over: mapiternext does not stop at emptyRest either.
[[gnu::always_inline]] inline int nextCell(const std::uint8_t* tophash, unsigned offset, unsigned i) {
  for (; i < bucketCnt; i++) {
    std::uint8_t top = tophash[cellAt(i, offset)];
    if (top >= minTopHash) return static_cast<int>(i);
    if (top > emptyOne) return -1;
  }
  return bucketCnt;
}

// How many buckets ahead of the walk a Map<String,V> loop asks for its keys'
// bytes: about 20 entries, enough to cover a memory access at the loop's pace
// (1M entries, alternating A/B: 1 bucket 20 ms, 2: 17.5, 4: 15.8, 8: 15.5;
// none: 27).
inline constexpr std::uintptr_t stringPrefetchBuckets = 4;

// Prefetches the bytes of the eight string keys of a bucket (16-byte
// {str, len} slots after tophash[8]). No cell is tested: an empty cell's key
// is zeroed (Go clears a deleted key that has pointers) or stale, and a
// prefetch never faults, whatever the address.
[[gnu::always_inline]] inline void prefetchStringBytes(const std::uint8_t* bucket) {
  for (unsigned c = 0; c < bucketCnt; c++) {
    const void* str;
    std::memcpy(&str, bucket + dataOffset + c * 16, sizeof str);
    __builtin_prefetch(str);
  }
}

}  // namespace gomap::detail
