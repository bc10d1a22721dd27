// hash_inline.h — the inline body of "gomap hash v2" (spec in gomap/hash.h).
//
// hash.cpp's out-of-line memhash/memhash32/memhash64/strhash are thin wrappers
// over these. The engine's fast entry points (fastint.h, map_faststr.cpp,
// grow.cpp's evacuate) call them directly when the maptype's hasher is the
// engine's own, which saves an indirect call per key, and Map<K,V>'s inline
// lookups (map.h, release builds) use them too. The values are the spec's
// exactly: gomapcore/hashing.py recomputes them, tests/engine pins them.
//
// The spec's words are little-endian loads at the key's start and end; on
// amd64 a memcpy of 8 (or 4) bytes is that word, whatever the alignment.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "gomap/hash.h"

namespace gomap::hashv2 {

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

// The final step for every length: the two words a and b that end the key
// (spec in hash.h), the running state s and the length.
[[gnu::always_inline]] inline std::uint64_t hashFinish(std::uint64_t a, std::uint64_t b, std::uint64_t s,
                                                       std::size_t n) {
  return hashMix(kHashK1 ^ n, hashMix(a ^ kHashK2, b ^ s));
}

[[gnu::always_inline]] inline std::uint64_t memhashInline(const void* key, std::size_t n, std::uintptr_t seed) {
  const auto* p = static_cast<const std::uint8_t*>(key);
  std::uint64_t s = seed ^ kHashK0;
  std::uint64_t a, b;
  if (n <= 16) [[likely]] {
    if (n >= 8) {
      a = load64(p);
      b = load64(p + n - 8);
    } else if (n >= 4) {
      a = load32(p);
      b = load32(p + n - 4);
    } else if (n > 0) {
      a = std::uint64_t{p[0]} | (std::uint64_t{p[n / 2]} << 8) | (std::uint64_t{p[n - 1]} << 16);
      b = 0;
    } else {
      a = b = 0;
    }
  } else if (n <= 32) {
    // The loop below, run once: keys of 17 to 32 bytes (a decimal uint64,
    // a UUID) are common enough to skip its set-up.
    s = hashMix(load64(p) ^ kHashK1, load64(p + 8) ^ s);
    a = load64(p + n - 16);
    b = load64(p + n - 8);
  } else {
    const std::uint8_t* q = p;
    for (std::size_t i = n; i > 16; i -= 16, q += 16) s = hashMix(load64(q) ^ kHashK1, load64(q + 8) ^ s);
    a = load64(p + n - 16);
    b = load64(p + n - 8);
  }
  return hashFinish(a, b, s, n);
}

// memhash(p, 8, seed): a and b are both the one word.
[[gnu::always_inline]] inline std::uint64_t memhash64Inline(std::uint64_t w, std::uintptr_t seed) {
  return hashFinish(w, w, seed ^ kHashK0, 8);
}

// memhash(p, 4, seed) likewise.
[[gnu::always_inline]] inline std::uint64_t memhash32Inline(std::uint32_t w, std::uintptr_t seed) {
  return hashFinish(w, w, seed ^ kHashK0, 4);
}

}  // namespace gomap::hashv2
