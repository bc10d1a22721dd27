// heap_span.h — the small-object allocator under heap.cpp: Go's size classes,
// spans of one class carved from aligned arenas, and address -> slot lookup by
// arithmetic.
//
// As in Go's heap (malloc.go, mheap.go): an allocation below 32 KiB takes the
// smallest size class that fits; each class owns spans of a few 8 KiB pages
// cut into equal slots; an arena (64 MiB, aligned to its size) keeps one span
// pointer per page, and a flat table keeps one arena pointer per 64 MiB of the
// address space. So "which allocation starts at p?" is two loads, a multiply
// and a compare: no hashing, no per-allocation node, and a pointer that is not
// ours (a caller's hmap on the stack) is told apart just as cheaply.
//
// Every slot has one metadata word (see kSlot* below) that heap.cpp owns: the
// registry index of a recorded allocation, or what state an unrecorded or free
// slot is in. Not thread-safe: heap.cpp calls it under its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace gomap::detail_heap {

// --- size classes (runtime/sizeclasses.go) ---------------------------------

inline constexpr std::size_t kMaxSmallSize = 32768;
inline constexpr std::size_t kPageSize = 8192;
inline constexpr int kNumClasses = 68;

// Go's class_to_size and class_to_allocnpages: the sizes and the pages per span.
inline constexpr std::uint16_t kClassSize[kNumClasses] = {
    0,     8,     16,    24,    32,    48,    64,    80,    96,    112,   128,   144,
    160,   176,   192,   208,   224,   240,   256,   288,   320,   352,   384,   416,
    448,   480,   512,   576,   640,   704,   768,   896,   1024,  1152,  1280,  1408,
    1536,  1792,  2048,  2304,  2688,  3072,  3200,  3456,  4096,  4864,  5376,  6144,
    6528,  6784,  6912,  8192,  9472,  9728,  10240, 10880, 12288, 13568, 14336, 16384,
    18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768};
inline constexpr std::uint8_t kClassPages[kNumClasses] = {
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 2, 1, 2, 1, 3, 2, 3, 1, 3,
    2, 3, 4, 5, 6, 1, 7, 6, 5, 4, 3, 5, 7, 2, 9, 7, 5, 8, 3, 10, 7, 4};

// Size -> class by direct index, as Go's size_to_class8/size_to_class128: steps
// of 8 bytes up to 1 KiB, of 128 bytes above (every class boundary above 1 KiB
// is a multiple of 128, so the coarse step never skips a class). Built here
// from kClassSize rather than copied.
inline constexpr std::size_t kSmallSizeMax = 1024;
struct ClassIndex {
  std::uint8_t by8[kSmallSizeMax / 8 + 1]{};
  std::uint8_t by128[(kMaxSmallSize - kSmallSizeMax) / 128 + 1]{};
  constexpr ClassIndex() {
    int c = 0;
    for (std::size_t i = 0; i < sizeof by8; i++) {
      while (kClassSize[c] < i * 8) c++;
      by8[i] = static_cast<std::uint8_t>(c);
    }
    for (std::size_t i = 0; i < sizeof by128; i++) {
      while (kClassSize[c] < kSmallSizeMax + i * 128) c++;
      by128[i] = static_cast<std::uint8_t>(c);
    }
  }
};
inline constexpr ClassIndex kClassIndex{};

// The class of a request below kMaxSmallSize.
inline int sizeClass(std::size_t size) {
  if (size <= kSmallSizeMax - 8) return kClassIndex.by8[(size + 7) / 8];
  return kClassIndex.by128[(size - kSmallSizeMax + 127) / 128];
}

// --- slot metadata -----------------------------------------------------------

// A slot's metadata word: below kSlotUnrecordedDropped it is the registry
// index of the (recorded) allocation occupying the slot.
inline constexpr std::uint64_t kSlotFree = ~std::uint64_t{0};         // on the free list or never used
inline constexpr std::uint64_t kSlotQuarantined = kSlotFree - 1;     // freed, poisoned, not yet reusable
inline constexpr std::uint64_t kSlotUnrecorded = kSlotFree - 2;      // allocated while recording was off
inline constexpr std::uint64_t kSlotUnrecordedDropped = kSlotFree - 3;  // ... dropped, awaiting gc()

// --- spans and arenas ------------------------------------------------------

// Under ASan each slot is followed by a redzone that stays poisoned (see
// heap_span.cpp); otherwise slots are back to back.
#if defined(__SANITIZE_ADDRESS__)
#define GOMAP_HEAP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GOMAP_HEAP_ASAN 1
#endif
#endif
#ifdef GOMAP_HEAP_ASAN
inline constexpr std::size_t kRedzone = 16;
#else
inline constexpr std::size_t kRedzone = 0;
#endif

struct Span {
  std::uintptr_t base;     // first slot
  std::uint32_t stride;    // bytes from slot to slot (16-aligned; ASan adds a redzone)
  std::uint32_t divMul;    // offset -> slot index by multiply (Go's divMagic idea)
  std::uint32_t nelems;    // slots in the span
  std::uint32_t fresh;     // slots [fresh, nelems) were never handed out: still zero
  std::uint8_t cls;
  std::unique_ptr<std::uint64_t[]> meta;  // one word per slot
};

inline constexpr unsigned kArenaShift = 26;  // 64 MiB arenas, aligned to their size
inline constexpr std::size_t kArenaBytes = std::size_t{1} << kArenaShift;
inline constexpr std::size_t kArenaPages = kArenaBytes / kPageSize;
inline constexpr unsigned kAddrBits = 47;  // user space on amd64/arm64 with 4-level paging

struct Arena {
  Span* pages[kArenaPages] = {};  // the span covering each 8 KiB page, if any
  std::uintptr_t base = 0;
  std::size_t used = 0;           // pages handed to spans, from the start
};

struct Slot {
  void* p;
  std::uint64_t* meta;
  std::uint32_t bytes;  // the usable bytes (without the ASan redzone): poison this many
  std::uint8_t cls;
};

// One per process (heap.cpp's). The hot paths (find, alloc from a free list or
// a fresh span) are inline; making spans and arenas is not.
class SpanHeap {
 public:
  SpanHeap();

  // A slot of class cls (1..kNumClasses-1). Its metadata word says kSlotFree;
  // the caller sets it. *dirty says whether it held an earlier allocation and
  // needs clearing (fresh span memory is zero already).
  Slot alloc(int cls, bool* dirty) {
    Class& c = classes_[cls];
    if (!c.free.empty()) {
      Slot s = c.free.back();
      c.free.pop_back();
      addressable(s);
      *dirty = true;
      return s;
    }
    Span* sp = c.current;
    if (sp == nullptr || sp->fresh == sp->nelems) sp = c.current = newSpan(cls);
    std::uint32_t i = sp->fresh++;
    Slot s{reinterpret_cast<void*>(sp->base + std::uintptr_t{i} * sp->stride), &sp->meta[i],
           static_cast<std::uint32_t>(sp->stride - kRedzone), static_cast<std::uint8_t>(cls)};
    addressable(s);
    *dirty = false;
    return s;
  }

  // The slot that starts exactly at p, or {nullptr} when p is not the start of
  // one of our slots (interior pointers, other memory, stacks).
  Slot find(const void* p) const {
    auto a = reinterpret_cast<std::uintptr_t>(p);
    if ((a >> kAddrBits) != 0) return Slot{};
    const Arena* arena = arenas_[a >> kArenaShift];
    if (arena == nullptr) return Slot{};
    const Span* sp = arena->pages[(a - arena->base) / kPageSize];
    if (sp == nullptr) return Slot{};
    auto off = static_cast<std::uint32_t>(a - sp->base);
    auto i = static_cast<std::uint32_t>((std::uint64_t{off} * sp->divMul) >> 32);
    if (i >= sp->fresh || i * sp->stride != off) return Slot{};
    return Slot{const_cast<void*>(p), &sp->meta[i], sp->stride - static_cast<std::uint32_t>(kRedzone), sp->cls};
  }

  // Back onto its class's free list (the caller set its meta to kSlotFree).
  void release(const Slot& s) {
    unaddressable(s);
    classes_[s.cls].free.push_back(s);
  }

  // Usable bytes of a class's slots: the class size rounded up to 16.
  static std::size_t usableBytes(int cls) { return (std::size_t{kClassSize[cls]} + 15) & ~std::size_t{15}; }

 private:
  struct Class {
    Span* current = nullptr;  // the span fresh slots are cut from
    std::vector<Slot> free;   // slots given back, reused newest first
  };
  Span* newSpan(int cls);
  Arena* newArena();
#ifdef GOMAP_HEAP_ASAN
  static void addressable(const Slot& s);
  static void unaddressable(const Slot& s);
#else
  static void addressable(const Slot&) {}
  static void unaddressable(const Slot&) {}
#endif

  Class classes_[kNumClasses];
  // One arena pointer per 64 MiB of address space (2^21 entries): mapped
  // without backing, so only the entries in use cost a page.
  Arena** arenas_;
  Arena* arena_ = nullptr;  // the one new spans are cut from
  // Every arena (and through its page map, every span): the table above is
  // not memory a leak checker scans.
  std::vector<Arena*> all_;
};

}  // namespace gomap::detail_heap
