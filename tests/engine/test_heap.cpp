// test_heap.cpp — the allocation registry a debugger reads (heap.h).
#include <doctest/doctest.h>

#include <cstring>

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

  // Fill bucket 0 of a B=0 map past 8 entries? It grows instead; force an
  // overflow bucket with a pre-sized map and colliding-enough keys.
  I64Map big = I64Map::make(13);  // B < 4, no spares: overflow comes from newoverflow
  std::int64_t k = 0;
  while (big.header()->noverflow == 0) big.set(k, k), k++;
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

TEST_CASE("a finished grow makes the old array unreachable; gc frees and poisons it") {
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

TEST_CASE("drop marks everything a map owns unreachable; accounting adds up") {
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

TEST_CASE("recording can be switched off") {
  std::uint64_t count = gomap_heap_registry.count;
  heap_set_recording(false);
  I64Map m = I64Map::make(100);
  for (std::int64_t i = 0; i < 1000; i++) m.set(i, i);
  m.drop();  // unrecorded memory goes straight back
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
  // Recording off: a dropped big array is given back at once (no quarantine)
  // and kept mapped; the next array of the same length reuses it, cleared.
  heap_set_recording(false);
  I64Map u = I64Map::make(100000);
  for (std::int64_t i = 0; i < 1000; i++) u.set(i, i);
  CHECK(u.get(999) == 999);
  const void* firstArray = u.header()->buckets;
  u.drop();
  I64Map v = I64Map::make(100000);
  CHECK(v.header()->buckets == firstArray);
  const auto* q = static_cast<const std::uint8_t*>(v.header()->buckets);
  std::size_t dirty = 0;
  for (std::size_t i = 0; i < 17408 * 144 - 8; i++) dirty += q[i] != 0;
  CHECK(dirty == 0);
  CHECK(v.get(999) == 0);
  v.drop();
  heap_set_recording(true);
  gc();
}
