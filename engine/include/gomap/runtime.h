// runtime.h — Go 1.19's map runtime, type-erased, with Go's names.
//
// Each function here is a real, out-of-line, externally visible symbol in every
// build type (GOMAP_NOINLINE), so that `break mapassign_fast64` works in gdb and
// lldb. The engine is compiled C++, so at an entry point the arguments are in
// SysV registers: t = RDI, h = RSI, key = RDX (faststr: key.str = RDX, key.len = RCX).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "gomap/abi.h"
#include "gomap/maptype.h"
#include "gomap/string.h"

#define GOMAP_NOINLINE __attribute__((noinline, used))

namespace gomap {

// A Go panic: catchable (a deferred recover() in Go; a catch in C++).
// what() is Go's message, e.g. "assignment to entry in nil map".
struct Panic : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Go's `fatal error: <msg>`: printed to stderr, then the process exits with
// status 2. Not catchable, as in Go.
[[noreturn]] void fatal(const char* msg);

// Force the hash seed of every map made from now on (nullopt-like: pass
// `false` to go back to random seeds). Also makes fastrand deterministic and
// derives the hash's key material (hash.h) from the seed: maps made before
// can no longer find their keys, so call it before making any.
void set_hash_seed(std::uint32_t seed);
void clear_hash_seed();

// Iteration state, laid out as Go's hiter.
struct hiter {
  void* key;                // nil when iteration is over
  void* elem;
  const maptype* t;
  hmap* h;
  void* buckets;            // h.buckets at mapiterinit
  bmap* bptr;               // current bucket
  GoSlice* overflow;        // keeps overflow buckets of buckets alive
  GoSlice* oldoverflow;     // keeps overflow buckets of oldbuckets alive
  std::uintptr_t startBucket;
  std::uint8_t offset;      // intra-bucket start offset
  bool wrapped;
  std::uint8_t B;
  std::uint8_t i;
  std::uintptr_t bucket;
  std::uintptr_t checkBucket;
  // Engine-only (after Go's fields): links active iterators so that the
  // simulated collector knows which bucket arrays an iterator still reaches.
  hiter* next_active;
  hiter* prev_active;
};
static_assert(offsetof(hiter, t) == 16);
static_assert(offsetof(hiter, h) == 24);
static_assert(offsetof(hiter, buckets) == 32);
static_assert(offsetof(hiter, bptr) == 40);
static_assert(offsetof(hiter, startBucket) == 64);
static_assert(offsetof(hiter, offset) == 72);
static_assert(offsetof(hiter, bucket) == 80);
static_assert(offsetof(hiter, checkBucket) == 88);

// --- construction --------------------------------------------------------
GOMAP_NOINLINE hmap* makemap(const maptype* t, std::int64_t hint, hmap* h);
GOMAP_NOINLINE hmap* makemap_small();
// Smallest B with !overLoadFactor(hint, B) — what makemap picks.
std::uint8_t hintToB(std::int64_t hint);
bool overLoadFactor(std::int64_t count, std::uint8_t B);
bool tooManyOverflowBuckets(std::uint16_t noverflow, std::uint8_t B);
// Number of buckets makeBucketArray allocates for B (2^B plus preallocated
// overflow buckets, rounded to Go's size class).
std::size_t bucketArrayLen(const maptype* t, std::uint8_t B);

// --- access --------------------------------------------------------------
// mapaccess1 returns a pointer to the elem, or to a zeroed elem if absent (never nil).
GOMAP_NOINLINE void* mapaccess1(const maptype* t, hmap* h, const void* key);
GOMAP_NOINLINE void* mapaccess2(const maptype* t, hmap* h, const void* key, bool* ok);
GOMAP_NOINLINE void* mapaccess1_fast32(const maptype* t, hmap* h, std::uint32_t key);
GOMAP_NOINLINE void* mapaccess2_fast32(const maptype* t, hmap* h, std::uint32_t key, bool* ok);
GOMAP_NOINLINE void* mapaccess1_fast64(const maptype* t, hmap* h, std::uint64_t key);
GOMAP_NOINLINE void* mapaccess2_fast64(const maptype* t, hmap* h, std::uint64_t key, bool* ok);
GOMAP_NOINLINE void* mapaccess1_faststr(const maptype* t, hmap* h, String key);
GOMAP_NOINLINE void* mapaccess2_faststr(const maptype* t, hmap* h, String key, bool* ok);

// --- assign: return the elem slot for key (inserting it if absent) -------
GOMAP_NOINLINE void* mapassign(const maptype* t, hmap* h, const void* key);
GOMAP_NOINLINE void* mapassign_fast32(const maptype* t, hmap* h, std::uint32_t key);
GOMAP_NOINLINE void* mapassign_fast64(const maptype* t, hmap* h, std::uint64_t key);
GOMAP_NOINLINE void* mapassign_faststr(const maptype* t, hmap* h, String key);

// --- delete / clear ------------------------------------------------------
GOMAP_NOINLINE void mapdelete(const maptype* t, hmap* h, const void* key);
GOMAP_NOINLINE void mapdelete_fast32(const maptype* t, hmap* h, std::uint32_t key);
GOMAP_NOINLINE void mapdelete_fast64(const maptype* t, hmap* h, std::uint64_t key);
GOMAP_NOINLINE void mapdelete_faststr(const maptype* t, hmap* h, String key);
GOMAP_NOINLINE void mapclear(const maptype* t, hmap* h);

// --- iteration -----------------------------------------------------------
GOMAP_NOINLINE void mapiterinit(const maptype* t, hmap* h, hiter* it);
GOMAP_NOINLINE void mapiternext(hiter* it);
// End an iteration early (or after the end): unlinks it from the active list.
// Go needs no such call (the GC sees the hiter); the simulated collector does.
void mapiterdone(hiter* it);

// --- growth --------------------------------------------------------------
GOMAP_NOINLINE void hashGrow(const maptype* t, hmap* h);
GOMAP_NOINLINE void growWork(const maptype* t, hmap* h, std::uintptr_t bucket);
GOMAP_NOINLINE void evacuate(const maptype* t, hmap* h, std::uintptr_t oldbucket);
GOMAP_NOINLINE void advanceEvacuationMark(hmap* h, const maptype* t, std::uintptr_t newbit);
GOMAP_NOINLINE bmap* newoverflow(const maptype* t, hmap* h, bmap* b);

// --- lifetime (engine only: Go's GC does this) ----------------------------
// The program no longer references h: its header and arrays become unreachable.
void mapdrop(const maptype* t, hmap* h);

// --- invariants ----------------------------------------------------------
// Checks count == live cells, tophash consistent with each key's hash and
// bucket, acyclic chains, evacuation marks consistent with nevacuate, no key
// in two places. Returns an empty string when all hold, else what is wrong.
std::string check_invariants(const maptype* t, const hmap* h);
// Run check_invariants after every write and end the process with a fatal
// error on the first violation. Debug builds only (a no-op under NDEBUG);
// defaults to the environment variable GOMAP_CHECK=1.
void set_invariant_checks(bool on);

}  // namespace gomap
