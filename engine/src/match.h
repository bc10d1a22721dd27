// match.h — a bucket's eight cells examined at once, as bit masks (bit i =
// cell i).
//
// A lookup in a big map waits on a cache miss for the bucket. When the cell
// scan is a chain of data-dependent branches ("is cell 3 the key?"), the
// branch on the matching cell mispredicts once the bucket arrives and the CPU
// throws away the next lookup it had started meanwhile. Comparing all eight
// keys (or tophash bytes) with a few vector instructions and taking the lowest
// set bit leaves one well-predicted branch ("found?") per bucket, so misses of
// consecutive lookups overlap. The cells visited, and which one wins (the
// lowest index, as Go's loops find it), are unchanged.
//
// SSE2 is part of x86-64; other targets take the plain loops.
#pragma once

#include <cstdint>
#include <cstring>

#include "internal.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gomap::detail_rt {

inline unsigned lowestCell(unsigned mask) { return static_cast<unsigned>(__builtin_ctz(mask)); }

// Cells whose tophash byte equals v (abi.h's cellsWithTophash, which the
// typed inline lookups in map.h share).
inline unsigned tophashEq(const bmap* b, std::uint8_t v) { return cellsWithTophash(tophashes(b), v); }

#if defined(__SSE2__)
inline __m128i tophashVector(const bmap* b) {
  return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b));  // 8 bytes, upper half zero
}
// Cells whose tophash byte is below v (v > 0): cell states rather than hash
// bytes when v is minTopHash.
inline unsigned tophashBelow(const bmap* b, std::uint8_t v) {
  __m128i t = tophashVector(b);
  __m128i le = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(static_cast<char>(v - 1))), t);  // t <= v-1
  return static_cast<unsigned>(_mm_movemask_epi8(le)) & 0xFFu;
}
// Cells that are empty (tophash emptyRest or emptyOne).
inline unsigned emptyCells(const bmap* b) { return tophashBelow(b, emptyOne + 1); }
#else
inline unsigned tophashBelow(const bmap* b, std::uint8_t v) {
  unsigned m = 0;
  for (unsigned i = 0; i < bucketCnt; i++) m |= unsigned{tophashes(b)[i] < v} << i;
  return m;
}
inline unsigned emptyCells(const bmap* b) { return tophashBelow(b, emptyOne + 1); }
#endif

// Cells whose 8- or 4-byte key (stored inline at dataOffset) equals key.
template <class U>
unsigned keyEq(const bmap* b, U key) {
  const char* keys = raw(b) + dataOffset;
#if defined(__SSE2__)
  if constexpr (sizeof(U) == 8) {
    // SSE2 has no 64-bit compare: both 32-bit halves must be equal.
    __m128i k = _mm_set1_epi64x(static_cast<long long>(key));
    unsigned m = 0;
    for (int v = 0; v < 4; v++) {
      __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(keys + 16 * v));
      __m128i e = _mm_cmpeq_epi32(x, k);
      e = _mm_and_si128(e, _mm_shuffle_epi32(e, 0xB1));  // swap halves of each 64-bit lane
      m |= static_cast<unsigned>(_mm_movemask_pd(_mm_castsi128_pd(e))) << (2 * v);
    }
    return m;
  } else {
    static_assert(sizeof(U) == 4);
    __m128i k = _mm_set1_epi32(static_cast<int>(key));
    unsigned lo = static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(
        _mm_cmpeq_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(keys)), k))));
    unsigned hi = static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(
        _mm_cmpeq_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(keys + 16)), k))));
    return lo | (hi << 4);
  }
#else
  unsigned m = 0;
  for (unsigned i = 0; i < bucketCnt; i++) {
    U k;
    std::memcpy(&k, keys + i * sizeof(U), sizeof(U));
    m |= unsigned{k == key} << i;
  }
  return m;
#endif
}

// The cells a write scan looks at: all eight, or up to and including the
// first emptyRest (nothing after it, here or in later overflow buckets).
// Sets *stop when that emptyRest ends the chain walk.
inline unsigned scanScope(const bmap* b, bool* stop) {
  unsigned rest = tophashEq(b, emptyRest);
  *stop = rest != 0;
  return rest ? ((rest & (0u - rest)) << 1) - 1 : 0xFFu;
}

}  // namespace gomap::detail_rt
