// iter.cpp — range over a map: mapiterinit, mapiternext.
//
// Go promises little about order and much about content: an entry present for
// the whole loop is produced exactly once, an entry deleted before the loop
// reaches it is not produced, entries added meanwhile may or may not be. The
// order is randomised (start bucket and start cell offset come from fastrand)
// so that programs cannot come to depend on it.
//
// An iterator walks the bucket array that was current at mapiterinit
// (it->buckets, 2^it->B buckets). If the map has started growing since, the
// iterator still walks its own snapshot; if it->B equals the map's B while a
// grow is in progress, a new bucket whose old bucket is not yet evacuated is
// read from the old bucket, keeping only the keys that belong to the new
// bucket being visited (checkBucket). Cells marked evacuated are looked up
// again in the live map to see the current elem, or to learn they are gone.
//
// Go's GC keeps an iterator's arrays alive through the hiter. The engine's
// collector cannot scan stacks, so active iterators are linked in a list and
// gc() asks iteratorRoots() what they still reach. The list's head is exported
// as gomap_active_iterators (heap.h) so that a debugger's heap view can say
// which iterator pins an array.
#include <mutex>

#include "gomap/heap.h"
#include "gomap/iter_inline.h"

#include "internal.h"

// The list's head, exported under a C name for debuggers (heap.h).
extern "C" {
__attribute__((used, visibility("default"))) gomap::hiter* gomap_active_iterators = nullptr;
}

namespace gomap {

using namespace detail_rt;

namespace {

hiter*& activeHead = gomap_active_iterators;

std::mutex activeMu;  // guards the list (activeHead and the links)

void link(hiter* it) {
  std::lock_guard<std::mutex> lock(activeMu);
  it->prev_active = nullptr;
  it->next_active = activeHead;
  if (activeHead) activeHead->prev_active = it;
  activeHead = it;
}

bool linked(const hiter* it) { return it->prev_active != nullptr || activeHead == it; }

void addChain(const maptype* t, bmap* b, std::vector<std::uintptr_t>& out) {
  // Chains are short; the bound only guards against a corrupted map.
  for (int n = 0; b != nullptr && n < 1 << 20; n++) {
    auto a = reinterpret_cast<std::uintptr_t>(b);
    if (a == kPoison) break;
    out.push_back(a);
    b = overflowOf(t, b);
  }
}

void addSlice(const GoSlice* s, std::vector<std::uintptr_t>& out) {
  if (!s) return;
  out.push_back(reinterpret_cast<std::uintptr_t>(s));
  if (!s->array) return;
  out.push_back(reinterpret_cast<std::uintptr_t>(s->array));
  for (std::int64_t i = 0; i < s->len; i++)
    out.push_back(reinterpret_cast<std::uintptr_t>(static_cast<void* const*>(s->array)[i]));
}

}  // namespace

namespace detail_rt {

void iteratorRoots(std::vector<std::uintptr_t>& out) {
  std::lock_guard<std::mutex> lock(activeMu);
  for (hiter* it = activeHead; it != nullptr; it = it->next_active) {
    out.push_back(reinterpret_cast<std::uintptr_t>(it->h));
    if (it->buckets != nullptr) {
      out.push_back(reinterpret_cast<std::uintptr_t>(it->buckets));
      for (std::uintptr_t i = 0; i < bucketShift(it->B); i++)
        addChain(it->t, bucketAt(it->t, it->buckets, i), out);
    }
    addChain(it->t, it->bptr, out);
    addSlice(it->overflow, out);
    addSlice(it->oldoverflow, out);
  }
}

}  // namespace detail_rt

void mapiterdone(hiter* it) {
  std::lock_guard<std::mutex> lock(activeMu);
  if (!linked(it)) return;
  if (it->prev_active)
    it->prev_active->next_active = it->next_active;
  else
    activeHead = it->next_active;
  if (it->next_active) it->next_active->prev_active = it->prev_active;
  it->next_active = nullptr;
  it->prev_active = nullptr;
}

void mapiterinit(const maptype* t, hmap* h, hiter* it) {
  *it = hiter{};
  it->t = t;
  if (h == nullptr || h->count == 0) return;
  it->h = h;
  // Snapshot of the bucket state.
  it->B = h->B;
  it->buckets = h->buckets;
  if (!t->bucketHasPointers()) {
    // Keep the overflow buckets of both generations reachable from the
    // iterator, whatever the map does with its slices meanwhile.
    createOverflow(h);
    it->overflow = h->extra->overflow;
    it->oldoverflow = h->extra->oldoverflow;
  }
  std::uintptr_t r = h->B > 31 - bucketCntBits ? static_cast<std::uintptr_t>(fastrand64())
                                                 : static_cast<std::uintptr_t>(fastrand());
  it->startBucket = r & bucketMask(h->B);
  it->offset = static_cast<std::uint8_t>((r >> h->B) & (bucketCnt - 1));
  it->bucket = it->startBucket;
  // Iterators are never unregistered from the flags: Go cannot know when the
  // last one ends, so the flags stay set until the next grow moves them.
  if ((h->flags & (iterator | oldIterator)) != (iterator | oldIterator))
    h->flags |= iterator | oldIterator;
  link(it);
  mapiternext(it);
}

namespace {

// mapiternext step by step: every case (next bucket, overflow, an old bucket
// read for a new one, evacuated cells, the end).
[[gnu::noinline]] void mapiternextAll(hiter* it) {
  hmap* h = it->h;
  if (h == nullptr) return;  // iteration over a nil or empty map: nothing
  if (h->flags & hashWriting) fatal("concurrent map iteration and map write");
  const maptype* t = it->t;
  std::uintptr_t bucket = it->bucket;
  bmap* b = it->bptr;
  std::uintptr_t i = it->i;
  std::uintptr_t checkBucket = it->checkBucket;

next:
  if (b == nullptr) {
    if (bucket == it->startBucket && it->wrapped) {
      it->key = nullptr;
      it->elem = nullptr;
      mapiterdone(it);
      return;
    }
    if (growing(h) && it->B == h->B) {
      // Started during this grow: the old bucket may still hold our entries.
      std::uintptr_t oldbucket = bucket & oldbucketmask(h);
      b = bucketAt(t, h->oldbuckets, oldbucket);
      if (!evacuated(b)) {
        checkBucket = bucket;
      } else {
        b = bucketAt(t, it->buckets, bucket);
        checkBucket = noCheck;
      }
    } else {
      b = bucketAt(t, it->buckets, bucket);
      checkBucket = noCheck;
    }
    bucket++;
    if (bucket == bucketShift(it->B)) {
      bucket = 0;
      it->wrapped = true;
    }
    i = 0;
  }
  for (; i < bucketCnt; i++) {
    std::uintptr_t offi = (i + it->offset) & (bucketCnt - 1);
    std::uint8_t top = tophashes(b)[offi];
    if (isEmpty(top) || top == evacuatedEmpty) continue;
    void* k = slotKey(t, b, offi);
    // Whether k == k (false only for NaNs) is asked only where the answer
    // matters: per cell it is a call through the key type's equal.
    const bool filtering = checkBucket != noCheck && !isSameSizeGrow(h);
    const bool moved = top == evacuatedX || top == evacuatedY;
    bool reflexive = true;
    if ((filtering || moved) && !t->reflexivekey()) reflexive = t->key->equal(k, k);
    if (filtering) {
      // Reading an old bucket for a new one: only keys that go there.
      if (reflexive) {
        std::uint64_t hash = hashOf(t, h, k);
        if ((hash & bucketMask(it->B)) != checkBucket) continue;
      } else {
        // NaN: its hash is not reproducible; evacuate sends it by the low
        // tophash bit, so decide the same way.
        if ((checkBucket >> (it->B - 1)) != static_cast<std::uintptr_t>(top & 1)) continue;
      }
    }
    if (!moved || !reflexive) {
      // The data is here (or is a NaN that no lookup could find anyway).
      it->key = k;
      it->elem = slotElem(t, b, offi);
    } else {
      // Moved by a grow: the live map has the current elem, or knows the key
      // was deleted or replaced meanwhile.
      void* rk;
      void* re;
      mapaccessK(t, h, k, &rk, &re);
      if (rk == nullptr) continue;
      it->key = rk;
      it->elem = re;
    }
    it->bucket = bucket;
    if (it->bptr != b) it->bptr = b;
    it->i = static_cast<std::uint8_t>(i + 1);
    it->checkBucket = checkBucket;
    return;
  }
  b = overflowOf(t, b);
  i = 0;
  goto next;
}

}  // namespace

// The common step inline: the next cell of the current bucket that is not
// empty is live (not an evacuation mark), and no old bucket is being read for
// a new one, so the next entry is that cell's key and elem as they are: the
// cell mapiternextAll's loop would stop at. Everything else (the end of the
// bucket, marks, filtering, a write in progress) is mapiternextAll's. Per
// entry this is a few dozen instructions instead of the general path's
// hundred, and it keeps no stack frame.
void mapiternext(hiter* it) {
  hmap* h = it->h;
  bmap* b = it->bptr;
  if (h != nullptr && b != nullptr && !(h->flags & hashWriting) && it->checkBucket == noCheck) [[likely]] {
    const int j = detail::nextCell(tophashes(b), it->offset, it->i);
    if (j >= 0 && j < int{bucketCnt}) {
      const unsigned c = detail::cellAt(static_cast<unsigned>(j), it->offset);
      it->key = slotKey(it->t, b, c);
      it->elem = slotElem(it->t, b, c);
      it->i = static_cast<std::uint8_t>(j + 1);
      return;
    }
  }
  mapiternextAll(it);
}

}  // namespace gomap
