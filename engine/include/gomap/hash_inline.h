// hash_inline.h — the inline body of Go 1.19's map hash (spec in gomap/hash.h).
//
// hash.cpp's out-of-line memhash/memhash32/memhash64/strhash are thin wrappers
// over these. The engine's fast entry points (fastint.h, map_faststr.cpp,
// grow.cpp's evacuate) call them directly when the maptype's hasher is the
// engine's own, which saves an indirect call per key, and Map<K,V>'s inline
// lookups (map.h, release builds) use them too.
//
// Two paths, chosen once per process as Go's alginit chooses:
//  - aeshash (asm_amd64.s: aeshashbody, memhash32, memhash64) when the CPU
//    has AES-NI, SSSE3 and SSE4.1, keyed by gomap::aeskeysched;
//  - the portable hash of hash64.go (memhashFallback, memhash32Fallback,
//    memhash64Fallback) otherwise, keyed by gomap::hashkey.
// The values are Go's exactly: tests/integration/test_engine_hash.py feeds the
// engine the key material and inputs of tests/go/hashvec and compares every
// value with what Go's runtime returned, and gomapcore/gohash.py recomputes
// them from the same key material, read from the process.
//
// AESENC is written as inline asm: the instruction needs no compiler flag
// that way, so these bodies inline into any caller (the x86-64 baseline has
// the SSE2 moves and xors around it), and only CPUs that have it take the path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "gomap/hash.h"

#if defined(__x86_64__)
#include <emmintrin.h>
#define GOMAP_HAVE_AESHASH 1
#else
#define GOMAP_HAVE_AESHASH 0
#endif

namespace gomap::alg {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the hashes read little-endian words");

// hash64.go's mix: hi ^ lo of the 128-bit product.
[[gnu::always_inline]] inline std::uint64_t hashMix(std::uint64_t a, std::uint64_t b) {
  unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<std::uint64_t>(r >> 64) ^ static_cast<std::uint64_t>(r);
}

[[gnu::always_inline]] inline std::uint64_t load64(const std::uint8_t* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
[[gnu::always_inline]] inline std::uint32_t load32(const std::uint8_t* p) {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// --- hash64.go ----------------------------------------------------------------

inline constexpr std::uint64_t kM1 = 0xa0761d6478bd642fULL;
inline constexpr std::uint64_t kM2 = 0xe7037ed1a0b428dbULL;
inline constexpr std::uint64_t kM3 = 0x8ebc6af09c88c6e3ULL;
inline constexpr std::uint64_t kM4 = 0x589965cc75374cc3ULL;
inline constexpr std::uint64_t kM5 = 0x1d8e4e27c47d124fULL;

[[gnu::always_inline]] inline std::uint64_t memhashFallback(const std::uint8_t* p, std::size_t s, std::uint64_t seed) {
  std::uint64_t a = 0, b = 0;
  seed ^= hashkey[0] ^ kM1;
  if (s == 0) return seed;
  if (s < 4) {
    a = std::uint64_t{p[0]} | std::uint64_t{p[s >> 1]} << 8 | std::uint64_t{p[s - 1]} << 16;
  } else if (s <= 8) {  // 4 and 8: the same word twice
    a = s < 8 ? load32(p) : load64(p);
    b = s < 8 ? load32(p + s - 4) : a;
  } else if (s <= 16) {
    a = load64(p);
    b = load64(p + s - 8);
  } else {
    std::size_t l = s;
    if (l > 48) {
      std::uint64_t seed1 = seed, seed2 = seed;
      for (; l > 48; l -= 48, p += 48) {
        seed = hashMix(load64(p) ^ kM2, load64(p + 8) ^ seed);
        seed1 = hashMix(load64(p + 16) ^ kM3, load64(p + 24) ^ seed1);
        seed2 = hashMix(load64(p + 32) ^ kM4, load64(p + 40) ^ seed2);
      }
      seed ^= seed1 ^ seed2;
    }
    for (; l > 16; l -= 16, p += 16) seed = hashMix(load64(p) ^ kM2, load64(p + 8) ^ seed);
    a = load64(p + l - 16);
    b = load64(p + l - 8);
  }
  return hashMix(kM5 ^ s, hashMix(a ^ kM2, b ^ seed));
}

[[gnu::always_inline]] inline std::uint64_t memhash64Fallback(std::uint64_t a, std::uint64_t seed) {
  return hashMix(kM5 ^ 8, hashMix(a ^ kM2, a ^ seed ^ hashkey[0] ^ kM1));
}
[[gnu::always_inline]] inline std::uint64_t memhash32Fallback(std::uint32_t w, std::uint64_t seed) {
  const std::uint64_t a = w;
  return hashMix(kM5 ^ 4, hashMix(a ^ kM2, a ^ seed ^ hashkey[0] ^ kM1));
}

// --- asm_amd64.s's aeshash ----------------------------------------------------

#if GOMAP_HAVE_AESHASH
using V = __m128i;

// AESENC key, x: one middle AES round of x with round key `key`.
[[gnu::always_inline]] inline V aesenc(V x, V key) {
  asm("aesenc %1, %0" : "+x"(x) : "x"(key));
  return x;
}
[[gnu::always_inline]] inline V scramble(V x) { return aesenc(x, x); }
[[gnu::always_inline]] inline V scramble3(V x) { return scramble(scramble(scramble(x))); }
[[gnu::always_inline]] inline V loadV(const std::uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const V*>(p)); }
[[gnu::always_inline]] inline V sched(int k) { return loadV(aeskeysched + 16 * k); }
[[gnu::always_inline]] inline std::uint64_t low64(V x) { return static_cast<std::uint64_t>(_mm_cvtsi128_si64(x)); }

// A key of 1 to 15 bytes as one block: its bytes, then zeros (what Go's
// masked 16-byte load, or its shuffled load near a page end, gives), from
// reads inside the key only.
[[gnu::always_inline]] inline V shortBlock(const std::uint8_t* p, std::size_t n) {
  std::uint64_t lo, hi = 0;
  if (n >= 8) {
    lo = load64(p);
    if (n > 8) hi = load64(p + n - 8) >> (8 * (16 - n));
  } else if (n >= 4) {
    lo = load32(p) | std::uint64_t{load32(p + n - 4)} << (8 * (n - 4));
  } else {
    lo = std::uint64_t{p[0]} | std::uint64_t{p[n >> 1]} << (8 * (n >> 1)) | std::uint64_t{p[n - 1]} << (8 * (n - 1));
  }
  return _mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo));
}

// aeshashbody: memhash(p, seed, n) and strhash.
[[gnu::always_inline]] inline std::uint64_t aeshashbody(const std::uint8_t* p, std::size_t n, std::uint64_t seed) {
  // The seed, and the length's low 16 bits four times over (Go's MOVQ,
  // PINSRW, PSHUFHW: three instructions, fewer than building the word).
  const V s = _mm_shufflehi_epi16(_mm_insert_epi16(_mm_cvtsi64_si128(static_cast<long long>(seed)), static_cast<int>(n), 4), 0);
  const V x0 = scramble(_mm_xor_si128(s, sched(0)));
  if (n > 16 && n <= 32) [[likely]] {
    const V x1 = scramble(_mm_xor_si128(s, sched(1)));
    const V a = scramble3(_mm_xor_si128(loadV(p), x0));
    const V b = scramble3(_mm_xor_si128(loadV(p + n - 16), x1));
    return low64(_mm_xor_si128(a, b));
  }
  if (n < 16) {
    if (n == 0) return low64(scramble(x0));
    return low64(scramble3(_mm_xor_si128(shortBlock(p, n), x0)));
  }
  if (n == 16) return low64(scramble3(_mm_xor_si128(loadV(p), x0)));
  // 33 bytes and more: 4 lanes up to 64 bytes, else 8, seeded by the schedule's
  // next blocks; the first half of the lanes take blocks from the start, the
  // second half from the end (over 128 bytes: the last 128, then every whole
  // 128-byte block from the start goes through the 8 lanes).
  const int lanes = n <= 64 ? 4 : 8;
  V st[8];
  V seeds[8];
  seeds[0] = x0;
  for (int k = 1; k < lanes; k++) seeds[k] = scramble(_mm_xor_si128(s, sched(k)));
  if (n <= 128) {
    const int half = lanes / 2;
    for (int k = 0; k < half; k++) st[k] = scramble3(_mm_xor_si128(loadV(p + 16 * k), seeds[k]));
    for (int k = half; k < lanes; k++)
      st[k] = scramble3(_mm_xor_si128(loadV(p + n - 16 * (lanes - k)), seeds[k]));
  } else {
    for (int k = 0; k < 8; k++) st[k] = _mm_xor_si128(loadV(p + n - 128 + 16 * k), seeds[k]);
    for (std::size_t blocks = (n - 1) >> 7; blocks != 0; blocks--, p += 128)
      for (int k = 0; k < 8; k++) st[k] = aesenc(scramble(st[k]), loadV(p + 16 * k));
    for (int k = 0; k < 8; k++) st[k] = scramble3(st[k]);
  }
  V acc = st[0];
  for (int k = 1; k < lanes; k++) acc = _mm_xor_si128(acc, st[k]);
  return low64(acc);
}

// memhash64 and memhash32: the seed in the low 8 bytes, the key in the high
// ones (4 bytes, then zeros, for memhash32), three rounds keyed by the schedule.
[[gnu::always_inline]] inline std::uint64_t aeshash64(std::uint64_t w, std::uint64_t seed) {
  V x = _mm_set_epi64x(static_cast<long long>(w), static_cast<long long>(seed));
  return low64(aesenc(aesenc(aesenc(x, sched(0)), sched(1)), sched(2)));
}
#endif

// --- the hashes -----------------------------------------------------------------

[[gnu::always_inline]] inline std::uint64_t memhashInline(const void* key, std::size_t n, std::uintptr_t seed) {
  const auto* p = static_cast<const std::uint8_t*>(key);
#if GOMAP_HAVE_AESHASH
  if (useAeshash) [[likely]] return aeshashbody(p, n, seed);
#endif
  return memhashFallback(p, n, seed);
}

[[gnu::always_inline]] inline std::uint64_t memhash64Inline(std::uint64_t w, std::uintptr_t seed) {
#if GOMAP_HAVE_AESHASH
  if (useAeshash) [[likely]] return aeshash64(w, seed);
#endif
  return memhash64Fallback(w, seed);
}

[[gnu::always_inline]] inline std::uint64_t memhash32Inline(std::uint32_t w, std::uintptr_t seed) {
#if GOMAP_HAVE_AESHASH
  if (useAeshash) [[likely]] return aeshash64(w, seed);  // the 4 bytes, then 4 zeros
#endif
  return memhash32Fallback(w, seed);
}

}  // namespace gomap::alg
