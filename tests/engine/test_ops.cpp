// test_ops.cpp — assign, access, delete, clear, float and indirect keys, panics.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <type_traits>

#include "gomap/hash_inline.h"
#include "util.h"

using namespace gomap;
using gt::I64Map;
using gt::Key136;
using gt::Elem200;

namespace detail_t {
inline std::uint8_t tophashOf(std::uint64_t hash) {
  auto top = static_cast<std::uint8_t>(hash >> 56);
  return top < minTopHash ? top + minTopHash : top;
}
}  // namespace detail_t

// hash64.go's memhashFallback read byte by byte (independent of the engine's
// word loads), so that the portable path departing from Go's fails here too,
// not only against Go's own values (tests/core/test_engine_hash.py).
static std::uint64_t specMix(std::uint64_t a, std::uint64_t b) {
  unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<std::uint64_t>(r >> 64) ^ static_cast<std::uint64_t>(r);
}
static std::uint64_t specWord(const std::uint8_t* p, std::size_t size) {
  std::uint64_t w = 0;
  for (std::size_t j = 0; j < size; j++) w |= std::uint64_t{p[j]} << (8 * j);
  return w;
}
static std::uint64_t specFallback(const std::uint8_t* p, std::size_t n, std::uint64_t seed) {
  constexpr std::uint64_t m1 = 0xa0761d6478bd642fULL, m2 = 0xe7037ed1a0b428dbULL, m3 = 0x8ebc6af09c88c6e3ULL,
                          m4 = 0x589965cc75374cc3ULL, m5 = 0x1d8e4e27c47d124fULL;
  std::uint64_t s = seed ^ hashkey[0] ^ m1, a = 0, b = 0;
  if (n == 0) return s;
  if (n < 4) {
    a = std::uint64_t{p[0]} | std::uint64_t{p[n / 2]} << 8 | std::uint64_t{p[n - 1]} << 16;
  } else if (n <= 8) {
    const std::size_t w = n < 8 ? 4 : 8;
    a = specWord(p, w);
    b = specWord(p + n - w, w);
  } else if (n <= 16) {
    a = specWord(p, 8);
    b = specWord(p + n - 8, 8);
  } else {
    std::size_t off = 0, l = n;
    if (l > 48) {
      std::uint64_t s1 = s, s2 = s;
      for (; l > 48; l -= 48, off += 48) {
        s = specMix(specWord(p + off, 8) ^ m2, specWord(p + off + 8, 8) ^ s);
        s1 = specMix(specWord(p + off + 16, 8) ^ m3, specWord(p + off + 24, 8) ^ s1);
        s2 = specMix(specWord(p + off + 32, 8) ^ m4, specWord(p + off + 40, 8) ^ s2);
      }
      s ^= s1 ^ s2;
    }
    for (; l > 16; l -= 16, off += 16) s = specMix(specWord(p + off, 8) ^ m2, specWord(p + off + 8, 8) ^ s);
    a = specWord(p + off + l - 16, 8);
    b = specWord(p + off + l - 8, 8);
  }
  return specMix(m5 ^ n, specMix(a ^ m2, b ^ s));
}

// Runs f with the portable path, then puts the process's key material back.
template <class F>
static void withFallback(F f) {
  const bool aes = useAeshash;
  std::uint8_t sched[128];
  std::uintptr_t keys[4];
  std::memcpy(sched, aeskeysched, 128);
  std::memcpy(keys, hashkey, sizeof keys);
  set_hash_keys(false, sched, keys);
  f();
  set_hash_keys(aes, sched, keys);
}

TEST_CASE("hash: alginit takes the AES path on a CPU that has it, and AESENC is the AES round") {
  CHECK(useAeshash == cpu_has_aeshash());
  CHECK(hashkey[0] % 2 == 1);  // alginit's words are odd
#if GOMAP_HAVE_AESHASH
  if (cpu_has_aeshash()) {
    // FIPS-197 appendix B, round 1: the state after the first AddRoundKey and
    // the first round key give the state at the start of round 2.
    auto block = [](const char* hex) {
      std::uint8_t b[16];
      for (int i = 0; i < 16; i++) b[i] = static_cast<std::uint8_t>(std::stoul(std::string(hex + 2 * i, 2), nullptr, 16));
      return alg::loadV(b);
    };
    __m128i got = alg::aesenc(block("193de3bea0f4e22b9ac68d2ae9f84808"), block("a0fafe1788542cb123a339392a6c7605"));
    __m128i want = block("a49c7ff2689f352b6b5bea43026a5049");
    CHECK(std::memcmp(&got, &want, 16) == 0);
  }
#endif
}

TEST_CASE("hash: the portable path is hash64.go's, at every length and seed") {
  std::uint8_t bytes[200];
  for (int i = 0; i < 200; i++) bytes[i] = static_cast<std::uint8_t>(i * 7 + 1);
  withFallback([&] {
    for (std::size_t n = 0; n <= 200; n++)
      for (std::uint64_t seed : {0ull, 1ull, 0xdeadbeefull, 0x123456789abcdef0ull})
        CHECK(memhash(bytes, n, seed) == specFallback(bytes, n, seed));
    // memhash64/32Fallback: mix(m5^8, mix(a^m2, a^seed^hashkey[0]^m1)), not memhash of the 8 bytes.
    std::uint64_t k = 0x0123456789abcdefULL;
    const std::uint64_t m1 = 0xa0761d6478bd642fULL, m2 = 0xe7037ed1a0b428dbULL, m5 = 0x1d8e4e27c47d124fULL;
    CHECK(memhash64(&k, 7) == specMix(m5 ^ 8, specMix(k ^ m2, k ^ 7 ^ hashkey[0] ^ m1)));
    std::uint32_t k4 = 0x01020304;
    CHECK(memhash32(&k4, 7) == specMix(m5 ^ 4, specMix(k4 ^ m2, k4 ^ 7 ^ hashkey[0] ^ m1)));
  });
}

TEST_CASE("hash: strhash is memhash of the bytes - floats as Go's f32hash/f64hash") {
  String s = String::make("hello, gomap");
  CHECK(strhash(&s, 9) == memhash(s.str, 12, 9));
  constexpr std::uint64_t c0 = 33054211828000289ULL, c1 = 23344194077549503ULL;
  double pz = 0.0, nz = -0.0, nan = std::nan(""), x = 1.5;
  CHECK(f64hash(&pz, 3) == f64hash(&nz, 3));
  CHECK(f64hash(&pz, 3) == c1 * (c0 ^ 3));
  CHECK(f64hash(&x, 3) == memhash(&x, 8, 3));
  CHECK(f64hash(&nan, 3) != f64hash(&nan, 3));
  float fz = 0.0f, fnz = -0.0f, fx = 1.5f;
  CHECK(f32hash(&fz, 3) == f32hash(&fnz, 3));
  CHECK(f32hash(&fx, 3) == memhash(&fx, 4, 3));
}

TEST_CASE("set_hash_seed: every new map gets hash0 = seed - fastrand deterministic") {
  set_hash_seed(42);
  I64Map a = I64Map::make();
  I64Map b = I64Map::make(100);
  CHECK(a.header()->hash0 == 42);
  CHECK(b.header()->hash0 == 42);
  std::uint32_t r1 = fastrand();
  set_hash_seed(42);
  CHECK(fastrand() == r1);
  clear_hash_seed();
  a.drop();
  b.drop();
}

TEST_CASE("assign/access/delete with tophash, emptyOne and emptyRest") {
  set_hash_seed(7);
  I64Map m = I64Map::make();
  for (std::int64_t i = 0; i < 5; i++) m.set(i, i * 10);
  hmap* h = m.header();
  REQUIRE(h->B == 0);
  auto* top = static_cast<std::uint8_t*>(h->buckets);
  for (int i = 0; i < 5; i++) {
    std::int64_t key;
    std::memcpy(&key, static_cast<char*>(h->buckets) + 8 + 8 * i, 8);
    CHECK(key == i);  // one bucket, filled in order
    CHECK(top[i] == detail_t::tophashOf(memhash64(&key, h->hash0)));
  }
  CHECK(top[5] == emptyRest);
  CHECK(m.get(3) == 30);
  CHECK(m.lookup(99).second == false);
  CHECK(m.get(99) == 0);
  // Deleting in the middle leaves emptyOne; deleting the tail turns the
  // trailing run into emptyRest.
  m.erase(2);
  CHECK(top[2] == emptyOne);
  m.erase(4);
  CHECK(top[4] == emptyRest);
  m.erase(3);
  CHECK(top[3] == emptyRest);
  CHECK(top[2] == emptyRest);
  CHECK(top[1] != emptyRest);
  // The plain key bytes stay (Go clears keys only when they hold pointers);
  // the elem is cleared.
  std::int64_t stale, elem;
  std::memcpy(&stale, static_cast<char*>(h->buckets) + 8 + 8 * 3, 8);
  std::memcpy(&elem, static_cast<char*>(h->buckets) + 8 + 64 + 8 * 3, 8);
  CHECK(stale == 3);
  CHECK(elem == 0);
  // A reinsert takes the first empty cell.
  m.set(100, 1);
  CHECK(m.len() == 3);
  CHECK_MAP(m);
  // Emptying the map reseeds hash0.
  std::uint32_t seed = h->hash0;
  m.erase(0);
  m.erase(1);
  m.erase(100);
  CHECK(m.len() == 0);
  CHECK(h->hash0 != seed);
  m.drop();
  clear_hash_seed();
}

TEST_CASE("update in place and operator[]") {
  I64Map m = I64Map::make();
  m.set(1, 1);
  m.set(1, 2);
  CHECK(m.len() == 1);
  CHECK(m.get(1) == 2);
  m[1] += 5;
  m[2] = 9;
  CHECK(m.get(1) == 7);
  CHECK(m.get(2) == 9);
  I64Map alias = m;  // copying shares the hmap, as in Go
  alias.set(3, 3);
  CHECK(m.len() == 3);
  I64Map c = m.clone();
  c.set(4, 4);
  CHECK(m.len() == 3);
  CHECK(c.len() == 4);
  m.drop();
  c.drop();
}

TEST_CASE("fast32, faststr and generic entry points agree with lookups") {
  gomap::Map<std::uint32_t, std::uint8_t> a = gomap::Map<std::uint32_t, std::uint8_t>::make();
  for (std::uint32_t i = 0; i < 1500; i++) a.set(i * 2654435761u, static_cast<std::uint8_t>(i));
  for (std::uint32_t i = 0; i < 1500; i++) REQUIRE(a.get(i * 2654435761u) == static_cast<std::uint8_t>(i));
  for (std::uint32_t i = 0; i < 1500; i += 3) a.erase(i * 2654435761u);
  CHECK(a.len() == 1000);
  CHECK_MAP(a);
  a.drop();

  auto s = gomap::Map<String, std::int64_t>::make();
  std::string longPrefix(40, 'x');
  for (int i = 0; i < 500; i++) s.set(String::make(longPrefix + std::to_string(i)), i);
  s.set(String::make(""), -1);
  for (int i = 0; i < 500; i++) REQUIRE(s.get(String::make(longPrefix + std::to_string(i))) == i);
  CHECK(s.get(String::make("")) == -1);
  CHECK(s.lookup(String::make("nope")).second == false);
  CHECK_MAP(s);
  s.drop();

  // One bucket, long keys sharing first and last 4 bytes: the faststr B == 0
  // path must fall back to hashing.
  auto one = gomap::Map<String, int>::make();
  one.set(String::make("abcd-0000000000000000000000000000-wxyz"), 1);
  one.set(String::make("abcd-1111111111111111111111111111-wxyz"), 2);
  CHECK(one.header()->B == 0);
  CHECK(one.get(String::make("abcd-0000000000000000000000000000-wxyz")) == 1);
  CHECK(one.get(String::make("abcd-1111111111111111111111111111-wxyz")) == 2);
  CHECK(one.lookup(String::make("abcd-2222222222222222222222222222-wxyz")).second == false);
  one.drop();
  gc();
}

TEST_CASE("indirect keys and elems over 128 bytes") {
  using BigMap = gomap::Map<Key136, Elem200>;
  const maptype* t = BigMap::type();
  CHECK(t->indirectkey());
  CHECK(t->indirectelem());
  CHECK(t->keysize == 8);
  CHECK(t->elemsize == 8);
  CHECK(t->bucketsize == bucketSize(8, 8));
  std::uint64_t from = gomap_heap_registry.count;
  BigMap m = BigMap::make();
  for (std::uint64_t i = 0; i < 200; i++) {
    Elem200 e{};
    e.w[24] = i * 3;
    m.set(Key136::of(i), e);
  }
  for (std::uint64_t i = 0; i < 200; i++) REQUIRE(m.get(Key136::of(i)).w[24] == i * 3);
  CHECK_MAP(m);
  // The slot holds a pointer to a registry allocation of the right role.
  hmap* h = m.header();
  int keys = 0, elems = 0;
  for (const auto& r : gt::recordsOf(h, from)) {
    if (r.role == HeapRole::indirect_key && r.state == HeapState::live) {
      keys++;
      CHECK(r.size == roundupsize(136));
    }
    if (r.role == HeapRole::indirect_elem && r.state == HeapState::live) {
      elems++;
      CHECK(r.size == roundupsize(200));
    }
  }
  CHECK(keys == 200);
  CHECK(elems == 200);
  // Find a live cell and follow its pointer.
  hiter it{};
  mapiterinit(t, h, &it);
  REQUIRE(it.key != nullptr);
  const HeapRecord* kr = gt::recordFor(it.key);
  REQUIRE(kr != nullptr);
  CHECK(kr->role == HeapRole::indirect_key);
  CHECK(kr->owner == reinterpret_cast<std::uintptr_t>(h));
  Key136 victim = *static_cast<Key136*>(it.key);
  mapiterdone(&it);
  // Delete: the pointers are cleared and the memory becomes garbage.
  m.erase(victim);
  CHECK(kr->state == HeapState::unreachable);
  CHECK(m.len() == 199);
  // Generic mapassign with a small key but a big elem (no fast path).
  auto g = gomap::Map<std::int64_t, Elem200>::make();
  Elem200 e{};
  e.w[0] = 77;
  g.set(5, e);
  CHECK(g.get(5).w[0] == 77);
  CHECK(g.get(6).w[0] == 0);
  g.drop();
  m.drop();
  gc();
}

TEST_CASE("float keys: +0 == -0, NaN != NaN") {
  auto m = gomap::Map<double, int>::make();
  m.set(0.0, 1);
  m.set(-0.0, 2);
  CHECK(m.len() == 1);
  CHECK(m.get(0.0) == 2);
  // needkeyupdate: the stored key is now -0.
  hiter it{};
  mapiterinit(m.type(), m.header(), &it);
  CHECK(std::signbit(*static_cast<double*>(it.key)));
  mapiterdone(&it);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (int i = 0; i < 50; i++) m.set(nan, 100 + i);
  CHECK(m.len() == 51);
  CHECK(m.lookup(nan).second == false);
  m.erase(nan);  // deletes nothing
  CHECK(m.len() == 51);
  int nans = 0;
  std::set<int> values;
  for (auto [k, v] : m)
    if (std::isnan(k)) {
      nans++;
      values.insert(v);
    }
  CHECK(nans == 50);
  CHECK(values.size() == 50);
  CHECK_MAP(m);
  // NaNs survive growth (evacuate sends them by the tophash bit).
  for (int i = 0; i < 500; i++) m.set(static_cast<double>(i) + 0.5, i);
  nans = 0;
  for (auto [k, v] : m) nans += std::isnan(k);
  CHECK(nans == 50);
  m.clear();
  CHECK(m.len() == 0);

  auto f = gomap::Map<float, int>::make();
  f.set(-0.0f, 1);
  f.set(0.0f, 2);
  f.set(std::nanf(""), 3);
  f.set(std::nanf(""), 4);
  CHECK(f.len() == 3);
  f.drop();
  m.drop();
  gc();
}

TEST_CASE("clear keeps the array, forgets everything else") {
  I64Map m = I64Map::make();
  for (std::int64_t i = 0; i < 1000; i++) m.set(i, i);
  while (m.header()->oldbuckets != nullptr) m.set(0, 0);  // finish the grow
  hmap* h = m.header();
  void* buckets = h->buckets;
  std::uint8_t B = h->B;
  m.clear();
  CHECK(m.len() == 0);
  CHECK(h->buckets == buckets);
  CHECK(h->B == B);
  CHECK(h->noverflow == 0);
  CHECK(h->oldbuckets == nullptr);
  for (std::int64_t i = 0; i < 1000; i++) REQUIRE_FALSE(m.contains(i));
  int n = 0;
  for (auto kv : m) {
    (void)kv;
    n++;
  }
  CHECK(n == 0);
  for (std::int64_t i = 0; i < 100; i++) m.set(i, -i);
  CHECK(m.get(50) == -50);
  CHECK_MAP(m);
  // Clearing while a grow is in progress drops the old array.
  I64Map g = I64Map::make();
  for (std::int64_t i = 0; i < 105; i++) g.set(i, i);
  REQUIRE(g.header()->oldbuckets != nullptr);
  void* old = g.header()->oldbuckets;
  g.clear();
  CHECK(g.header()->oldbuckets == nullptr);
  CHECK(gt::recordFor(old)->state == HeapState::unreachable);
  CHECK_MAP(g);
  g.drop();
  m.drop();
  gc();
}

TEST_CASE("nil map: reads are zero, writes panic with Go's text") {
  I64Map m;  // var m map[int64]int64
  CHECK(m.is_nil());
  CHECK(m.len() == 0);
  CHECK(m.get(1) == 0);
  CHECK_FALSE(m.contains(1));
  m.erase(1);  // delete on a nil map is a no-op
  int n = 0;
  for (auto kv : m) {
    (void)kv;
    n++;
  }
  CHECK(n == 0);
  CHECK_THROWS_WITH_AS(m.set(1, 1), "assignment to entry in nil map", gomap::Panic);
  gomap::Map<String, int> s;
  CHECK_THROWS_WITH_AS(s.set(String::make("a"), 1), "assignment to entry in nil map", gomap::Panic);
  gomap::Map<Key136, int> g;
  CHECK_THROWS_WITH_AS(g.set(Key136::of(1), 1), "assignment to entry in nil map", gomap::Panic);
  gomap::Map<std::uint32_t, int> f32;
  CHECK_THROWS_WITH_AS(f32.set(1, 1), "assignment to entry in nil map", gomap::Panic);
}

TEST_CASE("entry points are out-of-line symbols") {
  // Taking their addresses must give distinct functions (a debugger breaks on each).
  std::set<void*> fns = {reinterpret_cast<void*>(&mapassign), reinterpret_cast<void*>(&mapassign_fast32),
                         reinterpret_cast<void*>(&mapassign_fast64), reinterpret_cast<void*>(&mapassign_faststr),
                         reinterpret_cast<void*>(&mapaccess1), reinterpret_cast<void*>(&mapaccess2),
                         reinterpret_cast<void*>(&evacuate), reinterpret_cast<void*>(&growWork),
                         reinterpret_cast<void*>(&hashGrow), reinterpret_cast<void*>(&mapiternext)};
  CHECK(fns.size() == 10);
}

TEST_CASE("hash: both paths read only the key, at every alignment and length") {
  // Both paths read whole words or 16-byte blocks, and a short key's block
  // from reads inside it: every length 0..150 at every start offset mod 16
  // gives the same hash as the same bytes elsewhere, whatever surrounds them.
  std::uint8_t buf[192];
  for (int i = 0; i < 192; i++) buf[i] = static_cast<std::uint8_t>(0xff - i * 3);
  auto check = [&] {
    for (std::size_t at = 0; at < 16; at++)
      for (std::size_t n = 0; n <= 150; n++) {
        CAPTURE(at);
        CAPTURE(n);
        std::uint8_t copy[192];
        std::memset(copy, 0x5a, sizeof copy);
        std::memcpy(copy + 24, buf + 16 + at, n);
        CHECK(memhash(buf + 16 + at, n, 0x12345678) == memhash(copy + 24, n, 0x12345678));
        String s{buf + 16 + at, static_cast<std::int64_t>(n)};
        CHECK(strhash(&s, 77) == memhash(copy + 24, n, 77));
      }
  };
  check();
  withFallback(check);
}

namespace detail_t {
using gt::mapImage;

// The fast entry points (with their release-build shortcuts) against Go's
// step-by-step generic mapassign (and mapdelete), fed the same operations on maps with the
// same seed: bucket bytes, chains, counts and grow state stay identical
// through inserts, overwrites, deletes (emptyOne/emptyRest cells reused),
// overflow chains and grows.
template <class K, class KeyOf>
void sameLayoutAsGeneric(KeyOf keyOf, int keyRange) {
  set_hash_seed(0x5eed);
  auto fast = Map<K, std::uint64_t>::make();
  auto gen = Map<K, std::uint64_t>::make();
  REQUIRE(fast.header()->hash0 == gen.header()->hash0);
  std::uint64_t x = 88172645463325252ull;
  for (int op = 0; op < 12000; op++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const K& k = keyOf(static_cast<int>((x >> 32) % static_cast<std::uint64_t>(keyRange)));
    if (x % 10 < 7 || fast.len() < 2) {
      fast.set(k, x);
      void* e = mapassign(gen.type(), gen.header(), &k);
      std::memcpy(e, &x, sizeof x);
    } else {
      fast.erase(k);
      if constexpr (std::is_same_v<K, String>)
        gen.erase(k);  // mapdelete_faststr leaves a key's len, mapdelete does not
      else
        mapdelete(gen.type(), gen.header(), &k);
    }
    if (op % 97 == 0 || op == 11999) {
      REQUIRE(fast.len() == gen.len());
      REQUIRE(mapImage(fast.type(), fast.header()) == mapImage(gen.type(), gen.header()));
    }
  }
  CHECK(fast.header()->B >= 8);  // it went through several grows
  CHECK_MAP(fast);
  fast.drop();
  gen.drop();
  gc();
}
}  // namespace detail_t

TEST_CASE("fast entry points leave the same bytes as the generic mapassign") {
  SUBCASE("fast64") {
    detail_t::sameLayoutAsGeneric<std::uint64_t>([](int i) { return std::uint64_t(i) * 0x9E3779B97F4A7C15ull; }, 5000);
  }
  SUBCASE("fast32") {
    detail_t::sameLayoutAsGeneric<std::uint32_t>([](int i) { return std::uint32_t(i) * 2654435761u; }, 5000);
  }
  SUBCASE("faststr") {
    static std::vector<std::string> bytes;
    static std::vector<String> keys;
    if (keys.empty()) {
      for (int i = 0; i < 5000; i++) bytes.push_back("key-" + std::to_string(i * 7919) + std::string(i % 23, 'z'));
      for (auto& b : bytes) keys.push_back(String{reinterpret_cast<const std::uint8_t*>(b.data()),
                                                  static_cast<std::int64_t>(b.size())});
    }
    detail_t::sameLayoutAsGeneric<String>([](int i) -> const String& { return keys[static_cast<std::size_t>(i)]; },
                                          5000);
  }
}

TEST_CASE("faststr: keys of one length differing in a single byte, bytes stored apart") {
  // A hasher that puts every key in one bucket chain with one tophash, so
  // that every lookup compares bytes against every key of its length.
  // Lookups use fresh copies: no stored key shares the pointer, and the
  // comparison has to read first/last words, middles and short tails.
  maptype mt = *Map<String, std::int64_t>::type();
  mt.hasher = [](const void*, std::uintptr_t) -> std::uint64_t { return 0xAB00000000000000ull; };
  hmap* h = makemap(&mt, 0, nullptr);
  auto keyOf = [](std::size_t n, std::size_t pos) {  // pos == n: the unchanged key
    std::string s;
    for (std::size_t i = 0; i < n; i++) s += static_cast<char>('a' + i % 26);
    if (pos < n) s[pos] = '#';
    return s;
  };
  std::int64_t v = 0;
  for (std::size_t n = 1; n <= 40; n++)
    for (std::size_t pos = 0; pos <= n; pos++) {
      std::int64_t val = v++;
      std::memcpy(mapassign_faststr(&mt, h, String::make(keyOf(n, pos))), &val, sizeof val);
    }
  CHECK(h->count == v);
  v = 0;
  for (std::size_t n = 1; n <= 40; n++) {
    for (std::size_t pos = 0; pos <= n; pos++) {
      bool ok = false;
      void* e = mapaccess2_faststr(&mt, h, String::make(keyOf(n, pos)), &ok);
      REQUIRE(ok);
      std::int64_t got;
      std::memcpy(&got, e, sizeof got);
      REQUIRE(got == v++);
    }
    std::string other = keyOf(n, n);
    other[n / 2] = '!';
    bool ok = true;
    mapaccess2_faststr(&mt, h, String::make(other), &ok);
    CHECK(!ok);
  }
  CHECK(check_invariants(&mt, h) == std::string());
  mapdrop(&mt, h);
  gc();
}

namespace detail_t {
// One chain, every case of an assignment's scan: a hasher that sends every
// key to bucket 0 of a B = 4 map (no grow for 100 entries) with one of five
// tophash bytes, so keys share tophash bytes without being equal. The fast
// entry point (release: its inline hot path) and Go's step-by-step generic
// mapassign get the same operations; their bytes must agree throughout.
template <class K> struct ChainOps;
template <> struct ChainOps<std::uint64_t> {
  static std::uint64_t hash(const void* k, std::uintptr_t) {
    std::uint64_t v;
    std::memcpy(&v, k, sizeof v);
    return std::uint64_t{0x80 + v % 5} << 56;
  }
  static std::uint64_t key(int i) { return static_cast<std::uint64_t>(i) * 1000003; }
  static void* assign(const maptype* t, hmap* h, std::uint64_t k) { return mapassign_fast64(t, h, k); }
  static void del(const maptype* t, hmap* h, std::uint64_t k) { mapdelete_fast64(t, h, k); }
};
template <> struct ChainOps<std::uint32_t> {
  static std::uint64_t hash(const void* k, std::uintptr_t) {
    std::uint32_t v;
    std::memcpy(&v, k, sizeof v);
    return std::uint64_t{0x80 + v % 5} << 56;
  }
  static std::uint32_t key(int i) { return static_cast<std::uint32_t>(i) * 7919; }
  static void* assign(const maptype* t, hmap* h, std::uint32_t k) { return mapassign_fast32(t, h, k); }
  static void del(const maptype* t, hmap* h, std::uint32_t k) { mapdelete_fast32(t, h, k); }
};
template <> struct ChainOps<String> {
  static std::uint64_t hash(const void* k, std::uintptr_t) {
    const auto* s = static_cast<const String*>(k);
    return std::uint64_t{0x80u + s->str[s->len - 1] % 5u} << 56;
  }
  static const String& key(int i) {
    static std::vector<String> keys;  // one String per i: both maps store the same pointers
    while (keys.size() <= static_cast<std::size_t>(i))
      keys.push_back(String::make("chain-" + std::to_string(keys.size())));
    return keys[static_cast<std::size_t>(i)];
  }
  static void* assign(const maptype* t, hmap* h, const String& k) { return mapassign_faststr(t, h, k); }
  static void del(const maptype* t, hmap* h, const String& k) { mapdelete_faststr(t, h, k); }
};

template <class K>
void oneChainCases() {
  using F = ChainOps<K>;
  maptype mt = *Map<K, std::uint64_t>::type();
  mt.hasher = &F::hash;
  hmap* fh = makemap(&mt, 100, nullptr);
  hmap* gh = makemap(&mt, 100, nullptr);
  REQUIRE(fh->B == 4);
  auto set = [&](int i, std::uint64_t v) {
    K k = F::key(i);
    std::memcpy(F::assign(&mt, fh, k), &v, sizeof v);
    std::memcpy(mapassign(&mt, gh, &k), &v, sizeof v);
  };
  auto del = [&](int i) {  // the same delete on both: mapdelete_faststr leaves a key's len, mapdelete does not
    K k = F::key(i);
    F::del(&mt, fh, k);
    F::del(&mt, gh, k);
  };
  auto get = [&](int i) {
    K k = F::key(i);
    bool ok = false;
    std::uint64_t v = 0;
    void* e = mapaccess2(&mt, fh, &k, &ok);
    std::memcpy(&v, e, sizeof v);
    return ok ? v : ~std::uint64_t{0};
  };
  auto same = [&] {
    REQUIRE(mapImage(&mt, fh) == mapImage(&mt, gh));
    REQUIRE(check_invariants(&mt, fh) == std::string());
  };
  auto* b0 = static_cast<std::uint8_t*>(fh->buckets);  // tophash bytes of bucket 0
  auto chainLen = [&] {
    int n = 0;
    for (const char* b = static_cast<const char*>(fh->buckets); b != nullptr; n++)
      std::memcpy(&b, b + overflowOffset(mt.bucketsize), sizeof b);
    return n;
  };

  for (int i = 1; i <= 20; i++) set(i, i);  // bucket 0, an overflow bucket, half of another
  same();
  CHECK(chainLen() == 3);
  CHECK(fh->noverflow == 2);

  // Found in the first overflow bucket: updated in place, nothing added.
  set(12, 1200);
  same();
  CHECK(fh->count == 20);
  CHECK(get(12) == 1200);
  CHECK(fh->noverflow == 2);

  // A hole (emptyOne) in bucket 0 before the chain's emptyRest: a key that
  // lives past it is still found there, not inserted again into the hole.
  del(3);
  REQUIRE(b0[2] == emptyOne);
  set(18, 1800);
  same();
  CHECK(fh->count == 19);
  CHECK(get(18) == 1800);
  CHECK(b0[2] == emptyOne);

  // A new key takes the first empty cell the scan passed: the hole.
  set(21, 21);
  same();
  CHECK(fh->count == 20);
  CHECK(b0[2] >= minTopHash);
  K k21 = F::key(21);
  CHECK(std::memcmp(static_cast<char*>(fh->buckets) + dataOffset + 2 * sizeof(K), &k21, sizeof(K)) == 0);

  // Fill the last bucket; the next new key hangs a fourth one off the chain.
  for (int i = 22; i <= 25; i++) set(i, i);
  same();
  CHECK(chainLen() == 3);
  set(26, 26);
  same();
  CHECK(chainLen() == 4);
  CHECK(fh->noverflow == 3);
  for (int i = 1; i <= 26; i++) CHECK(get(i) == (i == 3 ? ~std::uint64_t{0} : i == 12 ? 1200u : i == 18 ? 1800u : std::uint64_t(i)));

  mapdrop(&mt, fh);
  mapdrop(&mt, gh);
  gc();
}
}  // namespace detail_t

TEST_CASE("fast assignment in one overflow chain: found past a hole, hole reused, new overflow bucket") {
  SUBCASE("fast64") { detail_t::oneChainCases<std::uint64_t>(); }
  SUBCASE("fast32") { detail_t::oneChainCases<std::uint32_t>(); }
  SUBCASE("faststr") { detail_t::oneChainCases<String>(); }
}
