// map.h — gomap::Map<K,V>: a Go map variable for C++ users.
//
// A thin typed facade over the type-erased runtime (runtime.h), like Go's
// compiler lowering m[k] = v to runtime.mapassign*. A Map is what a Go map
// variable is: a pointer to an hmap. Copying a Map shares the hmap (m2 := m1);
// clone() makes a deep copy. A default-constructed Map is a nil map.
//
// The pointer is typed as hash<K',V'>* (abi.h) where K', V' are the slot types
// (K* for keys over 128 bytes), so a debugger finds the key and value types of
// the map by following h->buckets, exactly as in a Go binary's DWARF.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "gomap/abi.h"
#include "gomap/hash.h"
#include "gomap/hash_inline.h"
#include "gomap/iter_inline.h"
#include "gomap/maptype.h"
#include "gomap/runtime.h"
#include "gomap/string.h"

namespace gomap {

// Go's spelling of a C++ type, for maptype names ("map[int64]string").
// Specialise for your own key/elem structs.
template <class T> struct TypeName {
  static std::string get() { return "[" + std::to_string(sizeof(T)) + "]uint8"; }
};
#define GOMAP_TYPENAME(T, S) \
  template <> struct TypeName<T> { static std::string get() { return S; } }
GOMAP_TYPENAME(bool, "bool");
GOMAP_TYPENAME(std::int8_t, "int8");
GOMAP_TYPENAME(std::uint8_t, "uint8");
GOMAP_TYPENAME(std::int16_t, "int16");
GOMAP_TYPENAME(std::uint16_t, "uint16");
GOMAP_TYPENAME(std::int32_t, "int32");
GOMAP_TYPENAME(std::uint32_t, "uint32");
GOMAP_TYPENAME(std::int64_t, "int64");
GOMAP_TYPENAME(std::uint64_t, "uint64");
GOMAP_TYPENAME(float, "float32");
GOMAP_TYPENAME(double, "float64");
GOMAP_TYPENAME(String, "string");

namespace detail {

template <class K> struct KeyAlg;  // kind, hasher, equal for a key type

template <class K> bool memequal(const void* a, const void* b) {
  return std::memcmp(a, b, sizeof(K)) == 0;
}
template <class F> bool floatequal(const void* a, const void* b) {
  return *static_cast<const F*>(a) == *static_cast<const F*>(b);
}
inline bool strequal(const void* a, const void* b) {
  return *static_cast<const String*>(a) == *static_cast<const String*>(b);
}
template <class K> std::uint64_t genericmemhash(const void* p, std::uintptr_t seed) {
  return memhash(p, sizeof(K), seed);
}

template <class K> struct KeyAlg {
  static_assert(std::is_trivially_copyable_v<K>, "map keys must be trivially copyable");
  static_assert(std::has_unique_object_representations_v<K>,
                "map keys are compared bytewise: no padding, no floats inside");
  static constexpr KeyKind kind = sizeof(K) == 4   ? KeyKind::mem32
                                  : sizeof(K) == 8 ? KeyKind::mem64
                                                   : KeyKind::mem;
  static constexpr HashFn hasher = sizeof(K) == 4   ? &memhash32
                                   : sizeof(K) == 8 ? &memhash64
                                                    : &genericmemhash<K>;
  static constexpr EqualFn equal = &memequal<K>;
};
template <> struct KeyAlg<String> {
  static constexpr KeyKind kind = KeyKind::string;
  static constexpr HashFn hasher = &strhash;
  static constexpr EqualFn equal = &strequal;
};
template <> struct KeyAlg<float> {
  static constexpr KeyKind kind = KeyKind::float32;
  static constexpr HashFn hasher = &f32hash;
  static constexpr EqualFn equal = &floatequal<float>;
};
template <> struct KeyAlg<double> {
  static constexpr KeyKind kind = KeyKind::float64;
  static constexpr HashFn hasher = &f64hash;
  static constexpr EqualFn equal = &floatequal<double>;
};

template <class T> constexpr bool hasPointers() {
  return std::is_same_v<T, String> || std::is_pointer_v<T>;
}

template <class T>
using Slot = std::conditional_t<(sizeof(T) > maxKeySize), T*, T>;

template <class K, class V> struct TypeDescriptors {
  inline static const std::string key_name = TypeName<K>::get();
  inline static const std::string elem_name = TypeName<V>::get();
  inline static const std::string map_name = "map[" + key_name + "]" + elem_name;
  inline static const typeinfo key{sizeof(K), alignof(K), KeyAlg<K>::equal, key_name.c_str(),
                                   KeyAlg<K>::kind, hasPointers<K>()};
  inline static const typeinfo elem{sizeof(V), alignof(V), nullptr, elem_name.c_str(),
                                    KeyKind::mem, hasPointers<V>()};
  inline static const maptype type = make_maptype(&key, &elem, KeyAlg<K>::hasher, map_name.c_str());
};

// mapiternext's common steps, inline in a typed range loop (release builds):
// the next live cell of the current bucket, or of the next bucket or
// overflow bucket when the map is not growing. Anything else (a grow in
// progress, an evacuation mark, a filtered old bucket, a write in progress,
// the end of the walk) is left to mapiternext.
//
// A big map's loop is bound by how soon one step can start after the
// previous: if the walk position went through the hiter, every step would
// wait for its own store of it->i to come back as a load. So the position
// also lives in this cursor, a local of the loop that the compiler keeps in
// registers. The hiter is written on every step that returns, so that it
// holds exactly what mapiternext would have left there, and read back only to
// see that no one else stepped it. Cells are found as mapiternext finds them
// (iter_inline.h), from tophash bytes read afresh at every step, so entries
// the loop body deletes, or a grow evacuates, are seen.
template <class K, class V>
struct IterCursor {
  static constexpr std::size_t keySlot = sizeof(Slot<K>), elemSlot = sizeof(Slot<V>);
  static constexpr std::size_t bsize = bucketSize(keySlot, elemSlot);

  void* key = nullptr;  // it->key: nullptr once the walk is over
  void* elem = nullptr;
  const hmap* h = nullptr;
  const std::uint8_t* b = nullptr;  // it->bptr; nullptr when the inline step must not run
  unsigned i = 0;                   // it->i
  unsigned offset = 0;              // it->offset
  std::uintptr_t bucket = 0;        // it->bucket
  bool wrapped = false;             // it->wrapped

  // Takes over the hiter's state after mapiterinit or mapiternext.
  void load(const hiter* it) {
    key = it->key;
    elem = it->elem;
    h = it->h;
    // Reading an old bucket for a new one filters cells by hash: mapiternext's.
    // So is a step after the end.
    b = it->checkBucket == noCheck && key != nullptr ? reinterpret_cast<const std::uint8_t*>(it->bptr)
                                                     : nullptr;
    i = it->i;
    offset = it->offset;
    bucket = it->bucket;
    wrapped = it->wrapped;
  }

  // One step of mapiternext, with the same result and hiter state; false, with
  // neither the hiter nor the cursor changed, when mapiternext has to take it.
  [[gnu::always_inline]] bool step(hiter* it) {
    // it->key differs from ours only if someone stepped the hiter behind the
    // loop's back (mapiternext on raw()): then our copy is stale.
    if (b == nullptr || (h->flags & hashWriting) || it->key != key) return false;
    int j = nextCell(b, offset, i);
    if (j < 0) return false;  // an evacuation mark: mapiternext sorts it out
    if (j < int{bucketCnt}) [[likely]] {
      produce(it, static_cast<unsigned>(j));
      return true;
    }
    // This bucket is done: its overflow bucket, else the next bucket of the
    // iterator's array. While the map grows, mapiternext decides (it may
    // have to read an old bucket instead).
    const std::uint8_t* nb = b;
    std::uintptr_t nbucket = bucket;
    bool nwrapped = wrapped;
    for (;;) {
      if (h->oldbuckets != nullptr) return false;
      const std::uint8_t* ovf;
      std::memcpy(&ovf, nb + bsize - sizeof(void*), sizeof(void*));
      if (ovf == nullptr) {
        if (nbucket == it->startBucket && nwrapped) return false;  // the end
        ovf = static_cast<const std::uint8_t*>(it->buckets) + nbucket * bsize;
        // String keys point elsewhere: ask for the bytes of the keys a few
        // buckets ahead (a loop body that reads them would miss on every
        // entry, in an order unrelated to where the arena put them).
        if constexpr (std::is_same_v<K, String>)
          if (nbucket + stringPrefetchBuckets < (std::uintptr_t{1} << it->B))
            prefetchStringBytes(ovf + stringPrefetchBuckets * bsize);
        if (++nbucket == (std::uintptr_t{1} << it->B)) {
          nbucket = 0;
          nwrapped = true;
        }
      }
      nb = ovf;
      j = nextCell(nb, offset, 0);
      if (j < 0) return false;
      if (j < int{bucketCnt}) {
        b = nb;
        bucket = nbucket;
        wrapped = nwrapped;
        it->bptr = reinterpret_cast<bmap*>(const_cast<std::uint8_t*>(b));
        it->bucket = bucket;
        it->wrapped = wrapped;
        produce(it, static_cast<unsigned>(j));
        return true;
      }
    }
  }

 private:
  // The entry at visiting position j of bucket b, in the cursor and the hiter.
  [[gnu::always_inline]] void produce(hiter* it, unsigned j) {
    const unsigned c = cellAt(j, offset);
    auto* data = const_cast<std::uint8_t*>(b) + dataOffset;
    void* k = data + c * keySlot;
    void* e = data + bucketCnt * keySlot + c * elemSlot;
    if constexpr (sizeof(K) > maxKeySize) k = *static_cast<void**>(k);
    if constexpr (sizeof(V) > maxElemSize) e = *static_cast<void**>(e);
    i = j + 1;
    key = k;
    elem = e;
    it->key = k;
    it->elem = e;
    it->i = static_cast<std::uint8_t>(i);
  }
};

// The common case of mapaccess1_fast64 / mapaccess2_fast64, inline in a
// typed lookup (release builds; debug builds always call the entry point, so
// `break mapaccess1_fast64` stops at every lookup): a map with B > 0, not
// growing, no write in progress. The engine's own hasher (memhash64, which
// Map<K,V> always installs for 8-byte keys), the same bucket, and the same
// cell as the entry point finds (abi.h's findIntKey serves both).
// With the bucket size a constant and no call, a loop of lookups keeps more
// of its cache misses in flight. Sets *elem to the elem, or to nullptr when
// key is absent; returns false, untouched, for every other case.
template <class V>
[[gnu::always_inline]] inline bool mapaccessInline64(const hmap* h, std::uint64_t key, const void** elem) {
  constexpr std::size_t elemSlot = sizeof(Slot<V>);
  constexpr std::size_t bsize = bucketSize(8, elemSlot);
  if (h == nullptr || h->count == 0 || (h->flags & hashWriting) || h->B == 0 || h->oldbuckets != nullptr)
    return false;
  const std::uint64_t hash = alg::memhash64Inline(key, h->hash0);
  auto* b = static_cast<std::uint8_t*>(h->buckets) + (hash & ((std::uintptr_t{1} << h->B) - 1)) * bsize;
  unsigned i;
  const std::uint8_t* fb = findIntKey<std::uint64_t>(b, tophashOf(hash), key, bsize, &i);
  *elem = fb ? fb + dataOffset + 8 * bucketCnt + i * elemSlot : nullptr;
  return true;
}

// mapaccessInline64's twin for string keys (mapaccess1/2_faststr's common
// case): the engine's strhash (which Map<String,V> always installs) inline,
// and abi.h's findStrKey, as the entry point uses. One lookup is then about
// half the instructions of the call, so a loop of them has twice as many in
// flight in the CPU's window, and overlaps twice the cache misses.
template <class V>
[[gnu::always_inline]] inline bool mapaccessInlineStr(const hmap* h, const String& key, const void** elem) {
  constexpr std::size_t elemSlot = sizeof(Slot<V>);
  constexpr std::size_t bsize = bucketSize(sizeof(String), elemSlot);
  if (h == nullptr || h->count == 0 || (h->flags & hashWriting) || h->B == 0 || h->oldbuckets != nullptr)
    return false;
  const std::uint64_t hash = alg::memhashInline(key.str, static_cast<std::size_t>(key.len), h->hash0);
  auto* b = static_cast<std::uint8_t*>(h->buckets) + (hash & ((std::uintptr_t{1} << h->B) - 1)) * bsize;
  unsigned i;
  const std::uint8_t* fb = findStrKey(b, tophashOf(hash), key.str, key.len, bsize, &i);
  *elem = fb ? fb + dataOffset + sizeof(String) * bucketCnt + i * elemSlot : nullptr;
  return true;
}

// The inline lookups' way to the entry point, for every case they leave to
// it (release builds). A lookup changes nothing the caller can see, and these
// declarations say so ([[gnu::pure]]), where the entry points themselves
// cannot: for all the compiler knows an opaque call in a loop of lookups
// writes memory, so the loop would reload everything it had in registers
// (its vectors' data, the map's header pointer) on every lookup, the inline
// path included. A/B, 1M lookups: uint64 shuffled 70 -> 60 ms, strings in
// insertion order 65 -> 52 ms. Alone, pure would let the optimiser drop a
// lookup whose result is never used, and with it Go's best-effort check for
// a concurrent write; keepLookup below prevents that. Debug builds call
// the entry points themselves, always.
//
// Go runs every map read, even one whose value is dropped (`_ = m[k]`), and
// so may catch a write in progress ("concurrent map read and map write").
// keepLookup keeps each typed lookup of a release build alive the same way:
// an empty asm that takes the result, so the optimiser may still share one
// lookup between two identical ones with no write between, but never drops
// one; it stands in no memory's way, so the loads stay hoisted.
template <class T>
[[gnu::always_inline]] inline T keepLookup(T v) {
  asm volatile("" : : "r"(v));
  return v;
}
struct Found {
  const void* elem;
  bool ok;
};
[[gnu::pure]] const void* access1Fast64(const maptype* t, const hmap* h, std::uint64_t key);
[[gnu::pure]] Found access2Fast64(const maptype* t, const hmap* h, std::uint64_t key);
[[gnu::pure]] const void* access1FastStr(const maptype* t, const hmap* h, String key);
[[gnu::pure]] Found access2FastStr(const maptype* t, const hmap* h, String key);

// What mapaccess1 returns for an absent key: a zeroed elem (never nil).
template <class V>
const void* zeroElem() {
  alignas(V) static const unsigned char zero[sizeof(V)] = {};
  return zero;
}

}  // namespace detail

template <class K, class V>
class Map {
  static_assert(std::is_trivially_copyable_v<V>, "map values must be trivially copyable");

 public:
  using key_type = K;
  using mapped_type = V;
  using header_type = hash<detail::Slot<K>, detail::Slot<V>>;
  using bucket_type = bucket<detail::Slot<K>, detail::Slot<V>>;
  // Completing both types here puts their full definitions in the DWARF of every
  // program that uses Map<K,V>: the plugins find K and V through them.
  static_assert(sizeof(header_type) == sizeof(hmap));
  static_assert(sizeof(bucket_type) ==
                bucketSize(sizeof(detail::Slot<K>), sizeof(detail::Slot<V>)));

  Map() = default;  // a nil map: `var m map[K]V`
  static Map make(std::int64_t hint = 0) {  // make(map[K]V, hint)
    Map m;
    // Go's compiler calls makemap_small for make(map[K]V) and constant hints <= 8.
    m.h = reinterpret_cast<header_type*>(hint == 0 ? makemap_small()
                                                   : makemap(type(), hint, nullptr));
    return m;
  }

  static const maptype* type() { return &detail::TypeDescriptors<K, V>::type; }
  hmap* header() const { return reinterpret_cast<hmap*>(h); }
  bool is_nil() const { return h == nullptr; }
  std::int64_t len() const { return h ? h->count : 0; }

  // v := m[k]
  [[nodiscard]] V get(const K& k) const { return *static_cast<const V*>(access1(k)); }
  // v, ok := m[k]
  [[nodiscard]] std::pair<V, bool> lookup(const K& k) const {
    bool ok = false;
    const void* p = access2(k, &ok);
    return {*static_cast<const V*>(p), ok};
  }
  [[nodiscard]] bool contains(const K& k) const { return lookup(k).second; }
  // m[k] = v (a nil map panics)
  void set(const K& k, const V& v) { std::memcpy(assign(k), &v, sizeof(V)); }
  // &m[k]: the elem slot, valid until the next write to the map
  V& operator[](const K& k) { return *static_cast<V*>(assign(k)); }
  // delete(m, k)
  void erase(const K& k) {
    if constexpr (detail::KeyAlg<K>::kind == KeyKind::mem32 && sizeof(V) <= maxElemSize)
      mapdelete_fast32(type(), header(), bits32(k));
    else if constexpr (detail::KeyAlg<K>::kind == KeyKind::mem64 && sizeof(V) <= maxElemSize)
      mapdelete_fast64(type(), header(), bits64(k));
    else if constexpr (detail::KeyAlg<K>::kind == KeyKind::string && sizeof(V) <= maxElemSize)
      mapdelete_faststr(type(), header(), k);
    else
      mapdelete(type(), header(), &k);
  }
  // clear(m) (Go 1.21 syntax; Go 1.19's compiler emits mapclear for the
  // `for k := range m { delete(m, k) }` idiom)
  void clear() { if (h) mapclear(type(), header()); }
  // A deep copy: a new hmap with the same entries.
  Map clone() const {
    Map c = make(len());
    for (auto [k, v] : *this) c.set(k, v);
    return c;
  }
  // The program drops its last reference: the map's memory becomes garbage
  // for the simulated collector. This handle (and copies of it) must not be used again.
  void drop() { if (h) mapdrop(type(), header()); h = nullptr; }

  // Range over the map in Go's (randomised) order.
  class iterator {
   public:
    using value_type = std::pair<K, V>;
    iterator() = default;
    iterator(const iterator&) = delete;
    explicit iterator(const Map* m) : it(new hiter{}) {
      mapiterinit(type(), m->header(), it);
      cur.load(it);
    }
    // Moving and destroying go through release(), so a hiter always leaves the
    // active list (heap.h) before it is freed, whichever way it goes:
    // `it = m.end()` too. A freed hiter left on the list would be read by the
    // next gc(). All of it is inline (no unique_ptr, whose destructor the
    // compiler may keep out of line and pass the iterator's address to): an
    // iterator whose address never leaves the loop is kept in registers,
    // cursor included.
    iterator(iterator&& o) noexcept : it(std::exchange(o.it, nullptr)), cur(std::exchange(o.cur, {})) {}
    iterator& operator=(iterator&& o) noexcept {
      if (this != &o) {
        release(std::exchange(it, nullptr));
        it = std::exchange(o.it, nullptr);
        cur = std::exchange(o.cur, {});
      }
      return *this;
    }
    [[gnu::always_inline]] ~iterator() { release(it); }
    std::pair<K, V&> operator*() const {
      return {*static_cast<const K*>(cur.key), *static_cast<V*>(cur.elem)};
    }
    iterator& operator++() {
#ifdef NDEBUG
      // Debug builds always call mapiternext, so `break mapiternext` stops
      // at every entry of a range loop.
      if (cur.step(it)) return *this;
#endif
      mapiternext(it);
      cur.load(it);
      return *this;
    }
    bool operator!=(const iterator&) const { return cur.key != nullptr; }
    hiter* raw() const { return it; }

   private:
    // By value, not through this: an out-of-line copy on the unwinding path
    // would otherwise take the iterator's address and keep it in memory.
    static void release(hiter* p) {
      if (p == nullptr) return;
      mapiterdone(p);
      delete p;
    }
    hiter* it = nullptr;
    detail::IterCursor<K, V> cur;  // the hiter's walk position, in registers
  };
  iterator begin() const { return iterator(this); }
  iterator end() const { return iterator(); }

  header_type* h = nullptr;  // the Go map value: a pointer to the header

 private:
  static std::uint32_t bits32(const K& k) { std::uint32_t u; std::memcpy(&u, &k, 4); return u; }
  static std::uint64_t bits64(const K& k) { std::uint64_t u; std::memcpy(&u, &k, 8); return u; }
  // Entry point selection as Go's compiler does it (walk/order.go mapfast):
  // elems over 128 bytes always take the generic path.
  void* assign(const K& k) {
    if constexpr (detail::KeyAlg<K>::kind == KeyKind::mem32 && sizeof(V) <= maxElemSize)
      return mapassign_fast32(type(), header(), bits32(k));
    else if constexpr (detail::KeyAlg<K>::kind == KeyKind::mem64 && sizeof(V) <= maxElemSize)
      return mapassign_fast64(type(), header(), bits64(k));
    else if constexpr (detail::KeyAlg<K>::kind == KeyKind::string && sizeof(V) <= maxElemSize)
      return mapassign_faststr(type(), header(), k);
    else
      return mapassign(type(), header(), &k);
  }
  // Always inline: in release builds these hold the inline lookups, and a
  // call per lookup (GCC keeps the string one out of line otherwise) costs
  // a tenth of 1M string lookups in insertion order.
  [[gnu::always_inline]] const void* access1(const K& k) const {
    if constexpr (detail::KeyAlg<K>::kind == KeyKind::mem32 && sizeof(V) <= maxElemSize)
      return mapaccess1_fast32(type(), header(), bits32(k));
    else if constexpr (detail::KeyAlg<K>::kind == KeyKind::mem64 && sizeof(V) <= maxElemSize) {
#ifdef NDEBUG
      const void* e;
      if (detail::mapaccessInline64<V>(header(), bits64(k), &e)) return detail::keepLookup(e ? e : detail::zeroElem<V>());
      return detail::keepLookup(detail::access1Fast64(type(), header(), bits64(k)));
#else
      return mapaccess1_fast64(type(), header(), bits64(k));
#endif
    }
    else if constexpr (detail::KeyAlg<K>::kind == KeyKind::string && sizeof(V) <= maxElemSize) {
#ifdef NDEBUG
      const void* e;
      if (detail::mapaccessInlineStr<V>(header(), k, &e)) return detail::keepLookup(e ? e : detail::zeroElem<V>());
      return detail::keepLookup(detail::access1FastStr(type(), header(), k));
#else
      return mapaccess1_faststr(type(), header(), k);
#endif
    }
    else
      return mapaccess1(type(), header(), &k);
  }
  [[gnu::always_inline]] const void* access2(const K& k, bool* ok) const {
    if constexpr (detail::KeyAlg<K>::kind == KeyKind::mem32 && sizeof(V) <= maxElemSize)
      return mapaccess2_fast32(type(), header(), bits32(k), ok);
    else if constexpr (detail::KeyAlg<K>::kind == KeyKind::mem64 && sizeof(V) <= maxElemSize) {
#ifdef NDEBUG
      const void* e;
      if (detail::mapaccessInline64<V>(header(), bits64(k), &e)) {
        *ok = e != nullptr;
        return detail::keepLookup(e ? e : detail::zeroElem<V>());
      }
      detail::Found f = detail::access2Fast64(type(), header(), bits64(k));
      *ok = f.ok;
      return detail::keepLookup(f.elem);
#else
      return mapaccess2_fast64(type(), header(), bits64(k), ok);
#endif
    }
    else if constexpr (detail::KeyAlg<K>::kind == KeyKind::string && sizeof(V) <= maxElemSize) {
#ifdef NDEBUG
      const void* e;
      if (detail::mapaccessInlineStr<V>(header(), k, &e)) {
        *ok = e != nullptr;
        return detail::keepLookup(e ? e : detail::zeroElem<V>());
      }
      detail::Found f = detail::access2FastStr(type(), header(), k);
      *ok = f.ok;
      return detail::keepLookup(f.elem);
#else
      return mapaccess2_faststr(type(), header(), k, ok);
#endif
    }
    else
      return mapaccess2(type(), header(), &k, ok);
  }
};

}  // namespace gomap
