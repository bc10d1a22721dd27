// workload.h — the key sequences and checksums every peer shares.
//
// The Go peer (bench/go/main.go) generates the same keys with the same
// splitmix64 and folds results into the same checksums, so one table can hold
// the engine, std::unordered_map, absl::flat_hash_map and Go 1.19 side by side
// and a disagreement in any checksum means a peer computed something different.
// Keep this file and main.go in step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

// splitmix64 (Steele, Lea, Flood 2014): one multiply-xorshift per output; a
// bijection of the counter, so N outputs are N distinct keys.
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

inline constexpr std::uint64_t kKeySeed = 1;      // random keys
inline constexpr std::uint64_t kShuffleSeed = 2;  // lookup order

// Keys 0..n-1: what a counter or an ID column gives a map.
inline std::vector<std::uint64_t> sequential_keys(std::size_t n) {
  std::vector<std::uint64_t> k(n);
  for (std::size_t i = 0; i < n; i++) k[i] = i;
  return k;
}

inline std::vector<std::uint64_t> random_keys(std::size_t n) {
  SplitMix64 r{kKeySeed};
  std::vector<std::uint64_t> k(n);
  for (auto& x : k) x = r.next();
  return k;
}

// String keys: the decimal spelling of the random keys (1 to 20 bytes, mostly
// 19-20), as strconv.FormatUint spells them in Go.
inline std::vector<std::string> string_keys(std::size_t n) {
  std::vector<std::string> s;
  s.reserve(n);
  for (auto x : random_keys(n)) s.push_back(std::to_string(x));
  return s;
}

// A permutation of 0..n-1 (Fisher-Yates from the top, j = next() % (i+1)).
inline std::vector<std::uint32_t> shuffled_order(std::size_t n) {
  std::vector<std::uint32_t> p(n);
  for (std::size_t i = 0; i < n; i++) p[i] = static_cast<std::uint32_t>(i);
  SplitMix64 r{kShuffleSeed};
  for (std::size_t i = n; i > 1; i--) {
    std::size_t j = r.next() % i;
    std::swap(p[i - 1], p[j]);
  }
  return p;
}

// The value stored for the i-th key.
inline std::uint64_t value_for(std::size_t i) { return i + 1; }

// Lookups fold values in lookup order: a wrong value anywhere changes the result.
inline std::uint64_t fold_lookup(std::uint64_t acc, std::uint64_t v) {
  return acc * 0x100000001b3ULL + v;
}
// Iteration order differs between peers (Go's is random), so iteration folds
// commutatively, with a product that ties each key to its own value.
inline std::uint64_t fold_iter(std::uint64_t acc, std::uint64_t k, std::uint64_t v) {
  return acc + ((k ^ 0x9e3779b97f4a7c15ULL) * v + v);
}
inline std::uint64_t string_digest(const char* p, std::size_t len) {
  return (static_cast<std::uint64_t>(len) << 8) | static_cast<unsigned char>(len ? p[len - 1] : 0);
}

}  // namespace bench
