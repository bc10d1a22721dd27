// hash.h — the engine's seeded 64-bit hashes: Go 1.19's own (alg.go,
// asm_amd64.s, hash64.go), with the same names and the same values.
//
// Go's alginit picks one of two hashes per process, and so does the engine,
// when it starts:
//  - useAeshash (the CPU has AES-NI, SSSE3 and SSE4.1): aeshashbody for
//    memhash and strhash, and the AES memhash32/memhash64, keyed by the 128
//    random bytes of aeskeysched;
//  - otherwise the portable memhashFallback, memhash32Fallback and
//    memhash64Fallback of hash64.go, keyed by the random odd words of hashkey.
// Either way a map's hash0 is the seed. f32hash and f64hash are Go's: +0 and
// -0 hash alike (c1 * (c0 ^ seed)), every NaN gets a random hash, any other
// value is memhash of its bytes.
//
// The key material is process memory under Go's names, in namespace gomap:
// gomapcore/gohash.py reads gomap::useAeshash, gomap::aeskeysched and
// gomap::hashkey from a stopped engine program, as it reads runtime.useAeshash,
// runtime.aeskeysched and runtime.hashkey from a Go one, and recomputes a key's
// hash, tophash and bucket (`gomap regs`, `break assign --new-key`).
//
// set_hash_seed (runtime.h) also derives the key material from its seed, so
// that a run with --seed lays every map out the same way each time.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gomap {

// alginit's choice and key material (Go: runtime.useAeshash,
// runtime.aeskeysched, runtime.hashkey).
extern bool useAeshash;
extern std::uint8_t aeskeysched[128];
extern std::uintptr_t hashkey[4];

// Replace the key material (tests that compare with Go's values; set_hash_seed).
// Every map made before keeps the hashes of the old keys: its keys can no
// longer be found. Call it before making maps.
void set_hash_keys(bool aes, const std::uint8_t sched[128], const std::uintptr_t keys[4]);
// Whether this CPU can take the AES path (what alginit checks).
bool cpu_has_aeshash();

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
