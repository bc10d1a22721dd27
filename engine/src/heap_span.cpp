// heap_span.cpp — spans, arenas and the address lookup (heap_span.h).
#include "heap_span.h"

#include <cstring>

#include <sys/mman.h>

#include "internal.h"
#include "pages.h"

#ifdef GOMAP_HEAP_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace gomap::detail_heap {

// Under ASan a slot that is not handed out is poisoned by hand (malloc would
// have done it for us), and each slot's redzone stays poisoned, so a write
// past an allocation's end or a read of memory given back after its
// quarantine is still reported. Quarantined memory stays readable: the
// debugger and the tests read the kPoison there.
#ifdef GOMAP_HEAP_ASAN
void SpanHeap::addressable(const Slot& s) { ASAN_UNPOISON_MEMORY_REGION(s.p, s.bytes); }
void SpanHeap::unaddressable(const Slot& s) { ASAN_POISON_MEMORY_REGION(s.p, s.bytes); }
#endif

SpanHeap::SpanHeap() {
  constexpr std::size_t slots = std::size_t{1} << (kAddrBits - kArenaShift);
  void* m = mmap(nullptr, slots * sizeof(Arena*), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) fatal("out of memory (heap arena table)");
  arenas_ = static_cast<Arena**>(m);
}

Arena* SpanHeap::newArena() {
  void* m = detail_rt::mapAligned(kArenaBytes, kArenaBytes);
  if (!m) fatal("out of memory (heap arena)");
#ifdef GOMAP_HEAP_ASAN
  ASAN_POISON_MEMORY_REGION(m, kArenaBytes);  // slots become addressable when handed out
#endif
  auto* a = new Arena;
  a->base = reinterpret_cast<std::uintptr_t>(m);
  arenas_[a->base >> kArenaShift] = a;
  all_.push_back(a);
  return a;
}

Span* SpanHeap::newSpan(int cls) {
  std::size_t stride = usableBytes(cls) + kRedzone;
  std::size_t npages = kClassPages[cls];
  if (npages * kPageSize < stride) npages = (stride + kPageSize - 1) / kPageSize;  // ASan's redzone
  if (arena_ == nullptr || arena_->used + npages > kArenaPages) arena_ = newArena();
  Arena* a = arena_;
  auto* s = new Span;
  s->base = a->base + a->used * kPageSize;
  s->stride = static_cast<std::uint32_t>(stride);
  // ceil(2^32 / stride): offset * divMul >> 32 == offset / stride exactly for
  // every offset inside a span (offsets < 2^17, strides >= 16: the error term
  // offset * (divMul - 2^32/stride) / 2^32 stays below 1/stride).
  s->divMul = static_cast<std::uint32_t>(0xffffffffu / stride + 1);
  s->nelems = static_cast<std::uint32_t>(npages * kPageSize / stride);
  s->fresh = 0;
  s->cls = static_cast<std::uint8_t>(cls);
  s->meta.reset(new std::uint64_t[s->nelems]);
  for (std::uint32_t i = 0; i < s->nelems; i++) s->meta[i] = kSlotFree;
  for (std::size_t i = 0; i < npages; i++) a->pages[a->used + i] = s;
  a->used += npages;
  return s;
}

}  // namespace gomap::detail_heap
