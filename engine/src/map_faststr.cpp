// map_faststr.cpp — Go's entry points for string keys.
//
// A string compares cheaply by length first, so scans check len before bytes.
// In a one-bucket map, lookups avoid hashing: short keys (< 32 bytes) are just
// compared; for long keys the first and last 4 bytes pick a single candidate
// and the hash is computed only when two candidates remain.
#include <cstring>

#include "internal.h"
#include "match.h"

namespace gomap {

using namespace detail_rt;

namespace {

String* strKeyAt(const bmap* b, std::uintptr_t i) {
  return reinterpret_cast<String*>(raw(b) + dataOffset + i * sizeof(String));
}
void* strElemAt(const maptype* t, const bmap* b, std::uintptr_t i) {
  return raw(b) + dataOffset + bucketCnt * sizeof(String) + i * t->elemsize;
}
// Whether a stored key's bytes equal key's; the lengths are known equal.
[[gnu::always_inline]] inline bool sameBytes(const String* k, const String& key) {
  return sameStringBytes(k->str, key.str, static_cast<std::size_t>(key.len));
}

// t->hasher, with the engine's strhash inlined (same values).
[[gnu::always_inline]] inline std::uint64_t strHash(const maptype* t, const hmap* h, const String& key) {
  return hashBy<sizeof(String)>(t->hasher, static_cast<std::uintptr_t>(h->hash0), &key);
}

// Everything but the common case (see faststrAccess): nil/empty map, a
// concurrent write, a one-bucket map, a grow in progress.
[[gnu::noinline, gnu::cold]] void* faststrAccessSlow(const maptype* t, hmap* h, String key, bool* ok) {
  *ok = false;
  if (h == nullptr || h->count == 0) return zeroVal(t->elem->size);
  if (h->flags & hashWriting) fatal("concurrent map read and map write");
  if (h->B == 0) {
    bmap* b = static_cast<bmap*>(h->buckets);
    if (key.len < 32) {
      for (std::uintptr_t i = 0; i < bucketCnt; i++) {
        String* k = strKeyAt(b, i);
        if (k->len != key.len || isEmpty(tophashes(b)[i])) {
          if (tophashes(b)[i] == emptyRest) break;
          continue;
        }
        if (sameBytes(k, key)) {
          *ok = true;
          return strElemAt(t, b, i);
        }
      }
      return zeroVal(t->elem->size);
    }
    std::uintptr_t keymaybe = bucketCnt;
    for (std::uintptr_t i = 0; i < bucketCnt; i++) {
      String* k = strKeyAt(b, i);
      if (k->len != key.len || isEmpty(tophashes(b)[i])) {
        if (tophashes(b)[i] == emptyRest) break;
        continue;
      }
      if (k->str == key.str) {
        *ok = true;
        return strElemAt(t, b, i);
      }
      if (std::memcmp(k->str, key.str, 4) != 0) continue;
      if (std::memcmp(k->str + key.len - 4, key.str + key.len - 4, 4) != 0) continue;
      if (keymaybe != bucketCnt) goto dohash;  // two candidates: let the hash decide
      keymaybe = i;
    }
    if (keymaybe != bucketCnt) {
      String* k = strKeyAt(b, keymaybe);
      if (std::memcmp(k->str, key.str, static_cast<std::size_t>(key.len)) == 0) {
        *ok = true;
        return strElemAt(t, b, keymaybe);
      }
    }
    return zeroVal(t->elem->size);
  }
dohash:
  std::uint64_t hash = strHash(t, h, key);
  bmap* b = readBucket(t, h, hash);
  std::uint8_t top = tophash(hash);
  // Only cells whose tophash matches are candidates, in order (match.h).
  for (; b != nullptr; b = overflowOf(t, b)) {
    for (unsigned m = tophashEq(b, top); m != 0; m &= m - 1) {
      std::uintptr_t i = lowestCell(m);
      String* k = strKeyAt(b, i);
      if (k->len == key.len && sameBytes(k, key)) [[likely]] {
        *ok = true;
        return strElemAt(t, b, i);
      }
    }
  }
  return zeroVal(t->elem->size);
}

// The common case, kept short (as fastint.h's fastAccess): a map with B > 0,
// not growing, no write in progress.
[[gnu::always_inline]] inline void* faststrAccess(const maptype* t, hmap* h, String key, bool* ok) {
  if (h == nullptr || h->count == 0 || (h->flags & hashWriting) || h->B == 0 ||
      h->oldbuckets != nullptr) [[unlikely]]
    return faststrAccessSlow(t, h, key, ok);
  std::uint64_t hash = strHash(t, h, key);
  bmap* b = bucketAt(t, h->buckets, hash & bucketMask(h->B));
  unsigned i;
  std::uint8_t* fb = findStrKey(reinterpret_cast<std::uint8_t*>(b), tophash(hash), key.str, key.len, t->bucketsize, &i);
  *ok = fb != nullptr;
  return fb ? strElemAt(t, reinterpret_cast<bmap*>(fb), i) : zeroVal(t->elem->size);
}

}  // namespace

void* mapaccess1_faststr(const maptype* t, hmap* h, String key) {
  bool ok;
  return faststrAccess(t, h, key, &ok);
}

void* mapaccess2_faststr(const maptype* t, hmap* h, String key, bool* ok) {
  return faststrAccess(t, h, key, ok);
}

void* mapassign_faststr(const maptype* t, hmap* h, String key) {
  if (h == nullptr) throw Panic("assignment to entry in nil map");
  if (h->flags & hashWriting) fatal("concurrent map writes");
  std::uint64_t hash = strHash(t, h, key);
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
    std::uint8_t top = tophash(hash);
    insertb = nullptr;
    inserti = 0;
    for (;;) {
      // Cells up to the first emptyRest, in order: a cell whose tophash and
      // key match wins; otherwise the first empty cell is where key would go.
      bool stop;
      unsigned scope = scanScope(b, &stop);
      for (unsigned m = tophashEq(b, top) & scope; m != 0; m &= m - 1) {
        std::uintptr_t i = lowestCell(m);
        String* k = strKeyAt(b, i);
        if (k->len != key.len) continue;
        if (!sameBytes(k, key)) continue;
        // Already present: point the stored key at the new bytes (the old
        // ones can then be collected), keep the elem slot.
        insertb = b;
        inserti = i;
        k->str = key.str;
        goto done;
      }
      if (unsigned empty = emptyCells(b) & scope; insertb == nullptr && empty != 0) {
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
    tophashes(insertb)[inserti & (bucketCnt - 1)] = top;
    *strKeyAt(insertb, inserti) = key;
    h->count++;
  }

done:
  void* elem = strElemAt(t, insertb, inserti);
  endWrite(t, h, "mapassign_faststr");
  return elem;
}

void mapdelete_faststr(const maptype* t, hmap* h, String key) {
  if (h == nullptr || h->count == 0) return;
  if (h->flags & hashWriting) fatal("concurrent map writes");
  std::uint64_t hash = strHash(t, h, key);
  h->flags ^= hashWriting;

  std::uintptr_t bucket = hash & bucketMask(h->B);
  if (growing(h)) growWork(t, h, bucket);
  bmap* b = bucketAt(t, h->buckets, bucket);
  bmap* bOrig = b;
  // The key slot and the elem are on later lines than the tophash bytes (as
  // in faststrAccess): ask for them now, so that their misses overlap.
  __builtin_prefetch(raw(b) + 64, 1);
  __builtin_prefetch(raw(b) + 128, 1);
  std::uint8_t top = tophash(hash);
  for (; b != nullptr; b = overflowOf(t, b)) {
    bool stop = false;
    for (unsigned m = tophashEq(b, top); m != 0; m &= m - 1) {
      std::uintptr_t i = lowestCell(m);
      String* k = strKeyAt(b, i);
      if (k->len != key.len) continue;
      if (!sameBytes(k, key)) continue;
      // Drop the key's pointer so its bytes can be collected; len stays.
      k->str = nullptr;
      clearSlot(strElemAt(t, b, i), t->elemsize);
      deleteCell(t, h, bOrig, b, i);
      stop = true;
      break;
    }
    if (stop) break;
  }
  endWrite(t, h, "mapdelete_faststr");
}

}  // namespace gomap
