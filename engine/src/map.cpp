// map.cpp — Go 1.19's hash map, reproduced in C++ (generic entry points).
//
// This is Go's classic map (runtime/map.go before Swiss tables), rebuilt so
// that the bytes in memory are the bytes a Go 1.19 program would have: a
// debugger that understands one understands the other.
//
// A map is a pointer to an hmap (abi.h). The hmap points at an array of 2^B
// buckets. A bucket holds 8 entries:
//
//   tophash[8] | key[8] | elem[8] | overflow *bmap
//
// Keys are packed together, then elems, so that e.g. map[int64]int8 needs no
// padding between a key and its elem. Keys or elems over 128 bytes are stored
// out of line and the slot holds a pointer ("indirect").
//
// Lookup: hash the key with the map's seed (hash0). The low B bits pick the
// bucket; the top byte (tophash, bumped past the reserved values 0..4) is
// stored per cell so that a scan compares one byte before comparing keys. If a
// bucket is full, further entries go to an overflow bucket chained from it.
// tophash values below minTopHash are cell states: emptyRest says "nothing
// after this cell, nor in later overflow buckets", which ends scans early.
//
// Growth: when the average bucket would pass 6.5 entries (load factor 13/2),
// or when there are about as many overflow buckets as buckets (many deletes),
// hashGrow allocates a new array — twice as big, or the same size to compact
// the chains — and keeps the old one as oldbuckets. Entries move incrementally:
// each write first evacuates the old bucket it needs plus one more (grow.cpp),
// marking moved cells evacuatedX/evacuatedY and empty ones evacuatedEmpty.
// Reads look in the old bucket while it is not yet evacuated.
//
// Iteration (iter.cpp) starts at a random bucket and a random cell offset, and
// copes with a grow starting or in progress: it walks the new array's bucket
// order and, for a not-yet-evacuated old bucket, reads the old one and keeps
// only the keys that will land in the bucket being visited.
//
// What Go's GC does implicitly the engine does explicitly: every allocation is
// recorded in the heap registry (heap.cpp) and dropped when the map stops
// reaching it, so a debugger can show live, garbage and freed memory.
//
// Entry points keep Go's names and split as Go's do: mapassign (any key),
// mapassign_fast32/_fast64 (4/8-byte keys compared as integers),
// mapassign_faststr (string keys); the typed facade (map.h) picks one exactly
// as Go's compiler does.
#include <cstdlib>
#include <mutex>
#include <vector>

#include "internal.h"

namespace gomap {

using namespace detail_rt;

namespace {

// set_hash_seed: every new map gets this hash0 (reproducible layouts).
bool seedForced = false;
std::uint32_t forcedSeed = 0;

// Big enough for any elem mapaccess1 can return without allocating.
alignas(16) const std::uint8_t zeroBuf[4096] = {};

}  // namespace

namespace detail_rt {

std::uint32_t newHashSeed() { return seedForced ? forcedSeed : fastrand(); }

void* zeroVal(std::size_t size) {
  if (size <= sizeof(zeroBuf)) return const_cast<std::uint8_t*>(zeroBuf);
  // Rare: huge non-indirect elems cannot exist (over 128 bytes they are
  // indirect), but a fat elem pointer target may be large. Keep one zeroed
  // block per size, forever, like Go's zeroVal.
  static std::mutex mu;
  static std::vector<std::pair<std::size_t, void*>>* blocks = new std::vector<std::pair<std::size_t, void*>>;
  std::lock_guard<std::mutex> lock(mu);
  for (auto& [n, p] : *blocks)
    if (n >= size) return p;
  void* p = std::calloc(1, size);
  blocks->emplace_back(size, p);
  return p;
}

void markEmptyRest(const maptype* t, bmap* bOrig, bmap* b, std::uintptr_t i) {
  // Only if nothing follows: the next cell (or the next overflow bucket's first)
  // must already be emptyRest.
  if (i == bucketCnt - 1) {
    bmap* next = overflowOf(t, b);
    if (next != nullptr && tophashes(next)[0] != emptyRest) return;
  } else if (tophashes(b)[i + 1] != emptyRest) {
    return;
  }
  for (;;) {
    tophashes(b)[i] = emptyRest;
    if (i == 0) {
      if (b == bOrig) break;  // back at the start of the chain
      // Find the previous bucket of the chain (chains are singly linked).
      bmap* c = b;
      for (b = bOrig; overflowOf(t, b) != c; b = overflowOf(t, b)) {
      }
      i = bucketCnt - 1;
    } else {
      i--;
    }
    if (tophashes(b)[i] != emptyOne) break;
  }
}

void mapaccessK(const maptype* t, hmap* h, const void* key, void** rk, void** re) {
  *rk = nullptr;
  *re = nullptr;
  if (h == nullptr || h->count == 0) return;
  std::uint64_t hash = hashOf(t, h, key);
  bmap* b = readBucket(t, h, hash);
  std::uint8_t top = tophash(hash);
  for (; b != nullptr; b = overflowOf(t, b)) {
    for (std::uintptr_t i = 0; i < bucketCnt; i++) {
      if (tophashes(b)[i] != top) {
        if (tophashes(b)[i] == emptyRest) return;
        continue;
      }
      void* k = slotKey(t, b, i);
      if (t->key->equal(key, k)) {
        *rk = k;
        *re = slotElem(t, b, i);
        return;
      }
    }
  }
}

}  // namespace detail_rt

maptype make_maptype(const typeinfo* key, const typeinfo* elem, HashFn hasher, const char* name) {
  maptype t{};
  t.key = key;
  t.elem = elem;
  t.hasher = hasher;
  t.name = name;
  t.flags = 0;
  if (key->size > maxKeySize) {
    t.flags |= indirectkey;
    t.keysize = sizeof(void*);
  } else {
    t.keysize = static_cast<std::uint8_t>(key->size);
  }
  if (elem->size > maxElemSize) {
    t.flags |= indirectelem;
    t.elemsize = sizeof(void*);
  } else {
    t.elemsize = static_cast<std::uint8_t>(elem->size);
  }
  bool isFloat = key->kind == KeyKind::float32 || key->kind == KeyKind::float64;
  if (!isFloat) t.flags |= reflexivekey;  // NaN != NaN
  // +0 and -0 are equal but differ in bits; a string key may share bytes with
  // a longer-lived string: overwrite the stored key on update.
  if (isFloat || key->kind == KeyKind::string) t.flags |= needkeyupdate;
  t.bucketsize = static_cast<std::uint16_t>(bucketSize(t.keysize, t.elemsize));
  return t;
}

// The arithmetic lives in internal.h, inline for the hot assignment paths.
bool overLoadFactor(std::int64_t count, std::uint8_t B) { return overLoadFactorInline(count, B); }

// About as many overflow buckets as buckets. Above B = 15 noverflow is a
// sample (incrnoverflow), compared against 2^15.
bool tooManyOverflowBuckets(std::uint16_t noverflow, std::uint8_t B) {
  return tooManyOverflowBucketsInline(noverflow, B);
}

std::uint8_t hintToB(std::int64_t hint) {
  std::uint8_t B = 0;
  while (overLoadFactor(hint, B)) B++;
  return B;
}

void set_hash_seed(std::uint32_t seed) {
  seedForced = true;
  forcedSeed = seed;
  fastrand_seed(seed);
  hash_keys_from_seed(seed);
}

void clear_hash_seed() { seedForced = false; }

hmap* makemap_small() {
  // make(map[k]v) and make(map[k]v, hint) with hint <= 8: the single bucket
  // is allocated by the first mapassign.
  auto* h = static_cast<hmap*>(heap_alloc(sizeof(hmap), HeapRole::hmap, nullptr, 0));
  h->hash0 = newHashSeed();
  return h;
}

hmap* makemap(const maptype* t, std::int64_t hint, hmap* h) {
  // A hint whose buckets could never be allocated is ignored (Go's maxAlloc
  // on amd64 is 2^48); so is a negative one.
  constexpr unsigned __int128 maxAlloc = static_cast<unsigned __int128>(1) << 48;
  if (hint < 0 ||
      static_cast<unsigned __int128>(static_cast<std::uint64_t>(hint)) * t->bucketsize > maxAlloc)
    hint = 0;
  if (h == nullptr) h = static_cast<hmap*>(heap_alloc(sizeof(hmap), HeapRole::hmap, nullptr, 0));
  h->hash0 = newHashSeed();
  h->B = hintToB(hint);
  // B == 0: the bucket is allocated lazily by mapassign. Otherwise allocate
  // now; a big hint could take a while to zero, but the caller asked for it.
  if (h->B != 0) {
    BucketArray a = makeBucketArray(t, h, h->B, nullptr);
    h->buckets = a.buckets;
    if (a.nextOverflow != nullptr) {
      h->extra = static_cast<mapextra*>(heap_alloc(sizeof(mapextra), HeapRole::mapextra, h, h->B));
      h->extra->nextOverflow = a.nextOverflow;
    }
  }
  return h;
}

void* mapaccess1(const maptype* t, hmap* h, const void* key) {
  bool ok;
  return mapaccess2(t, h, key, &ok);
}

void* mapaccess2(const maptype* t, hmap* h, const void* key, bool* ok) {
  *ok = false;
  if (h == nullptr || h->count == 0) return zeroVal(t->elem->size);
  if (h->flags & hashWriting) fatal("concurrent map read and map write");
  std::uint64_t hash = hashOf(t, h, key);
  bmap* b = readBucket(t, h, hash);
  std::uint8_t top = tophash(hash);
  for (; b != nullptr; b = overflowOf(t, b)) {
    for (std::uintptr_t i = 0; i < bucketCnt; i++) {
      if (tophashes(b)[i] != top) {
        if (tophashes(b)[i] == emptyRest) return zeroVal(t->elem->size);
        continue;
      }
      if (t->key->equal(key, slotKey(t, b, i))) {
        *ok = true;
        return slotElem(t, b, i);
      }
    }
  }
  return zeroVal(t->elem->size);
}

void* mapassign(const maptype* t, hmap* h, const void* key) {
  if (h == nullptr) throw Panic("assignment to entry in nil map");
  if (h->flags & hashWriting) fatal("concurrent map writes");
  std::uint64_t hash = hashOf(t, h, key);
  // Set hashWriting after hashing: Go's hasher may panic, leaving no write.
  h->flags ^= hashWriting;
  if (h->buckets == nullptr)
    h->buckets = heap_alloc(t->bucketsize, HeapRole::buckets, h, h->B, 1);

again:
  std::uintptr_t bucket = hash & bucketMask(h->B);
  if (growing(h)) growWork(t, h, bucket);
  bmap* b = bucketAt(t, h->buckets, bucket);
  std::uint8_t top = tophash(hash);

  std::uint8_t* inserti = nullptr;
  void* insertk = nullptr;
  void* elem = nullptr;
  for (;;) {
    bool stop = false;
    for (std::uintptr_t i = 0; i < bucketCnt; i++) {
      if (tophashes(b)[i] != top) {
        if (isEmpty(tophashes(b)[i]) && inserti == nullptr) {
          inserti = &tophashes(b)[i];
          insertk = keyAt(t, b, i);
          elem = elemAt(t, b, i);
        }
        if (tophashes(b)[i] == emptyRest) {
          stop = true;
          break;
        }
        continue;
      }
      void* k = slotKey(t, b, i);
      if (!t->key->equal(key, k)) continue;
      // Already present: update in place.
      if (t->needkeyupdate()) std::memcpy(k, key, t->key->size);
      elem = elemAt(t, b, i);
      goto done;
    }
    if (stop) break;
    bmap* ovf = overflowOf(t, b);
    if (ovf == nullptr) break;
    b = ovf;
  }

  // A new key. Growing invalidates everything found so far: start again.
  if (growIfDue(t, h)) goto again;
  if (inserti == nullptr) {
    // Every cell of the chain is in use: hang a new bucket off its end.
    bmap* newb = newoverflow(t, h, b);
    inserti = &tophashes(newb)[0];
    insertk = keyAt(t, newb, 0);
    elem = elemAt(t, newb, 0);
  }
  if (t->indirectkey()) {
    void* kmem = heap_alloc(t->key->size, HeapRole::indirect_key, h, h->B);
    *static_cast<void**>(insertk) = kmem;
    insertk = kmem;
  }
  if (t->indirectelem()) {
    void* vmem = heap_alloc(t->elem->size, HeapRole::indirect_elem, h, h->B);
    *static_cast<void**>(elem) = vmem;
  }
  std::memcpy(insertk, key, t->key->size);
  *inserti = top;
  h->count++;

done:
  if (t->indirectelem()) elem = *static_cast<void**>(elem);
  endWrite(t, h, "mapassign");
  return elem;
}

void mapdelete(const maptype* t, hmap* h, const void* key) {
  if (h == nullptr || h->count == 0) return;
  if (h->flags & hashWriting) fatal("concurrent map writes");
  std::uint64_t hash = hashOf(t, h, key);
  h->flags ^= hashWriting;

  std::uintptr_t bucket = hash & bucketMask(h->B);
  if (growing(h)) growWork(t, h, bucket);
  bmap* b = bucketAt(t, h->buckets, bucket);
  bmap* bOrig = b;
  std::uint8_t top = tophash(hash);
  for (; b != nullptr; b = overflowOf(t, b)) {
    bool stop = false;
    for (std::uintptr_t i = 0; i < bucketCnt; i++) {
      if (tophashes(b)[i] != top) {
        if (tophashes(b)[i] == emptyRest) {
          stop = true;
          break;
        }
        continue;
      }
      void* k = keyAt(t, b, i);
      void* k2 = t->indirectkey() ? *static_cast<void**>(k) : k;
      if (!t->key->equal(key, k2)) continue;
      // Clear the key only if it holds pointers (Go leaves plain keys' bytes
      // in place); always clear the elem.
      if (t->indirectkey()) {
        heap_drop(k2);
        *static_cast<void**>(k) = nullptr;
      } else if (t->key->ptrdata) {
        std::memset(k, 0, t->key->size);
      }
      void* e = elemAt(t, b, i);
      if (t->indirectelem()) {
        heap_drop(*static_cast<void**>(e));
        *static_cast<void**>(e) = nullptr;
      } else {
        std::memset(e, 0, t->elem->size);
      }
      deleteCell(t, h, bOrig, b, i);
      stop = true;
      break;
    }
    if (stop) break;
  }
  endWrite(t, h, "mapdelete");
}

void mapclear(const maptype* t, hmap* h) {
  if (h == nullptr || h->count == 0) return;
  if (h->flags & hashWriting) fatal("concurrent map writes");
  h->flags ^= hashWriting;

  // Everything the map reached except its bucket array and mapextra becomes
  // garbage: the old array, overflow buckets, indirect keys/elems, slices.
  if (growing(h)) {
    dropIndirects(t, h->oldbuckets, oldB(h));
    dropChainOverflows(t, h->oldbuckets, oldB(h));
    heap_drop(h->oldbuckets);
  }
  dropIndirects(t, h->buckets, h->B);
  dropChainOverflows(t, h->buckets, h->B);
  if (h->extra != nullptr) {
    dropSlice(h->extra->overflow);
    dropSlice(h->extra->oldoverflow);
  }

  h->flags &= ~sameSizeGrow;
  h->oldbuckets = nullptr;
  h->nevacuate = 0;
  h->noverflow = 0;
  h->count = 0;
  h->hash0 = fastrand();
  // Keep the mapextra but forget what it held.
  if (h->extra != nullptr) *h->extra = mapextra{};
  // Zero the array in place and regenerate its preallocated overflow buckets.
  BucketArray a = makeBucketArray(t, h, h->B, h->buckets);
  if (a.nextOverflow != nullptr) h->extra->nextOverflow = a.nextOverflow;

  endWrite(t, h, "mapclear");
}

void mapdrop(const maptype* t, hmap* h) {
  if (h == nullptr) return;
  if (growing(h)) {
    dropIndirects(t, h->oldbuckets, oldB(h));
    dropChainOverflows(t, h->oldbuckets, oldB(h));
    heap_drop(h->oldbuckets);
  }
  if (h->buckets != nullptr) {
    dropIndirects(t, h->buckets, h->B);
    dropChainOverflows(t, h->buckets, h->B);
    heap_drop(h->buckets);
  }
  if (h->extra != nullptr) {
    dropSlice(h->extra->overflow);
    dropSlice(h->extra->oldoverflow);
    heap_drop(h->extra);
  }
  heap_drop(h);  // a caller-provided hmap is not ours and is left alone
}

}  // namespace gomap
