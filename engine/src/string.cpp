// string.cpp — the immortal arena behind String::make.
//
// Go strings are immutable and kept alive by the GC for as long as anything
// points at them. The engine's maps store String headers, so their bytes must
// outlive every map: they live in chunks that are never freed.
#include "gomap/string.h"

#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

namespace gomap {

namespace {

constexpr std::size_t kChunk = 1 << 20;

struct Arena {
  std::mutex mu;
  std::vector<std::unique_ptr<std::uint8_t[]>> chunks;
  std::uint8_t* cur = nullptr;
  std::size_t left = 0;

  const std::uint8_t* copy(std::string_view s) {
    std::lock_guard<std::mutex> lock(mu);
    if (s.size() > left) {
      std::size_t n = s.size() > kChunk / 4 ? s.size() : kChunk;
      chunks.push_back(std::make_unique<std::uint8_t[]>(n));
      std::uint8_t* fresh = chunks.back().get();
      if (n != kChunk) {  // a big string gets a chunk of its own
        std::memcpy(fresh, s.data(), s.size());
        return fresh;
      }
      cur = fresh;
      left = n;
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
