// test_typed.cpp — Map<K,V>'s inline release paths (map.h) against the
// runtime's entry points they stand for.
//
// In release builds (NDEBUG) a typed range loop steps inline and typed
// fast64 and string lookups run inline; debug builds call the entry points, so these
// tests compare an entry point with itself there and matter in the release
// suite (scripts/test.sh runs it).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "util.h"

using namespace gomap;
using gt::I64Map;

namespace {

// Go's fields of two iterators are equal (the engine's list links are not).
void checkSameState(const hiter& a, const hiter& b) {
  REQUIRE(a.key == b.key);
  REQUIRE(a.elem == b.elem);
  REQUIRE(a.bptr == b.bptr);
  REQUIRE(a.i == b.i);
  REQUIRE(a.bucket == b.bucket);
  REQUIRE(a.wrapped == b.wrapped);
  REQUIRE(a.checkBucket == b.checkBucket);
}

// Map<K,V>'s range loop (whose common steps are inline in release builds,
// map.h) against the type-erased mapiternext, in lockstep from the same
// start: after every step both must hold the same entry and hiter state.
// `between(step)` may write to the map between steps (both see it).
std::uint8_t lastOffset;  // the cell offset the last lockstep loop started at

template <class K, class V, class Between>
std::size_t lockstep(const gomap::Map<K, V>& m, Between&& between) {
  auto typed = m.begin();
  hiter raw = *typed.raw();
  lastOffset = raw.offset;
  raw.next_active = raw.prev_active = nullptr;  // an unlinked copy
  std::size_t steps = 0;
  while (typed != m.end()) {
    REQUIRE(steps < 1000000);  // a walk that never ends fails instead of hanging
    checkSameState(*typed.raw(), raw);
    between(steps++);
    ++typed;
    mapiternext(&raw);
  }
  checkSameState(*typed.raw(), raw);
  REQUIRE(raw.key == nullptr);
  return steps;
}

// lockstep, until loops have started at every cell offset 0..7 (the offset
// is random per loop); returns how many loops that took.
template <class K, class V>
int lockstepEveryOffset(const gomap::Map<K, V>& m) {
  unsigned seen = 0;
  int loops = 0;
  while (seen != 0xFFu && loops < 2000) {
    lockstep(m, [](std::size_t) {});
    seen |= 1u << lastOffset;
    loops++;
  }
  REQUIRE(seen == 0xFFu);
  return loops;
}

// The keys in each bucket of m's array (its overflow chain included), read
// from the bucket bytes: 8-byte keys and elems (a 144-byte bucket).
std::vector<std::vector<std::int64_t>> keysByBucket(const I64Map& m) {
  constexpr std::size_t bsize = bucketSize(8, 8);
  std::vector<std::vector<std::int64_t>> out(std::size_t{1} << m.header()->B);
  const auto* base = static_cast<const std::uint8_t*>(static_cast<const void*>(m.header()->buckets));
  for (std::size_t i = 0; i < out.size(); i++) {
    for (const std::uint8_t* b = base + i * bsize; b != nullptr;) {
      for (unsigned c = 0; c < bucketCnt; c++) {
        if (b[c] < minTopHash) continue;
        std::int64_t k;
        std::memcpy(&k, b + dataOffset + c * 8, 8);
        out[i].push_back(k);
      }
      std::memcpy(&b, b + bsize - sizeof(void*), sizeof(void*));
    }
  }
  return out;
}

// Map's typed lookups of k (inline in release builds) against what an
// entry point returned for it: the elem slot `raw` (Go's zero elem when
// absent) and okRaw.
template <class K, class V>
void typedAgrees(const gomap::Map<K, V>& m, const K& k, const void* raw, bool okRaw) {
  auto [v, ok] = m.lookup(k);
  REQUIRE(ok == okRaw);
  REQUIRE(v == *static_cast<const V*>(raw));
  REQUIRE(m.get(k) == v);
  REQUIRE(m.contains(k) == ok);
}

}  // namespace

TEST_CASE("a typed range loop steps exactly as mapiternext from every start offset, through full and emptied buckets") {
  set_hash_seed(11);
  SUBCASE("one full bucket (B = 0, eight live cells)") {
    I64Map m = I64Map::make();
    for (std::int64_t i = 0; i < 8; i++) m.set(i, i);
    REQUIRE(m.header()->B == 0);
    lockstepEveryOffset(m);
    m.drop();
  }
  SUBCASE("one live cell in a bucket of holes, at every cell") {
    for (std::int64_t keep = 0; keep < 8; keep++) {
      CAPTURE(keep);
      I64Map m = I64Map::make();
      for (std::int64_t i = 0; i < 8; i++) m.set(i, i);
      for (std::int64_t i = 0; i < 8; i++)
        if (i != keep) m.erase(i);
      REQUIRE(m.len() == 1);
      lockstepEveryOffset(m);
      m.drop();
    }
  }
  SUBCASE("whole buckets emptied, others full, overflow chains") {
    I64Map m = I64Map::make();
    for (std::int64_t i = 0; i < 400; i++) m.set(i * 7919, i);  // B = 6: some chains
    REQUIRE(m.header()->oldbuckets == nullptr);
    auto byBucket = keysByBucket(m);
    REQUIRE(byBucket.size() >= 8);
    // Empty every third bucket (and its chain), and its start-of-walk
    // neighbour wraps around to the end of the array.
    for (std::size_t i = 0; i < byBucket.size(); i += 3)
      for (auto k : byBucket[i]) m.erase(k);
    lockstepEveryOffset(m);
    m.drop();
  }
  clear_hash_seed();
  gc();
}

TEST_CASE("a typed range loop steps exactly as mapiternext while its body deletes and reinserts ahead") {
  set_hash_seed(13);
  I64Map m = I64Map::make();
  for (std::int64_t i = 0; i < 300; i++) m.set(i, i);
  std::int64_t b0 = m.header()->B;
  // Delete entries the loop may not have reached (some in the current
  // bucket), and put some back into their freed cells: no grow.
  lockstep(m, [&](std::size_t s) {
    auto k = static_cast<std::int64_t>((s * 37) % 300);
    if (s % 3 == 2) m.set(k, -1);
    else m.erase(k);
  });
  REQUIRE(m.header()->B == b0);
  REQUIRE(m.header()->oldbuckets == nullptr);
  m.drop();
  clear_hash_seed();
  gc();
}

TEST_CASE("a typed range loop whose hiter is stepped through raw() goes on from the hiter") {
  set_hash_seed(17);
  I64Map m = I64Map::make();
  for (std::int64_t i = 0; i < 200; i++) m.set(i * 977, i);
  auto typed = m.begin();
  hiter raw = *typed.raw();
  raw.next_active = raw.prev_active = nullptr;
  std::size_t steps = 0;
  while (typed != m.end()) {
    if (steps++ % 3 == 1) {  // someone else advances the loop's hiter
      mapiternext(typed.raw());
      mapiternext(&raw);
      if (raw.key == nullptr) break;
    }
    ++typed;
    mapiternext(&raw);
    checkSameState(*typed.raw(), raw);
    if (raw.key != nullptr) {
      CHECK((*typed).first == *static_cast<const std::int64_t*>(raw.key));
      CHECK(&(*typed).second == raw.elem);
    }
  }
  m.drop();
  clear_hash_seed();
  gc();
}

TEST_CASE("a moved-from typed iterator is at the end - the moved-to one goes on") {
  I64Map m = I64Map::make();
  for (std::int64_t i = 0; i < 50; i++) m.set(i, i);
  auto a = m.begin();
  ++a;
  const hiter* h = a.raw();
  auto b = std::move(a);
  CHECK_FALSE(a != m.end());
  CHECK(a.raw() == nullptr);
  CHECK(b.raw() == h);
  std::size_t n = 1;
  for (; b != m.end(); ++b) n++;
  CHECK(n == 50);
  auto c = m.begin();
  c = std::move(b);  // c's own hiter is released; b's (finished) one moves in
  CHECK_FALSE(c != m.end());
  CHECK(c.raw() == h);
  m.drop();
  gc();
}

TEST_CASE("a typed range loop steps exactly as mapiternext: chains, holes, grows, deletes") {
  set_hash_seed(7);
  SUBCASE("plain, with overflow chains and emptyOne holes") {
    for (std::int64_t n : {1, 8, 13, 200, 5000}) {
      CAPTURE(n);
      I64Map m = I64Map::make();
      for (std::int64_t i = 0; i < n; i++) m.set(i * 977, i);
      for (std::int64_t i = 0; i < n; i += 3) m.erase(i * 977);  // holes in every bucket
      CHECK(lockstep(m, [](std::size_t) {}) == static_cast<std::size_t>(m.len()));
      m.drop();
    }
  }
  SUBCASE("a grow starts during the loop, and the loop started during a grow") {
    I64Map m = I64Map::make();
    std::int64_t next = 0;
    for (; next < 53; next++) m.set(next, next);  // the 53rd insert will grow (B=3)
    lockstep(m, [&](std::size_t) {
      for (int j = 0; j < 3; j++, next++) m.set(next * 131, next);  // grows, evacuates
    });
    // Mid-grow: the next grow has started and has old buckets left to move.
    while (m.header()->oldbuckets == nullptr) m.set(7 * next++, 0);
    lockstep(m, [&](std::size_t s) {
      if (s % 2) m.erase((s / 2) * 131);
      else m.set(100000 + static_cast<std::int64_t>(s), 1);
    });
    m.drop();
  }
  SUBCASE("strings and indirect keys and elems") {
    gomap::Map<gomap::String, std::int64_t> s = gomap::Map<gomap::String, std::int64_t>::make();
    for (int i = 0; i < 300; i++) s.set(gomap::String::make("k" + std::to_string(i)), i);
    lockstep(s, [](std::size_t) {});
    s.drop();
    auto big = gomap::Map<gt::Key136, gt::Elem200>::make();
    for (std::uint64_t i = 0; i < 100; i++) big.set(gt::Key136::of(i), gt::Elem200{{i}});
    lockstep(big, [](std::size_t) {});
    big.drop();
  }
  clear_hash_seed();
  gc();
}

TEST_CASE("a typed fast64 lookup finds what mapaccess2_fast64 finds: chains, holes, absent keys, mid-grow") {
  set_hash_seed(11);
  I64Map m = I64Map::make();
  auto agree = [&](std::int64_t k) {
    bool okRaw = false;
    const void* raw = mapaccess2_fast64(m.type(), m.header(), static_cast<std::uint64_t>(k), &okRaw);
    typedAgrees(m, k, raw, okRaw);
  };
  std::int64_t n = 0;
  for (int round = 0; round < 6; round++) {
    // Grow, delete every third key (emptyOne holes), and probe while the
    // map is mid-grow (the entry point's path) and once it has settled.
    std::int64_t target = n + 700;
    for (; n < target; n++) m.set(n * 7919, n);
    for (std::int64_t k = round; k < n; k += 3) m.erase(k * 7919);
    for (std::int64_t k = 0; k < n + 50; k++) agree(k * 7919);   // present, deleted, never there
    agree(-1);
  }
  // The probes above reached keys in overflow buckets too.
  REQUIRE(m.header()->noverflow > 0);
  m.drop();
  I64Map empty = I64Map::make();
  CHECK(empty.get(5) == 0);
  CHECK_FALSE(empty.contains(5));
  empty.drop();
  I64Map nil;
  CHECK(nil.get(5) == 0);
  clear_hash_seed();
  gc();
}

TEST_CASE("a typed string lookup finds what mapaccess2_faststr finds: every length class, copies, absent keys, mid-grow") {
  set_hash_seed(12);
  using SMap = gomap::Map<String, std::int64_t>;
  SMap m = SMap::make();
  // Spellings of every length the byte compare treats apart (0, 1-3, 4-7,
  // 8-16, over 16 with a middle for memcmp), and keys that agree at both
  // ends and differ only in the middle.
  auto spell = [](std::int64_t n) {
    std::string s = std::to_string(n);
    switch (n % 6) {
      case 0: return s.substr(0, 1 + s.size() % 3);
      case 1: return "ab" + s;
      case 2: return "k" + s + "-12345678";
      case 3: return "head--" + s + "--middle--tail";
      case 4: return std::string("x") + std::string(40, 'm') + s + std::string(40, 'm') + "y";
      default: return s;
    }
  };
  auto agree = [&](const std::string& spelling) {
    // A copy made apart from the stored key: equal bytes at another address.
    String k = String::make(spelling);
    bool okRaw = false;
    const void* raw = mapaccess2_faststr(m.type(), m.header(), k, &okRaw);
    // Both share abi.h's findStrKey: the generic mapaccess2 (the key type's
    // equal, cell by cell) is the oracle for it.
    bool okGeneric = false;
    const void* generic = mapaccess2(m.type(), m.header(), &k, &okGeneric);
    REQUIRE(okRaw == okGeneric);
    REQUIRE(raw == generic);
    typedAgrees(m, k, raw, okRaw);
  };
  std::int64_t n = 0;
  m.set(String::make(""), -7);
  for (int round = 0; round < 5; round++) {
    std::int64_t target = n + 600;
    for (; n < target; n++) m.set(String::make(spell(n)), n);
    for (std::int64_t k = round; k < n; k += 4) m.erase(String::make(spell(k)));
    for (std::int64_t k = 0; k < n + 40; k++) agree(spell(k));  // present, deleted, never there
    agree("");
    agree("head--1--middle--tai!");  // the same ends as a stored key, another middle
    agree("x" + std::string(40, 'm') + "1" + std::string(40, 'M') + "y");
  }
  REQUIRE(m.header()->noverflow > 0);
  m.erase(String::make(""));
  agree("");  // an emptied cell's cleared key must not match the empty key
  m.drop();
  SMap nil;
  CHECK(nil.get(String::make("a")) == 0);
  clear_hash_seed();
  gc();
}

TEST_CASE("sameStringBytes is memcmp for every length and every differing byte") {
  for (std::size_t n = 0; n <= 40; n++) {
    std::string a(n, '\0');
    for (std::size_t i = 0; i < n; i++) a[i] = static_cast<char>('a' + (i * 7) % 26);
    std::string b = a;  // equal bytes at another address
    auto* pa = reinterpret_cast<const std::uint8_t*>(a.data());
    auto* pb = reinterpret_cast<const std::uint8_t*>(b.data());
    REQUIRE(sameStringBytes(pa, pa, n));
    REQUIRE(sameStringBytes(pa, pb, n));
    for (std::size_t i = 0; i < n; i++) {
      b[i] ^= 0x20;
      INFO("n=" << n << " differing byte " << i);
      REQUIRE_FALSE(sameStringBytes(pa, pb, n));
      b[i] ^= 0x20;
    }
  }
}
