// memhash.h — the engine's names for the inline hash (gomap/hash_inline.h,
// which Map<K,V>'s inline lookups in map.h share).
#pragma once

#include "gomap/hash_inline.h"

namespace gomap::detail_rt {

using alg::hashMix;
using alg::load32;
using alg::load64;
using alg::memhash32Inline;
using alg::memhash64Inline;
using alg::memhashInline;

}  // namespace gomap::detail_rt
