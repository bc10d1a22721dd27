// map_fast64.cpp — Go's mapaccess*_fast64, mapassign_fast64, mapdelete_fast64:
// the entry points Go's compiler picks for 8-byte keys (int64, uint64,
// float64 is not one of them: floats need +0/-0 and NaN handling).
// The shared body is in fastint.h.
#include "fastint.h"

namespace gomap {

using namespace detail_rt;

void* mapaccess1_fast64(const maptype* t, hmap* h, std::uint64_t key) {
  bool ok;
  return fastAccess<std::uint64_t>(t, h, key, &ok);
}

void* mapaccess2_fast64(const maptype* t, hmap* h, std::uint64_t key, bool* ok) {
  return fastAccess<std::uint64_t>(t, h, key, ok);
}

void* mapassign_fast64(const maptype* t, hmap* h, std::uint64_t key) {
#ifdef NDEBUG
  if (void* elem = fastAssignHot<std::uint64_t>(t, h, key)) [[likely]]
    return elem;
#endif
  return fastAssign<std::uint64_t>(t, h, key, "mapassign_fast64");
}

void mapdelete_fast64(const maptype* t, hmap* h, std::uint64_t key) {
#ifdef NDEBUG
  fastDeleteHot<std::uint64_t>(t, h, key, "mapdelete_fast64");
#else
  fastDelete<std::uint64_t>(t, h, key, "mapdelete_fast64");
#endif
}

}  // namespace gomap
