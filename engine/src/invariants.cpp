// invariants.cpp — what must hold between any two map operations.
//
// Tests run this after every write (debug builds, GOMAP_CHECK=1 or
// set_invariant_checks(true)); the fuzz test relies on it to catch a
// corruption at the operation that caused it rather than thousands later.
#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "internal.h"

namespace gomap {

using namespace detail_rt;

namespace {

// -1: not decided yet (read GOMAP_CHECK on first use), 0: off, 1: on.
int checksEnabled = -1;

struct Checker {
  const maptype* t;
  const hmap* h;
  std::ostringstream err;
  std::int64_t live = 0;
  std::vector<std::pair<std::uint64_t, const void*>> seen;  // (hash, key), for duplicates

  bool fail(const std::string& what) {
    if (err.tellp() == 0) err << what;
    return false;
  }

  bool reflexive(const void* k) const { return t->reflexivekey() || t->key->equal(k, k); }

  // Walk one chain; `array`'s own chain head is bucket `index` of 2^B.
  // allowMarks: evacuation marks may appear (old buckets only).
  bool chain(const void* array, std::uint8_t B, std::uintptr_t index, bool isOld) {
    bool afterRest = false;
    bool oneSinceLive = false;  // an emptyOne after the chain's last live cell so far
    bool evac = evacuated(bucketAt(t, array, index));
    // Floyd: a hare two links ahead meets the tortoise only on a cycle.
    const bmap* hare = bucketAt(t, array, index);
    for (const bmap* b = bucketAt(t, array, index); b != nullptr; b = overflowOf(t, b)) {
      for (int step = 0; step < 2 && hare != nullptr; step++) hare = overflowOf(t, hare);
      if (hare != nullptr && hare == overflowOf(t, b)) return fail("overflow chain has a cycle at bucket " + std::to_string(index));
      for (std::uintptr_t i = 0; i < bucketCnt; i++) {
        std::uint8_t top = tophashes(b)[i];
        bool mark = top > emptyOne && top < minTopHash;
        if (mark && !isOld) return fail("evacuation mark in a current bucket " + std::to_string(index));
        if (isOld && evac != mark)
          return fail("old bucket " + std::to_string(index) + " partly evacuated");
        if (evac) continue;
        if (isEmpty(top)) {
          if (top == emptyRest) afterRest = true;
          else if (afterRest) return fail("emptyOne after emptyRest in bucket " + std::to_string(index));
          else oneSinceLive = true;
          continue;
        }
        if (afterRest) return fail("live cell after emptyRest in bucket " + std::to_string(index));
        oneSinceLive = false;
        const void* k = slotKey(t, b, i);
        live++;
        if (!reflexive(k)) continue;  // NaN: hash is random, nothing to check
        std::uint64_t hash = hashOf(t, h, k);
        if (tophash(hash) != top) return fail("tophash does not match the key's hash in bucket " + std::to_string(index));
        if ((hash & bucketMask(B)) != index) return fail("key in the wrong bucket " + std::to_string(index));
        seen.emplace_back(hash, k);
      }
    }
    // Go's deletes keep the converse too: the cells after a chain's last live
    // cell are all emptyRest (the delete that empties the tail walks back
    // through the emptyOne cells before it).
    if (oneSinceLive) return fail("emptyOne in the trailing empty run of bucket " + std::to_string(index));
    return true;
  }

  std::size_t overflowCount(const void* array, std::uint8_t B) {
    std::size_t n = 0;
    for (std::uintptr_t i = 0; i < bucketShift(B); i++)
      for (const bmap* b = overflowOf(t, bucketAt(t, array, i)); b != nullptr; b = overflowOf(t, b)) n++;
    return n;
  }

  bool run() {
    if (h->flags & hashWriting) return fail("hashWriting set between operations");
    if (h->buckets == nullptr) {
      if (h->count != 0) return fail("count != 0 without buckets");
      return true;
    }
    if (growing(h)) {
      std::uintptr_t nold = noldbuckets(h);
      if (h->nevacuate >= nold) return fail("growing but nevacuate >= old bucket count");
      for (std::uintptr_t i = 0; i < nold; i++) {
        bool ev = evacuated(bucketAt(t, h->oldbuckets, i));
        if (i < h->nevacuate && !ev) return fail("old bucket below nevacuate not evacuated");
        if (!chain(h->oldbuckets, oldB(h), i, true)) return false;
      }
    } else if (h->flags & sameSizeGrow) {
      return fail("sameSizeGrow set while not growing");
    }
    for (std::uintptr_t i = 0; i < bucketShift(h->B); i++)
      if (!chain(h->buckets, h->B, i, false)) return false;
    // No key in two places: equal keys have equal hashes, so compare within
    // runs of equal hash only.
    std::sort(seen.begin(), seen.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < seen.size(); i++)
      for (std::size_t j = i + 1; j < seen.size() && seen[j].first == seen[i].first; j++)
        if (t->key->equal(seen[i].second, seen[j].second)) return fail("key present twice");
    if (live != h->count)
      return fail("count " + std::to_string(h->count) + " but " + std::to_string(live) + " live cells");
    if (h->B < 16) {
      // noverflow counts every overflow bucket hung on the current array since
      // it was made (chains only grow until the next grow or clear).
      std::size_t n = overflowCount(h->buckets, h->B);
      if (n != h->noverflow)
        return fail("noverflow " + std::to_string(h->noverflow) + " but " + std::to_string(n) + " overflow buckets");
      if (!t->bucketHasPointers() && n > 0 &&
          (h->extra == nullptr || h->extra->overflow == nullptr ||
           static_cast<std::size_t>(h->extra->overflow->len) != n))
        return fail("extra.overflow does not list every overflow bucket");
    }
    if (h->extra != nullptr && h->extra->nextOverflow != nullptr) {
      auto lo = reinterpret_cast<std::uintptr_t>(h->buckets) + bucketShift(h->B) * t->bucketsize;
      auto hi = reinterpret_cast<std::uintptr_t>(h->buckets) + bucketArrayLen(t, h->B) * t->bucketsize;
      auto p = reinterpret_cast<std::uintptr_t>(h->extra->nextOverflow);
      if (p < lo || p >= hi) return fail("nextOverflow outside the preallocated tail");
    }
    if (!growing(h) && h->extra != nullptr && h->extra->oldoverflow != nullptr)
      return fail("oldoverflow set while not growing");
    return true;
  }
};

}  // namespace

std::string check_invariants(const maptype* t, const hmap* h) {
  if (h == nullptr) return {};
  Checker c{t, h, {}, 0, {}};
  if (c.run()) return {};
  return c.err.str();
}

void set_invariant_checks(bool on) { checksEnabled = on ? 1 : 0; }

namespace detail_rt {

#ifndef NDEBUG
void afterWrite(const maptype* t, const hmap* h, const char* op) {
  if (checksEnabled < 0) {
    const char* env = std::getenv("GOMAP_CHECK");
    checksEnabled = env != nullptr && env[0] == '1';
  }
  if (!checksEnabled) return;
  std::string err = check_invariants(t, h);
  if (!err.empty()) fatal((std::string("map invariant violated after ") + op + ": " + err).c_str());
}
#endif  // release builds: an empty inline in internal.h

}  // namespace detail_rt

}  // namespace gomap
