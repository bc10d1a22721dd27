// maptype.h — the type descriptor that makes the runtime type-erased, as in Go.
//
// The runtime never knows K or V; it works from a maptype: slot sizes, the
// bucket size, a hasher and an equality function for keys, and flags. The typed
// facade gomap::Map<K,V> (map.h) builds one maptype per <K,V>.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gomap/abi.h"

namespace gomap {

// How keys of a type are hashed and compared (Go's alg kinds, reduced to what a
// key without interfaces can be).
enum class KeyKind : std::uint8_t {
  mem32 = 1,   // 4-byte memory key: mapassign_fast32
  mem64 = 2,   // 8-byte memory key: mapassign_fast64
  mem = 3,     // any other memory key (compared bytewise, no padding)
  string = 4,  // gomap::String: mapassign_faststr
  float32 = 5, // +0 == -0, NaN != NaN
  float64 = 6,
};

using HashFn = std::uint64_t (*)(const void* key, std::uintptr_t seed);
using EqualFn = bool (*)(const void* a, const void* b);

// What the runtime needs to know about K or V.
struct typeinfo {
  std::uint64_t size;
  std::uint64_t align;
  EqualFn equal;          // keys only; nullptr for elems
  const char* name;       // Go spelling: "int64", "string", "[136]uint8", "main.Point"
  KeyKind kind;           // keys only
  bool ptrdata;           // the value contains pointers (Go's ptrdata != 0)
};

// maptype flags (Go's names)
inline constexpr std::uint32_t indirectkey = 1;    // store pointer to key, not key
inline constexpr std::uint32_t indirectelem = 2;   // store pointer to elem, not elem
inline constexpr std::uint32_t reflexivekey = 4;   // k == k for every key (false for floats)
inline constexpr std::uint32_t needkeyupdate = 8;  // overwrite the key on update (+0/-0, strings)
inline constexpr std::uint32_t hashMightPanic = 16;

struct maptype {
  const typeinfo* key;
  const typeinfo* elem;
  HashFn hasher;
  std::uint8_t keysize;     // slot size: key size, or 8 when indirect
  std::uint8_t elemsize;    // slot size: elem size, or 8 when indirect
  std::uint16_t bucketsize; // bucketSize(keysize, elemsize)
  std::uint32_t flags;
  const char* name;         // "map[int64]int64"

  bool indirectkey() const { return flags & gomap::indirectkey; }
  bool indirectelem() const { return flags & gomap::indirectelem; }
  bool reflexivekey() const { return flags & gomap::reflexivekey; }
  bool needkeyupdate() const { return flags & gomap::needkeyupdate; }
  // Buckets with no pointers keep their overflow buckets in mapextra (as Go does).
  bool bucketHasPointers() const {
    return key->ptrdata || elem->ptrdata || indirectkey() || indirectelem();
  }
};

// Fill in a maptype from key and elem typeinfo: slot sizes, indirection, flags,
// bucket size. `name` must outlive the maptype.
maptype make_maptype(const typeinfo* key, const typeinfo* elem, HashFn hasher, const char* name);

}  // namespace gomap
