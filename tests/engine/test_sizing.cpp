// test_sizing.cpp — how big Go makes a map and when it grows.
#include <doctest/doctest.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>

#include "util.h"

using namespace gomap;
using gt::I64Map;

namespace {

// An independent statement of makemap's rule: enough buckets of 6.5 entries
// (rounded up to a power of two) for `hint` entries; one bucket up to 8.
std::uint8_t expectedB(std::int64_t hint) {
  if (hint <= 8) return 0;
  std::uint64_t buckets = (2 * static_cast<std::uint64_t>(hint) + 12) / 13;  // ceil(hint / 6.5)
  return static_cast<std::uint8_t>(std::bit_width(buckets - 1));
}

}  // namespace

TEST_CASE("makemap: hint -> B for hints 0..2000 matches the independent formula") {
  for (std::int64_t hint = 0; hint <= 2000; hint++) {
    CAPTURE(hint);
    REQUIRE(hintToB(hint) == expectedB(hint));
    I64Map m = I64Map::make(hint);
    REQUIRE(m.header()->B == expectedB(hint));
    // B == 0 allocates its single bucket lazily.
    REQUIRE((m.header()->buckets == nullptr) == (expectedB(hint) == 0));
    m.drop();
  }
  gc();
  // The boundaries, spelled out.
  CHECK(hintToB(8) == 0);
  CHECK(hintToB(9) == 1);
  CHECK(hintToB(13) == 1);
  CHECK(hintToB(14) == 2);
  CHECK(hintToB(26) == 2);
  CHECK(hintToB(27) == 3);
  CHECK(hintToB(52) == 3);
  CHECK(hintToB(53) == 4);
  CHECK(hintToB(104) == 4);
  CHECK(hintToB(105) == 5);
  CHECK(hintToB(1664) == 8);
  CHECK(hintToB(1665) == 9);
}

TEST_CASE("makemap: large hints") {
  for (std::int64_t hint : {std::int64_t{1} << 20, std::int64_t{1} << 30, std::int64_t{1} << 40,
                            std::int64_t{1000000007}, std::int64_t{1} << 62}) {
    CAPTURE(hint);
    CHECK(hintToB(hint) == expectedB(hint));
  }
  CHECK(hintToB(std::int64_t{1} << 20) == 18);
  CHECK(hintToB(std::int64_t{1} << 30) == 28);
  CHECK(hintToB(std::int64_t{1} << 40) == 38);
  // A hint whose buckets could never be allocated (over 2^48 bytes) is
  // ignored, as is a negative one: B = 0 and nothing allocated.
  for (std::int64_t hint : {std::int64_t{1} << 45, std::int64_t{-1}}) {
    hmap* h = makemap(I64Map::type(), hint, nullptr);
    CHECK(h->B == 0);
    CHECK(h->buckets == nullptr);
    mapdrop(I64Map::type(), h);
  }
}

TEST_CASE("overLoadFactor and tooManyOverflowBuckets") {
  CHECK_FALSE(overLoadFactor(8, 0));
  CHECK(overLoadFactor(9, 0));
  CHECK_FALSE(overLoadFactor(13, 1));
  CHECK(overLoadFactor(14, 1));
  CHECK_FALSE(tooManyOverflowBuckets(15, 4));
  CHECK(tooManyOverflowBuckets(16, 4));
  CHECK(tooManyOverflowBuckets(1u << 15, 20));  // capped at 2^15 above B = 15
  CHECK_FALSE(tooManyOverflowBuckets((1u << 15) - 1, 20));
}

TEST_CASE("roundupsize follows Go's size classes") {
  CHECK(roundupsize(1) == 8);
  CHECK(roundupsize(48) == 48);
  CHECK(roundupsize(49) == 64);
  CHECK(roundupsize(2448) == 2688);
  CHECK(roundupsize(4896) == 5376);
  CHECK(roundupsize(32768) == 32768);
  CHECK(roundupsize(32769) == 40960);
  CHECK(roundupsize(156672) == 163840);
}

TEST_CASE("preallocated overflow buckets: map[int64]int64 B=4 -> 2, B=5 -> 5, B=10 -> 113") {
  const maptype* t = I64Map::type();
  REQUIRE(t->bucketsize == 144);
  CHECK(bucketArrayLen(t, 3) - 8 == 0);
  CHECK(bucketArrayLen(t, 4) - 16 == 2);
  CHECK(bucketArrayLen(t, 5) - 32 == 5);
  CHECK(bucketArrayLen(t, 10) - 1024 == 113);

  struct Case { std::int64_t hint; std::uint8_t B; std::size_t spare; };
  for (Case c : {Case{60, 4, 2}, Case{150, 5, 5}, Case{6000, 10, 113}}) {
    CAPTURE(c.hint);
    I64Map m = I64Map::make(c.hint);
    hmap* h = m.header();
    REQUIRE(h->B == c.B);
    REQUIRE(h->extra != nullptr);
    auto* base = static_cast<char*>(h->buckets);
    std::size_t n = std::size_t{1} << c.B;
    // nextOverflow points at the first spare; the last spare's overflow
    // pointer points back at the array start as the end marker.
    CHECK(reinterpret_cast<char*>(h->extra->nextOverflow) == base + n * 144);
    char* last = base + (n + c.spare - 1) * 144;
    void* marker;
    std::memcpy(&marker, last + 136, 8);
    CHECK(marker == base);
    const HeapRecord* rec = gt::recordFor(base);
    REQUIRE(rec != nullptr);
    CHECK(rec->role == HeapRole::buckets);
    CHECK(rec->size == roundupsize((n + c.spare) * 144));
    CHECK(rec->nbuckets == n);
    CHECK(rec->B == c.B);
    m.drop();
  }
  gc();
}

TEST_CASE("sequential inserts: grow starts at 9, 14, 27, 53, 105, 209, 417, ... and each grow finishes early") {
  set_invariant_checks(false);  // O(n) per insert would dominate; grows are checked below
  const std::vector<std::int64_t> expected = {9, 14, 27, 53, 105, 209, 417, 833, 1665, 3329, 6657, 13313};
  I64Map m = I64Map::make();
  hmap* h = m.header();
  std::vector<std::int64_t> starts, finishes;
  std::int64_t growStartInsert = -1;
  std::uintptr_t oldCount = 0;
  for (std::int64_t i = 1; i <= 20000; i++) {
    std::uint8_t B = h->B;
    bool wasGrowing = h->oldbuckets != nullptr;
    m.set(i, i);
    if (h->B != B) {
      REQUIRE_FALSE(wasGrowing);
      starts.push_back(h->count);  // the insert that made count reach this started the grow
      growStartInsert = i;
      oldCount = std::uintptr_t{1} << B;
    }
    if (growStartInsert >= 0 && h->oldbuckets == nullptr) {
      // Writes after the starting one until the old array was let go.
      std::int64_t took = i - growStartInsert;
      CAPTURE(oldCount);
      CHECK(static_cast<std::uintptr_t>(took) < oldCount);
      finishes.push_back(took);
      growStartInsert = -1;
      REQUIRE(gomap::check_invariants(m.type(), h) == "");
    }
  }
  CHECK(starts == expected);
  for (auto s : starts) std::printf("%lld ", static_cast<long long>(s));
  std::printf("<- grow starts\n");
  for (auto f : finishes) std::printf("%lld ", static_cast<long long>(f));
  std::printf("<- further inserts until each grow finished\n");
  CHECK(finishes.size() == starts.size());
  CHECK(h->flags == 0);
  CHECK(m.len() == 20000);
  for (std::int64_t i = 1; i <= 20000; i++) REQUIRE(m.get(i) == i);
  m.drop();
  gc();
  set_invariant_checks(true);
}

TEST_CASE("same-size grows appear under insert/delete churn with a stable window") {
  set_hash_seed(12345);
  I64Map m = I64Map::make();
  hmap* h = m.header();
  const std::int64_t window = 100;
  int sameSize = 0, doubling = 0;
  std::uint8_t maxB = 0;
  for (std::int64_t i = 0; i < 30000; i++) {
    std::uint8_t B = h->B;
    bool wasGrowing = h->oldbuckets != nullptr;
    m.set(i, i);
    if (i >= window) m.erase(i - window);
    if (!wasGrowing && h->oldbuckets != nullptr) {
      if (h->flags & sameSizeGrow) {
        sameSize++;
        CHECK(h->B == B);
      } else {
        doubling++;
      }
    }
    if (i > 1000) maxB = std::max(maxB, h->B);
    REQUIRE(m.len() == std::min(i + 1, window));
  }
  CHECK(sameSize >= 3);
  CHECK(doubling <= 5);  // the window never needs more than a few doublings
  CHECK(maxB <= 5);
  std::printf("churn: %d same-size grows, %d doubling grows, B=%d\n", sameSize, doubling, h->B);
  CHECK_MAP(m);
  m.drop();
  gc();
  clear_hash_seed();
}

namespace {
// Inserts keyOf(1..n); each time a grow finishes, every overflow bucket
// recorded for the map must be live exactly when the current array's chains
// still reach it (the old array's became garbage with it). With `iterate`, an
// iterator is on the map whenever a grow starts, so every grow has
// oldIterator set and keeps the old chains linked until the end. Returns how many overflow
// buckets were let go at grow ends.
template <class K, class KeyOf>
int overflowsLetGoAtGrowEnd(KeyOf keyOf, int n, bool iterate) {
  set_invariant_checks(false);
  auto m = Map<K, std::int64_t>::make();
  m.set(keyOf(0), 0);
  hmap* h = m.header();
  const maptype* t = m.type();
  std::optional<typename Map<K, std::int64_t>::iterator> it;  // reset() ends it (mapiterdone)
  int letGo = 0, grows = 0;
  for (int i = 1; i <= n; i++) {
    bool wasGrowing = h->oldbuckets != nullptr;
    // A grow takes the iterator flag over as oldIterator, and the next grow
    // starts with neither: begin an iterator afresh before each insert that
    // may start one.
    if (iterate && !wasGrowing) it.emplace(m.begin());
    m.set(keyOf(i), i);
    if (iterate && !wasGrowing && h->oldbuckets != nullptr) REQUIRE((h->flags & oldIterator) != 0);
    if (!wasGrowing || h->oldbuckets != nullptr) continue;
    grows++;
    std::set<std::uint64_t> reached;
    for (std::uintptr_t j = 0; j < (std::uintptr_t{1} << h->B); j++) {
      const char* b = static_cast<const char*>(h->buckets) + j * t->bucketsize;
      for (;;) {
        std::memcpy(&b, b + overflowOffset(t->bucketsize), sizeof b);
        if (b == nullptr) break;
        reached.insert(reinterpret_cast<std::uintptr_t>(b));
      }
    }
    const auto& r = gomap_heap_registry;
    for (std::uint64_t k = 0; k < r.count; k++) {
      const HeapRecord& rec = r.records[k];
      if (rec.owner != reinterpret_cast<std::uintptr_t>(h) || rec.role != HeapRole::overflow) continue;
      bool live = rec.state == HeapState::live;
      CAPTURE(i);
      CAPTURE(rec.addr);
      REQUIRE(live == (reached.count(rec.addr) != 0));
      if (!live && rec.dead_seq != 0 && rec.state == HeapState::unreachable) letGo++;
    }
  }
  CHECK(grows >= 8);
  it.reset();
  m.drop();
  gc();
  set_invariant_checks(true);
  return letGo;
}
}  // namespace

TEST_CASE("a finished grow lets go of the old array's overflow buckets, and only those") {
  SUBCASE("pointer-free buckets (listed in oldoverflow)") {
    CHECK(overflowsLetGoAtGrowEnd<std::int64_t>([](int i) { return std::int64_t{i} * 7; }, 6000, false) > 0);
  }
  SUBCASE("pointer-free buckets, an iterator on the old array") {
    CHECK(overflowsLetGoAtGrowEnd<std::int64_t>([](int i) { return std::int64_t{i} * 7; }, 6000, true) > 0);
  }
  static std::vector<String> keys;
  if (keys.empty())
    for (int i = 0; i <= 6000; i++) keys.push_back(String::make("k" + std::to_string(i)));
  auto strKey = [](int i) -> const String& { return keys[static_cast<std::size_t>(i)]; };
  SUBCASE("buckets with pointers (chains unlinked as evacuated)") {
    // Dropped as each old bucket is evacuated, not at the end: none left then.
    CHECK(overflowsLetGoAtGrowEnd<String>(strKey, 6000, false) >= 0);
  }
  SUBCASE("buckets with pointers, an iterator on the old array (chains kept to the end)") {
    CHECK(overflowsLetGoAtGrowEnd<String>(strKey, 6000, true) > 0);
  }
}
