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
//                            bounded quarantine before really going back to
//                            malloc, so a dangling pointer shows the poison.
//
// Records are never removed: a debugger can always say what an address was.
// Recording can be switched off (benchmarks); allocations are still tracked by
// address so that heap_drop can give memory back.
#include "gomap/heap.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <sys/mman.h>

#include "internal.h"
#include "pages.h"

extern "C" {
__attribute__((used, visibility("default"))) gomap::HeapRegistry gomap_heap_registry = {
    {'G', 'O', 'M', 'A', 'P', 'H', 'R', '1'},
    gomap::kHeapVersion,
    sizeof(gomap::HeapRecord),
    nullptr, 0, 0, 0, 0, 0, 0, 0};
}

namespace gomap {

namespace {

using detail_rt::kHugePage;
using detail_rt::mapHugeAligned;

constexpr std::uint64_t kUnrecorded = ~std::uint64_t{0};
// Freed memory stays poisoned (and readable) until this much has piled up.
constexpr std::size_t kQuarantineBytes = std::size_t{64} << 20;

// Allocations this big (bucket arrays from B = 14 on for 8-byte keys and
// elems) are mapped directly onto huge pages (pages.h). Fresh mappings are
// zero already (reused ones are cleared: see MapCache). Smaller allocations
// come from calloc.
constexpr std::size_t kMapThreshold = kHugePage;
// calloc's alignment is what heap_alloc promises (glibc amd64: 16).
static_assert(alignof(std::max_align_t) >= 16);

struct Tracked {
  std::uint64_t record;  // index into the registry, or kUnrecorded
  std::size_t size;
};

struct HeapState_ {
  std::mutex mu;
  bool recording = true;
  std::unordered_map<std::uintptr_t, Tracked> byAddr;  // live and unreachable allocations
  std::vector<std::uint64_t> unreachable;              // record indices awaiting gc
  std::vector<std::uintptr_t> pendingUnrecorded;        // dropped while recording was off
  std::deque<std::pair<void*, std::size_t>> quarantine;
  std::size_t quarantineBytes = 0;
};

HeapState_& state() {
  static HeapState_* s = new HeapState_;  // immortal: maps may outlive static destructors
  return *s;
}

HeapRegistry& reg() { return gomap_heap_registry; }

HeapRecord& appendRecord() {
  HeapRegistry& r = reg();
  if (r.count == r.capacity) {
    std::uint64_t cap = r.capacity ? r.capacity * 2 : 1024;
    auto* grown = static_cast<HeapRecord*>(std::realloc(r.records, cap * sizeof(HeapRecord)));
    if (!grown) fatal("out of memory (heap registry)");
    std::memset(grown + r.count, 0, (cap - r.count) * sizeof(HeapRecord));
    r.records = grown;
    r.capacity = cap;
  }
  return r.records[r.count++];
}

// Allocation sizes are multiples of 16, so whole little-endian kPoison words.
void poison(void* p, std::size_t n) {
  auto* w = static_cast<std::uint8_t*>(p);
  for (std::size_t i = 0; i + 8 <= n; i += 8) std::memcpy(w + i, &kPoison, 8);
  for (std::size_t i = n & ~std::size_t{7}; i < n; i++) w[i] = static_cast<std::uint8_t>(kPoison >> (8 * (i % 8)));
}

std::size_t mappedLength(std::size_t bytes) { return (bytes + 4095) & ~std::size_t{4095}; }

// Big mappings given back are kept (up to kMapCacheBytes) and handed out
// again for an allocation of the same length, cleared in user space. As Go's
// heap keeps its spans: a fresh mapping costs a page fault per (huge) page
// and the kernel's clearing, which measured as a quarter of the time of 1M
// inserts (the arrays of every grow are new memory); clearing memory that is
// already mapped is several times cheaper.
constexpr std::size_t kMapCacheBytes = std::size_t{256} << 20;
struct MapCache {
  std::mutex mu;
  std::vector<std::pair<void*, std::size_t>> regions;  // (start, mapped length)
  std::size_t bytes = 0;
};
MapCache& mapCache() {
  static MapCache* c = new MapCache;  // immortal, as HeapState_
  return *c;
}

void* rawAlloc(std::size_t bytes) {
  if (bytes < kMapThreshold) return std::calloc(1, bytes);
  std::size_t len = mappedLength(bytes);
  {
    MapCache& c = mapCache();
    std::unique_lock<std::mutex> lock(c.mu);
    for (std::size_t i = c.regions.size(); i-- > 0;) {
      if (c.regions[i].second != len) continue;
      void* p = c.regions[i].first;
      c.regions.erase(c.regions.begin() + static_cast<std::ptrdiff_t>(i));
      c.bytes -= len;
      lock.unlock();
      std::memset(p, 0, len);
      return p;
    }
  }
  return mapHugeAligned(len);
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
  // Keep the most recent regions: drop the oldest until this one fits.
  while (!c.regions.empty() && c.bytes + len > kMapCacheBytes) {
    munmap(c.regions.front().first, c.regions.front().second);
    c.bytes -= c.regions.front().second;
    c.regions.erase(c.regions.begin());
  }
  if (len > kMapCacheBytes) {
    munmap(p, len);
    return;
  }
  c.regions.emplace_back(p, len);
  c.bytes += len;
}

void releaseQuarantine(HeapState_& s) {
  while (s.quarantineBytes > kQuarantineBytes && !s.quarantine.empty()) {
    auto [p, n] = s.quarantine.front();
    s.quarantine.pop_front();
    s.quarantineBytes -= n;
    rawFree(p, n);
  }
}

}  // namespace

// Go's size classes (runtime/sizeclasses.go, class_to_size): an allocation
// below 32 KiB takes the smallest class that fits.
std::size_t roundupsize(std::size_t size) {
  static constexpr std::uint16_t classes[] = {
      0,     8,     16,    24,    32,    48,    64,    80,    96,    112,   128,   144,
      160,   176,   192,   208,   224,   240,   256,   288,   320,   352,   384,   416,
      448,   480,   512,   576,   640,   704,   768,   896,   1024,  1152,  1280,  1408,
      1536,  1792,  2048,  2304,  2688,  3072,  3200,  3456,  4096,  4864,  5376,  6144,
      6528,  6784,  6912,  8192,  9472,  9728,  10240, 10880, 12288, 13568, 14336, 16384,
      18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768};
  constexpr std::size_t maxSmallSize = 32768, pageSize = 8192;
  if (size < maxSmallSize) return *std::lower_bound(std::begin(classes), std::end(classes), size);
  if (size + pageSize < size) return size;
  return (size + pageSize - 1) & ~(pageSize - 1);
}

void* heap_alloc(std::size_t size, HeapRole role, const void* owner, std::uint8_t B,
                 std::uint64_t nbuckets) {
  std::size_t rounded = roundupsize(size);
  std::size_t bytes = (std::max<std::size_t>(rounded, 16) + 15) & ~std::size_t{15};
  void* p = rawAlloc(bytes);
  if (!p) fatal("out of memory");

  HeapState_& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  Tracked t{kUnrecorded, bytes};
  if (s.recording) {
    HeapRegistry& r = reg();
    t.record = r.count;
    HeapRecord& rec = appendRecord();
    rec = HeapRecord{};
    rec.addr = reinterpret_cast<std::uintptr_t>(p);
    rec.size = rounded;
    rec.owner = reinterpret_cast<std::uintptr_t>(role == HeapRole::hmap ? p : owner);
    rec.alloc_seq = ++r.seq;
    rec.nbuckets = nbuckets;
    rec.role = role;
    rec.state = HeapState::live;
    rec.B = B;
    r.live_bytes += rounded;
  }
  s.byAddr[reinterpret_cast<std::uintptr_t>(p)] = t;
  return p;
}

void heap_drop(const void* p) {
  if (!p) return;
  HeapState_& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.byAddr.find(reinterpret_cast<std::uintptr_t>(p));
  if (it == s.byAddr.end()) return;  // not ours (a caller-provided hmap) or already dropped
  if (it->second.record == kUnrecorded) {
    // Nobody will look for it: give it back at once, unless an iterator
    // might still read it; then the next gc() decides.
    if (detail_rt::anyActiveIterator()) {
      s.pendingUnrecorded.push_back(reinterpret_cast<std::uintptr_t>(p));
      return;
    }
    rawFree(const_cast<void*>(p), it->second.size);
    s.byAddr.erase(it);
    return;
  }
  HeapRegistry& r = reg();
  HeapRecord& rec = r.records[it->second.record];
  if (rec.state != HeapState::live) return;
  rec.state = HeapState::unreachable;
  rec.dead_seq = ++r.seq;
  r.live_bytes -= rec.size;
  r.unreachable_bytes += rec.size;
  s.unreachable.push_back(it->second.record);
}

std::size_t gc() {
  // Roots first (the iterator list has its own lock), then the heap.
  std::vector<std::uintptr_t> roots;
  detail_rt::iteratorRoots(roots);
  std::sort(roots.begin(), roots.end());

  HeapState_& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  HeapRegistry& r = reg();
  r.gc_cycles++;
  std::size_t freed = 0;
  std::vector<std::uint64_t> keep;
  for (std::uint64_t idx : s.unreachable) {
    HeapRecord& rec = r.records[idx];
    if (rec.state != HeapState::unreachable) continue;
    auto tracked = s.byAddr.find(rec.addr);
    std::size_t bytes = tracked != s.byAddr.end() ? tracked->second.size : rec.size;
    // Reached by an iterator: any root pointing inside the allocation.
    auto lo = std::lower_bound(roots.begin(), roots.end(), rec.addr);
    if (lo != roots.end() && *lo < rec.addr + std::max<std::uint64_t>(rec.size, 1)) {
      keep.push_back(idx);
      continue;
    }
    void* p = reinterpret_cast<void*>(rec.addr);
    poison(p, bytes);
    rec.state = HeapState::freed;
    rec.free_seq = ++r.seq;
    r.unreachable_bytes -= rec.size;
    r.freed_bytes += rec.size;
    if (tracked != s.byAddr.end()) s.byAddr.erase(tracked);
    s.quarantine.emplace_back(p, bytes);
    s.quarantineBytes += bytes;
    freed++;
  }
  s.unreachable = std::move(keep);
  std::vector<std::uintptr_t> stillPinned;
  for (std::uintptr_t addr : s.pendingUnrecorded) {
    auto tracked = s.byAddr.find(addr);
    if (tracked == s.byAddr.end()) continue;
    auto lo = std::lower_bound(roots.begin(), roots.end(), addr);
    if (lo != roots.end() && *lo < addr + tracked->second.size) {
      stillPinned.push_back(addr);
      continue;
    }
    rawFree(reinterpret_cast<void*>(addr), tracked->second.size);
    s.byAddr.erase(tracked);
  }
  s.pendingUnrecorded = std::move(stillPinned);
  releaseQuarantine(s);
  return freed;
}

void heap_set_recording(bool on) {
  HeapState_& s = state();
  std::lock_guard<std::mutex> lock(s.mu);
  s.recording = on;
}

}  // namespace gomap
