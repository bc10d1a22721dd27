// test_heap.cpp — the allocation registry a debugger reads (heap.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include <sys/mman.h>

#include "util.h"

using namespace gomap;
using gt::I64Map;

namespace {

std::uint64_t firstWord(std::uint64_t addr) {
  std::uint64_t w;
  std::memcpy(&w, reinterpret_cast<void*>(addr), 8);
  return w;
}

// Insert sequential keys until a grow has started and then finished.
void growOnce(I64Map& m, std::int64_t& next) {
  std::uint8_t B = m.header()->B;
  while (m.header()->B == B) m.set(next, next), next++;
  while (m.header()->oldbuckets != nullptr) m.set(next, next), next++;
}

}  // namespace

TEST_CASE("registry header") {
  const HeapRegistry& r = gomap_heap_registry;
  CHECK(std::memcmp(r.magic, "GOMAPHR1", 8) == 0);
  CHECK(r.version == kHeapVersion);
  CHECK(r.record_size == sizeof(HeapRecord));
}

TEST_CASE("each allocation is recorded with role, owner, B and sequence") {
  gc();
  std::uint64_t from = gomap_heap_registry.count;
  std::uint64_t seq0 = gomap_heap_registry.seq;
  I64Map m = I64Map::make();
  hmap* h = m.header();
  const HeapRecord* hr = gt::recordFor(h);
  REQUIRE(hr != nullptr);
  CHECK(hr->role == HeapRole::hmap);
  CHECK(hr->owner == reinterpret_cast<std::uintptr_t>(h));
  CHECK(hr->size == 48);
  CHECK(hr->alloc_seq == seq0 + 1);
  CHECK(hr->state == HeapState::live);
  // The first assign allocates the single bucket (B = 0, lazily).
  m.set(1, 1);
  const HeapRecord* br = gt::recordFor(h->buckets);
  REQUIRE(br != nullptr);
  CHECK(br->role == HeapRole::buckets);
  CHECK(br->owner == reinterpret_cast<std::uintptr_t>(h));
  CHECK(br->B == 0);
  CHECK(br->nbuckets == 1);
  CHECK(br->size == roundupsize(144));
  CHECK(br->alloc_seq > hr->alloc_seq);

  // An overflow bucket of its own: a map with B < 4 has no spares, so newoverflow
  // allocates one. Nine keys of one bucket (picked with the map's own hash seed)
  // overflow it without growing the map (13 entries fit in B = 1).
  I64Map big = I64Map::make(13);
  REQUIRE(big.header()->B == 1);
  int inBucket0 = 0;
  for (std::int64_t k = 0; inBucket0 < 9; k++) {
    if (I64Map::type()->hasher(&k, static_cast<std::uintptr_t>(big.header()->hash0)) & 1) continue;
    big.set(k, k);
    inBucket0++;
  }
  REQUIRE(big.header()->B == 1);
  REQUIRE(big.header()->noverflow == 1);
  bool sawOverflow = false, sawSlice = false;
  for (const auto& r : gt::recordsOf(big.header(), from)) {
    if (r.role == HeapRole::overflow) {
      sawOverflow = true;
      CHECK(r.size == 144);
      CHECK(r.B == big.header()->B);  // the owner's B when it was allocated
    }
    // map[int64]int64 buckets hold no pointers: overflow buckets are listed
    // in extra.overflow (*[]*bmap), as in Go.
    if (r.role == HeapRole::mapextra) sawSlice = true;
  }
  CHECK(sawOverflow);
  CHECK(sawSlice);
  REQUIRE(big.header()->extra != nullptr);
  REQUIRE(big.header()->extra->overflow != nullptr);
  CHECK(big.header()->extra->overflow->len == 1);
  m.drop();
  big.drop();
  gc();
}

TEST_CASE("a finished grow makes the old array unreachable - gc frees and poisons it") {
  gc();
  I64Map m = I64Map::make();
  std::int64_t next = 0;
  growOnce(m, next);  // B 0 -> 1
  growOnce(m, next);  // B 1 -> 2
  void* current = m.header()->buckets;
  std::uint8_t B = m.header()->B;
  // Start the next grow and remember the array that becomes oldbuckets.
  while (m.header()->B == B) m.set(next, next), next++;
  void* old = m.header()->oldbuckets;
  REQUIRE(old == current);
  const HeapRecord* rec = gt::recordFor(old);
  REQUIRE(rec != nullptr);
  std::uint64_t idx = static_cast<std::uint64_t>(rec - gomap_heap_registry.records);
  CHECK(rec->state == HeapState::live);  // still reached while growing
  while (m.header()->oldbuckets != nullptr) m.set(next, next), next++;
  rec = &gomap_heap_registry.records[idx];
  CHECK(rec->state == HeapState::unreachable);
  CHECK(rec->dead_seq > rec->alloc_seq);
  CHECK(rec->free_seq == 0);
  std::uint64_t cycles = gomap_heap_registry.gc_cycles;
  CHECK(gc() >= 1);
  rec = &gomap_heap_registry.records[idx];
  CHECK(gomap_heap_registry.gc_cycles == cycles + 1);
  CHECK(rec->state == HeapState::freed);
  CHECK(rec->free_seq > rec->dead_seq);
  CHECK(firstWord(rec->addr) == kPoison);  // in quarantine: readable, poisoned
  CHECK(gc() == 0);                         // nothing left to collect
  // The new array stays live.
  CHECK(gt::recordFor(m.header()->buckets)->state == HeapState::live);
  m.drop();
  gc();
}

TEST_CASE("an iterator pins the old array until it is done") {
  gc();
  I64Map m = I64Map::make();
  std::int64_t next = 0;
  growOnce(m, next);
  growOnce(m, next);
  growOnce(m, next);  // B = 3
  void* snapshot = m.header()->buckets;
  hiter it{};
  mapiterinit(m.type(), m.header(), &it);
  REQUIRE(it.buckets == snapshot);
  growOnce(m, next);  // the iterator's array is now the map's former array
  const HeapRecord* rec = gt::recordFor(snapshot);
  std::uint64_t idx = static_cast<std::uint64_t>(rec - gomap_heap_registry.records);
  CHECK(rec->state == HeapState::unreachable);
  gc();
  rec = &gomap_heap_registry.records[idx];
  CHECK(rec->state == HeapState::unreachable);  // pinned by the iterator
  CHECK(firstWord(rec->addr) != kPoison);
  // The iterator still works on its snapshot.
  int n = 0;
  for (; it.key != nullptr; mapiternext(&it)) n++;
  CHECK(n >= 1);
  mapiterdone(&it);  // idempotent after the end
  gc();
  rec = &gomap_heap_registry.records[idx];
  CHECK(rec->state == HeapState::freed);
  m.drop();
  gc();
}

TEST_CASE("drop marks everything a map owns unreachable - accounting adds up") {
  gc();
  const HeapRegistry& r = gomap_heap_registry;
  std::uint64_t from = r.count;
  std::uint64_t live0 = r.live_bytes;
  auto m = gomap::Map<gt::Key136, std::int64_t>::make(100);
  for (std::uint64_t i = 0; i < 300; i++) m.set(gt::Key136::of(i), 1);
  hmap* h = m.header();
  std::uint64_t liveOwned = 0;
  for (const auto& rec : gt::recordsOf(h, from))
    if (rec.state == HeapState::live) liveOwned += rec.size;
  CHECK(r.live_bytes - live0 == liveOwned);
  m.drop();
  for (const auto& rec : gt::recordsOf(h, from)) CHECK(rec.state != HeapState::live);
  CHECK(r.live_bytes == live0);
  gc();
  for (const auto& rec : gt::recordsOf(h, from)) CHECK(rec.state == HeapState::freed);
  CHECK(r.unreachable_bytes == 0);
}

TEST_CASE("the registry keeps every record as it grows (reallocated, it may move)") {
  gc();
  const std::uint64_t from = gomap_heap_registry.count;
  const std::uint64_t cap0 = gomap_heap_registry.capacity;
  // Enough small allocations to double the registry's capacity twice.
  const std::uint64_t n = 2 * cap0 + 1000;
  std::vector<void*> ps;
  ps.reserve(n);
  for (std::uint64_t i = 0; i < n; i++) ps.push_back(heap_alloc(16 + 16 * (i % 8), HeapRole::overflow, nullptr, 0));
  const HeapRegistry& r = gomap_heap_registry;
  REQUIRE(r.count == from + n);
  CHECK(r.capacity >= 4 * cap0);
  std::uint64_t bad = 0;
  for (std::uint64_t i = 0; i < n; i++) {
    const HeapRecord& rec = r.records[from + i];
    bad += rec.addr != reinterpret_cast<std::uintptr_t>(ps[i]) || rec.size != 16 + 16 * (i % 8) ||
           rec.state != HeapState::live || (i > 0 && rec.alloc_seq != r.records[from + i - 1].alloc_seq + 1);
  }
  CHECK(bad == 0);
  for (void* p : ps) heap_drop(p);
  gc();
  CHECK(r.records[from].state == HeapState::freed);
  CHECK(r.records[from + n - 1].state == HeapState::freed);
}

namespace {

// Every record against the header and the memory: allocation order; the
// header's totals; only freed records flagged reused; freed memory that was
// not given back still poisoned (it is in the quarantine); live and garbage
// memory recorded by its latest record only. Returns how many records are
// flagged reused.
std::uint64_t checkRegistry() {
  const HeapRegistry& r = gomap_heap_registry;
  REQUIRE(r.count <= r.capacity);
  std::uint64_t sums[3] = {0, 0, 0};
  std::uint64_t reused = 0, misordered = 0, badFlag = 0, notPoisoned = 0, shadowed = 0;
  std::unordered_map<std::uint64_t, std::uint64_t> latest;  // addr -> index of its newest record
  for (std::uint64_t i = 0; i < r.count; i++) {
    const HeapRecord& rec = r.records[i];
    misordered += i > 0 && rec.alloc_seq <= r.records[i - 1].alloc_seq;
    sums[static_cast<int>(rec.state)] += rec.size;
    latest[rec.addr] = i;
    if (rec.flags & kRecordReused) {
      reused++;
      badFlag += rec.state != HeapState::freed;
    } else if (rec.state == HeapState::freed) {
      notPoisoned += firstWord(rec.addr) != kPoison;
    }
  }
  for (std::uint64_t i = 0; i < r.count; i++)
    shadowed += r.records[i].state != HeapState::freed && latest[r.records[i].addr] != i;
  CHECK(misordered == 0);
  CHECK(badFlag == 0);
  CHECK(notPoisoned == 0);
  CHECK(shadowed == 0);
  CHECK(sums[0] == r.live_bytes);
  CHECK(sums[1] == r.unreachable_bytes);
  CHECK(sums[2] == r.freed_bytes);
  return reused;
}

}  // namespace

TEST_CASE("past its history limit gc forgets the oldest reused records and renumbers the rest") {
  gc();
  constexpr std::size_t limit = 64;
  const std::size_t oldLimit = heap_set_history(limit);
  const HeapRegistry& r = gomap_heap_registry;
  // Through it all: a map that stays live and grows, and one of its former
  // arrays kept unreachable (not freed) by an iterator.
  I64Map m = I64Map::make();
  std::int64_t next = 0;
  for (int i = 0; i < 3; i++) growOnce(m, next);
  void* pinned = m.header()->buckets;
  hiter it{};
  mapiterinit(m.type(), m.header(), &it);
  growOnce(m, next);
  REQUIRE(gt::recordFor(pinned)->state == HeapState::unreachable);

  // Churn: objects of the 32 KiB class, dropped and collected. Past the
  // quarantine's 64 MiB the oldest are given back (reused, flagged), and past
  // `limit` of those gc forgets records, moving every later one down.
  const std::uint64_t made0 = r.count + r.forgotten;
  const std::uint64_t forgotten0 = r.forgotten;
  constexpr int rounds = 6, perRound = 1000;
  int owner = 0;
  for (int round = 0; round < rounds; round++) {
    std::vector<void*> ps;
    for (int i = 0; i < perRound; i++) {
      ps.push_back(heap_alloc(30000, HeapRole::mapextra, &owner, 0));
      std::memset(ps.back(), 0x5a, 64);
    }
    checkRegistry();  // memory handed out again is flagged on its old record
    for (void* p : ps) heap_drop(p);
    gc();
    CHECK(checkRegistry() <= limit);
  }
  CHECK(r.forgotten > forgotten0);
  CHECK(r.count + r.forgotten == made0 + rounds * perRound);  // every record kept or counted
  CHECK(r.count < made0 + rounds * perRound - 2 * perRound);

  // The pinned array's record moved: gc finds it through the renumbered
  // unreachable list once the iterator lets go.
  const HeapRecord* rec = gt::recordFor(pinned);
  REQUIRE(rec != nullptr);
  CHECK(rec->state == HeapState::unreachable);
  for (; it.key != nullptr; mapiternext(&it)) {
  }
  gc();
  CHECK(gt::recordFor(pinned)->state == HeapState::freed);
  // The live map's arrays: heap_drop finds their records through the
  // renumbered slot words.
  void* current = m.header()->buckets;
  growOnce(m, next);
  CHECK(gt::recordFor(current)->state == HeapState::unreachable);
  CHECK(gt::recordFor(m.header()->buckets)->state == HeapState::live);
  checkRegistry();
  m.drop();
  gc();
  checkRegistry();
  heap_set_history(oldLimit);
}

TEST_CASE("recording can be switched off") {
  std::uint64_t count = gomap_heap_registry.count;
  heap_set_recording(false);
  I64Map m = I64Map::make(100);
  for (std::int64_t i = 0; i < 1000; i++) m.set(i, i);
  m.drop();
  gc();
  heap_set_recording(true);
  CHECK(gomap_heap_registry.count == count);
}

TEST_CASE("recording off: an iterator still keeps a dropped array readable until gc") {
  heap_set_recording(false);
  I64Map m = I64Map::make();
  std::int64_t next = 0;
  growOnce(m, next);
  growOnce(m, next);
  hiter it{};
  mapiterinit(m.type(), m.header(), &it);
  growOnce(m, next);  // drops the array the iterator walks (ASan would flag a free)
  int n = 0;
  for (; it.key != nullptr; mapiternext(&it)) n++;
  CHECK(n >= 1);
  gc();
  m.drop();
  heap_set_recording(true);
}

TEST_CASE("big bucket arrays (mapped on huge pages) start zeroed and are poisoned whole when freed") {
  gc();
  // hint 100000 -> B = 14: 16384 + 1024 buckets of 144 bytes, over 2 MiB.
  for (int round = 0; round < 2; round++) {  // the second round may reuse the first's memory
    CAPTURE(round);
    I64Map m = I64Map::make(100000);
    REQUIRE(m.header()->B == 14);
    const HeapRecord* rec = gt::recordFor(m.header()->buckets);
    REQUIRE(rec != nullptr);
    CHECK(rec->size == roundupsize(17408 * 144));
    CHECK(rec->size >= (std::uint64_t{2} << 20));
    CHECK(rec->addr % 16 == 0);
    std::uint64_t idx = static_cast<std::uint64_t>(rec - gomap_heap_registry.records);
    // Zero everywhere but the last spare's end-of-spares overflow pointer.
    const auto* p = reinterpret_cast<const std::uint8_t*>(rec->addr);
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < 17408 * 144 - 8; i++) nonzero += p[i] != 0;
    CHECK(nonzero == 0);
    set_invariant_checks(false);  // O(2^14) per insert; checked once below
    for (std::int64_t i = 0; i < 20000; i++) m.set(i, i);
    set_invariant_checks(true);
    CHECK(check_invariants(I64Map::type(), m.header()).empty());
    CHECK(m.header()->B == 14);  // the hint was big enough: no grow
    CHECK(m.get(19999) == 19999);
    m.drop();
    CHECK(gc() >= 1);
    rec = &gomap_heap_registry.records[idx];
    REQUIRE(rec->state == HeapState::freed);
    std::size_t poisoned = 0;
    for (std::uint64_t off = 0; off < rec->size; off += 8) poisoned += firstWord(rec->addr + off) == kPoison;
    CHECK(poisoned == rec->size / 8);
  }
  // Recording off changes nothing but the records: a dropped big array waits
  // for gc(), is poisoned whole, and is then reused cleared.
  heap_set_recording(false);
  const std::uint64_t count = gomap_heap_registry.count;
  I64Map u = I64Map::make(100000);
  for (std::int64_t i = 0; i < 1000; i++) u.set(i, i);
  CHECK(u.get(999) == 999);
  const auto* firstArray = static_cast<const std::uint8_t*>(u.header()->buckets);
  u.drop();
  CHECK(firstWord(reinterpret_cast<std::uintptr_t>(firstArray)) != kPoison);  // garbage, not yet collected
  gc();
  std::size_t poisoned = 0;
  for (std::size_t off = 0; off < 17408 * 144; off += 8)
    poisoned += firstWord(reinterpret_cast<std::uintptr_t>(firstArray) + off) == kPoison;
  CHECK(poisoned == 17408 * 144 / 8);
  I64Map v = I64Map::make(100000);
  const auto* q = static_cast<const std::uint8_t*>(v.header()->buckets);
  std::size_t dirty = 0;
  for (std::size_t i = 0; i < 17408 * 144 - 8; i++) dirty += q[i] != 0;
  CHECK(dirty == 0);
  CHECK(v.get(999) == 0);
  v.drop();
  gc();
  CHECK(gomap_heap_registry.count == count);
  heap_set_recording(true);
}

namespace {
// Whether the page at p is mapped in this process.
bool mapped(const void* p) {
  unsigned char v;
  auto page = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{4095};
  return mincore(reinterpret_cast<void*>(page), 4096, &v) == 0;
}
}  // namespace

TEST_CASE("big arrays given back stay mapped, as many as were ever in use at once, and are reused cleared") {
  // Two arrays of 160 MB (hint 4M -> B = 20): together past the 256 MB the
  // engine keeps at least; it keeps both, as both were in use at once. (Each
  // is more than the quarantine holds, so gc() gives both back at once.)
  I64Map a = I64Map::make(4000000);
  I64Map b = I64Map::make(4000000);
  REQUIRE(a.header()->B == 20);
  a.set(1, 1);
  b.set(2, 2);
  void* arrA = a.header()->buckets;
  void* arrB = b.header()->buckets;
  auto* elemA = static_cast<const std::int64_t*>(mapaccess1_fast64(I64Map::type(), a.header(), 1));
  auto* elemB = static_cast<const std::int64_t*>(mapaccess1_fast64(I64Map::type(), b.header(), 2));
  REQUIRE(*elemA == 1);
  REQUIRE(*elemB == 2);
  a.drop();
  b.drop();
  gc();
  CHECK(mapped(arrA));
  CHECK(mapped(arrB));
  I64Map c = I64Map::make(4000000);
  I64Map d = I64Map::make(4000000);
  std::set<void*> again = {c.header()->buckets, d.header()->buckets};
  CHECK(again == std::set<void*>{arrA, arrB});
  CHECK(*elemA == 0);  // cleared
  CHECK(*elemB == 0);
  c.drop();
  d.drop();
  gc();
}

// --- the allocator under the registry (heap_span.h) --------------------------

namespace {

// The record heap_alloc just appended (single-threaded callers).
std::uint64_t lastRecord() { return gomap_heap_registry.count - 1; }

const HeapRecord& rec(std::uint64_t idx) { return gomap_heap_registry.records[idx]; }

// Go's class_to_size, independent of the engine's copy: the smallest class
// that fits, by search.
std::size_t referenceClassSize(std::size_t size) {
  static constexpr std::size_t classes[] = {
      0,     8,     16,    24,    32,    48,    64,    80,    96,    112,   128,   144,
      160,   176,   192,   208,   224,   240,   256,   288,   320,   352,   384,   416,
      448,   480,   512,   576,   640,   704,   768,   896,   1024,  1152,  1280,  1408,
      1536,  1792,  2048,  2304,  2688,  3072,  3200,  3456,  4096,  4864,  5376,  6144,
      6528,  6784,  6912,  8192,  9472,  9728,  10240, 10880, 12288, 13568, 14336, 16384,
      18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768};
  for (std::size_t c : classes)
    if (c >= size) return c;
  return 0;
}

bool allZero(const void* p, std::size_t n) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  for (std::size_t i = 0; i < n; i++)
    if (b[i] != 0) return false;
  return true;
}

}  // namespace

TEST_CASE("roundupsize: the direct class index agrees with a search of Go's classes for every small size") {
  for (std::size_t size = 0; size < 32768; size++) {
    if (roundupsize(size) != referenceClassSize(size)) {
      CAPTURE(size);
      REQUIRE(roundupsize(size) == referenceClassSize(size));
    }
  }
}

TEST_CASE("every size class: zeroed, 16-aligned, distinct slots - each one found again by heap_drop") {
  gc();
  int owner = 0;
  for (std::size_t size = 1; size < 32768; size = size < 1024 ? size + 8 : size + 384) {
    CAPTURE(size);
    // Two spans' worth of the biggest classes, many slots of the small ones:
    // heap_drop must find the last slot of a span as well as the first.
    int n = size < 1024 ? 130 : 12;
    std::vector<std::uint64_t> idx;
    std::vector<std::uint8_t*> ps;
    for (int i = 0; i < n; i++) {
      auto* p = static_cast<std::uint8_t*>(heap_alloc(size, HeapRole::mapextra, &owner, 0));
      idx.push_back(lastRecord());
      ps.push_back(p);
      REQUIRE(reinterpret_cast<std::uintptr_t>(p) % 16 == 0);
      CHECK(rec(idx.back()).addr == reinterpret_cast<std::uintptr_t>(p));
      CHECK(rec(idx.back()).size == roundupsize(size));
      CHECK(rec(idx.back()).state == HeapState::live);
      CHECK(allZero(p, size));
      std::memset(p, 0xab, size);  // the whole request is writable (ASan checks it)
    }
    for (int i = 1; i < n; i++) {
      auto gap = static_cast<std::size_t>(ps[i] > ps[i - 1] ? ps[i] - ps[i - 1] : ps[i - 1] - ps[i]);
      CHECK(gap >= roundupsize(size));  // no overlap with the previous slot
    }
    // Interior pointers and the ends of slots are not allocations: ignored.
    for (int i = 0; i < n; i++) {
      heap_drop(ps[i] + 8);
      if (roundupsize(size) > 8) heap_drop(ps[i] + roundupsize(size) - 8);
    }
    for (auto i : idx) CHECK(rec(i).state == HeapState::live);
    for (int i = 0; i < n; i++) heap_drop(ps[i]);
    for (auto i : idx) CHECK(rec(i).state == HeapState::unreachable);
    gc();
    for (auto i : idx) {
      CHECK(rec(i).state == HeapState::freed);
      CHECK(firstWord(rec(i).addr) == kPoison);
    }
  }
}

TEST_CASE("heap_drop tells memory that is not its own, or no longer live, apart") {
  gc();
  hmap onStack{};
  std::uint64_t seq = gomap_heap_registry.seq;
  heap_drop(&onStack);              // a caller-provided hmap: not ours
  heap_drop(reinterpret_cast<void*>(std::uintptr_t{1} << 50));  // outside user space
  static std::uint64_t global;
  heap_drop(&global);
  CHECK(gomap_heap_registry.seq == seq);  // no event

  int owner = 0;
  void* p = heap_alloc(144, HeapRole::overflow, &owner, 0);
  std::uint64_t i = lastRecord();
  heap_drop(p);
  std::uint64_t dead = rec(i).dead_seq;
  heap_drop(p);  // twice: one event
  CHECK(rec(i).dead_seq == dead);
  CHECK(gc() >= 1);
  seq = gomap_heap_registry.seq;
  heap_drop(p);  // freed (in quarantine): a dangling pointer, ignored
  CHECK(gomap_heap_registry.seq == seq);
  CHECK(rec(i).state == HeapState::freed);
  CHECK(firstWord(rec(i).addr) == kPoison);
}

TEST_CASE("freed slots stay poisoned through the quarantine, then are reused zeroed") {
  gc();
  // Objects of the 32 KiB class: past the 64 MiB quarantine after ~2048 of them.
  constexpr int n = 2600;
  constexpr std::size_t size = 30000;
  int owner = 0;
  std::vector<std::uint64_t> first;
  for (int i = 0; i < n; i++) {
    void* p = heap_alloc(size, HeapRole::mapextra, &owner, 0);
    std::memset(p, 0x5a, size);
    first.push_back(lastRecord());
  }
  for (auto i : first) heap_drop(reinterpret_cast<void*>(rec(i).addr));
  CHECK(gc() == static_cast<std::size_t>(n));
  // The newest freed objects are still in the quarantine: poisoned, readable.
  for (int i = n - 100; i < n; i++) CHECK(firstWord(rec(first[i]).addr) == kPoison);

  std::vector<std::uint64_t> freedAddrs;
  for (auto i : first) freedAddrs.push_back(rec(i).addr);
  std::sort(freedAddrs.begin(), freedAddrs.end());
  int reused = 0;
  std::vector<void*> again;
  for (int i = 0; i < n; i++) {
    void* p = heap_alloc(size, HeapRole::mapextra, &owner, 0);
    again.push_back(p);
    auto a = reinterpret_cast<std::uint64_t>(p);
    if (std::binary_search(freedAddrs.begin(), freedAddrs.end(), a)) {
      reused++;
      CHECK(allZero(p, size));  // poison and old bytes cleared
      CHECK(gt::recordFor(p)->state == HeapState::live);  // the newest record for the address
    }
  }
  CHECK(reused > 0);
  // Only memory that left the quarantine is reused: the newest freed objects
  // are not handed out again while younger than 64 MiB of frees.
  for (int i = n - 100; i < n; i++) {
    CHECK(std::find(again.begin(), again.end(), reinterpret_cast<void*>(rec(first[i]).addr)) == again.end());
  }
  for (void* p : again) heap_drop(p);
  gc();
}

TEST_CASE("recording off: dropped memory waits for gc, then is poisoned and quarantined, as recorded memory") {
  const std::uint64_t count = gomap_heap_registry.count;
  heap_set_recording(false);
  int owner = 0;
  auto* p = static_cast<std::uint8_t*>(heap_alloc(100, HeapRole::mapextra, &owner, 0));
  std::memset(p, 0xff, 100);
  heap_drop(p);
  CHECK(p[0] == 0xff);  // garbage: untouched until collected
  auto* q = static_cast<std::uint8_t*>(heap_alloc(100, HeapRole::mapextra, &owner, 0));
  CHECK(q != p);  // not reused before gc()
  CHECK(allZero(q, 112));
  CHECK(gc() >= 1);  // counted as freed, as recorded memory is
  CHECK(firstWord(reinterpret_cast<std::uintptr_t>(p)) == kPoison);
  auto* r = static_cast<std::uint8_t*>(heap_alloc(100, HeapRole::mapextra, &owner, 0));
  CHECK(r != p);  // quarantined, not handed out again at once
  heap_drop(q);
  heap_drop(r);
  gc();
  CHECK(gomap_heap_registry.count == count);
  heap_set_recording(true);
}

TEST_CASE("a freed big array of a length asked for again leaves the quarantine early, cleared") {
  // A length no map in this suite uses, so that the map cache holds no region
  // of it and only the quarantine can supply one.
  const std::size_t size = (std::size_t{7} << 20) + 3 * 4096 + 16;
  int owner = 0;
  for (bool recording : {true, false}) {
    CAPTURE(recording);
    heap_set_recording(recording);
    auto* a = static_cast<std::uint8_t*>(heap_alloc(size, HeapRole::buckets, &owner, 0));
    std::memset(a, 0xab, size);
    heap_drop(a);
    gc();
    CHECK(firstWord(reinterpret_cast<std::uintptr_t>(a)) == kPoison);  // 7 MiB: stays in the quarantine
    auto* b = static_cast<std::uint8_t*>(heap_alloc(size, HeapRole::buckets, &owner, 0));
    CHECK(b == a);
    CHECK(allZero(b, size));
    heap_drop(b);
    gc();
  }
  heap_set_recording(true);
}

TEST_CASE("threads allocating and dropping at once keep the registry consistent") {
  gc();
  const HeapRegistry& r = gomap_heap_registry;
  std::uint64_t live0 = r.live_bytes, count0 = r.count;
  constexpr int perThread = 5000;
  auto work = [](int salt) {
    int owner = salt;
    std::vector<void*> mine;
    for (int i = 0; i < perThread; i++) {
      auto* p = static_cast<std::uint8_t*>(heap_alloc(48 + (i % 7) * 16, HeapRole::mapextra, &owner, 0));
      p[0] = static_cast<std::uint8_t>(salt);
      mine.push_back(p);
      if (i % 3 == 0) {
        heap_drop(mine.back());
        mine.pop_back();
      }
    }
    for (void* p : mine) CHECK(static_cast<std::uint8_t*>(p)[0] == static_cast<std::uint8_t>(salt));
    for (void* p : mine) heap_drop(p);
  };
  std::thread a(work, 1), b(work, 2);
  a.join();
  b.join();
  CHECK(r.count == count0 + 2 * perThread);
  CHECK(r.live_bytes == live0);
  gc();
  CHECK(r.unreachable_bytes == 0);
  for (std::uint64_t i = count0; i < r.count; i++) CHECK(rec(i).state == HeapState::freed);
}

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
TEST_CASE("ASan: slots are addressable only while allocated or quarantined - redzones never") {
  gc();
  int owner = 0;
  auto* p = static_cast<std::uint8_t*>(heap_alloc(144, HeapRole::overflow, &owner, 0));
  CHECK(__asan_region_is_poisoned(p, 144) == nullptr);
  CHECK(__asan_address_is_poisoned(p + 144));  // the redzone after the slot
  heap_drop(p);
  gc();
  CHECK(__asan_region_is_poisoned(p, 144) == nullptr);  // quarantined: the debugger reads the poison
  // Push it out of the quarantine with 64 MiB of other frees.
  std::vector<void*> filler;
  for (int i = 0; i < 2100; i++) filler.push_back(heap_alloc(32768, HeapRole::mapextra, &owner, 0));
  for (void* f : filler) heap_drop(f);
  gc();
  CHECK(__asan_address_is_poisoned(p));  // back on the free list: a use would be reported
}
#endif
