// memhash.h — the engine's names for the inline hash (gomap/hash_inline.h,
// which Map<K,V>'s inline lookups in map.h share).
#pragma once

#include "gomap/hash_inline.h"

namespace gomap::detail_rt {

using hashv2::hashFinish;
using hashv2::hashMix;
using hashv2::load32;
using hashv2::load64;
using hashv2::memhash32Inline;
using hashv2::memhash64Inline;
using hashv2::memhashInline;

}  // namespace gomap::detail_rt
