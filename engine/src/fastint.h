// fastint.h — the body shared by the _fast32 and _fast64 entry points.
//
// Go keeps two nearly identical files (map_fast32.go, map_fast64.go); here one
// template holds the logic and map_fast32.cpp / map_fast64.cpp instantiate it
// behind Go's symbol names. What differs from the generic path (map.cpp):
//  - keys are compared as integers; Go's loops compare every live cell's key,
//    the release paths here take the cells whose tophash matches first (the
//    same cell wins: see fastAccess and fastAssignHot);
//  - lookups in a one-bucket map (B == 0) skip hashing altogether;
//  - mapassign writes tophash only when inserting a new key.
#pragma once

#include <cstring>

#include "internal.h"
#include "match.h"

namespace gomap::detail_rt {

template <class U>
U fastKeyAt(const bmap* b, std::uintptr_t i) {
  U k;
  std::memcpy(&k, raw(b) + dataOffset + i * sizeof(U), sizeof(U));
  return k;
}

template <class U>
void* fastElemAt(const maptype* t, const bmap* b, std::uintptr_t i) {
  return raw(b) + dataOffset + bucketCnt * sizeof(U) + i * t->elemsize;
}

// The key's hash: the hasher's body inline when it is the engine's own
// memhash64/memhash32 (Go's fast paths call t.hasher; the values are equal).
template <class U>
[[gnu::always_inline]] inline std::uint64_t fastHash(const maptype* t, const hmap* h, U key) {
  return hashBy<sizeof(U)>(t->hasher, static_cast<std::uintptr_t>(h->hash0), &key);
}

template <class U>
[[gnu::always_inline]] inline bool ownHasher(const maptype* t) {
  return t->hasher == ownHasherFor<sizeof(U)>();
}
// fastHash when ownHasher(t) is known.
template <class U>
[[gnu::always_inline]] inline std::uint64_t ownHash(const hmap* h, U key) {
  return ownHashInline<sizeof(U)>(static_cast<std::uintptr_t>(h->hash0), &key);
}

// Everything but the common case of a lookup: nil/empty map, a concurrent
// write, a one-bucket map (no hashing), a grow in progress. Out of line so that
// the hot path below stays short: a lookup in a big map waits on a cache miss,
// and the fewer instructions each lookup takes, the more of the next lookups
// the CPU can start meanwhile.
template <class U>
[[gnu::noinline, gnu::cold]] void* fastAccessSlow(const maptype* t, hmap* h, U key, bool* ok) {
  *ok = false;
  if (h == nullptr || h->count == 0) return zeroVal(t->elem->size);
  if (h->flags & hashWriting) fatal("concurrent map read and map write");
  bmap* b;
  if (h->B == 0) {
    b = static_cast<bmap*>(h->buckets);  // one bucket: no need to hash
  } else {
    b = readBucket(t, h, fastHash<U>(t, h, key));
  }
  for (; b != nullptr; b = overflowOf(t, b)) {
    for (std::uintptr_t i = 0; i < bucketCnt; i++) {
      if (fastKeyAt<U>(b, i) == key && !isEmpty(tophashes(b)[i])) {
        *ok = true;
        return fastElemAt<U>(t, b, i);
      }
    }
  }
  return zeroVal(t->elem->size);
}

template <class U>
[[gnu::always_inline]] inline void* fastAccess(const maptype* t, hmap* h, U key, bool* ok) {
  // The common case: a map with B > 0, not growing, no write in progress,
  // the engine's own hasher. Anything else takes fastAccessSlow.
  // A hasher other than the engine's own also goes there, so that this path
  // calls nothing and needs no stack frame.
  if (h == nullptr || h->count == 0 || (h->flags & hashWriting) || h->B == 0 ||
      h->oldbuckets != nullptr || !ownHasher<U>(t)) [[unlikely]]
    return fastAccessSlow<U>(t, h, key, ok);
  std::uint64_t hash = ownHash<U>(h, key);
  bmap* b = bucketAt(t, h->buckets, hash & bucketMask(h->B));
  // The cell that holds key, by tophash first (abi.h's findIntKey says why it
  // is the cell Go's key-by-key loop finds).
  unsigned i;
  if (std::uint8_t* fb = findIntKey<U>(reinterpret_cast<std::uint8_t*>(b), tophash(hash), key, t->bucketsize, &i)) [[likely]] {
    *ok = true;
    return fastElemAt<U>(t, reinterpret_cast<bmap*>(fb), i);
  }
  *ok = false;
  return zeroVal(t->elem->size);
}

// The common case of an assignment, inline in the entry point (release
// builds): any map that has buckets, with no write in progress. It does what
// Go's mapassign_fast* does (growWork first when growing; the key found in the
// chain, or the first empty cell up to the first emptyRest; a new overflow
// bucket when the chain is full) except for the rare cases it hands back,
// returning nullptr with the map as it found it (bar a growWork already done,
// which fastAssign would not repeat: see below): a nil map, a first bucket to
// allocate, a concurrent write, and a grow that is due. The entry point then
// runs fastAssign, which starts over and does what Go does step by step.
//
// The key is looked for by tophash first (as fastAccess): the live cell that
// holds key necessarily carries tophash(hash), so the cell found is the one
// Go's key-by-key loop finds. For a new key, the common insert, no tophash
// byte matches (or rarely one), and the key slots are not read at all.
//
// When it declines a due grow, the map is not growing (a grow in progress
// never lets another start), so fastAssign does no growWork of its own: what
// Go would have evacuated has been, once.
//
// Short on purpose: an insert into a big map waits on the bucket's cache miss,
// and the fewer instructions each insert takes, the more of the next inserts'
// misses the CPU overlaps with it. Debug builds skip it, so that stepping
// (gomapcore/stepping.py) sees one body with Go's locals.
template <class U>
[[gnu::always_inline]] inline void* fastAssignHot(const maptype* t, hmap* h, U key) {
  if (h == nullptr || (h->flags & hashWriting) || h->buckets == nullptr) [[unlikely]]
    return nullptr;
  std::uint64_t hash = fastHash<U>(t, h, key);
  h->flags ^= hashWriting;  // set across the scan, as in Go: racing writers see it
  std::uintptr_t bucket = hash & bucketMask(h->B);
  if (growing(h)) [[unlikely]]
    growWork(t, h, bucket);
  bmap* b = bucketAt(t, h->buckets, bucket);
  const std::uint8_t top = tophash(hash);
  bmap* insertb = nullptr;
  std::uintptr_t inserti = 0;
  for (;;) {
    bool stop;
    unsigned scope = scanScope(b, &stop);
    for (unsigned m = tophashEq(b, top) & scope; m != 0; m &= m - 1) {
      std::uintptr_t i = lowestCell(m);
      if (fastKeyAt<U>(b, i) == key) [[likely]] {
        insertb = b;
        inserti = i;
        goto done;
      }
    }
    if (insertb == nullptr) {
      if (unsigned empty = emptyCells(b) & scope; empty != 0) {
        insertb = b;
        inserti = lowestCell(empty);
      }
    }
    if (stop) break;
    bmap* ovf = overflowOf(t, b);
    if (ovf == nullptr) break;
    b = ovf;
  }
  if (!growing(h) && (overLoadFactorInline(h->count + 1, h->B) || tooManyOverflowBucketsInline(h->noverflow, h->B)))
      [[unlikely]] {
    h->flags ^= hashWriting;
    return nullptr;
  }
  if (insertb == nullptr) [[unlikely]] {
    insertb = newoverflow(t, h, b);  // the chain is full: hang a bucket off its last one
    inserti = 0;
  }
  tophashes(insertb)[inserti] = top;
  std::memcpy(raw(insertb) + dataOffset + inserti * sizeof(U), &key, sizeof(U));
  h->count++;
done:
  if (!(h->flags & hashWriting)) fatal("concurrent map writes");
  h->flags &= ~hashWriting;
  return fastElemAt<U>(t, insertb, inserti);
}

// Go's mapassign_fast* step by step (release builds come here when
// fastAssignHot declines; debug builds always).
template <class U>
[[gnu::noinline]] void* fastAssign(const maptype* t, hmap* h, U key, const char* op) {
  if (h == nullptr) throw Panic("assignment to entry in nil map");
  if (h->flags & hashWriting) fatal("concurrent map writes");
  std::uint64_t hash = fastHash<U>(t, h, key);
  h->flags ^= hashWriting;
  if (h->buckets == nullptr)
    h->buckets = heap_alloc(t->bucketsize, HeapRole::buckets, h, h->B, 1);

  bmap* insertb;
  std::uintptr_t inserti;
again:
  {
    std::uintptr_t bucket = hash & bucketMask(h->B);
    if (growing(h)) growWork(t, h, bucket);
    bmap* b = bucketAt(t, h->buckets, bucket);
    insertb = nullptr;
    inserti = 0;
    for (;;) {
      // Cells up to the first emptyRest, in order: a live cell holding key
      // wins; otherwise the first empty cell is where key would go.
      bool stop;
      unsigned scope = scanScope(b, &stop);
      unsigned empty = emptyCells(b) & scope;
      unsigned found = keyEq<U>(b, key) & scope & ~empty;
      if (found != 0) {
        insertb = b;
        inserti = lowestCell(found);
        goto done;
      }
      if (insertb == nullptr && empty != 0) {
        insertb = b;
        inserti = lowestCell(empty);
      }
      if (stop) break;
      bmap* ovf = overflowOf(t, b);
      if (ovf == nullptr) break;
      b = ovf;
    }

    if (growIfDue(t, h)) goto again;
    if (insertb == nullptr) {
      insertb = newoverflow(t, h, b);
      inserti = 0;
    }
    tophashes(insertb)[inserti & (bucketCnt - 1)] = tophash(hash);
    std::memcpy(raw(insertb) + dataOffset + inserti * sizeof(U), &key, sizeof(U));
    h->count++;
  }

done:
  void* elem = fastElemAt<U>(t, insertb, inserti);
  endWrite(t, h, op);
  return elem;
}

// The rest of a delete once its cell is found, out of line: clear the key (an 8-byte
// key only if it is a pointer) and the elem, mark the cell (and a trailing run) empty,
// count one entry fewer, end the write.
template <class U>
[[gnu::noinline]] void fastDeleteFound(const maptype* t, hmap* h, bmap* bOrig, bmap* b, unsigned i, const char* op) {
  if (sizeof(U) == 8 && t->key->ptrdata) std::memset(raw(b) + dataOffset + i * sizeof(U), 0, sizeof(U));
  clearSlot(fastElemAt<U>(t, b, i), t->elemsize);
  deleteCell(t, h, bOrig, b, i);
  endWrite(t, h, op);
}

// Go's mapdelete_fast* step by step (release builds come here when
// fastDeleteHot declines; debug builds always).
template <class U>
[[gnu::noinline]] void fastDelete(const maptype* t, hmap* h, U key, const char* op) {
  if (h == nullptr || h->count == 0) return;
  if (h->flags & hashWriting) fatal("concurrent map writes");
  std::uint64_t hash = fastHash<U>(t, h, key);
  h->flags ^= hashWriting;

  std::uintptr_t bucket = hash & bucketMask(h->B);
  if (growing(h)) growWork(t, h, bucket);
  bmap* b = bucketAt(t, h->buckets, bucket);
  bmap* bOrig = b;
  // The cell Go's loop finds, by tophash first as in fastAccess.
  unsigned i = 0;
  auto* found = reinterpret_cast<bmap*>(findIntKey<U>(reinterpret_cast<std::uint8_t*>(b), tophash(hash), key, t->bucketsize, &i));
  if (found != nullptr) return fastDeleteFound<U>(t, h, bOrig, found, i, op);
  endWrite(t, h, op);
}

// A delete whose key is not in its chain's first bucket (fastDeleteHot looked
// there): the overflow buckets, in order, or nowhere.
template <class U>
[[gnu::noinline]] void fastDeleteInOverflow(const maptype* t, hmap* h, bmap* bOrig, U key, std::uint8_t top,
                                            const char* op) {
  unsigned i = 0;
  if (bmap* ovf = overflowOf(t, bOrig)) {
    auto* b = reinterpret_cast<bmap*>(findIntKey<U>(reinterpret_cast<std::uint8_t*>(ovf), top, key, t->bucketsize, &i));
    if (b != nullptr) return fastDeleteFound<U>(t, h, bOrig, b, i, op);
  }
  endWrite(t, h, op);
}

// The end of a delete that took the map's last entry: a new hash seed (as
// deleteCell), and the write ends.
[[gnu::noinline]] inline void fastDeleteLast(const maptype* t, hmap* h, const char* op) {
  h->hash0 = fastrand();
  endWrite(t, h, op);
}

// The common case of a delete, inline in the entry point (release builds): a
// map that has entries and is not growing, no write in progress, the engine's
// own hasher; the key is in the chain's first bucket, the cell after it is in
// use (so there is no emptyRest run to mark), its elem is 8 bytes, and it is
// not the map's last entry. It writes what Go's mapdelete_fast* writes there:
// the elem zeroed, the tophash byte emptyOne, the count, the flag. Anything
// else leaves by a tail call: before anything is written, to fastDelete (Go's
// steps); once the cell is found, to fastDeleteFound; a key not in the first
// bucket, to fastDeleteInOverflow.
//
// Short on purpose, as fastAssignHot: a delete from a big map waits on the
// bucket's cache miss. With Go's loop inline (the chain walk, the emptyRest
// marking and fastrand called from the same body) the entry point saved six
// registers and ran about 85 instructions per delete; the fewer each delete
// takes, the more of the next deletes' misses the CPU overlaps with it (1M
// uint64 deletes, A/B on the same machine: 55.9 -> 49.5 ms).
template <class U>
[[gnu::always_inline]] inline void fastDeleteHot(const maptype* t, hmap* h, U key, const char* op) {
  if (h == nullptr || h->count == 0 || (h->flags & hashWriting) || h->oldbuckets != nullptr || !ownHasher<U>(t))
      [[unlikely]]
    return fastDelete<U>(t, h, key, op);
  std::uint64_t hash = ownHash<U>(h, key);
  h->flags ^= hashWriting;
  bmap* bOrig = bucketAt(t, h->buckets, hash & bucketMask(h->B));
  const std::uint8_t top = tophash(hash);
  __builtin_prefetch(raw(bOrig) + 64);
  __builtin_prefetch(raw(bOrig) + 128);
  for (unsigned m = tophashEq(bOrig, top); m != 0; m &= m - 1) {
    const std::uintptr_t i = lowestCell(m);
    if (fastKeyAt<U>(bOrig, i) == key) [[likely]] {
      if (i == bucketCnt - 1 || tophashes(bOrig)[i + 1] == emptyRest || t->elemsize != 8 ||
          (sizeof(U) == 8 && t->key->ptrdata)) [[unlikely]]
        return fastDeleteFound<U>(t, h, bOrig, bOrig, static_cast<unsigned>(i), op);
      clearSlot(fastElemAt<U>(t, bOrig, i), 8);
      tophashes(bOrig)[i] = emptyOne;
      if (--h->count == 0) [[unlikely]]
        return fastDeleteLast(t, h, op);
      if (!(h->flags & hashWriting)) [[unlikely]] fatal("concurrent map writes");
      h->flags &= ~hashWriting;
      return;
    }
  }
  return fastDeleteInOverflow<U>(t, h, bOrig, key, top, op);
}

}  // namespace gomap::detail_rt
