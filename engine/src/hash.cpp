// hash.cpp — "gomap hash v2" (spec in gomap/hash.h) and fastrand.
//
// gomapcore/hashing.py recomputes the same values from hmap.hash0 to explain
// where a key lives, so they follow the spec exactly; the word-at-a-time body
// lives in memhash.h so that the fast entry points can inline it.
#include "gomap/hash.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <random>

#include "gomap/string.h"
#include "internal.h"
#include "memhash.h"

namespace gomap {

namespace {

using detail_rt::hashMix;

// fastrand's state: wyrand, as Go 1.19 uses on amd64 (per M there; one global
// here so that a seeded run is reproducible).
std::uint64_t initialState() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}
std::atomic<std::uint64_t> randState{initialState()};

std::uint64_t wyrandStep() {
  std::uint64_t s = randState.fetch_add(0xa0761d6478bd642fULL, std::memory_order_relaxed) +
                    0xa0761d6478bd642fULL;
  return hashMix(s, s ^ 0xe7037ed1a0b428dbULL);
}

std::uint64_t randomHash() { return detail_rt::fastrand64(); }

}  // namespace

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
  if (f == 0) {
    float zero = 0.0f;  // +0 and -0 are one key
    return memhash(&zero, 4, seed);
  }
  if (std::isnan(f)) return randomHash();  // NaN != NaN: every NaN lands somewhere new
  return memhash(&f, 4, seed);
}

std::uint64_t f64hash(const void* p, std::uintptr_t seed) {
  double f;
  std::memcpy(&f, p, 8);
  if (f == 0) {
    double zero = 0.0;
    return memhash(&zero, 8, seed);
  }
  if (std::isnan(f)) return randomHash();
  return memhash(&f, 8, seed);
}

std::uint32_t fastrand() { return static_cast<std::uint32_t>(wyrandStep()); }

void fastrand_seed(std::uint64_t seed) { randState.store(seed, std::memory_order_relaxed); }

namespace detail_rt {
std::uint64_t fastrand64() { return wyrandStep(); }
}  // namespace detail_rt

}  // namespace gomap
