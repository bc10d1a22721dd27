// workload.h — the key sequences and checksums every peer shares.
//
// The Go peer (bench/go/main.go) generates the same keys with the same
// splitmix64 and folds results into the same checksums, so one table can hold
// the engine, std::unordered_map, absl::flat_hash_map and Go 1.19 side by side
// and a disagreement in any checksum means a peer computed something different.
// Keep this file and main.go in step.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <new>
#include <string>
#include <vector>

#include <sys/mman.h>

namespace bench {

// The inputs every C++ peer reads (keys, lookup order, string headers and
// their bytes) sit on transparent huge pages, as the Go peer's do: Go's heap,
// where its slices and strings live, is advised onto huge pages by the
// runtime. With 4 KiB pages a shuffled lookup in a big map would pay a TLB
// miss on its key before the map is even touched, in the C++ peers alone.
// Below 2 MiB an allocation is plain operator new.
template <class T>
struct HugeAlloc {
  using value_type = T;
  static constexpr std::size_t kHuge = std::size_t{2} << 20;
  HugeAlloc() = default;
  template <class U> HugeAlloc(const HugeAlloc<U>&) {}
  static std::size_t mapped(std::size_t bytes) { return (bytes + kHuge - 1) & ~(kHuge - 1); }
  T* allocate(std::size_t n) {
    std::size_t bytes = n * sizeof(T);
    if (bytes < kHuge) return static_cast<T*>(::operator new(bytes));
    // Over-map by one huge page and keep a 2 MiB-aligned run: the kernel
    // backs only whole aligned 2 MiB pages with huge ones.
    std::size_t len = mapped(bytes);
    void* m = mmap(nullptr, len + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    auto base = reinterpret_cast<std::uintptr_t>(m);
    std::uintptr_t start = (base + kHuge - 1) & ~(kHuge - 1);
    if (start != base) munmap(m, start - base);
    if (std::uintptr_t end = base + len + kHuge; end != start + len)
      munmap(reinterpret_cast<void*>(start + len), end - (start + len));
    madvise(reinterpret_cast<void*>(start), len, MADV_HUGEPAGE);  // advice: failure is fine
    return reinterpret_cast<T*>(start);
  }
  void deallocate(T* p, std::size_t n) {
    std::size_t bytes = n * sizeof(T);
    if (bytes < kHuge) ::operator delete(p);
    else munmap(p, mapped(bytes));
  }
  template <class U> bool operator==(const HugeAlloc<U>&) const { return true; }
};
template <class T>
using Vec = std::vector<T, HugeAlloc<T>>;

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
inline Vec<std::uint64_t> sequential_keys(std::size_t n) {
  Vec<std::uint64_t> k(n);
  for (std::size_t i = 0; i < n; i++) k[i] = i;
  return k;
}

inline Vec<std::uint64_t> random_keys(std::size_t n) {
  SplitMix64 r{kKeySeed};
  Vec<std::uint64_t> k(n);
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
inline Vec<std::uint32_t> shuffled_order(std::size_t n) {
  Vec<std::uint32_t> p(n);
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
// The process's CPU time, in nanoseconds: the programs' default clock.
inline double cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

// The lower median of a set of times (0 for none), as gobench takes it.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[(v.size() - 1) / 2];
}

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
