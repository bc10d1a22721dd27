// hash.cpp — "gomap hash v1" (spec in gomap/hash.h) and fastrand.
//
// The spec is implemented literally, word by word, because gomapcore/hashing.py
// recomputes the same values from hmap.hash0 to explain where a key lives.
#include "gomap/hash.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <random>

#include "gomap/string.h"
#include "internal.h"

namespace gomap {

namespace {

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<std::uint64_t>(r >> 64) ^ static_cast<std::uint64_t>(r);
}

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
  return mix(s, s ^ 0xe7037ed1a0b428dbULL);
}

std::uint64_t randomHash() { return detail_rt::fastrand64(); }

}  // namespace

std::uint64_t memhash(const void* p, std::size_t n, std::uintptr_t seed) {
  const auto* bytes = static_cast<const std::uint8_t*>(p);
  std::uint64_t h = mix(seed ^ kHashK0, n ^ kHashK1);
  for (std::size_t off = 0; off < n; off += 8) {
    std::uint64_t w = 0;
    std::size_t take = n - off < 8 ? n - off : 8;
    for (std::size_t j = 0; j < take; j++) w |= static_cast<std::uint64_t>(bytes[off + j]) << (8 * j);
    h = mix(w ^ kHashK1, h ^ kHashK2);
  }
  return mix(h ^ kHashK3, n ^ kHashK0);
}

std::uint64_t memhash32(const void* p, std::uintptr_t seed) { return memhash(p, 4, seed); }
std::uint64_t memhash64(const void* p, std::uintptr_t seed) { return memhash(p, 8, seed); }

std::uint64_t strhash(const void* p, std::uintptr_t seed) {
  const auto* s = static_cast<const String*>(p);
  return memhash(s->str, static_cast<std::size_t>(s->len), seed);
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
