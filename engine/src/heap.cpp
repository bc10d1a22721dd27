// heap.cpp — the simulated heap behind every map allocation, and its registry.
//
// A Go program's map memory has a life the debugger should be able to show:
// allocated (live), dropped by the map when a grow finishes or the map goes
// away (garbage), and collected (freed). The engine keeps that life explicit:
//
//   heap_alloc  LIVE         recorded in gomap_heap_registry (an ABI, heap.h)
//   heap_drop   UNREACHABLE  the map no longer points at it
//   gc          FREED        unless an active iterator still reaches it; the
//                            bytes are filled with kPoison and parked in a
//                            bounded quarantine before they can be handed out
//                            again, so a dangling pointer shows the poison
//                            (a mapped array of a length that is asked for
//                            again, and not in the map cache, leaves it
//                            early: reclaimQuarantined).
//
// Records stay while their memory is the program's or poisoned in the
// quarantine, so a debugger can say what any address it may meet was: a
// dangling pointer's old allocation included. Once freed memory is given back
// for reuse, its record is flagged kRecordReused and kept until more than the
// history limit of such records pile up; gc() then forgets the oldest
// (forgetReused), so the registry does not grow by 64 bytes per allocation
// for ever, and a program that churns maps writes its records into memory it
// has already touched rather than fresh pages (which, on this VM, cost most
// of the registry's price).
// Recording can be switched off (benchmarks measure its cost that way). Only
// the records go: allocations are still tracked by address, and unrecorded
// memory lives, waits for gc(), is poisoned and quarantined exactly as
// recorded memory does, so that switching recording off changes nothing a
// program could notice (when memory is reused, where the next allocation
// lands) and the benchmark's ratio is the records' cost alone.
//
// Where the bytes come from, as in Go's heap: below 32 KiB a slot of the
// request's size class in a span (heap_span.h), found again from its address
// by arithmetic, with one metadata word per slot saying which record it is;
// above, calloc or (from 2 MiB) huge-page mappings, tracked in a hash map
// (there are few of them). Everything under one lock: the registry, the
// spans, the quarantine.
#include "gomap/heap.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <sched.h>
#include <sys/mman.h>

#include "heap_span.h"
#include "internal.h"
#include "pages.h"

extern "C" {
__attribute__((used, visibility("default"))) gomap::HeapRegistry gomap_heap_registry = {
    {'G', 'O', 'M', 'A', 'P', 'H', 'R', '1'},
    gomap::kHeapVersion,
    sizeof(gomap::HeapRecord),
    nullptr, 0, 0, 0, 0, 0, 0, 0, 0, 0};
}

namespace gomap {

namespace {

using detail_heap::kClassSize;
using detail_heap::kMaxSmallSize;
using detail_heap::kSlotFree;
using detail_heap::kSlotQuarantined;
using detail_heap::kSlotUnrecorded;
using detail_heap::kSlotUnrecordedDropped;
using detail_heap::Slot;
using detail_rt::kHugePage;
using detail_rt::mapHugeAligned;

// Freed memory stays poisoned (and readable) until this much has piled up.
constexpr std::size_t kQuarantineBytes = std::size_t{64} << 20;

// Allocations this big (bucket arrays from B = 14 on for 8-byte keys and
// elems) are mapped directly onto huge pages (pages.h). Fresh mappings are
// zero already (reused ones are cleared: see MapCache). Big allocations below
// it come from calloc; small ones from the spans.
constexpr std::size_t kMapThreshold = kHugePage;
// calloc's alignment is what heap_alloc promises (glibc amd64: 16).
static_assert(alignof(std::max_align_t) >= 16);

// An allocation found by address: a span slot, or a big allocation.
constexpr std::uint64_t kNoRecord = ~std::uint64_t{0};
struct Found {
  void* p = nullptr;
  std::uint64_t* meta = nullptr;  // the slot's metadata word (heap_span.h's kSlot*)
  std::size_t bytes = 0;          // usable bytes: what is poisoned when freed
  std::uint8_t cls = 0;           // size class; 0: a big allocation
  std::uint64_t rec = kNoRecord;  // in the quarantine: the record it was freed as
  explicit operator bool() const { return p != nullptr; }
};

struct BigAlloc {
  std::uint64_t meta;  // as a slot's metadata word
  std::size_t bytes;
};


// The heap's lock: held for a few dozen instructions per allocation, where
// pthread's lock and unlock cost more than the work they guard. Spins a
// little, then yields (a holder that was preempted, or a long gc()).
class SpinLock {
 public:
  void lock() {
    while (held_.exchange(true, std::memory_order_acquire)) {
      for (unsigned spins = 0; held_.load(std::memory_order_relaxed); spins++) {
        if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        } else {
          sched_yield();
        }
      }
    }
  }
  void unlock() { held_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> held_{false};
};

struct HeapState_ {
  SpinLock mu;
  bool recording = true;
  detail_heap::SpanHeap spans;
  std::unordered_map<std::uintptr_t, BigAlloc> big;       // big allocations, by address
  std::vector<std::uint64_t> unreachable;                 // record indices awaiting gc
  std::vector<std::uintptr_t> pendingUnrecorded;           // unrecorded, dropped, awaiting gc
  std::deque<Found> quarantine;
  std::size_t quarantineBytes = 0;
  std::size_t quarantineBig = 0;  // big allocations among them
  std::uint64_t reused = 0;       // records flagged kRecordReused
  std::size_t history = kHeapHistory;
};

// Immortal (maps may outlive static destructors) and made on first use (maps
// may be made by other translation units' static constructors). The pointer
// is published once: later calls cost one load, not a call and a guard.
std::atomic<HeapState_*> gState{nullptr};
__attribute__((noinline)) HeapState_& makeState() {
  static HeapState_* s = new HeapState_;
  gState.store(s, std::memory_order_release);
  return *s;
}
inline HeapState_& state() {
  HeapState_* s = gState.load(std::memory_order_acquire);
  return s != nullptr ? *s : makeState();
}

HeapRegistry& reg() { return gomap_heap_registry; }

HeapRecord& appendRecord() {
  HeapRegistry& r = reg();
  if (r.count == r.capacity) {
    std::uint64_t cap = r.capacity ? r.capacity * 2 : 1024;
    auto* grown = static_cast<HeapRecord*>(std::realloc(r.records, cap * sizeof(HeapRecord)));
    if (!grown) fatal("out of memory (heap registry)");
    // Records past count are not read (readers take count records), so the
    // grown tail is left as realloc gives it.
    r.records = grown;
    r.capacity = cap;
  }
  return r.records[r.count++];
}

// The bytes are little-endian kPoison words from p on (a tail shorter than a
// word gets the word's first bytes). Wide stores: gc() poisons every freed
// bucket array, megabytes per grown map.
void poison(void* p, std::size_t n) {
  auto* w = static_cast<std::uint8_t*>(p);
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i pattern = _mm_set1_epi64x(static_cast<long long>(kPoison));
  for (; i + 64 <= n; i += 64) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w + i), pattern);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w + i + 16), pattern);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w + i + 32), pattern);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(w + i + 48), pattern);
  }
#endif
  for (; i + 8 <= n; i += 8) std::memcpy(w + i, &kPoison, 8);
  for (; i < n; i++) w[i] = static_cast<std::uint8_t>(kPoison >> (8 * (i % 8)));
}

std::size_t mappedLength(std::size_t bytes) { return (bytes + 4095) & ~std::size_t{4095}; }

// Big mappings given back are kept and handed out again for an allocation of
// the same length, cleared in user space. As Go's heap keeps its freed spans
// (its scavenger returns them to the OS only slowly): a fresh mapping costs a
// page fault per (huge) page and the kernel's clearing, which measured as a
// quarter of the time of 1M inserts (the arrays of every grow are new
// memory), and on this VM's first touches of memory often far more (a 317 MB
// array took 13 to 680 ms to fault in); clearing memory that is already
// mapped is several times cheaper. How much is kept: as much as the big
// allocations ever held at once (so a program that built a big map once can
// build it again without the kernel), at least kMapCacheBytes.
constexpr std::size_t kMapCacheBytes = std::size_t{256} << 20;
struct MapCache {
  std::mutex mu;
  std::vector<std::pair<void*, std::size_t>> regions;  // (start, mapped length)
  std::size_t bytes = 0;   // kept in regions
  std::size_t inUse = 0;   // handed out and not given back
  std::size_t peak = 0;    // the most inUse has been
};
MapCache& mapCache() {
  static MapCache* c = new MapCache;  // immortal, as HeapState_
  return *c;
}

// The newest region of mapped length `len` in the cache (c.mu held), or
// c.regions.size() if there is none.
std::size_t cachedRegion(const MapCache& c, std::size_t len) {
  for (std::size_t i = c.regions.size(); i-- > 0;)
    if (c.regions[i].second == len) return i;
  return c.regions.size();
}

// Whether the map cache holds a region for an allocation of `bytes`.
bool cacheHolds(std::size_t bytes) {
  if (bytes < kMapThreshold) return false;
  MapCache& c = mapCache();
  std::lock_guard<std::mutex> lock(c.mu);
  return cachedRegion(c, mappedLength(bytes)) != c.regions.size();
}

// Big allocations only (at least kMaxSmallSize bytes).
void* rawAlloc(std::size_t bytes) {
  if (bytes < kMapThreshold) return std::calloc(1, bytes);
  std::size_t len = mappedLength(bytes);
  MapCache& c = mapCache();
  std::unique_lock<std::mutex> lock(c.mu);
  c.inUse += len;
  c.peak = std::max(c.peak, c.inUse);
  if (std::size_t i = cachedRegion(c, len); i != c.regions.size()) {
    void* p = c.regions[i].first;
    c.regions.erase(c.regions.begin() + static_cast<std::ptrdiff_t>(i));
    c.bytes -= len;
    lock.unlock();
    std::memset(p, 0, len);
    return p;
  }
  lock.unlock();
  void* p = mapHugeAligned(len);
  if (p == nullptr) {
    lock.lock();
    c.inUse -= len;
  }
  return p;
}

// `bytes` is the size rawAlloc was asked for: it says how p was obtained.
void rawFree(void* p, std::size_t bytes) {
  if (bytes < kMapThreshold) {
    std::free(p);
    return;
  }
  std::size_t len = mappedLength(bytes);
  MapCache& c = mapCache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.inUse -= len;
  const std::size_t cap = std::max(kMapCacheBytes, c.peak);
  // Keep the most recent regions: drop the oldest until this one fits.
  while (!c.regions.empty() && c.bytes + len > cap) {
    munmap(c.regions.front().first, c.regions.front().second);
    c.bytes -= c.regions.front().second;
    c.regions.erase(c.regions.begin());
  }
  if (len > cap) {
    munmap(p, len);
    return;
  }
  c.regions.emplace_back(p, len);
  c.bytes += len;
}

__attribute__((noinline)) Found findBig(HeapState_& s, const void* p) {
  auto it = s.big.find(reinterpret_cast<std::uintptr_t>(p));
  if (it == s.big.end()) return Found{};
  return Found{const_cast<void*>(p), &it->second.meta, it->second.bytes, 0};
}

// The allocation starting exactly at p, if it is ours (in any state).
inline Found find(HeapState_& s, const void* p) {
  if (Slot slot = s.spans.find(p); slot.p != nullptr) return Found{slot.p, slot.meta, slot.bytes, slot.cls};
  return findBig(s, p);
}

// Give memory back for reuse (no quarantine): a slot to its class's free list,
// a big allocation to calloc/the map cache. Its record, if any, says so.
void giveBack(HeapState_& s, const Found& f) {
  if (f.rec != kNoRecord) {
    reg().records[f.rec].flags |= kRecordReused;
    s.reused++;
  }
  if (f.cls != 0) {
    *f.meta = kSlotFree;
    s.spans.release(Slot{f.p, f.meta, static_cast<std::uint32_t>(f.bytes), f.cls});
    return;
  }
  s.big.erase(reinterpret_cast<std::uintptr_t>(f.p));
  rawFree(f.p, f.bytes);
}

// Freed: poisoned, then parked until releaseQuarantine (or reclaimQuarantined).
void quarantine(HeapState_& s, const Found& f) {
  poison(f.p, f.bytes);
  *f.meta = kSlotQuarantined;
  s.quarantine.push_back(f);
  s.quarantineBytes += f.bytes;
  if (f.cls == 0) s.quarantineBig++;
}

void releaseQuarantine(HeapState_& s) {
  while (s.quarantineBytes > kQuarantineBytes && !s.quarantine.empty()) {
    Found q = s.quarantine.front();
    s.quarantine.pop_front();
    s.quarantineBytes -= q.bytes;
    if (q.cls == 0) s.quarantineBig--;
    giveBack(s, q);
  }
}

// A big allocation of `rounded` bytes is about to be made and the map cache
// has no region of its length: if the quarantine holds a freed big
// allocation of that length, its poisoned bytes go back now (the oldest
// first), to be reused, instead of the kernel mapping and clearing fresh
// memory while the old stays. Go reuses a swept span at once; the quarantine
// is only a window in which freed memory stays visible, and a map that grows
// again to the same size would otherwise keep two copies of every big array
// (one in use, one poisoned) and fault in the new one each time.
void reclaimQuarantined(HeapState_& s, std::size_t rounded) {
  if (s.quarantineBig == 0 || cacheHolds(rounded)) return;
  for (auto it = s.quarantine.begin(); it != s.quarantine.end(); ++it) {
    if (it->cls != 0 || it->bytes != rounded) continue;
    Found q = *it;
    s.quarantine.erase(it);
    s.quarantineBytes -= q.bytes;
    s.quarantineBig--;
    giveBack(s, q);
    return;
  }
}

}  // namespace

// Go's size classes (runtime/sizeclasses.go, class_to_size): an allocation
// below 32 KiB takes the smallest class that fits, found by direct index.
std::size_t roundupsize(std::size_t size) {
  constexpr std::size_t pageSize = detail_heap::kPageSize;
  if (size < kMaxSmallSize) return kClassSize[detail_heap::sizeClass(size)];
  if (size + pageSize < size) return size;
  return (size + pageSize - 1) & ~(pageSize - 1);
}

namespace {

// Records an allocation at p (under the lock), or marks it unrecorded.
inline void record(HeapState_& s, void* p, std::uint64_t* meta, std::size_t rounded, HeapRole role,
                   const void* owner, std::uint8_t B, std::uint64_t nbuckets) {
  if (!s.recording) {
    *meta = kSlotUnrecorded;
    return;
  }
  HeapRegistry& r = reg();
  *meta = r.count;
  HeapRecord& rec = appendRecord();
  rec = HeapRecord{reinterpret_cast<std::uintptr_t>(p),
                   rounded,
                   reinterpret_cast<std::uintptr_t>(role == HeapRole::hmap ? p : owner),
                   ++r.seq,
                   0,
                   0,
                   nbuckets,
                   role,
                   HeapState::live,
                   B,
                   0,
                   {}};
  r.live_bytes += rounded;
}

__attribute__((noinline)) void* allocBig(std::size_t size, HeapRole role, const void* owner, std::uint8_t B,
                                         std::uint64_t nbuckets) {
  std::size_t rounded = roundupsize(size);
  HeapState_& s = state();
  if (rounded >= kMapThreshold) {
    std::lock_guard<SpinLock> lock(s.mu);
    reclaimQuarantined(s, rounded);
  }
  void* p = rawAlloc(rounded);  // outside the lock: calloc or mmap of a big block
  if (!p) fatal("out of memory");
  std::lock_guard<SpinLock> lock(s.mu);
  BigAlloc& b = s.big[reinterpret_cast<std::uintptr_t>(p)];
  b.bytes = rounded;
  record(s, p, &b.meta, rounded, role, owner, B, nbuckets);
  return p;
}

// Forget the oldest records flagged kRecordReused (in allocation order) until
// half the history limit remain, and close the gaps: the records after them
// move down, so every index held elsewhere (a slot's metadata word, the
// unreachable list, the quarantine's entries) is renumbered. Under the lock;
// O(records), once per half-limit of reuses.
__attribute__((noinline)) void forgetReused(HeapState_& s) {
  HeapRegistry& r = reg();
  std::uint64_t excess = s.reused - s.history / 2;
  std::vector<std::uint64_t> gone;  // old indices of the forgotten records, ascending
  gone.reserve(excess);
  std::uint64_t to = 0;
  for (std::uint64_t from = 0; from < r.count; from++) {
    HeapRecord& rec = r.records[from];
    if (excess > 0 && (rec.flags & kRecordReused) != 0) {
      gone.push_back(from);
      excess--;
      r.freed_bytes -= rec.size;
      r.forgotten++;
      r.forgotten_bytes += rec.size;
      continue;
    }
    if (to != from) {
      if (rec.state != HeapState::freed) {
        // Live or unreachable: the memory is still this record's, and its
        // metadata word holds the record's index.
        Found f = find(s, reinterpret_cast<void*>(rec.addr));
        if (!f || *f.meta != from) fatal("heap: a record's memory is not tracked");
        *f.meta = to;
      }
      r.records[to] = rec;
    }
    to++;
  }
  r.count = to;
  s.reused -= gone.size();
  auto renumber = [&gone](std::uint64_t i) {
    return i - static_cast<std::uint64_t>(std::lower_bound(gone.begin(), gone.end(), i) - gone.begin());
  };
  for (std::uint64_t& i : s.unreachable) i = renumber(i);
  for (Found& q : s.quarantine)
    if (q.rec != kNoRecord) q.rec = renumber(q.rec);
}

}  // namespace

void* heap_alloc(std::size_t size, HeapRole role, const void* owner, std::uint8_t B,
                 std::uint64_t nbuckets) {
  if (size >= kMaxSmallSize) return allocBig(size, role, owner, B, nbuckets);
  int cls = detail_heap::sizeClass(size);
  HeapState_& s = state();
  s.mu.lock();
  bool dirty;
  // A 0-byte request still gets a distinct 16-byte slot (the smallest).
  Slot slot = s.spans.alloc(cls != 0 ? cls : 1, &dirty);
  record(s, slot.p, slot.meta, kClassSize[cls], role, owner, B, nbuckets);
  s.mu.unlock();
  if (dirty) std::memset(slot.p, 0, slot.bytes);  // a reused slot; fresh span memory is zero
  return slot.p;
}

void heap_drop(const void* p) {
  if (!p) return;
  HeapState_& s = state();
  std::lock_guard<SpinLock> lock(s.mu);
  Found f = find(s, p);
  if (!f) return;  // not ours (a caller-provided hmap)
  std::uint64_t m = *f.meta;
  if (m == kSlotFree || m == kSlotQuarantined || m == kSlotUnrecordedDropped) return;  // dropped already
  if (m == kSlotUnrecorded) {
    // No record to mark: the memory waits for gc() all the same, so that a
    // program's memory behaves alike whether it is recorded or not.
    *f.meta = kSlotUnrecordedDropped;
    s.pendingUnrecorded.push_back(reinterpret_cast<std::uintptr_t>(p));
    return;
  }
  HeapRegistry& r = reg();
  HeapRecord& rec = r.records[m];
  if (rec.state != HeapState::live) return;
  rec.state = HeapState::unreachable;
  rec.dead_seq = ++r.seq;
  r.live_bytes -= rec.size;
  r.unreachable_bytes += rec.size;
  s.unreachable.push_back(m);
}

std::size_t gc() {
  // Roots first (the iterator list has its own lock), then the heap.
  std::vector<std::uintptr_t> roots;
  detail_rt::iteratorRoots(roots);
  std::sort(roots.begin(), roots.end());
  // Reached by an iterator: any root pointing inside [addr, addr + size).
  auto pinned = [&roots](std::uint64_t addr, std::uint64_t size) {
    auto lo = std::lower_bound(roots.begin(), roots.end(), addr);
    return lo != roots.end() && *lo < addr + std::max<std::uint64_t>(size, 1);
  };

  HeapState_& s = state();
  std::lock_guard<SpinLock> lock(s.mu);
  HeapRegistry& r = reg();
  r.gc_cycles++;
  std::size_t freed = 0;
  std::size_t kept = 0;
  for (std::uint64_t idx : s.unreachable) {
    HeapRecord& rec = r.records[idx];
    if (rec.state != HeapState::unreachable) continue;
    if (pinned(rec.addr, rec.size)) {
      s.unreachable[kept++] = idx;
      continue;
    }
    Found f = find(s, reinterpret_cast<void*>(rec.addr));
    if (!f || *f.meta != idx) fatal("heap: an unreachable record's memory is not tracked");
    rec.state = HeapState::freed;
    rec.free_seq = ++r.seq;
    r.unreachable_bytes -= rec.size;
    r.freed_bytes += rec.size;
    f.rec = idx;
    quarantine(s, f);
    freed++;
  }
  s.unreachable.resize(kept);
  kept = 0;
  for (std::uintptr_t addr : s.pendingUnrecorded) {
    Found f = find(s, reinterpret_cast<void*>(addr));
    if (!f || *f.meta != kSlotUnrecordedDropped) continue;
    if (pinned(addr, f.bytes)) {
      s.pendingUnrecorded[kept++] = addr;
      continue;
    }
    quarantine(s, f);
    freed++;
  }
  s.pendingUnrecorded.resize(kept);
  releaseQuarantine(s);
  if (s.reused > s.history) forgetReused(s);
  return freed;
}

std::size_t heap_set_history(std::size_t reused_records) {
  HeapState_& s = state();
  std::lock_guard<SpinLock> lock(s.mu);
  return std::exchange(s.history, reused_records);
}

void heap_set_recording(bool on) {
  HeapState_& s = state();
  std::lock_guard<SpinLock> lock(s.mu);
  s.recording = on;
}

}  // namespace gomap
