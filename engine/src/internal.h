// internal.h — helpers shared by the engine's sources (not an installed header).
//
// Go's map.go spells these as methods on *bmap and *hmap (b.overflow(t),
// h.growing(), ...). They are tiny and inline; the entry points that a
// debugger breaks on live in the .cpp files.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "gomap/abi.h"
#include "gomap/hash.h"
#include "gomap/heap.h"
#include "gomap/maptype.h"
#include "gomap/runtime.h"
#include "gomap/string.h"
#include "memhash.h"

namespace gomap::detail_rt {

inline std::uint8_t* tophashes(bmap* b) { return reinterpret_cast<std::uint8_t*>(b); }
inline std::uint8_t* tophashes(const bmap* b) {
  return reinterpret_cast<std::uint8_t*>(const_cast<bmap*>(b));
}
inline char* raw(const void* p) { return static_cast<char*>(const_cast<void*>(p)); }

// The overflow pointer is always the last word of a bucket.
inline bmap** overflowSlot(const maptype* t, const bmap* b) {
  return reinterpret_cast<bmap**>(raw(b) + overflowOffset(t->bucketsize));
}
inline bmap* overflowOf(const maptype* t, const bmap* b) { return *overflowSlot(t, b); }
inline void setoverflow(const maptype* t, bmap* b, bmap* ovf) { *overflowSlot(t, b) = ovf; }

inline void* keyAt(const maptype* t, const bmap* b, std::uintptr_t i) {
  return raw(b) + dataOffset + i * t->keysize;
}
inline void* elemAt(const maptype* t, const bmap* b, std::uintptr_t i) {
  return raw(b) + dataOffset + bucketCnt * t->keysize + i * t->elemsize;
}
inline bmap* bucketAt(const maptype* t, const void* array, std::uintptr_t i) {
  return reinterpret_cast<bmap*>(raw(array) + i * t->bucketsize);
}
// The key a slot holds, following the indirection for big keys.
inline void* slotKey(const maptype* t, const bmap* b, std::uintptr_t i) {
  void* k = keyAt(t, b, i);
  if (t->indirectkey()) k = *static_cast<void**>(k);
  return k;
}
inline void* slotElem(const maptype* t, const bmap* b, std::uintptr_t i) {
  void* e = elemAt(t, b, i);
  if (t->indirectelem()) e = *static_cast<void**>(e);
  return e;
}

// Ask for every cache line of a bucket (buckets are not line-aligned: 144
// bytes for 8-byte keys and elems span three lines). A hint only.
template <int RW>  // 0: to read, 1: to write
inline void prefetchBucket(const maptype* t, const bmap* b) {
  const char* p = raw(b);
  const char* last = p + t->bucketsize - 1;
  for (; p < last; p += 64) __builtin_prefetch(p, RW);
  __builtin_prefetch(last, RW);
}

inline bool isEmpty(std::uint8_t x) { return x <= emptyOne; }
// A bucket's first cell tells whether the whole bucket was evacuated.
inline bool evacuated(const bmap* b) {
  std::uint8_t h = tophashes(b)[0];
  return h > emptyOne && h < minTopHash;
}
inline std::uint8_t tophash(std::uint64_t hash) { return tophashOf(hash); }
inline std::uintptr_t bucketShift(std::uint8_t b) { return std::uintptr_t{1} << (b & 63); }
inline std::uintptr_t bucketMask(std::uint8_t b) { return bucketShift(b) - 1; }

// The bodies of map.cpp's overLoadFactor and tooManyOverflowBuckets, inline
// for the hot assignment paths.
inline bool overLoadFactorInline(std::int64_t count, std::uint8_t B) {
  return count > static_cast<std::int64_t>(bucketCnt) &&
         static_cast<std::uint64_t>(count) > loadFactorNum * (bucketShift(B) / loadFactorDen);
}
inline bool tooManyOverflowBucketsInline(std::uint16_t noverflow, std::uint8_t B) {
  if (B > 15) B = 15;
  return noverflow >= static_cast<std::uint16_t>(std::uint16_t{1} << (B & 15));
}

inline bool growing(const hmap* h) { return h->oldbuckets != nullptr; }
inline bool isSameSizeGrow(const hmap* h) { return h->flags & sameSizeGrow; }
inline std::uintptr_t noldbuckets(const hmap* h) {
  std::uint8_t oldB = h->B;
  if (!isSameSizeGrow(h)) oldB--;
  return bucketShift(oldB);
}
inline std::uintptr_t oldbucketmask(const hmap* h) { return noldbuckets(h) - 1; }
inline std::uint8_t oldB(const hmap* h) { return isSameSizeGrow(h) ? h->B : h->B - 1; }

// The bucket a read of `hash` starts at: its new bucket, or, while growing, its
// old bucket if that one is not evacuated yet (the entry still lives there).
inline bmap* readBucket(const maptype* t, const hmap* h, std::uint64_t hash) {
  std::uintptr_t m = bucketMask(h->B);
  bmap* b = bucketAt(t, h->buckets, hash & m);
  if (h->oldbuckets != nullptr) {
    if (!isSameSizeGrow(h)) m >>= 1;  // the old array was half as big
    bmap* oldb = bucketAt(t, h->oldbuckets, hash & m);
    if (!evacuated(oldb)) b = oldb;
  }
  return b;
}

// f(key, seed). When f is one of the engine's own hashers, its body is inlined
// instead of called through the pointer: same values, no indirect call per
// key (a maptype may carry any other hasher; that one is called). KS, when
// the caller knows the key's size, leaves only the own hasher a key of that
// size can have (8: memhash64, 4: memhash32, 16: strhash).
template <std::size_t KS = 0>
[[gnu::always_inline]] inline std::uint64_t hashBy(HashFn f, std::uintptr_t seed, const void* key);

// The engine's own hasher for a KS-byte key slot (8: memhash64, 4: memhash32,
// 16: strhash; other sizes have none), and its body inline (same values).
template <std::size_t KS>
inline constexpr bool hasOwnHasher = KS == 8 || KS == 4 || KS == sizeof(String);
template <std::size_t KS>
HashFn ownHasherFor() {
  static_assert(hasOwnHasher<KS>, "no own hasher for this slot size");
  if constexpr (KS == 8) return &memhash64;
  else if constexpr (KS == 4) return &memhash32;
  else return &strhash;
}
template <std::size_t KS>
[[gnu::always_inline]] inline std::uint64_t ownHashInline(std::uintptr_t seed, const void* key) {
  const auto* p = static_cast<const std::uint8_t*>(key);
  if constexpr (KS == 8) return memhash64Inline(load64(p), seed);
  else if constexpr (KS == 4) return memhash32Inline(load32(p), seed);
  else {
    static_assert(KS == sizeof(String), "no own hasher for this slot size");
    const auto* s = static_cast<const String*>(key);
    return memhashInline(s->str, static_cast<std::size_t>(s->len), seed);
  }
}

template <std::size_t KS>
[[gnu::always_inline]] inline std::uint64_t hashBy(HashFn f, std::uintptr_t seed, const void* key) {
  if constexpr (KS == 0) {
    if (f == &memhash64) [[likely]] return ownHashInline<8>(seed, key);
    if (f == &memhash32) [[likely]] return ownHashInline<4>(seed, key);
    if (f == &strhash) [[likely]] return ownHashInline<sizeof(String)>(seed, key);
  } else if constexpr (hasOwnHasher<KS>) {
    if (f == ownHasherFor<KS>()) [[likely]] return ownHashInline<KS>(seed, key);
  }
  return f(key, seed);
}

// t->hasher(key, hash0), the engine's own hashers inline.
inline std::uint64_t hashOf(const maptype* t, const hmap* h, const void* key) {
  return hashBy(t->hasher, static_cast<std::uintptr_t>(h->hash0), key);
}

// hash.cpp
std::uint64_t fastrand64();
// The key material of gomap::set_hash_seed's runs, derived from its seed.
void hash_keys_from_seed(std::uint64_t seed);
// map.cpp: hash0 for a new map (forced by set_hash_seed, else fastrand).
std::uint32_t newHashSeed();
// map.cpp: a zeroed elem of at least `size` bytes (Go's zeroVal).
void* zeroVal(std::size_t size);

// grow.cpp
struct BucketArray {
  void* buckets;
  bmap* nextOverflow;
};
BucketArray makeBucketArray(const maptype* t, hmap* h, std::uint8_t b, void* dirtyalloc);
void createOverflow(hmap* h);
void incrnoverflow(hmap* h);
// A pointer-free bucket's overflow buckets are kept in *[]*bmap, as in Go.
void sliceAppend(hmap* h, GoSlice* s, bmap* ovf);

// Registry bookkeeping when the map stops reaching memory.
// Overflow buckets hung off the 2^B buckets of `array` that are not part of
// the array's preallocated tail.
void dropChainOverflows(const maptype* t, void* array, std::uint8_t B);
// Indirect keys/elems of the live cells of an array (and its chains).
void dropIndirects(const maptype* t, void* array, std::uint8_t B);
void dropSlice(GoSlice* s);

// After a delete: turn a trailing run of emptyOne cells into emptyRest, walking
// back through the chain that starts at bOrig (Go does this inline in each
// mapdelete variant).
void markEmptyRest(const maptype* t, bmap* bOrig, bmap* b, std::uintptr_t i);
// The common case inline: the cell after i (in this bucket) is still in use,
// so the run cannot end at i and there is nothing to mark.
inline void markEmptyRestAfterDelete(const maptype* t, bmap* bOrig, bmap* b, std::uintptr_t i) {
  if (i != bucketCnt - 1 && tophashes(b)[i + 1] != emptyRest) return;
  markEmptyRest(t, bOrig, b, i);
}

// Zero one elem slot; the usual sizes without a memset call.
inline void clearSlot(void* p, std::size_t size) {
  if (size == 8) {
    std::uint64_t z = 0;
    std::memcpy(p, &z, 8);
  } else {
    std::memset(p, 0, size);
  }
}

// Look a key up wherever it currently lives; nullptr key when absent.
void mapaccessK(const maptype* t, hmap* h, const void* key, void** rk, void** re);

// iter.cpp: addresses that active iterators can still reach (for gc()).
void iteratorRoots(std::vector<std::uintptr_t>& out);

// invariants.cpp: debug-build hook run after each write when enabled.
// Release builds compile the hook out entirely (no call per write).
#ifdef NDEBUG
inline void afterWrite(const maptype*, const hmap*, const char*) {}
#else
void afterWrite(const maptype* t, const hmap* h, const char* op);
#endif

// The end of every write: if hashWriting was cleared meanwhile, another writer
// ran at the same time (Go's "concurrent map writes"); else drop the flag.
inline void endWrite(const maptype* t, hmap* h, const char* op) {
  if (!(h->flags & hashWriting)) fatal("concurrent map writes");
  h->flags &= ~hashWriting;
  afterWrite(t, h, op);
}

// mapassign, about to add a key: grow first when the map is due (over the load
// factor, or too many overflow buckets) and not already growing. True when it
// grew: everything found so far is stale and the caller starts again.
inline bool growIfDue(const maptype* t, hmap* h) {
  if (growing(h) || !(overLoadFactorInline(h->count + 1, h->B) ||
                      tooManyOverflowBucketsInline(h->noverflow, h->B)))
    return false;
  hashGrow(t, h);
  return true;
}

// mapdelete, after clearing cell i's key and elem: mark the cell empty (and a
// trailing run emptyRest), one entry fewer; reseed an emptied map so an
// attacker cannot keep colliding keys.
inline void deleteCell(const maptype* t, hmap* h, bmap* bOrig, bmap* b, std::uintptr_t i) {
  tophashes(b)[i] = emptyOne;
  markEmptyRestAfterDelete(t, bOrig, b, i);
  h->count--;
  if (h->count == 0) h->hash0 = fastrand();
}

}  // namespace gomap::detail_rt
