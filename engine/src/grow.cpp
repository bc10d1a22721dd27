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

void growWork(const maptype* t, hmap* h, std::uintptr_t bucket) {
  std::uintptr_t oldbucket = bucket & oldbucketmask(h);
  // The old bucket and both of its destinations are (in a big map) three
  // cache misses at random places; start them together rather than one after
  // the other as evacuate reaches them. The destination `bucket` is also
  // where the caller's write goes next.
  prefetchBucket<0>(t, bucketAt(t, h->oldbuckets, oldbucket));
  prefetchBucket<1>(t, bucketAt(t, h->buckets, oldbucket));
  if (!isSameSizeGrow(h)) prefetchBucket<1>(t, bucketAt(t, h->buckets, oldbucket + noldbuckets(h)));
  // The old bucket the caller is about to use...
  evacuate(t, h, oldbucket);
  // ...and one more, so that the grow is sure to finish.
  if (growing(h)) evacuate(t, h, h->nevacuate);
}

namespace {
// Where evacuate is copying to: the X (same index) or Y (index + old size) half.
struct evacDst {
  bmap* b;
  std::uintptr_t i;
  char* k;
  char* e;
};

// The body of evacuate, with the key and elem slot sizes known at compile
// time for the common layouts (KS/ES 0: read them from t). Copying a slot is
// then a move or two instead of a memcpy call per key and per elem.
//
// What the loop reads of t and h is read once, before it: the copies through
// memcpy could alias them as far as the compiler knows, so it would reload
// them for every cell. The hash is the engine's own inline when the slot size
// says which one it is (hashBy; Go has evacuate_fast64/_faststr for that).
template <std::size_t KS, std::size_t ES>
void evacuateCells(const maptype* t, hmap* h, std::uintptr_t oldbucket) {
  const std::size_t keysize = KS ? KS : t->keysize;
  const std::size_t elemsize = ES ? ES : t->elemsize;
  // KS/ES > 0 only for inline slots (see evacuate).
  const bool indirectKey = KS == 0 && t->indirectkey();
  const bool indirectElem = ES == 0 && t->indirectelem();
  const bool sameSize = isSameSizeGrow(h);
  const bool iterating = (h->flags & iterator) != 0;
  const HashFn hasher = t->hasher;
  const auto seed = static_cast<std::uintptr_t>(h->hash0);
  bmap* b = bucketAt(t, h->oldbuckets, oldbucket);
  std::uintptr_t newbit = noldbuckets(h);
  if (!evacuated(b)) {
    evacDst xy[2] = {};
    evacDst* x = &xy[0];
    x->b = bucketAt(t, h->buckets, oldbucket);
    x->k = raw(x->b) + dataOffset;
    x->e = x->k + bucketCnt * keysize;
    if (!sameSize) {
      evacDst* y = &xy[1];
      y->b = bucketAt(t, h->buckets, oldbucket + newbit);
      y->k = raw(y->b) + dataOffset;
      y->e = y->k + bucketCnt * keysize;
    }
    for (; b != nullptr; b = overflowOf(t, b)) {
      for (std::uintptr_t i = 0; i < bucketCnt; i++) {
        std::uint8_t top = tophashes(b)[i];
        if (isEmpty(top)) {
          tophashes(b)[i] = evacuatedEmpty;
          continue;
        }
        if (top < minTopHash) fatal("bad map state");
        void* k = raw(b) + dataOffset + i * keysize;
        void* e = raw(b) + dataOffset + bucketCnt * keysize + i * elemsize;
        void* k2 = indirectKey ? *static_cast<void**>(k) : k;
        std::uint8_t useY = 0;
        if (!sameSize) {
          std::uint64_t hash = hashBy<KS>(hasher, seed, k2);
          if (iterating && !t->reflexivekey() && !t->key->equal(k2, k2)) {
            // NaN: its hash is random, so an iterator could not find it again.
            // Send it by the low tophash bit instead (reproducible) and give
            // it a fresh tophash.
            useY = top & 1;
            top = tophash(hash);
          } else if (hash & newbit) {
            useY = 1;
          }
        }
        tophashes(b)[i] = evacuatedX + useY;
        evacDst* dst = &xy[useY];
        if (dst->i == bucketCnt) {
          dst->b = newoverflow(t, h, dst->b);
          dst->i = 0;
          dst->k = raw(dst->b) + dataOffset;
          dst->e = dst->k + bucketCnt * keysize;
        }
        tophashes(dst->b)[dst->i & (bucketCnt - 1)] = top;
        if (indirectKey)
          *reinterpret_cast<void**>(dst->k) = k2;  // the key itself does not move
        else
          std::memcpy(dst->k, k, keysize);
        if (indirectElem)
          *reinterpret_cast<void**>(dst->e) = *static_cast<void**>(e);
        else
          std::memcpy(dst->e, e, elemsize);
        dst->i++;
        dst->k += keysize;
        dst->e += elemsize;
      }
    }
    // With no iterator on the old array, unlink its overflow chain and clear
    // keys/elems so the GC can drop what they point at. tophash stays: it
    // holds the evacuation marks. Pointer-free buckets are left as they are
    // (as in Go: nothing for the GC to gain).
    if (!(h->flags & oldIterator) && t->bucketHasPointers()) {
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
  }
}

}  // namespace

void evacuate(const maptype* t, hmap* h, std::uintptr_t oldbucket) {
  // Go has evacuate_fast32/_fast64/_faststr; one entry point here (a debugger
  // breaks on it), dispatching to a body specialised for the slot sizes.
  bool inlineSlots = !(t->indirectkey() || t->indirectelem());
  if (inlineSlots && t->keysize == 8 && t->elemsize == 8)
    evacuateCells<8, 8>(t, h, oldbucket);
  else if (inlineSlots && t->keysize == 16 && t->elemsize == 8)
    evacuateCells<16, 8>(t, h, oldbucket);  // string keys
  else if (inlineSlots && t->keysize == 4 && t->elemsize == 4)
    evacuateCells<4, 4>(t, h, oldbucket);
  else if (inlineSlots && t->keysize == 4 && t->elemsize == 8)
    evacuateCells<4, 8>(t, h, oldbucket);
  else if (inlineSlots && t->keysize == 8 && t->elemsize == 16)
    evacuateCells<8, 16>(t, h, oldbucket);
  else if (inlineSlots && t->keysize == 16 && t->elemsize == 16)
    evacuateCells<16, 16>(t, h, oldbucket);
  else
    evacuateCells<0, 0>(t, h, oldbucket);
  if (oldbucket == h->nevacuate) advanceEvacuationMark(h, t, noldbuckets(h));
}

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
    dropChainOverflows(t, old, oldB(h));
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
