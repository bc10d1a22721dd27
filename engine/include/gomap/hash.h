// hash.h — the engine's seeded 64-bit hashes ("gomap hash v1").
//
// Not Go's AES hash (whose key schedule is random per process), but fully
// specified so that gomapcore/hashing.py can recompute a key's hash, tophash and
// bucket for `gomap regs` from the seed in hmap.hash0.
//
//   mix(a, b)      = hi64(a*b) ^ lo64(a*b)            (128-bit product)
//   memhash(p,n,s) = h = mix(s ^ K0, n ^ K1);
//                    for each 8-byte little-endian word w of p (last zero-padded):
//                        h = mix(w ^ K1, h ^ K2);
//                    return mix(h ^ K3, n ^ K0)
//   strhash        = memhash over the string's bytes
//   f64hash(x, s)  = x == 0  -> memhash of +0.0's 8 bytes (so -0 and +0 agree)
//                    NaN     -> a random value (every NaN is a different key, as Go)
//                    else    -> memhash of x's 8 bytes;   f32hash likewise on 4 bytes
#pragma once

#include <cstddef>
#include <cstdint>

namespace gomap {

inline constexpr std::uint64_t kHashK0 = 0xa0761d6478bd642fULL;
inline constexpr std::uint64_t kHashK1 = 0xe7037ed1a0b428dbULL;
inline constexpr std::uint64_t kHashK2 = 0x8ebc6af09c88c6e3ULL;
inline constexpr std::uint64_t kHashK3 = 0x589965cc75374cc3ULL;

std::uint64_t memhash(const void* p, std::size_t n, std::uintptr_t seed);
std::uint64_t memhash32(const void* p, std::uintptr_t seed);
std::uint64_t memhash64(const void* p, std::uintptr_t seed);
std::uint64_t strhash(const void* p, std::uintptr_t seed);  // p points at a gomap::String
std::uint64_t f32hash(const void* p, std::uintptr_t seed);
std::uint64_t f64hash(const void* p, std::uintptr_t seed);

// A random 32-bit value (Go's fastrand): hash seeds, iteration start, NaN hashes.
std::uint32_t fastrand();
// Make fastrand deterministic (tests, --seed in samples).
void fastrand_seed(std::uint64_t seed);

}  // namespace gomap
