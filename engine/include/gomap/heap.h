// heap.h — the simulated heap and its allocation registry.
//
// Every byte the engine allocates for a map (hmap, bucket arrays, overflow
// buckets, indirect keys/elems, mapextra and its overflow slices) comes from
// here, and each allocation leaves a HeapRecord in a registry that a debugger
// finds through the exported symbol `gomap_heap_registry`. The plugins read the
// registry with one bulk read of the record array, so its layout below is an
// ABI: change it only together with gomapcore/heapview.py and bump the version.
//
// Lifetimes follow a Go program's: an allocation is LIVE while the map reaches
// it; it becomes UNREACHABLE (garbage) when the map drops it (a grow finished,
// the map was cleared or dropped); a simulated collection (gomap::gc) FREEs
// unreachable allocations that no active iterator can still reach. Freed memory
// is poisoned with kPoison and kept in a bounded quarantine so that a debugger
// looking at a dangling pointer sees the poison, not recycled data.
//
// The registry's history is bounded, as the quarantine is: a freed record stays
// while its memory is quarantined, and after the memory is given back for reuse
// (flag kRecordReused) until more than heap_set_history()'s limit of such
// records pile up; gc() then forgets the oldest of them (the header counts
// them in `forgotten`). Live and unreachable records are never forgotten.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gomap/runtime.h"  // hiter, for the active-iterator list below

namespace gomap {

enum class HeapRole : std::uint8_t {
  hmap = 1,          // a map header (48 bytes)
  buckets = 2,       // a bucket array (2^B buckets plus preallocated overflow)
  overflow = 3,      // one overflow bucket allocated by newoverflow
  indirect_key = 4,  // a key over 128 bytes, stored out of line
  indirect_elem = 5, // an elem over 128 bytes, stored out of line
  mapextra = 6,      // a mapextra, or the backing store of its overflow slices
};

enum class HeapState : std::uint8_t {
  live = 0,
  unreachable = 1,  // dropped by its map, not yet collected ("garbage")
  freed = 2,        // collected: memory poisoned, record kept
};

// One allocation. 64 bytes, little-endian, naturally aligned.
struct HeapRecord {
  std::uint64_t addr;        // start of the allocation
  std::uint64_t size;        // bytes, rounded up to Go's size class
  std::uint64_t owner;       // the hmap this belongs to (for role hmap: itself)
  std::uint64_t alloc_seq;   // event sequence number of the allocation
  std::uint64_t dead_seq;    // when it became unreachable (0: never)
  std::uint64_t free_seq;    // when it was freed (0: never)
  std::uint64_t nbuckets;    // buckets: 2^B; overflow/others: 0
  HeapRole role;
  HeapState state;
  std::uint8_t B;            // buckets: the array's B; otherwise owner's B at allocation
  std::uint8_t flags;        // kRecord* bits
  std::uint8_t reserved[4];
};
static_assert(sizeof(HeapRecord) == 64);
static_assert(offsetof(HeapRecord, addr) == 0);
static_assert(offsetof(HeapRecord, size) == 8);
static_assert(offsetof(HeapRecord, owner) == 16);
static_assert(offsetof(HeapRecord, alloc_seq) == 24);
static_assert(offsetof(HeapRecord, dead_seq) == 32);
static_assert(offsetof(HeapRecord, free_seq) == 40);
static_assert(offsetof(HeapRecord, nbuckets) == 48);
static_assert(offsetof(HeapRecord, role) == 56);
static_assert(offsetof(HeapRecord, state) == 57);
static_assert(offsetof(HeapRecord, B) == 58);
static_assert(offsetof(HeapRecord, flags) == 59);

// HeapRecord.flags: the freed memory left the quarantine and was given back to
// the allocator; the address may now belong to a newer record.
inline constexpr std::uint8_t kRecordReused = 1;

inline constexpr char kHeapMagic[8] = {'G', 'O', 'M', 'A', 'P', 'H', 'R', '1'};
inline constexpr std::uint32_t kHeapVersion = 2;
// Freed memory is filled with this 8-byte little-endian word.
inline constexpr std::uint64_t kPoison = 0xdeadbeefdeadbeefULL;

// The registry header. `records` points at `count` HeapRecords in allocation
// order (capacity may be larger); the array may move when it grows, and a
// record's index changes when gc() forgets older records, so readers take the
// pointer afresh each time and name records by address and alloc_seq.
struct HeapRegistry {
  char magic[8];              // "GOMAPHR1"
  std::uint32_t version;      // kHeapVersion
  std::uint32_t record_size;  // sizeof(HeapRecord)
  HeapRecord* records;
  std::uint64_t count;        // records in use
  std::uint64_t capacity;
  std::uint64_t seq;          // last event sequence number handed out
  std::uint64_t gc_cycles;    // collections run so far
  std::uint64_t live_bytes;   // sum of size over live records
  std::uint64_t unreachable_bytes;
  std::uint64_t freed_bytes;  // over the freed records still in the registry
  std::uint64_t forgotten;    // freed records gc() has removed (oldest reused first)
  std::uint64_t forgotten_bytes;
};
static_assert(offsetof(HeapRegistry, version) == 8);
static_assert(offsetof(HeapRegistry, record_size) == 12);
static_assert(offsetof(HeapRegistry, records) == 16);
static_assert(offsetof(HeapRegistry, count) == 24);
static_assert(offsetof(HeapRegistry, capacity) == 32);
static_assert(offsetof(HeapRegistry, seq) == 40);
static_assert(offsetof(HeapRegistry, gc_cycles) == 48);
static_assert(offsetof(HeapRegistry, freed_bytes) == 72);
static_assert(offsetof(HeapRegistry, forgotten) == 80);
static_assert(sizeof(HeapRegistry) == 96);

// Go's allocation size for a request (runtime/msize.go roundupsize): small size
// classes below 32 KiB, whole 8 KiB pages above.
std::size_t roundupsize(std::size_t size);

// Allocate zeroed memory of roundupsize(size) bytes (16-aligned) and record it.
void* heap_alloc(std::size_t size, HeapRole role, const void* owner, std::uint8_t B,
                 std::uint64_t nbuckets = 0);
// The map no longer reaches p: LIVE -> UNREACHABLE.
void heap_drop(const void* p);
// Run a collection: every UNREACHABLE allocation that no active iterator can
// reach becomes FREED (poisoned). Returns the number freed.
std::size_t gc();
// How many freed records whose memory was reused (kRecordReused) the registry
// keeps; past it, gc() forgets the oldest until half of it remain. Returns the
// previous limit. The default, kHeapHistory, keeps the registry at a few MiB
// beyond what the maps and the quarantine hold, however long a program runs.
inline constexpr std::size_t kHeapHistory = std::size_t{1} << 16;
std::size_t heap_set_history(std::size_t reused_records);
// Enable/disable recording (benchmarks measure the registry's cost). Off, no
// records are written; everything else (when memory is freed, poisoned and
// reused) stays as it is with recording on.
void heap_set_recording(bool on);

}  // namespace gomap

// The debugger's entry point. C linkage so the symbol name is stable.
extern "C" gomap::HeapRegistry gomap_heap_registry;

// Active iterators, for the heap views ("which iterator pins this array?").
// The head of a doubly linked list of every hiter between mapiterinit and the
// end of its iteration (or mapiterdone), newest first, linked through
// hiter.next_active (nullptr ends it). A debugger reads the head pointer, then
// from each hiter the words below; the list changes only inside
// mapiterinit/mapiternext/mapiterdone, under the engine's lock, so a stopped
// program shows a consistent list. gomapcore/heapblock.py reads it; these
// offsets are part of the ABI (change them only together with it).
extern "C" gomap::hiter* gomap_active_iterators;
static_assert(offsetof(gomap::hiter, buckets) == 32, "ABI: gomap_active_iterators readers");
static_assert(offsetof(gomap::hiter, bptr) == 40, "ABI: gomap_active_iterators readers");
static_assert(offsetof(gomap::hiter, next_active) == 96, "ABI: gomap_active_iterators readers");
static_assert(offsetof(gomap::hiter, prev_active) == 104, "ABI: gomap_active_iterators readers");
