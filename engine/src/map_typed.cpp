// map_typed.cpp — the entry points as Map<K,V>'s inline lookups reach them.
//
// map.h declares these [[gnu::pure]] (see there why); each is the runtime's
// entry point and nothing else, so a typed lookup that leaves its inline path
// ends where an untyped one does.
#include "gomap/map.h"

namespace gomap::detail {

const void* access1Fast64(const maptype* t, const hmap* h, std::uint64_t key) {
  return mapaccess1_fast64(t, const_cast<hmap*>(h), key);
}
Found access2Fast64(const maptype* t, const hmap* h, std::uint64_t key) {
  Found f{};
  f.elem = mapaccess2_fast64(t, const_cast<hmap*>(h), key, &f.ok);
  return f;
}
const void* access1FastStr(const maptype* t, const hmap* h, String key) {
  return mapaccess1_faststr(t, const_cast<hmap*>(h), key);
}
Found access2FastStr(const maptype* t, const hmap* h, String key) {
  Found f{};
  f.elem = mapaccess2_faststr(t, const_cast<hmap*>(h), key, &f.ok);
  return f;
}

}  // namespace gomap::detail
