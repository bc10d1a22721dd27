// test_grow.cpp — evacuation checked cell by cell against Go's rule.
//
// An independent statement of what evacuate does to one old bucket chain:
// walking its cells in chain order, an empty cell is marked evacuatedEmpty;
// an entry goes to X (the same index in the new array) or, in a doubling grow
// when hash(key) has the old bucket count's bit set, to Y (index + old
// count), is marked evacuatedX/Y, and lands in the next cell of that side's
// chain with its tophash, key and elem bytes. The checker snapshots every old
// bucket chain that is not evacuated yet before each write, and after the
// write compares each chain that became evacuated with that rule.
// (Snapshots are taken of the chains the write may evacuate, not of all.)
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "util.h"

using namespace gomap;

namespace {

struct Snap {
  std::vector<bmap*> chain;      // the old chain's buckets (their marks are read after)
  std::vector<std::uint8_t> top; // per cell, chain order
  std::vector<std::string> key, elem;
};

struct Checker {
  const maptype* t;
  hmap* h;
  int chains = 0;     // evacuated chains checked
  int longChains = 0; // ... of more than one bucket
  int ys = 0;         // entries that went to Y
  int sameSize = 0;   // chains checked in same-size grows

  std::size_t ks() const { return t->keysize; }
  std::size_t es() const { return t->elemsize; }
  const char* keyOf(const bmap* b, std::size_t i) const { return reinterpret_cast<const char*>(b) + 8 + i * ks(); }
  const char* elemOf(const bmap* b, std::size_t i) const {
    return reinterpret_cast<const char*>(b) + 8 + 8 * ks() + i * es();
  }
  bmap* next(const bmap* b) const {
    bmap* n;
    std::memcpy(&n, reinterpret_cast<const char*>(b) + t->bucketsize - 8, sizeof n);
    return n;
  }
  bmap* at(void* array, std::uintptr_t i) const {
    return reinterpret_cast<bmap*>(static_cast<char*>(array) + i * t->bucketsize);
  }
  static std::uint8_t top(const bmap* b, std::size_t i) { return reinterpret_cast<const std::uint8_t*>(b)[i]; }
  static bool isEvacuated(const bmap* b) { return top(b, 0) > emptyOne && top(b, 0) < minTopHash; }

  Snap snap(bmap* b) const {
    Snap s;
    for (; b != nullptr; b = next(b)) {
      s.chain.push_back(b);
      for (std::size_t i = 0; i < 8; i++) {
        s.top.push_back(top(b, i));
        s.key.emplace_back(keyOf(b, i), ks());
        s.elem.emplace_back(elemOf(b, i), es());
      }
    }
    return s;
  }

  // One write, checked: `write` must not overwrite an existing key's elem;
  // key points at the key it writes, `erased` is its bytes if it deletes.
  // The old chains it can evacuate are snapshot first: growWork's two, the
  // key's own old bucket and the next ones the in-order sweep reaches.
  template <class W>
  void write(const void* key, W&& write, const std::string& erased = {}) {
    void* old = h->oldbuckets != nullptr ? h->oldbuckets : h->buckets;
    bool wasGrowing = h->oldbuckets != nullptr;
    std::uint8_t B = h->B;
    bool same = wasGrowing && (h->flags & sameSizeGrow);
    std::uintptr_t nold = std::uintptr_t{1} << (wasGrowing && !same ? B - 1 : B);
    std::vector<Snap> before(nold);
    std::vector<bool> taken(nold, false);
    auto take = [&](std::uintptr_t i) {
      if (i < nold && !taken[i] && !isEvacuated(at(old, i))) {
        before[i] = snap(at(old, i));
        taken[i] = true;
      }
    };
    if (old != nullptr) {
      take(t->hasher(key, static_cast<std::uintptr_t>(h->hash0)) & (nold - 1));
      std::uintptr_t i = wasGrowing ? h->nevacuate : 0;
      for (int n = 0; n < 2 && i < nold; i++)
        if (!isEvacuated(at(old, i))) {
          take(i);
          n++;
        }
    }
    write();
    void* dest;
    if (wasGrowing) {
      // A write that ends a grow may start the next one: then the array the
      // first one filled is oldbuckets now, and may be partly evacuated.
      if (h->oldbuckets != nullptr && h->oldbuckets != old) return;
      dest = h->buckets;
    } else {
      if (h->B == B && !(h->flags & sameSizeGrow)) return;  // no grow started
      same = (h->flags & sameSizeGrow) != 0;
      dest = h->buckets;
    }
    for (std::uintptr_t i = 0; i < nold; i++) {
      if (!taken[i] || !isEvacuated(at(old, i))) continue;
      check(before[i], dest, i, nold, same, erased);
    }
  }

  void check(const Snap& s, void* dest, std::uintptr_t i, std::uintptr_t nold, bool same,
             const std::string& erased) {
    chains++;
    if (s.chain.size() > 1) longChains++;
    if (same) sameSize++;
    std::vector<std::size_t> toX, toY;
    for (std::size_t c = 0; c < s.top.size(); c++) {
      std::uint8_t mark = top(s.chain[c / 8], c % 8);
      CAPTURE(c);
      if (s.top[c] <= emptyOne) {
        CHECK(mark == evacuatedEmpty);
        continue;
      }
      const char* k = s.key[c].data();
      const void* kp = t->indirectkey() ? *reinterpret_cast<void* const*>(k) : k;
      bool y = !same && (t->hasher(kp, static_cast<std::uintptr_t>(h->hash0)) & nold) != 0;
      CHECK(mark == (y ? evacuatedY : evacuatedX));
      (y ? toY : toX).push_back(c);
    }
    ys += static_cast<int>(toY.size());
    side(s, at(dest, i), toX, erased);
    if (!same) side(s, at(dest, i + nold), toY, erased);
  }

  // The side's chain starts with exactly these cells, in order.
  void side(const Snap& s, bmap* db, const std::vector<std::size_t>& cells, const std::string& erased) {
    std::size_t di = 0;
    for (std::size_t c : cells) {
      if (di == 8) {
        db = next(db);
        di = 0;
        REQUIRE(db != nullptr);
      }
      CAPTURE(c);
      CAPTURE(di);
      if (top(db, di) <= emptyOne) {
        // Deleted by the write itself, right after it was moved here.
        CHECK(s.key[c] == erased);
      } else {
        CHECK(top(db, di) == s.top[c]);
        CHECK(std::string(keyOf(db, di), ks()) == s.key[c]);
        CHECK(std::string(elemOf(db, di), es()) == s.elem[c]);
      }
      di++;
    }
  }
};

template <class K>
std::string bytesOf(const K& k) {
  return std::string(reinterpret_cast<const char*>(&k), sizeof k);
}

// Inserts of new keys (doubling grows) into a map of K -> V, checked.
template <class K, class V, class MakeK, class MakeV>
Checker insertsChecked(int n, MakeK makeK, MakeV makeV) {
  set_hash_seed(777);
  auto m = Map<K, V>::make();
  Checker c{m.type(), m.header()};
  for (int i = 0; i < n; i++) {
    K k = makeK(i);
    c.write(&k, [&] { m.set(k, makeV(i)); });
  }
  for (int i = 0; i < n; i++) {
    V got = m.get(makeK(i)), want = makeV(i);
    REQUIRE(std::memcmp(&got, &want, sizeof(V)) == 0);
  }
  CHECK_MAP(m);
  m.drop();
  gc();
  return c;
}

struct Elem16 {
  std::uint64_t a, b;
};

}  // namespace

TEST_CASE("evacuate: marks and destinations follow Go's rule, cell by cell, for every slot layout") {
  set_invariant_checks(false);  // the checker reads every old chain per write
  std::vector<String> strs;
  for (int i = 0; i < 3000; i++) strs.push_back(String::make("key-" + std::to_string(i * 7919)));
  auto ck = [](const Checker& c) {
    CHECK(c.chains > 400);     // every doubling grow up to B = 9 was seen through
    CHECK(c.longChains > 0);   // old chains with overflow buckets
    CHECK(c.ys > c.chains);    // both sides used
  };
  SUBCASE("uint64 -> uint64") {
    ck(insertsChecked<std::uint64_t, std::uint64_t>(3000, [](int i) { return std::uint64_t(i); },
                                                    [](int i) { return std::uint64_t(i) * 3 + 1; }));
  }
  SUBCASE("uint32 -> uint32") {
    ck(insertsChecked<std::uint32_t, std::uint32_t>(3000, [](int i) { return std::uint32_t(i * 5); },
                                                    [](int i) { return std::uint32_t(i) ^ 0xabcdu; }));
  }
  SUBCASE("uint32 -> uint64") {
    ck(insertsChecked<std::uint32_t, std::uint64_t>(3000, [](int i) { return std::uint32_t(i); },
                                                    [](int i) { return ~std::uint64_t(i); }));
  }
  SUBCASE("uint64 -> 16-byte elem") {
    ck(insertsChecked<std::uint64_t, Elem16>(3000, [](int i) { return std::uint64_t(i) << 20; },
                                             [](int i) { return Elem16{std::uint64_t(i), ~std::uint64_t(i)}; }));
  }
  SUBCASE("string -> uint64 (buckets with pointers)") {
    ck(insertsChecked<String, std::uint64_t>(3000, [&](int i) { return strs[i]; },
                                             [](int i) { return std::uint64_t(i) + 5; }));
  }
  SUBCASE("string -> 16-byte elem") {
    ck(insertsChecked<String, Elem16>(3000, [&](int i) { return strs[i]; },
                                      [](int i) { return Elem16{std::uint64_t(i), 7}; }));
  }
  SUBCASE("indirect 136-byte key (generic slots)") {
    ck(insertsChecked<gt::Key136, std::uint64_t>(3000, [](int i) { return gt::Key136::of(i); },
                                                 [](int i) { return std::uint64_t(i); }));
  }
  set_invariant_checks(true);
}

TEST_CASE("evacuate: same-size grows under churn keep every entry in X, in order") {
  set_invariant_checks(false);
  set_hash_seed(12345);
  auto m = Map<std::uint64_t, std::uint64_t>::make();
  Checker c{m.type(), m.header()};
  const std::uint64_t window = 100;
  for (std::uint64_t i = 0; i < 20000; i++) {
    c.write(&i, [&] { m.set(i, i + 1); });
    if (i >= window) {
      std::uint64_t k = i - window;
      c.write(&k, [&] { m.erase(k); }, bytesOf(k));
    }
  }
  CHECK(c.sameSize > 50);
  CHECK(m.len() == static_cast<std::int64_t>(window));
  CHECK_MAP(m);
  m.drop();
  gc();
  set_invariant_checks(true);
}

TEST_CASE("evacuate of an old bucket behind nevacuate changes nothing, and does not read the bucket") {
  set_invariant_checks(false);
  auto m = Map<std::uint64_t, std::uint64_t>::make();
  hmap* h = m.header();
  std::uint64_t k = 0;
  // Into a doubling grow of a map with 64 old buckets, a little way along.
  while (!(h->oldbuckets != nullptr && h->B == 7)) m.set(k, k), k++;
  while (h->nevacuate < 3) m.set(k, k), k++;
  REQUIRE(h->oldbuckets != nullptr);
  const maptype* t = m.type();
  const std::size_t newBytes = (std::size_t{1} << h->B) * t->bucketsize;
  const std::size_t oldBytes = (std::size_t{1} << (h->B - 1)) * t->bucketsize;
  const hmap before = *h;
  std::string oldArr(static_cast<const char*>(h->oldbuckets), oldBytes);
  std::string newArr(static_cast<const char*>(h->buckets), newBytes);
  // Every bucket below nevacuate is evacuated (Go's invariant)...
  for (std::uintptr_t i = 0; i < h->nevacuate; i++) {
    const std::uint8_t top0 = static_cast<const std::uint8_t*>(h->oldbuckets)[i * t->bucketsize];
    CHECK((top0 >= 2 && top0 <= 4));  // evacuatedX, evacuatedY or evacuatedEmpty
  }
  // ...so evacuate leaves map and memory as they were...
  evacuate(t, h, 1);
  CHECK(std::memcmp(&before, h, sizeof(hmap)) == 0);
  CHECK(std::memcmp(oldArr.data(), h->oldbuckets, oldBytes) == 0);
  CHECK(std::memcmp(newArr.data(), h->buckets, newBytes) == 0);
  // ...and knows it from nevacuate alone: a first cell that claims to hold an
  // entry (as it would if not evacuated) is not looked at.
  auto* top = static_cast<std::uint8_t*>(h->oldbuckets) + 1 * t->bucketsize;
  const std::uint8_t saved = *top;
  *top = 0x80;
  evacuate(t, h, 1);
  CHECK(std::memcmp(newArr.data(), h->buckets, newBytes) == 0);
  *top = saved;
  for (std::uint64_t i = 0; i < k; i++) CHECK(m.get(i) == i);
  CHECK_MAP(m);
  m.drop();
  gc();
  set_invariant_checks(true);
}
