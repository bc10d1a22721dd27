// abi.h — Go 1.19's map layout on amd64, as the debuggers read it.
//
// Everything in this file is an ABI shared with gomapcore (Python) and with real
// Go 1.19 binaries: a debugger plugin reads these bytes without calling any code.
// Each offset the plugins depend on is pinned by a static_assert below, so a
// change that would silently break the plugins breaks the build instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gomap {

// --- Constants (runtime/map.go) -------------------------------------------

// A bucket holds 8 entries: small enough to scan linearly, large enough that the
// tophash bytes of one bucket fit in a single 64-bit word.
inline constexpr int bucketCntBits = 3;
inline constexpr std::size_t bucketCnt = std::size_t{1} << bucketCntBits;

// Grow when the average bucket would hold more than 6.5 entries: Go measured
// this as the best trade between overflow chains and wasted slots.
inline constexpr std::size_t loadFactorNum = 13;
inline constexpr std::size_t loadFactorDen = 2;

// Keys and elems larger than this are stored out of line (a pointer in the slot),
// so a bucket never grows past a few KiB.
inline constexpr std::size_t maxKeySize = 128;
inline constexpr std::size_t maxElemSize = 128;

// Keys start right after tophash[8]; on amd64 this is already 8-aligned.
inline constexpr std::size_t dataOffset = 8;

// tophash values below minTopHash are cell states, not hash bytes.
inline constexpr std::uint8_t emptyRest = 0;       // empty, and so is every later cell and overflow
inline constexpr std::uint8_t emptyOne = 1;        // empty (deleted or never used)
inline constexpr std::uint8_t evacuatedX = 2;      // entry moved to the same index in the new array
inline constexpr std::uint8_t evacuatedY = 3;      // entry moved to index + old size
inline constexpr std::uint8_t evacuatedEmpty = 4;  // cell was empty when its bucket was evacuated
inline constexpr std::uint8_t minTopHash = 5;      // smallest tophash of a live entry

// hmap.flags
inline constexpr std::uint8_t iterator = 1;      // an iterator may be using buckets
inline constexpr std::uint8_t oldIterator = 2;   // an iterator may be using oldbuckets
inline constexpr std::uint8_t hashWriting = 4;   // a writer is active: a second one is fatal
inline constexpr std::uint8_t sameSizeGrow = 8;  // the current grow keeps B (overflow clean-up)

// Sentinel for hiter.checkBucket: "no filtering needed".
inline constexpr std::uintptr_t noCheck = ~std::uintptr_t{0};

// A hash's tophash byte (map.go's tophash): its top 8 bits, moved above the
// cell states.
inline std::uint8_t tophashOf(std::uint64_t hash) {
  auto top = static_cast<std::uint8_t>(hash >> 56);
  if (top < minTopHash) top += minTopHash;
  return top;
}

// The cells of a bucket whose tophash byte is v, as a bit mask (bit i = cell
// i), from the bucket's tophash[8]: a few vector instructions on amd64.
inline unsigned cellsWithTophash(const std::uint8_t* tophash, std::uint8_t v) {
#if defined(__SSE2__)
  __m128i t = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(tophash));  // 8 bytes, upper half zero
  __m128i eq = _mm_cmpeq_epi8(t, _mm_set1_epi8(static_cast<char>(v)));
  return static_cast<unsigned>(_mm_movemask_epi8(eq)) & 0xFFu;
#else
  unsigned m = 0;
  for (unsigned c = 0; c < 8; c++) m |= unsigned{tophash[c] == v} << c;
  return m;
#endif
}

// The cell of a bucket chain that holds an integer key (the fast32/fast64
// layout: 4- or 8-byte keys inline after tophash[8]), or nullptr. Go's fast
// loops compare the key of every live cell in turn; the cell they find is the
// only live one whose tophash byte is tophashOf(hash) and whose key is key, so
// matching the tophash bytes first finds the same cell, with one well
// predicted branch per bucket instead of a data-dependent one per cell (a
// false candidate has odds of about 1 in 40 in a full bucket). Returns the
// bucket and sets *cell. The head bucket spans three cache lines: the tophash
// load misses on the first, and the key and elem are on later ones, asked for
// at once so that the misses overlap. Shared by the runtime's fast lookups and
// deletes (fastint.h) and Map<K,V>'s inline lookup (map.h).
template <class U>
[[gnu::always_inline]] inline std::uint8_t* findIntKey(std::uint8_t* b, std::uint8_t top, U key,
                                                       std::size_t bucketsize, unsigned* cell) {
  __builtin_prefetch(b + 64);
  __builtin_prefetch(b + 128);
  do {
    for (unsigned m = cellsWithTophash(b, top); m != 0; m &= m - 1) {
      unsigned i = static_cast<unsigned>(__builtin_ctz(m));
      U k;
      std::memcpy(&k, b + dataOffset + i * sizeof(U), sizeof(U));
      if (k == key) [[likely]] {
        *cell = i;
        return b;
      }
    }
    std::memcpy(&b, b + bucketsize - sizeof(void*), sizeof(void*));  // overflow
  } while (b != nullptr);
  return nullptr;
}

// Whether n bytes at a equal those at b (n is both keys' length, already
// compared). Go's faststr loops take the same pointer as equal before any
// byte; keys are mostly short, so the first and last 8 (4, or the few single)
// bytes decide without a call, and only the middle of a key over 16 bytes
// goes to memcmp.
[[gnu::always_inline]] inline bool sameStringBytes(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) {
  if (a == b) return true;
  auto w64 = [](const std::uint8_t* p) { std::uint64_t w; std::memcpy(&w, p, 8); return w; };
  auto w32 = [](const std::uint8_t* p) { std::uint32_t w; std::memcpy(&w, p, 4); return w; };
  if (n >= 8) {
    if (w64(a) != w64(b) || w64(a + n - 8) != w64(b + n - 8)) return false;
    return n <= 16 || std::memcmp(a + 8, b + 8, n - 16) == 0;
  }
  if (n >= 4) return w32(a) == w32(b) && w32(a + n - 4) == w32(b + n - 4);
  if (n == 0) return true;
  return a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1];  // 1..3 bytes: all of them
}

// findIntKey for string keys (the faststr layout: 16-byte {str, len} headers
// inline after tophash[8]): the cell of a bucket chain whose tophash byte is
// top and whose key has length len and bytes str, or nullptr. The candidates
// are tried in cell order, the length first, as Go's loop does, so it finds
// Go's cell. Shared by mapaccess1/2_faststr's common case (map_faststr.cpp)
// and Map<String,V>'s inline lookup (map.h).
[[gnu::always_inline]] inline std::uint8_t* findStrKey(std::uint8_t* b, std::uint8_t top, const std::uint8_t* str,
                                                       std::int64_t len, std::size_t bucketsize, unsigned* cell) {
  // A 208-byte bucket always spans four cache lines, and the key header and
  // elem of a hit may be on any of the three after the tophash line: all are
  // asked for now, with the tophash line's miss, not after it (with only two
  // asked for, half the hits missed again on the elem's line).
  __builtin_prefetch(b + 64);
  __builtin_prefetch(b + 128);
  __builtin_prefetch(b + bucketsize - 1);
  do {
    for (unsigned m = cellsWithTophash(b, top); m != 0; m &= m - 1) {
      unsigned i = static_cast<unsigned>(__builtin_ctz(m));
      const std::uint8_t* kstr;
      std::int64_t klen;
      std::memcpy(&kstr, b + dataOffset + i * 16, 8);
      std::memcpy(&klen, b + dataOffset + i * 16 + 8, 8);
      if (klen == len && sameStringBytes(kstr, str, static_cast<std::size_t>(len))) [[likely]] {
        *cell = i;
        return b;
      }
    }
    std::memcpy(&b, b + bucketsize - sizeof(void*), sizeof(void*));  // overflow
  } while (b != nullptr);
  return nullptr;
}

// --- Structures -------------------------------------------------------------

struct bmap;  // tophash[bucketCnt], then keys, elems, and the overflow pointer last.

// A Go slice header: what *[]*bmap points at.
struct GoSlice {
  void* array;
  std::int64_t len;
  std::int64_t cap;
};

// Fields that not every map needs (overflow bookkeeping for pointer-free buckets
// and the next preallocated overflow bucket).
struct mapextra {
  // For maps whose buckets hold no pointers, Go keeps overflow buckets reachable
  // from here (the GC does not scan the buckets). The engine does the same so
  // that the memory a plugin finds is the memory Go would have.
  GoSlice* overflow;     // *[]*bmap: overflow buckets of buckets
  GoSlice* oldoverflow;  // *[]*bmap: overflow buckets of oldbuckets
  bmap* nextOverflow;    // next free preallocated overflow bucket
};

// A Go map header. The variable `m` of type map[K]V is a pointer to this.
struct hmap {
  std::int64_t count;      // live cells == len(m)
  std::uint8_t flags;
  std::uint8_t B;          // log2 of the number of buckets
  std::uint16_t noverflow; // approximate number of overflow buckets
  std::uint32_t hash0;     // hash seed
  void* buckets;           // array of 2^B buckets; may be nil if count == 0
  void* oldbuckets;        // previous array, half (or same) size; non-nil only while growing
  std::uintptr_t nevacuate;// old buckets below this are all evacuated
  mapextra* extra;
};

static_assert(sizeof(hmap) == 48, "hmap is 48 bytes on amd64");
static_assert(offsetof(hmap, count) == 0);
static_assert(offsetof(hmap, flags) == 8);
static_assert(offsetof(hmap, B) == 9);
static_assert(offsetof(hmap, noverflow) == 10);
static_assert(offsetof(hmap, hash0) == 12);
static_assert(offsetof(hmap, buckets) == 16);
static_assert(offsetof(hmap, oldbuckets) == 24);
static_assert(offsetof(hmap, nevacuate) == 32);
static_assert(offsetof(hmap, extra) == 40);
static_assert(sizeof(mapextra) == 24);
static_assert(offsetof(mapextra, overflow) == 0);
static_assert(offsetof(mapextra, oldoverflow) == 8);
static_assert(offsetof(mapextra, nextOverflow) == 16);
static_assert(sizeof(GoSlice) == 24);

// Geometry of a bucket for slot sizes keysize/elemsize (after indirection):
//   [0, 8)                       tophash
//   [8, 8 + 8*keysize)           keys
//   [.., .. + 8*elemsize)        elems
//   [bucketsize - 8, bucketsize) overflow *bmap
// Go pads the bucket so the overflow pointer is pointer-aligned.
constexpr std::size_t bucketSize(std::size_t keysize, std::size_t elemsize) {
  std::size_t raw = dataOffset + bucketCnt * keysize + bucketCnt * elemsize;
  raw = (raw + alignof(void*) - 1) & ~(alignof(void*) - 1);
  return raw + sizeof(void*);
}
constexpr std::size_t keysOffset() { return dataOffset; }
constexpr std::size_t elemsOffset(std::size_t keysize) { return dataOffset + bucketCnt * keysize; }
constexpr std::size_t overflowOffset(std::size_t bucketsize) { return bucketsize - sizeof(void*); }

static_assert(bucketSize(8, 8) == 144, "map[int64]int64 bucket");
static_assert(bucketSize(16, 8) == 208, "map[string]int64 bucket");
static_assert(bucketSize(8, 1) == 88, "map[int64]bool bucket");

// A bucket as Go's DWARF describes it (bucket<K,V>): a typed view for debuggers.
// K and V are the slot types (pointers for indirect keys/elems).
template <class K, class V>
struct bucket {
  std::uint8_t tophash[bucketCnt];
  K keys[bucketCnt];
  V values[bucketCnt];
  bucket* overflow;
};

// hmap with typed bucket pointers, exactly as Go's DWARF describes hash<K,V>.
// gomap::Map<K,V> points at one of these so that gdb and lldb find K and V by
// following the buckets field: the same path a plugin takes on a Go binary.
template <class K, class V>
struct hash {
  std::int64_t count;
  std::uint8_t flags;
  std::uint8_t B;
  std::uint16_t noverflow;
  std::uint32_t hash0;
  bucket<K, V>* buckets;
  bucket<K, V>* oldbuckets;
  std::uintptr_t nevacuate;
  mapextra* extra;
};
using hash_int64_int64 = hash<std::int64_t, std::int64_t>;  // offsetof takes no template commas
static_assert(sizeof(hash_int64_int64) == sizeof(hmap));
static_assert(offsetof(hash_int64_int64, buckets) == offsetof(hmap, buckets));
static_assert(offsetof(hash_int64_int64, extra) == offsetof(hmap, extra));

}  // namespace gomap
