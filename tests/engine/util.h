// util.h — helpers shared by the engine's doctest files.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gomap/heap.h"
#include "gomap/map.h"

namespace gt {

using I64Map = gomap::Map<std::int64_t, std::int64_t>;

// A key over 128 bytes: stored indirectly, hashed by the generic path.
struct Key136 {
  std::uint64_t w[17];
  static Key136 of(std::uint64_t v) {
    Key136 k{};
    k.w[0] = v;
    k.w[16] = ~v;
    return k;
  }
  bool operator==(const Key136& o) const {
    for (int i = 0; i < 17; i++)
      if (w[i] != o.w[i]) return false;
    return true;
  }
};
static_assert(sizeof(Key136) == 136);

struct Elem200 {
  std::uint64_t w[25];
};
static_assert(sizeof(Elem200) == 200);

// Latest registry record for an address (nullptr when none).
inline const gomap::HeapRecord* recordFor(const void* p) {
  const auto& r = gomap_heap_registry;
  for (std::uint64_t i = r.count; i-- > 0;)
    if (r.records[i].addr == reinterpret_cast<std::uintptr_t>(p)) return &r.records[i];
  return nullptr;
}

// Records of one map allocated after index `from`.
inline std::vector<gomap::HeapRecord> recordsOf(const void* h, std::uint64_t from = 0) {
  std::vector<gomap::HeapRecord> out;
  const auto& r = gomap_heap_registry;
  for (std::uint64_t i = from; i < r.count; i++)
    if (r.records[i].owner == reinterpret_cast<std::uintptr_t>(h)) out.push_back(r.records[i]);
  return out;
}

// Every bucket of an array, chain by chain: the bytes before the overflow
// pointer, and how long each chain is (overflow addresses differ between maps).
inline std::string arrayImage(const gomap::maptype* t, const void* array, std::uint8_t B) {
  std::string out;
  if (array == nullptr) return out;
  std::size_t bs = t->bucketsize;
  for (std::uintptr_t i = 0; i < (std::uintptr_t{1} << B); i++) {
    const char* b = static_cast<const char*>(array) + i * bs;
    int chain = 0;
    while (b != nullptr) {
      out.append(b, gomap::overflowOffset(bs));
      chain++;
      const char* next;
      std::memcpy(&next, b + gomap::overflowOffset(bs), sizeof next);
      b = next;
    }
    out += "|" + std::to_string(chain) + "|";
  }
  return out;
}
// A map's header fields that two maps fed the same operations share, and the
// images of both bucket arrays.
inline std::string mapImage(const gomap::maptype* t, const gomap::hmap* h) {
  std::string s = std::to_string(h->count) + "/" + std::to_string(h->flags) + "/" + std::to_string(h->B) + "/" +
                  std::to_string(h->noverflow) + "/" + std::to_string(h->nevacuate) + ":";
  s += arrayImage(t, h->buckets, h->B);
  if (h->oldbuckets != nullptr) {
    std::uint8_t oldB = (h->flags & gomap::sameSizeGrow) ? h->B : static_cast<std::uint8_t>(h->B - 1);
    s += "old:" + arrayImage(t, h->oldbuckets, oldB);
  }
  return s;
}

// Assert the map's invariants (works in every build type).
#define CHECK_MAP(m) CHECK(gomap::check_invariants((m).type(), (m).header()) == std::string())

}  // namespace gt
