"""gomapcore.hashing against vectors printed by the engine's own hash.cpp.

The vectors come from a small C++ program linked with engine/src/hash.cpp
(strhash, memhash64, memhash32, f64hash for seeds 0, 1, 0x12345678); '-' is the
empty string.
"""
import struct

import pytest

from gomapcore import hashing
from gomapcore.target import GomapError

VECTORS = [
    ('str', '-', 0x0, 0x30af8a9282f9cb8a),
    ('str', 'a', 0x0, 0x3c5bd52de8da1167),
    ('str', 'hello', 0x0, 0xf219cde8b64135d5),
    ('str', '0123456789abcdef', 0x0, 0x027187ea6c53c89a),
    ('str', 'gomap_hash_v1!!', 0x0, 0x75efde19128dac83),
    ('i64', '0', 0x0, 0x441d831b3d3c2634),
    ('i64', '1', 0x0, 0x5593d8bbe618a441),
    ('i64', '-1', 0x0, 0x88a59d1417bb69bf),
    ('i64', '1234567890123', 0x0, 0x31a9d217bad848e2),
    ('i32', '42', 0x0, 0x605f61209f43d096),
    ('f64', '0', 0x0, 0x441d831b3d3c2634),
    ('f64', '-0', 0x0, 0x441d831b3d3c2634),
    ('f64', '1.5', 0x0, 0xdd4444b173f636a4),
    ('str', '-', 0x1, 0xe1d7aec2eb30cf98),
    ('str', 'a', 0x1, 0x66a04507c3308920),
    ('str', 'hello', 0x1, 0xa4fde490332ba06e),
    ('str', '0123456789abcdef', 0x1, 0x8e761db3a4aafbe1),
    ('str', 'gomap_hash_v1!!', 0x1, 0xbaecbffa6f00e318),
    ('i64', '0', 0x1, 0x07f153c88c43f6c9),
    ('i64', '1', 0x1, 0xcaf51bf07cca78ce),
    ('i64', '-1', 0x1, 0x2aa4596e3c650cc4),
    ('i64', '1234567890123', 0x1, 0xc71891b6fbb17579),
    ('i32', '42', 0x1, 0x355d04cb04d235b4),
    ('f64', '0', 0x1, 0x07f153c88c43f6c9),
    ('f64', '-0', 0x1, 0x07f153c88c43f6c9),
    ('f64', '1.5', 0x1, 0x8025f952fdce2c0b),
    ('str', '-', 0x12345678, 0x344d7b090be0af3a),
    ('str', 'a', 0x12345678, 0xeefdf20024b88082),
    ('str', 'hello', 0x12345678, 0x90cea1669e34b2a2),
    ('str', '0123456789abcdef', 0x12345678, 0x08e96327d563866a),
    ('str', 'gomap_hash_v1!!', 0x12345678, 0x816688603e6b5e58),
    ('i64', '0', 0x12345678, 0xd89defd0bd76c8e7),
    ('i64', '1', 0x12345678, 0x2eb20fc16186e4b2),
    ('i64', '-1', 0x12345678, 0x79a2f8056ec50a35),
    ('i64', '1234567890123', 0x12345678, 0x43b30d2f025c4c8c),
    ('i32', '42', 0x12345678, 0x840c93d32bc84393),
    ('f64', '0', 0x12345678, 0xd89defd0bd76c8e7),
    ('f64', '-0', 0x12345678, 0xd89defd0bd76c8e7),
    ('f64', '1.5', 0x12345678, 0x7896c99e9d36ece5),
]


@pytest.mark.parametrize("kind,val,seed,want", VECTORS)
def test_engine_vectors(kind, val, seed, want):
    if kind == "str":
        got = hashing.strhash(b"" if val == "-" else val.encode(), seed)
    elif kind == "i64":
        got = hashing.memhash64(struct.pack("<q", int(val)), seed)
    elif kind == "i32":
        got = hashing.memhash32(struct.pack("<i", int(val)), seed)
    else:
        got = hashing.f64hash(struct.pack("<d", float(val)), seed)
    assert got == want


def test_minus_zero_is_plus_zero_and_nan_is_refused():
    assert hashing.f64hash(struct.pack("<d", -0.0), 7) == hashing.f64hash(struct.pack("<d", 0.0), 7)
    with pytest.raises(GomapError):
        hashing.f64hash(struct.pack("<d", float("nan")), 7)


def test_tophash_and_bucket():
    assert hashing.tophash(0x03 << 56) == 0x08
    assert hashing.tophash(0xAB << 56 | 5) == 0xAB
    assert hashing.bucket_index(0xFFFF_0000_0000_0013, 4) == 3
