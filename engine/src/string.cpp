// string.cpp — the immortal arena behind String::make.
//
// Go strings are immutable and kept alive by the GC for as long as anything
// points at them. The engine's maps store String headers, so their bytes must
// outlive every map: they live in chunks that are never freed.
#include "gomap/string.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "pages.h"

namespace gomap {

using detail_rt::kHugePage;
using detail_rt::mapHugeAligned;

namespace {

// Key bytes come in 2 MiB chunks on huge pages, as Go's heap arenas do
// (pages.h): lookups in a big map of strings then miss the cache, not also the
// TLB, on each key's bytes.
constexpr std::size_t kChunk = kHugePage;

// A chunk that is never given back: huge-page advised when the kernel maps
// it, plain new[] otherwise.
std::uint8_t* newChunk() {
  if (void* p = mapHugeAligned(kChunk)) return static_cast<std::uint8_t*>(p);
  return new std::uint8_t[kChunk];
}

struct Arena {
  std::mutex mu;
  std::uint8_t* cur = nullptr;
  std::size_t left = 0;

  const std::uint8_t* copy(std::string_view s) {
    std::lock_guard<std::mutex> lock(mu);
    if (s.size() > left) {
      if (s.size() > kChunk / 4) {  // a big string gets bytes of its own
        auto* own = new std::uint8_t[s.size()];
        std::memcpy(own, s.data(), s.size());
        return own;
      }
      cur = newChunk();
      left = kChunk;
    }
    std::uint8_t* p = cur;
    std::memcpy(p, s.data(), s.size());
    cur += s.size();
    left -= s.size();
    return p;
  }
};

Arena& arena() {
  static Arena* a = new Arena;  // immortal: strings outlive static destructors
  return *a;
}

// The empty string still points somewhere valid so that memcmp/memcpy never
// see a null pointer.
const std::uint8_t kEmpty[1] = {0};

}  // namespace

String String::make(std::string_view s) {
  if (s.empty()) return String{kEmpty, 0};
  return String{arena().copy(s), static_cast<std::int64_t>(s.size())};
}

}  // namespace gomap
