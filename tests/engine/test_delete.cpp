// Deletes: the emptyOne/emptyRest marks Go's mapdelete leaves, from every
// delete entry point, in every build (release builds take the fast entry
// points' inline hot path, fastint.h's fastDeleteHot).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "util.h"

using namespace gomap;

namespace {

struct Elem96 {
  std::uint64_t w[12];
};

template <class K> K chainKey(std::uint64_t i);
template <> std::uint64_t chainKey(std::uint64_t i) { return i * 0x9E3779B97F4A7C15ull; }
template <> std::uint32_t chainKey(std::uint64_t i) { return static_cast<std::uint32_t>(i * 2654435761u); }

// The emptyRest cells of each bucket of chain 0, first bucket first.
std::vector<int> restCells(const maptype* t, const hmap* h) {
  std::vector<int> out;
  for (const char* b = static_cast<const char*>(h->buckets); b != nullptr;) {
    out.push_back(static_cast<int>(std::count(b, b + bucketCnt, static_cast<char>(emptyRest))));
    std::memcpy(&b, b + overflowOffset(t->bucketsize), sizeof b);
  }
  return out;
}

// Maps of 9 to 30 keys that all hash (with the map's own hasher, so the
// release hot path takes them) to bucket 0 of a B = 4 map: one chain of two to
// four buckets. Each round fills two maps alike, then deletes every key (and a
// few absent ones) in a random order, one map through the fast entry point,
// the other through Go's step-by-step generic mapdelete; after every delete
// both maps' bytes must be the same. V = Elem96 sends the hot path's declined
// case (an elem other than 8 bytes, still inline: Go picks the fast entry
// points for elems up to 128 bytes) through the same comparison.
template <class K, class V>
void chainDeletes(void (*fastDelete)(const maptype*, hmap*, K)) {
  set_hash_seed(0xde1e7e);
  const maptype* t = Map<K, V>::type();
  hmap* probe = makemap(t, 100, nullptr);
  REQUIRE(probe->B == 4);
  std::vector<K> keys;
  for (std::uint64_t i = 1; keys.size() < 33; i++) {
    K k = chainKey<K>(i);
    if ((t->hasher(&k, probe->hash0) & 15) == 0) keys.push_back(k);
  }
  mapdrop(t, probe);

  std::mt19937_64 rng(7);
  int walksBack = 0;  // deletes whose emptyRest run went on into an earlier bucket of the chain
  int lastCell = 0;   // deletes of cell 7 of a bucket with an overflow bucket after it
  for (int round = 0; round < 80; round++) {
    hmap* fh = makemap(t, 100, nullptr);
    hmap* gh = makemap(t, 100, nullptr);
    REQUIRE(fh->hash0 == gh->hash0);
    const std::size_t n = 9 + static_cast<std::size_t>(round) % 22;
    for (std::size_t j = 0; j < n; j++) {
      for (hmap* h : {fh, gh}) {
        auto* e = static_cast<unsigned char*>(mapassign(t, h, &keys[j]));
        std::memset(e, static_cast<int>(j + 1), sizeof(V));
      }
    }
    REQUIRE(fh->B == 4);
    REQUIRE(restCells(t, fh).size() == (n + 7) / 8);
    std::vector<K> order(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(n) + 3);  // 3 never inserted
    std::shuffle(order.begin(), order.end(), rng);
    for (const K& k : order) {
      const std::vector<int> before = restCells(t, gh);
      for (const char* b = static_cast<const char*>(gh->buckets);;) {
        const char* next;
        std::memcpy(&next, b + overflowOffset(t->bucketsize), sizeof next);
        if (next == nullptr) break;
        K at;
        std::memcpy(&at, b + dataOffset + (bucketCnt - 1) * sizeof(K), sizeof(K));
        if (at == k && static_cast<unsigned char>(b[bucketCnt - 1]) >= minTopHash) lastCell++;
        b = next;
      }
      fastDelete(t, fh, k);
      mapdelete(t, gh, &k);
      REQUIRE(gt::mapImage(t, fh) == gt::mapImage(t, gh));
      const std::vector<int> after = restCells(t, gh);
      int changed = 0;
      for (std::size_t d = 0; d < after.size(); d++) changed += after[d] != before[d];
      walksBack += changed > 1;
    }
    CHECK(fh->count == 0);
    for (int r : restCells(t, fh)) CHECK(r == bucketCnt);  // all emptyRest once the chain is empty
    mapdrop(t, fh);
    mapdrop(t, gh);
  }
  // The rounds went through the cases that leave the bucket: both happen
  // dozens of times with these keys and this seed.
  CHECK(walksBack > 5);
  CHECK(lastCell > 5);
  gc();
}

}  // namespace

TEST_CASE("delete in one overflow chain: the fast entry points leave the bytes Go's mapdelete leaves") {
  SUBCASE("fast64, 8-byte elems") { chainDeletes<std::uint64_t, std::uint64_t>(&mapdelete_fast64); }
  SUBCASE("fast64, 96-byte elems") { chainDeletes<std::uint64_t, Elem96>(&mapdelete_fast64); }
  SUBCASE("fast32, 8-byte elems") { chainDeletes<std::uint32_t, std::uint64_t>(&mapdelete_fast32); }
}

TEST_CASE("delete: the last entry reseeds the map - absent keys and empty maps change nothing") {
  set_hash_seed(0x1a57);
  auto m = Map<std::uint64_t, std::uint64_t>::make();
  for (std::uint64_t k = 1; k <= 50; k++) m.set(k, k);
  const std::string full = gt::mapImage(m.type(), m.header());
  m.erase(51);
  CHECK(gt::mapImage(m.type(), m.header()) == full);
  const std::uint32_t seed = m.header()->hash0;
  for (std::uint64_t k = 1; k < 50; k++) m.erase(k);
  CHECK(m.len() == 1);
  CHECK(m.header()->hash0 == seed);
  m.erase(50);
  CHECK(m.len() == 0);
  CHECK(m.header()->hash0 != seed);  // Go's mapdelete: h.hash0 = fastrand() when the map empties
  CHECK((m.header()->flags & hashWriting) == 0);
  const std::string empty = gt::mapImage(m.type(), m.header());
  m.erase(50);
  CHECK(gt::mapImage(m.type(), m.header()) == empty);
  CHECK_MAP(m);
  m.drop();
  gc();
}
