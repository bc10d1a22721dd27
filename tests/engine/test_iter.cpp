// test_iter.cpp — Go's iteration guarantees, including during growth.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "util.h"

using namespace gomap;
using gt::I64Map;

namespace {

// Drive a raw hiter (as Go's compiled range loop does).
struct Range {
  hiter it{};
  Range(const maptype* t, hmap* h) { mapiterinit(t, h, &it); }
  ~Range() { mapiterdone(&it); }
  bool done() const { return it.key == nullptr; }
  std::int64_t key() const { return *static_cast<std::int64_t*>(it.key); }
  std::int64_t elem() const { return *static_cast<std::int64_t*>(it.elem); }
  void next() { mapiternext(&it); }
};

}  // namespace

TEST_CASE("iteration produces every entry exactly once, in a random order") {
  for (std::int64_t n : {0, 1, 7, 8, 9, 100, 1000, 3000}) {
    CAPTURE(n);
    I64Map m = I64Map::make();
    for (std::int64_t i = 0; i < n; i++) m.set(i, i * 7);
    std::map<std::int64_t, int> seen;
    for (auto [k, v] : m) {
      CHECK(v == k * 7);
      seen[k]++;
    }
    CHECK(static_cast<std::int64_t>(seen.size()) == n);
    for (auto& [k, c] : seen) REQUIRE(c == 1);
    m.drop();
  }
  gc();
}

TEST_CASE("two iterations start differently") {
  I64Map m = I64Map::make();
  for (std::int64_t i = 0; i < 200; i++) m.set(i, i);
  std::set<std::int64_t> firsts;
  std::set<std::pair<std::uintptr_t, int>> starts;
  for (int r = 0; r < 30; r++) {
    Range it(m.type(), m.header());
    firsts.insert(it.key());
    starts.insert({it.it.startBucket, it.it.offset});
  }
  CHECK(firsts.size() > 1);
  CHECK(starts.size() > 1);
  m.drop();
}

TEST_CASE("the iterator flags are set as Go sets them") {
  I64Map m = I64Map::make();
  for (std::int64_t i = 0; i < 20; i++) m.set(i, i);
  CHECK((m.header()->flags & (iterator | oldIterator)) == 0);
  {
    Range it(m.type(), m.header());
    CHECK((m.header()->flags & (iterator | oldIterator)) == (iterator | oldIterator));
  }
  // A grow moves iterator to oldIterator (Go never clears the flags otherwise).
  while (m.header()->oldbuckets == nullptr) m.set(m.len() + 1000, 0);
  CHECK((m.header()->flags & oldIterator) != 0);
  CHECK((m.header()->flags & iterator) == 0);
  m.drop();
}

TEST_CASE("iteration started during a grow, and grows during iteration") {
  for (std::int64_t n : {27, 53, 105, 209, 417}) {
    CAPTURE(n);
    // Started mid-grow: the map is growing when mapiterinit runs.
    I64Map m = I64Map::make();
    for (std::int64_t i = 0; i < n; i++) m.set(i, i);
    REQUIRE(m.header()->oldbuckets != nullptr);
    std::map<std::int64_t, int> seen;
    {
      Range it(m.type(), m.header());
      for (; !it.done(); it.next()) {
        seen[it.key()]++;
        // Keep writing: evacuation proceeds under the iterator's feet.
        m.set(it.key(), it.key() + 1);
      }
    }
    CHECK(static_cast<std::int64_t>(seen.size()) == n);
    for (auto& [k, c] : seen) REQUIRE(c == 1);
    for (std::int64_t i = 0; i < n; i++) REQUIRE(m.get(i) == i + 1);
    CHECK_MAP(m);

    // Started before: inserts during the loop trigger one or more grows.
    I64Map g = I64Map::make();
    for (std::int64_t i = 0; i < n; i++) g.set(i, i);
    while (g.header()->oldbuckets != nullptr) g.set(0, 0);
    std::map<std::int64_t, int> seen2;
    std::int64_t added = 0;
    {
      Range it(g.type(), g.header());
      for (; !it.done(); it.next()) {
        seen2[it.key()]++;
        for (int j = 0; j < 3; j++) g.set(1000000 + added++, 0);
      }
    }
    for (std::int64_t i = 0; i < n; i++) REQUIRE(seen2[i] == 1);  // present throughout: exactly once
    for (auto& [k, c] : seen2) REQUIRE(c == 1);                   // added ones: at most once
    CHECK(g.len() == n + added);
    CHECK_MAP(g);
    m.drop();
    g.drop();
  }
  gc();
}

TEST_CASE("deleting during iteration: deleted before reached is not produced") {
  for (bool growing : {false, true}) {
    CAPTURE(growing);
    I64Map m = I64Map::make();
    const std::int64_t n = growing ? 209 : 200;
    for (std::int64_t i = 0; i < n; i++) m.set(i, i);
    REQUIRE((m.header()->oldbuckets != nullptr) == growing);
    std::set<std::int64_t> seen, deleted;
    {
      Range it(m.type(), m.header());
      for (; !it.done(); it.next()) {
        std::int64_t k = it.key();
        REQUIRE(deleted.count(k) == 0);
        REQUIRE(seen.insert(k).second);
        // Delete a partner not seen yet: it must never show up.
        std::int64_t partner = (k * 31 + 17) % n;
        if (!seen.count(partner) && !deleted.count(partner)) {
          m.erase(partner);
          deleted.insert(partner);
        }
      }
    }
    for (std::int64_t i = 0; i < n; i++) CHECK((seen.count(i) + deleted.count(i)) >= 1);
    CHECK(m.len() == n - static_cast<std::int64_t>(deleted.size()));
    CHECK_MAP(m);
    m.drop();
  }
  gc();
}

TEST_CASE("iteration over a pointer-free map keeps the overflow slices alive") {
  I64Map m = I64Map::make(10);
  Range it(m.type(), m.header());  // empty map: nothing, no slices
  CHECK(it.done());
  m.set(1, 1);
  Range it2(m.type(), m.header());
  CHECK(it2.it.overflow == m.header()->extra->overflow);
  CHECK(it2.it.overflow != nullptr);
  m.drop();
}

namespace {
// The hiters on gomap_active_iterators, walked as a debugger does: from the
// head through the word at offset 96 (next_active).
std::vector<const hiter*> activeList() {
  std::vector<const hiter*> out;
  for (const hiter* it = gomap_active_iterators; it != nullptr && out.size() < 1000;) {
    out.push_back(it);
    const hiter* next;
    std::memcpy(&next, reinterpret_cast<const char*>(it) + 96, sizeof(next));
    it = next;
  }
  return out;
}
bool listed(const hiter* it) {
  auto l = activeList();
  return std::find(l.begin(), l.end(), it) != l.end();
}
}  // namespace

TEST_CASE("gomap_active_iterators lists every open iterator, newest first, until it ends") {
  I64Map m = I64Map::make();
  for (std::int64_t i = 0; i < 100; i++) m.set(i, i);
  auto before = activeList().size();
  {
    Range a(I64Map::type(), m.header());
    Range b(I64Map::type(), m.header());
    auto l = activeList();
    REQUIRE(l.size() == before + 2);
    CHECK(l[0] == &b.it);  // newest first
    CHECK(l[1] == &a.it);
    // The words a heap view reads: the snapshot array and the current bucket.
    std::uintptr_t buckets, bptr;
    std::memcpy(&buckets, reinterpret_cast<const char*>(&a.it) + 32, 8);
    std::memcpy(&bptr, reinterpret_cast<const char*>(&a.it) + 40, 8);
    CHECK(buckets == reinterpret_cast<std::uintptr_t>(m.header()->buckets));
    CHECK(bptr == reinterpret_cast<std::uintptr_t>(a.it.bptr));
    CHECK(bptr != 0);
    // An iteration run to its end leaves the list by itself.
    while (!a.done()) a.next();
    CHECK_FALSE(listed(&a.it));
    CHECK(listed(&b.it));
  }
  CHECK(activeList().size() == before);
  // Iterating an empty map links nothing.
  I64Map e = I64Map::make();
  Range r(I64Map::type(), e.header());
  CHECK_FALSE(listed(&r.it));
  m.drop();
  e.drop();
}

TEST_CASE("an iterator replaced by assignment leaves the active list") {
  I64Map m = I64Map::make();
  for (std::int64_t i = 0; i < 100; i++) m.set(i, i);
  REQUIRE(gomap_active_iterators == nullptr);
  auto it = m.begin();
  hiter* first = it.raw();
  REQUIRE(gomap_active_iterators == first);
  it = m.begin();  // the first hiter is freed here: it must be unlinked first
  REQUIRE(gomap_active_iterators == it.raw());
  REQUIRE(gomap_active_iterators->next_active == nullptr);
  it = m.end();
  CHECK(gomap_active_iterators == nullptr);
  m.drop();
  gc();  // walks the list: would read freed memory (or loop) if one was left
}
