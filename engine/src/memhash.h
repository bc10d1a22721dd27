// memhash.h — the inline body of "gomap hash v1" (spec in gomap/hash.h).
//
// hash.cpp's out-of-line memhash/memhash32/memhash64/strhash are thin wrappers
// over these; the fast entry points (fastint.h, map_faststr.cpp, grow.cpp's
// evacuate) call them directly when the maptype's hasher is the engine's own,
// which saves an indirect call per key. The values are the spec's exactly:
// gomapcore/hashing.py recomputes them, tests/engine pins them.
//
// The spec reads the key as little-endian 8-byte words, the last one zero-
// padded. Reading a whole word with memcpy is that word on amd64; the tail is
// the last 8 bytes of the key shifted right (no byte loop) when the key has at
// least 8 bytes, and two overlapping 4-byte loads (or three byte loads) below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "gomap/hash.h"

namespace gomap::detail_rt {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "memhash reads little-endian words");

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

// The last, partial word of a key: `rem` (1..7) bytes at p, zero-padded.
// `n` is the whole key's length: with n >= 8 the 8 bytes ending at p + rem
// are readable, so load them and shift the extra leading bytes out.
[[gnu::always_inline]] inline std::uint64_t tailWord(const std::uint8_t* p, std::size_t rem, std::size_t n) {
  if (n >= 8) return load64(p + rem - 8) >> (8 * (8 - rem));
  if (rem >= 4)  // bytes 0..3 and rem-4..rem-1 overlap where they agree
    return std::uint64_t{load32(p)} | (std::uint64_t{load32(p + rem - 4)} << (8 * (rem - 4)));
  // 1..3 bytes: first, middle, last (some coincide for short keys).
  return std::uint64_t{p[0]} | (std::uint64_t{p[rem / 2]} << (8 * (rem / 2))) |
         (std::uint64_t{p[rem - 1]} << (8 * (rem - 1)));
}

[[gnu::always_inline]] inline std::uint64_t memhashInline(const void* key, std::size_t n, std::uintptr_t seed) {
  const auto* p = static_cast<const std::uint8_t*>(key);
  std::uint64_t h = hashMix(seed ^ kHashK0, n ^ kHashK1);
  std::size_t words = n / 8;
  for (std::size_t i = 0; i < words; i++) h = hashMix(load64(p + 8 * i) ^ kHashK1, h ^ kHashK2);
  if (std::size_t rem = n & 7) h = hashMix(tailWord(p + 8 * words, rem, n) ^ kHashK1, h ^ kHashK2);
  return hashMix(h ^ kHashK3, n ^ kHashK0);
}

// One word: memhash(p, 8, seed) unrolled.
[[gnu::always_inline]] inline std::uint64_t memhash64Inline(std::uint64_t w, std::uintptr_t seed) {
  std::uint64_t h = hashMix(seed ^ kHashK0, 8 ^ kHashK1);
  h = hashMix(w ^ kHashK1, h ^ kHashK2);
  return hashMix(h ^ kHashK3, 8 ^ kHashK0);
}

// memhash(p, 4, seed): one zero-padded word.
[[gnu::always_inline]] inline std::uint64_t memhash32Inline(std::uint32_t w, std::uintptr_t seed) {
  std::uint64_t h = hashMix(seed ^ kHashK0, 4 ^ kHashK1);
  h = hashMix(std::uint64_t{w} ^ kHashK1, h ^ kHashK2);
  return hashMix(h ^ kHashK3, 4 ^ kHashK0);
}

}  // namespace gomap::detail_rt
