// map_fast32.cpp — Go's mapaccess*_fast32, mapassign_fast32, mapdelete_fast32:
// the entry points Go's compiler picks for 4-byte keys (int32, uint32,
// float32 is not one of them: floats need +0/-0 and NaN handling).
// The shared body is in fastint.h.
#include "fastint.h"

namespace gomap {

using namespace detail_rt;

void* mapaccess1_fast32(const maptype* t, hmap* h, std::uint32_t key) {
  bool ok;
  return fastAccess<std::uint32_t>(t, h, key, &ok);
}

void* mapaccess2_fast32(const maptype* t, hmap* h, std::uint32_t key, bool* ok) {
  return fastAccess<std::uint32_t>(t, h, key, ok);
}

void* mapassign_fast32(const maptype* t, hmap* h, std::uint32_t key) {
#ifdef NDEBUG
  if (void* elem = fastAssignHot<std::uint32_t>(t, h, key)) [[likely]]
    return elem;
#endif
  return fastAssign<std::uint32_t>(t, h, key, "mapassign_fast32");
}

void mapdelete_fast32(const maptype* t, hmap* h, std::uint32_t key) {
#ifdef NDEBUG
  fastDeleteHot<std::uint32_t>(t, h, key, "mapdelete_fast32");
#else
  fastDelete<std::uint32_t>(t, h, key, "mapdelete_fast32");
#endif
}

}  // namespace gomap
