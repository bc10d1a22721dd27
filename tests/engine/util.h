// util.h — helpers shared by the engine's doctest files.
#pragma once

#include <cstdint>
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

// Assert the map's invariants (works in every build type).
#define CHECK_MAP(m) CHECK(gomap::check_invariants((m).type(), (m).header()) == std::string())

}  // namespace gt
