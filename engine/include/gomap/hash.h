// hash.h — the engine's seeded 64-bit hashes ("gomap hash v2").
//
// Not Go's AES hash (whose key schedule is random per process), but fully
// specified so that gomapcore/hashing.py can recompute a key's hash, tophash and
// bucket for `gomap regs` from the seed in hmap.hash0.
//
//   mix(a, b)      = hi64(a*b) ^ lo64(a*b)            (128-bit product)
//   w64(p), w32(p) = the little-endian 8- or 4-byte word at p
//   memhash(p,n,s) = s = s ^ K0
//                    n == 0:      a = b = 0
//                    n in 1..3:   a = p[0] | p[n/2] << 8 | p[n-1] << 16;  b = 0
//                    n in 4..7:   a = w32(p);  b = w32(p + n - 4)
//                    n in 8..16:  a = w64(p);  b = w64(p + n - 8)
//                    n > 16:      for each whole 16 bytes q while more than 16 remain:
//                                     s = mix(w64(q) ^ K1, w64(q + 8) ^ s)
//                                 a = w64(p + n - 16);  b = w64(p + n - 8)
//                    return mix(K1 ^ n, mix(a ^ K2, b ^ s))
//   strhash        = memhash over the string's bytes
//   f64hash(x, s)  = x == 0  -> memhash of +0.0's 8 bytes (so -0 and +0 agree)
//                    NaN     -> a random value (every NaN is a different key, as Go)
//                    else    -> memhash of x's 8 bytes;   f32hash likewise on 4 bytes
//
// v2 (v1 mixed every 8-byte word in turn, plus a mix for the seed and one
// to finish): two multiplies for keys up to 16 bytes, one more per 16 bytes
// beyond. A map's hash is on the path of every lookup, insert and evacuation;
// for 19-20 byte string keys v2 took a lookup from 141 to 108 instructions
// (callgrind), and 1M shuffled lookups from 192 to 158 ms.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gomap {

inline constexpr std::uint64_t kHashK0 = 0xa0761d6478bd642fULL;
inline constexpr std::uint64_t kHashK1 = 0xe7037ed1a0b428dbULL;
inline constexpr std::uint64_t kHashK2 = 0x8ebc6af09c88c6e3ULL;

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
