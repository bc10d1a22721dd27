// grow.cpp — bucket arrays, overflow buckets and incremental growth.
//
// A grow never moves the whole map at once. hashGrow only allocates the new
// array and turns the current one into oldbuckets; after that every write
// (mapassign, mapdelete) first calls growWork, which evacuates the old bucket
// the write is about to touch plus the oldest not-yet-evacuated one. So a grow
// of 2^B old buckets ends after at most 2^B writes, usually far fewer, and
// reads and iterators meanwhile look at both arrays (see map.cpp, iter.cpp).
#include <cstring>

#include "internal.h"
#include "match.h"

namespace gomap {

using namespace detail_rt;

// 2^B buckets, plus 2^(B-4) spare overflow buckets from B = 4 on, plus however
// many more fit in the allocation once it is rounded up to Go's size class.
std::size_t bucketArrayLen(const maptype* t, std::uint8_t B) {
  std::size_t base = bucketShift(B);
  std::size_t nbuckets = base;
  if (B >= 4) {
    nbuckets += bucketShift(B - 4);
    std::size_t sz = t->bucketsize * nbuckets;
    std::size_t up = roundupsize(sz);
    if (up != sz) nbuckets = up / t->bucketsize;
  }
  return nbuckets;
}

namespace detail_rt {

BucketArray makeBucketArray(const maptype* t, hmap* h, std::uint8_t b, void* dirtyalloc) {
  std::size_t base = bucketShift(b);
  std::size_t nbuckets = bucketArrayLen(t, b);
  void* buckets;
  if (dirtyalloc == nullptr) {
    buckets = heap_alloc(t->bucketsize * nbuckets, HeapRole::buckets, h, b, base);
  } else {
    // mapclear hands back the array it already has: reuse it, zeroed.
    buckets = dirtyalloc;
    std::memset(buckets, 0, t->bucketsize * nbuckets);
  }
  bmap* nextOverflow = nullptr;
  if (base != nbuckets) {
    // The spare buckets follow the 2^B real ones. The last spare's overflow
    // pointer is set to a non-nil value (the array start) as an end marker:
    // a spare handed out with a nil overflow pointer means "more follow".
    nextOverflow = bucketAt(t, buckets, base);
    setoverflow(t, bucketAt(t, buckets, nbuckets - 1), static_cast<bmap*>(buckets));
  }
  return {buckets, nextOverflow};
}

void createOverflow(hmap* h) {
  if (h->extra == nullptr)
    h->extra = static_cast<mapextra*>(heap_alloc(sizeof(mapextra), HeapRole::mapextra, h, h->B));
  if (h->extra->overflow == nullptr)
    h->extra->overflow = static_cast<GoSlice*>(heap_alloc(sizeof(GoSlice), HeapRole::mapextra, h, h->B));
}

// append(*s, ovf) with Go 1.19's growslice capacity rule and size classes.
void sliceAppend(hmap* h, GoSlice* s, bmap* ovf) {
  if (s->len == s->cap) {
    std::int64_t newcap = s->cap;
    std::int64_t need = s->len + 1;
    if (need > 2 * newcap) {
      newcap = need;
    } else if (s->cap < 256) {
      newcap = 2 * newcap;
    } else {
      while (newcap < need) newcap += (newcap + 3 * 256) / 4;
    }
    std::size_t capmem = roundupsize(static_cast<std::size_t>(newcap) * sizeof(void*));
    void* grown = heap_alloc(capmem, HeapRole::mapextra, h, h->B);
    if (s->len) std::memcpy(grown, s->array, static_cast<std::size_t>(s->len) * sizeof(void*));
    heap_drop(s->array);
    s->array = grown;
    s->cap = static_cast<std::int64_t>(capmem / sizeof(void*));
  }
  static_cast<bmap**>(s->array)[s->len++] = ovf;
}

void dropSlice(GoSlice* s) {
  if (!s) return;
  heap_drop(s->array);
  heap_drop(s);
}

// noverflow is exact while B < 16; above that it is a sample (each overflow
// bucket counted with probability 1/2^(B-15)) so the 16-bit field cannot
// overflow and tooManyOverflowBuckets still fires at about the same count.
void incrnoverflow(hmap* h) {
  if (h->B < 16) {
    h->noverflow++;
    return;
  }
  std::uint32_t mask = (std::uint32_t{1} << (h->B - 15)) - 1;
  if ((fastrand() & mask) == 0) h->noverflow++;
}

void dropChainOverflows(const maptype* t, void* array, std::uint8_t B) {
  if (!array) return;
  auto lo = reinterpret_cast<std::uintptr_t>(array);
  auto hi = lo + bucketArrayLen(t, B) * t->bucketsize;
  for (std::uintptr_t i = 0; i < bucketShift(B); i++) {
    for (bmap* ovf = overflowOf(t, bucketAt(t, array, i)); ovf != nullptr;) {
      bmap* next = overflowOf(t, ovf);  // read before the drop: unrecorded memory is freed at once
      auto a = reinterpret_cast<std::uintptr_t>(ovf);
      if (a < lo || a >= hi) heap_drop(ovf);  // preallocated spares belong to the array
      ovf = next;
    }
  }
}

void dropIndirects(const maptype* t, void* array, std::uint8_t B) {
  if (!array || !(t->indirectkey() || t->indirectelem())) return;
  for (std::uintptr_t i = 0; i < bucketShift(B); i++) {
    for (bmap* b = bucketAt(t, array, i); b != nullptr; b = overflowOf(t, b)) {
      for (std::uintptr_t j = 0; j < bucketCnt; j++) {
        if (tophashes(b)[j] < minTopHash) continue;  // empty, or evacuated (its pointer moved on)
        if (t->indirectkey()) heap_drop(*static_cast<void**>(keyAt(t, b, j)));
        if (t->indirectelem()) heap_drop(*static_cast<void**>(elemAt(t, b, j)));
      }
    }
  }
}

}  // namespace detail_rt

bmap* newoverflow(const maptype* t, hmap* h, bmap* b) {
  bmap* ovf;
  if (h->extra != nullptr && h->extra->nextOverflow != nullptr) {
    // Take a preallocated spare from the end of the bucket array.
    ovf = h->extra->nextOverflow;
    if (overflowOf(t, ovf) == nullptr) {
      h->extra->nextOverflow = bucketAt(t, ovf, 1);
    } else {
      // The last spare: clear its end marker.
      setoverflow(t, ovf, nullptr);
      h->extra->nextOverflow = nullptr;
    }
  } else {
    ovf = static_cast<bmap*>(heap_alloc(t->bucketsize, HeapRole::overflow, h, h->B));
  }
  incrnoverflow(h);
  if (!t->bucketHasPointers()) {
    // Buckets without pointers are invisible to Go's GC, so the overflow
    // buckets are kept alive by this slice instead.
    createOverflow(h);
    sliceAppend(h, h->extra->overflow, ovf);
  }
  setoverflow(t, b, ovf);
  return ovf;
}

void hashGrow(const maptype* t, hmap* h) {
  // Over the load factor: double. Otherwise there are too many overflow
  // buckets for the count (deletes left holes): rebuild at the same size.
  std::uint8_t bigger = 1;
  if (!overLoadFactor(h->count + 1, h->B)) {
    bigger = 0;
    h->flags |= sameSizeGrow;
  }
  void* oldbuckets = h->buckets;
  BucketArray fresh = makeBucketArray(t, h, h->B + bigger, nullptr);

  // Iterators running now walk what becomes oldbuckets.
  std::uint8_t flags = h->flags & ~(iterator | oldIterator);
  if (h->flags & iterator) flags |= oldIterator;
  h->B += bigger;
  h->flags = flags;
  h->oldbuckets = oldbuckets;
  h->buckets = fresh.buckets;
  h->nevacuate = 0;
  h->noverflow = 0;

  if (h->extra != nullptr && h->extra->overflow != nullptr) {
    if (h->extra->oldoverflow != nullptr) fatal("oldoverflow is not nil");
    h->extra->oldoverflow = h->extra->overflow;
    h->extra->overflow = nullptr;
  }
  if (fresh.nextOverflow != nullptr) {
    if (h->extra == nullptr)
      h->extra = static_cast<mapextra*>(heap_alloc(sizeof(mapextra), HeapRole::mapextra, h, h->B));
    h->extra->nextOverflow = fresh.nextOverflow;
  }
  // The actual copying is done incrementally by growWork and evacuate.
}

// How far ahead of nevacuate growWork fetches the next buckets of the
// in-order sweep (its second evacuate): that sweep is predictable, the
// caller's own bucket is not, so its misses can be started writes ahead.
constexpr std::uintptr_t kEvacuateAhead = 2;

void growWork(const maptype* t, hmap* h, std::uintptr_t bucket) {
  std::uintptr_t oldbucket = bucket & oldbucketmask(h);
  if (oldbucket >= h->nevacuate) {
    // The old bucket and both of its destinations are (in a big map) three
    // cache misses at random places; start them together rather than one
    // after the other as evacuate reaches them. The destination `bucket` is
    // also where the caller's write goes next.
    prefetchBucket<0>(t, bucketAt(t, h->oldbuckets, oldbucket));
    prefetchBucket<1>(t, bucketAt(t, h->buckets, oldbucket));
    if (!isSameSizeGrow(h)) prefetchBucket<1>(t, bucketAt(t, h->buckets, oldbucket + noldbuckets(h)));
  } else {
    // Behind the sweep: evacuated already (evacuate will not touch it), and
    // only the caller's own bucket is wanted.
    prefetchBucket<1>(t, bucketAt(t, h->buckets, bucket));
  }
  if (std::uintptr_t ahead = h->nevacuate + kEvacuateAhead; ahead < noldbuckets(h)) {
    prefetchBucket<1>(t, bucketAt(t, h->oldbuckets, ahead));  // its marks are written
    prefetchBucket<1>(t, bucketAt(t, h->buckets, ahead));
    if (!isSameSizeGrow(h)) prefetchBucket<1>(t, bucketAt(t, h->buckets, ahead + noldbuckets(h)));
  }
  // The old bucket the caller is about to use...
  evacuate(t, h, oldbucket);
  // ...and one more, so that the grow is sure to finish.
  if (growing(h)) evacuate(t, h, h->nevacuate);
}

namespace {
// How evacuateCells picks X or Y for an entry, decided once per call so that
// the loop over cells tests nothing else: a same-size grow has only X; a
// doubling with the engine's own hasher for the slot size hashes inline and
// cannot meet a NaN (no own hasher is for floats); anything else calls
// t->hasher and checks for NaN while an iterator runs.
enum class Split { sameSize, ownHash, generic };

// Copies the cells of `cells` (inline slots of KS/ES bytes) from b to db's
// cells from di on, in cell order, and marks each moved cell of b with `mark`
// in *marks (b's eight tophash bytes, stored by the caller). The caller makes
// sure they fit in db. Returns the next free cell of db.
template <std::size_t KS, std::size_t ES>
[[gnu::always_inline]] inline std::uintptr_t moveCells(const bmap* b, unsigned cells, bmap* db, std::uintptr_t di,
                                                       std::uint64_t* marks, std::uint8_t mark) {
  const char* keys = raw(b) + dataOffset;
  char* dkeys = raw(db) + dataOffset;
  for (unsigned m = cells; m != 0; m &= m - 1, di++) {
    const unsigned i = lowestCell(m);
    tophashes(db)[di] = tophashes(b)[i];
    std::memcpy(dkeys + di * KS, keys + i * KS, KS);
    std::memcpy(dkeys + bucketCnt * KS + di * ES, keys + bucketCnt * KS + i * ES, ES);
    *marks -= static_cast<std::uint64_t>(evacuatedEmpty - mark) << (8 * i);
  }
  return di;
}

// The body of evacuate, with the key and elem slot sizes known at compile
// time for the common layouts (KS/ES 0: read them from t). Copying a slot is
// then a move or two instead of a memcpy call per key and per elem.
//
// What the loop reads of t and h is read once, before it: the copies through
// memcpy could alias them as far as the compiler knows, so it would reload
// them for every cell. The hash is the engine's own inline when the slot size
// says which one it is (ownHashInline, hashBy; Go has evacuate_fast64/_faststr).
//
// The live cells of a bucket come from one mask (empty ones are skipped, not
// tested one by one), the X and Y destinations are plain locals picked by
// useY without a branch (useY is a coin toss per entry), and the old bucket's
// eight evacuation marks are built in a register and stored once. The cells
// moved, the order they land in X and Y, and the marks left behind are Go's.
template <std::size_t KS, std::size_t ES, Split S>
void evacuateCells(const maptype* t, hmap* h, bmap* b, std::uintptr_t oldbucket) {
  const std::size_t keysize = KS ? KS : t->keysize;
  const std::size_t elemsize = ES ? ES : t->elemsize;
  // KS/ES > 0 only for inline slots (see evacuate).
  const bool indirectKey = KS == 0 && t->indirectkey();
  const bool indirectElem = ES == 0 && t->indirectelem();
  // Only a key that is not equal to itself (NaN) needs the test below, and
  // only while an iterator runs; a reflexive key type never does.
  const bool nanCheck = S == Split::generic && (h->flags & iterator) != 0 && !t->reflexivekey();
  const HashFn hasher = t->hasher;
  const auto seed = static_cast<std::uintptr_t>(h->hash0);
  const std::uintptr_t newbit = noldbuckets(h);
  // X: the same index in the new array; Y: index + old size (doubling only).
  // Picked from useY by masking rather than by a branch or an array in
  // memory: useY is a coin toss per entry, a branch on it mispredicts half
  // the time.
  bmap* xb = bucketAt(t, h->buckets, oldbucket);
  bmap* yb = S == Split::sameSize ? xb : bucketAt(t, h->buckets, oldbucket + newbit);
  std::uintptr_t xi = 0, yi = 0;  // the next free cell of each
  for (; b != nullptr; b = overflowOf(t, b)) {
    // The next bucket of the chain is somewhere else on the heap: start its
    // miss now, under this bucket's work.
    if (bmap* next = overflowOf(t, b)) prefetchBucket<0>(t, next);
    const unsigned low = tophashBelow(b, minTopHash);  // empty cells, or states no live cell has
    if (low & ~emptyCells(b)) fatal("bad map state");
    // Every cell ends as evacuatedEmpty, or evacuatedX/Y when it held an entry.
    std::uint64_t marks = evacuatedEmpty * 0x0101010101010101ull;
    const char* keys = raw(b) + dataOffset;
    const char* elems = keys + bucketCnt * keysize;
    if constexpr (S == Split::ownHash && KS == sizeof(String)) {
      // A string's hash reads its bytes, which live elsewhere (a cache miss
      // each in a big map): ask for all of this bucket's at once, so that
      // the misses overlap instead of coming one per entry.
      for (unsigned m = ~low & 0xFFu; m != 0; m &= m - 1)
        __builtin_prefetch(reinterpret_cast<const String*>(keys + lowestCell(m) * KS)->str);
    }
    if constexpr (S != Split::generic && KS != 0 && ES != 0) {
      if ((xi | yi) == 0) {
        // The chain's first bucket: its at most eight entries fit in X and Y
        // with no overflow bucket to make, so the cells can go by halves:
        // every entry's side first (the hashes are independent, so they
        // overlap), then the X entries in cell order, then the Y entries.
        // Each side gets its entries in the order Go's one pass gives them.
        const unsigned live = ~low & 0xFFu;
        unsigned ys = 0;
        if constexpr (S == Split::ownHash) {
          for (unsigned m = live; m != 0; m &= m - 1) {
            const unsigned i = lowestCell(m);
            ys |= unsigned{(ownHashInline<KS>(seed, keys + i * KS) & newbit) != 0} << i;
          }
        }
        xi = moveCells<KS, ES>(b, live & ~ys, xb, 0, &marks, evacuatedX);
        yi = moveCells<KS, ES>(b, live & ys, yb, 0, &marks, evacuatedY);
        std::memcpy(b, &marks, sizeof marks);
        continue;
      }
    }
    for (unsigned m = ~low & 0xFFu; m != 0; m &= m - 1) {
      const unsigned i = lowestCell(m);
      std::uint8_t top = tophashes(b)[i];
      const char* k = keys + i * keysize;
      const char* e = elems + i * elemsize;
      const void* k2 = indirectKey ? *reinterpret_cast<void* const*>(k) : k;
      std::uintptr_t useY = 0;
      if constexpr (S == Split::ownHash) {
        useY = (ownHashInline<KS>(seed, k2) & newbit) != 0;
      } else if constexpr (S == Split::generic) {
        std::uint64_t hash = hashBy<KS>(hasher, seed, k2);
        if (nanCheck && !t->key->equal(k2, k2)) [[unlikely]] {
          // NaN: its hash is random, so an iterator could not find it again.
          // Send it by the low tophash bit instead (reproducible) and give
          // it a fresh tophash.
          useY = top & 1;
          top = tophash(hash);
        } else {
          useY = (hash & newbit) != 0;
        }
      }
      marks -= std::uint64_t{2u - useY} << (8 * i);  // evacuatedEmpty - 2 + useY = evacuatedX + useY
      const std::uintptr_t sel = 0 - useY;           // all ones for Y
      auto* db = reinterpret_cast<bmap*>(reinterpret_cast<std::uintptr_t>(xb) ^
                                         ((reinterpret_cast<std::uintptr_t>(xb) ^ reinterpret_cast<std::uintptr_t>(yb)) & sel));
      std::uintptr_t di = xi ^ ((xi ^ yi) & sel);
      if (di == bucketCnt) [[unlikely]] {
        db = newoverflow(t, h, db);
        di = 0;
        if (useY) {
          yb = db;
          yi = 0;
        } else {
          xb = db;
          xi = 0;
        }
      }
      xi += 1 - useY;
      yi += useY;
      tophashes(db)[di] = top;
      char* dk = raw(db) + dataOffset + di * keysize;
      char* de = raw(db) + dataOffset + bucketCnt * keysize + di * elemsize;
      if (indirectKey)
        *reinterpret_cast<const void**>(dk) = k2;  // the key itself does not move
      else
        std::memcpy(dk, k, keysize);
      if (indirectElem)
        *reinterpret_cast<void**>(de) = *reinterpret_cast<void* const*>(e);
      else
        std::memcpy(de, e, elemsize);
    }
    std::memcpy(b, &marks, sizeof marks);
  }
}

// evacuateCells for one slot layout, its split mode picked from t and h.
template <std::size_t KS, std::size_t ES>
void evacuateLayout(const maptype* t, hmap* h, bmap* b, std::uintptr_t oldbucket) {
  if (isSameSizeGrow(h)) {
    evacuateCells<KS, ES, Split::sameSize>(t, h, b, oldbucket);
    return;
  }
  if constexpr (hasOwnHasher<KS>) {
    bool own = t->hasher == ownHasherFor<KS>();
    // (A maptype may pair an own hasher with a key that is not reflexive;
    // then a running iterator needs the NaN test of Split::generic.)
    if (own && (t->reflexivekey() || !(h->flags & iterator))) {
      evacuateCells<KS, ES, Split::ownHash>(t, h, b, oldbucket);
      return;
    }
  }
  evacuateCells<KS, ES, Split::generic>(t, h, b, oldbucket);
}

// After the cells moved: with no iterator on the old array, unlink its
// overflow chain and clear keys/elems so the GC can drop what they point at.
// tophash stays: it holds the evacuation marks. Pointer-free buckets are left
// as they are (as in Go: nothing for the GC to gain).
void releaseOldBucket(const maptype* t, hmap* h, std::uintptr_t oldbucket) {
  if ((h->flags & oldIterator) || !t->bucketHasPointers()) return;
  bmap* ob = bucketAt(t, h->oldbuckets, oldbucket);
  auto lo = reinterpret_cast<std::uintptr_t>(h->oldbuckets);
  auto hi = lo + bucketArrayLen(t, oldB(h)) * t->bucketsize;
  for (bmap* ovf = overflowOf(t, ob); ovf != nullptr;) {
    bmap* next = overflowOf(t, ovf);
    auto a = reinterpret_cast<std::uintptr_t>(ovf);
    if (a < lo || a >= hi) heap_drop(ovf);
    ovf = next;
  }
  std::memset(raw(ob) + dataOffset, 0, t->bucketsize - dataOffset);
}

}  // namespace

void evacuate(const maptype* t, hmap* h, std::uintptr_t oldbucket) {
  // Every old bucket below nevacuate has been evacuated (advanceEvacuationMark
  // only steps over evacuated ones). Go reads b's first tophash to learn it;
  // the answer is the same without touching b, which in a big map is a cache
  // miss: growWork's first evacuate is of a random old bucket, and over a
  // grow nearly half of them lie behind the sweep.
  if (oldbucket < h->nevacuate) return;
  bmap* b = bucketAt(t, h->oldbuckets, oldbucket);
  if (!evacuated(b)) {
    // Go has evacuate_fast32/_fast64/_faststr; one entry point here (a
    // debugger breaks on it), dispatching to a body specialised for the slot
    // sizes.
    bool inlineSlots = !(t->indirectkey() || t->indirectelem());
    if (inlineSlots && t->keysize == 8 && t->elemsize == 8)
      evacuateLayout<8, 8>(t, h, b, oldbucket);
    else if (inlineSlots && t->keysize == 16 && t->elemsize == 8)
      evacuateLayout<16, 8>(t, h, b, oldbucket);  // string keys
    else if (inlineSlots && t->keysize == 4 && t->elemsize == 4)
      evacuateLayout<4, 4>(t, h, b, oldbucket);
    else if (inlineSlots && t->keysize == 4 && t->elemsize == 8)
      evacuateLayout<4, 8>(t, h, b, oldbucket);
    else if (inlineSlots && t->keysize == 8 && t->elemsize == 16)
      evacuateLayout<8, 16>(t, h, b, oldbucket);
    else if (inlineSlots && t->keysize == 16 && t->elemsize == 16)
      evacuateLayout<16, 16>(t, h, b, oldbucket);
    else
      evacuateLayout<0, 0>(t, h, b, oldbucket);
    releaseOldBucket(t, h, oldbucket);
  }
  if (oldbucket == h->nevacuate) advanceEvacuationMark(h, t, noldbuckets(h));
}

namespace {
// The grow is over: drop the overflow buckets that hung off the old array's
// chains, without walking its 2^B buckets (a cache miss each in a big map).
//  - A pointer-free map lists every overflow bucket it made in a slice
//    (newoverflow); the old array's are in oldoverflow.
//  - A map with pointers: each evacuate unlinked and dropped its chain
//    (releaseOldBucket), unless an iterator was on the old array. oldIterator,
//    once set, stays set until the next grow, so when it is clear now it was
//    clear for every evacuate of this grow, and nothing is left to drop.
void dropOldOverflows(const maptype* t, hmap* h) {
  auto lo = reinterpret_cast<std::uintptr_t>(h->oldbuckets);
  auto hi = lo + bucketArrayLen(t, oldB(h)) * t->bucketsize;
  if (!t->bucketHasPointers()) {
    const GoSlice* s = h->extra != nullptr ? h->extra->oldoverflow : nullptr;
    if (s == nullptr) return;
    auto* const* ovf = static_cast<bmap* const*>(s->array);
    for (std::int64_t i = 0; i < s->len; i++) {
      auto a = reinterpret_cast<std::uintptr_t>(ovf[i]);
      if (a < lo || a >= hi) heap_drop(ovf[i]);  // preallocated spares belong to the array
    }
  } else if (h->flags & oldIterator) {
    dropChainOverflows(t, h->oldbuckets, oldB(h));
  }
}
}  // namespace

void advanceEvacuationMark(hmap* h, const maptype* t, std::uintptr_t newbit) {
  h->nevacuate++;
  // Bound the scan so one write never pays for a long run of buckets that
  // reads or writes already evacuated out of order.
  std::uintptr_t stop = h->nevacuate + 1024;
  if (stop > newbit) stop = newbit;
  while (h->nevacuate != stop && evacuated(bucketAt(t, h->oldbuckets, h->nevacuate))) h->nevacuate++;
  if (h->nevacuate == newbit) {
    // Growing is all done: the map lets go of the old array. Its memory is
    // garbage now, freed by gc() once no iterator can reach it.
    void* old = h->oldbuckets;
    dropOldOverflows(t, h);
    heap_drop(old);
    h->oldbuckets = nullptr;
    if (h->extra != nullptr) {
      dropSlice(h->extra->oldoverflow);
      h->extra->oldoverflow = nullptr;
    }
    h->flags &= ~sameSizeGrow;
  }
}

}  // namespace gomap
