"""The engine's hashes, "gomap hash v2" (engine/include/gomap/hash.h), in Python.

Used to say where a key belongs (tophash, bucket index) from hmap.hash0, without
calling into the process. Real Go programs hash with the runtime's own functions
and per-process key material, which gomapcore/gohash.py recomputes.
"""
from __future__ import annotations

import math
import struct

from .target import GomapError

K0 = 0xA0761D6478BD642F
K1 = 0xE7037ED1A0B428DB
K2 = 0x8EBC6AF09C88C6E3
M64 = (1 << 64) - 1
MIN_TOP_HASH = 5


def mix(a: int, b: int) -> int:
    """hi64(a*b) ^ lo64(a*b) of the 128-bit product."""
    r = (a & M64) * (b & M64)
    return (r >> 64) ^ (r & M64)


def _w(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at:at + size], "little")


def memhash(data: bytes, seed: int) -> int:
    """memhash as hash.h specifies it: the key's first and last words, and a
    mix per 16 bytes before those for keys over 16 bytes."""
    n = len(data)
    s = (seed & M64) ^ K0
    if n == 0:
        a = b = 0
    elif n < 4:
        a, b = data[0] | data[n // 2] << 8 | data[n - 1] << 16, 0
    elif n < 8:
        a, b = _w(data, 0, 4), _w(data, n - 4, 4)
    elif n <= 16:
        a, b = _w(data, 0, 8), _w(data, n - 8, 8)
    else:
        off = 0
        while n - off > 16:
            s = mix(_w(data, off, 8) ^ K1, _w(data, off + 8, 8) ^ s)
            off += 16
        a, b = _w(data, n - 16, 8), _w(data, n - 8, 8)
    return mix(K1 ^ n, mix(a ^ K2, b ^ s))


def memhash32(data: bytes, seed: int) -> int:
    return memhash(bytes(data[:4]), seed)


def memhash64(data: bytes, seed: int) -> int:
    return memhash(bytes(data[:8]), seed)


def strhash(s: bytes, seed: int) -> int:
    """The hash of a string's bytes (not of its header)."""
    return memhash(bytes(s), seed)


def _float_hash(data: bytes, seed: int, fmt: str) -> int:
    (x,) = struct.unpack(fmt, bytes(data[:struct.calcsize(fmt)]))
    if math.isnan(x):
        raise GomapError("a NaN key gets a random hash (every NaN is a new key): "
                         "its bucket cannot be recomputed")
    if x == 0:
        return memhash(struct.pack(fmt, 0.0), seed)    # +0 and -0 are one key
    return memhash(struct.pack(fmt, x), seed)


def f64hash(data: bytes, seed: int) -> int:
    return _float_hash(data, seed, "<d")


def f32hash(data: bytes, seed: int) -> int:
    return _float_hash(data, seed, "<f")


def tophash(h: int) -> int:
    """map.go tophash: the top byte, moved past the cell-state values."""
    top = (h >> 56) & 0xFF
    return top + MIN_TOP_HASH if top < MIN_TOP_HASH else top


def bucket_index(h: int, B: int) -> int:
    return h & ((1 << B) - 1)
