// hash.cpp — Go 1.19's map hashes (spec in gomap/hash.h), alginit, fastrand.
//
// gomapcore/gohash.py recomputes the same values from the key material below
// and hmap.hash0 to explain where a key lives; the bodies live in
// gomap/hash_inline.h so that the fast entry points can inline them.
#include "gomap/hash.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <atomic>
#include <cmath>
#include <cstring>
#include <random>

#include "gomap/string.h"
#include "internal.h"
#include "memhash.h"

namespace gomap {

bool useAeshash = false;
alignas(16) std::uint8_t aeskeysched[128] = {};
std::uintptr_t hashkey[4] = {};

namespace {

using detail_rt::hashMix;

// fastrand's state: wyrand, as Go 1.19 uses on amd64 (per M there; one global
// here so that a seeded run is reproducible).
std::uint64_t initialState() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}
std::atomic<std::uint64_t> randState{initialState()};

// wyrand: the state advances by a constant; each value is a mix of the new state.
constexpr std::uint64_t kWyStep = 0xa0761d6478bd642fULL;
std::uint64_t wyValue(std::uint64_t s) { return hashMix(s, s ^ 0xe7037ed1a0b428dbULL); }

std::uint64_t wyrandStep() {
  return wyValue(randState.fetch_add(kWyStep, std::memory_order_relaxed) + kWyStep);
}

// Fill the key material from a 64-bit source (random bytes, or a seed's
// wyrand stream): 128 bytes of schedule, and hashkey's words made odd as
// alginit makes them.
template <class Next>
void fillKeys(bool aes, Next next) {
  std::uint8_t sched[128];
  for (std::size_t i = 0; i < sizeof sched; i += 8) {
    std::uint64_t w = next();
    std::memcpy(sched + i, &w, 8);
  }
  std::uintptr_t keys[4];
  for (auto& k : keys) k = static_cast<std::uintptr_t>(next()) | 1;
  set_hash_keys(aes, sched, keys);
}

// alginit, before any other static initializer of the program can make a map.
[[gnu::constructor(101)]] void alginit() {
  std::random_device rd;
  fillKeys(cpu_has_aeshash(), [&rd] { return (static_cast<std::uint64_t>(rd()) << 32) ^ rd(); });
}

// Go's f32hash/f64hash constants for +0 and -0 (and NaN with fastrand).
constexpr std::uintptr_t c0 = 33054211828000289ULL;
constexpr std::uintptr_t c1 = 23344194077549503ULL;

}  // namespace

bool cpu_has_aeshash() {
#if GOMAP_HAVE_AESHASH
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  return (c & bit_AES) && (c & bit_SSSE3) && (c & bit_SSE4_1);
#else
  return false;
#endif
}

void set_hash_keys(bool aes, const std::uint8_t sched[128], const std::uintptr_t keys[4]) {
  std::memcpy(aeskeysched, sched, sizeof aeskeysched);
  std::memcpy(hashkey, keys, sizeof hashkey);
  useAeshash = aes && cpu_has_aeshash();
}

namespace detail_rt {
void hash_keys_from_seed(std::uint64_t seed) {
  std::uint64_t s = seed;
  fillKeys(cpu_has_aeshash(), [&s] {
    s += kWyStep;
    return wyValue(s);
  });
}
}  // namespace detail_rt

std::uint64_t memhash(const void* p, std::size_t n, std::uintptr_t seed) {
  return detail_rt::memhashInline(p, n, seed);
}

std::uint64_t memhash32(const void* p, std::uintptr_t seed) {
  std::uint32_t w;
  std::memcpy(&w, p, 4);
  return detail_rt::memhash32Inline(w, seed);
}

std::uint64_t memhash64(const void* p, std::uintptr_t seed) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return detail_rt::memhash64Inline(w, seed);
}

std::uint64_t strhash(const void* p, std::uintptr_t seed) {
  const auto* s = static_cast<const String*>(p);
  return detail_rt::memhashInline(s->str, static_cast<std::size_t>(s->len), seed);
}

std::uint64_t f32hash(const void* p, std::uintptr_t seed) {
  float f;
  std::memcpy(&f, p, 4);
  if (f == 0) return c1 * (c0 ^ seed);                                   // +0 and -0 are one key
  if (std::isnan(f)) return c1 * (c0 ^ seed ^ std::uintptr_t{fastrand()});  // every NaN lands somewhere new
  return memhash(p, 4, seed);
}

std::uint64_t f64hash(const void* p, std::uintptr_t seed) {
  double f;
  std::memcpy(&f, p, 8);
  if (f == 0) return c1 * (c0 ^ seed);
  if (std::isnan(f)) return c1 * (c0 ^ seed ^ std::uintptr_t{fastrand()});
  return memhash(p, 8, seed);
}

std::uint32_t fastrand() { return static_cast<std::uint32_t>(wyrandStep()); }

void fastrand_seed(std::uint64_t seed) { randState.store(seed, std::memory_order_relaxed); }

namespace detail_rt {
std::uint64_t fastrand64() { return wyrandStep(); }
}  // namespace detail_rt

}  // namespace gomap
