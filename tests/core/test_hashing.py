"""gomapcore.hashing against vectors printed by the engine's own hash.cpp.

The vectors come from a small C++ program linked with engine/src/hash.cpp
(strhash, memhash64, memhash32, f64hash for seeds 0, 1, 0x12345678); '-' is the
empty string. The engine's own tests check hash.cpp against a byte-by-byte
reading of the spec in hash.h (tests/engine/test_ops.cpp), so these pin the
Python side to the same spec.
"""
import struct

import pytest

from gomapcore import hashing
from gomapcore.target import GomapError

VECTORS = [
    ('str', '-', 0x0, 0x18c7fcc651d1587e),
    ('str', 'a', 0x0, 0x1780e839c1c2eb93),
    ('str', 'hello', 0x0, 0x113759be8a86f3a0),
    ('str', '0123456789abcdef', 0x0, 0x7ecdb1316d468bfe),
    ('str', 'gomap_hash_v1!!', 0x0, 0x07fafd9a4e5c59fb),
    ('str', 'a key of exactly 33 bytes, ok ok.', 0x0, 0xa907abaa081b2bbb),
    ('i64', '0', 0x0, 0x0c4e25c1633b8c47),
    ('i64', '1', 0x0, 0x1d644d178a67f651),
    ('i64', '-1', 0x0, 0x60635c701383567e),
    ('i64', '1234567890123', 0x0, 0xb2f20a05c4908594),
    ('i32', '42', 0x0, 0xfda046bc2abe0cc2),
    ('f64', '0', 0x0, 0x0c4e25c1633b8c47),
    ('f64', '-0', 0x0, 0x0c4e25c1633b8c47),
    ('f64', '1.5', 0x0, 0xc3821f34b6403a6e),
    ('str', '-', 0x1, 0xa08676e80790ac07),
    ('str', 'a', 0x1, 0x21db1268fdbaf2e3),
    ('str', 'hello', 0x1, 0x0eddf5bcbf324822),
    ('str', '0123456789abcdef', 0x1, 0x2ff0c7d009d91373),
    ('str', 'gomap_hash_v1!!', 0x1, 0xbc44aa1f630974b8),
    ('str', 'a key of exactly 33 bytes, ok ok.', 0x1, 0xf255d77bbacdf75f),
    ('i64', '0', 0x1, 0x4ee7d07a16a0a52a),
    ('i64', '1', 0x1, 0x094a0ff33645b4bf),
    ('i64', '-1', 0x1, 0x67c229e96cedf9d0),
    ('i64', '1234567890123', 0x1, 0x83d94183fdb2f706),
    ('i32', '42', 0x1, 0x4cf8f1c64331972e),
    ('f64', '0', 0x1, 0x4ee7d07a16a0a52a),
    ('f64', '-0', 0x1, 0x4ee7d07a16a0a52a),
    ('f64', '1.5', 0x1, 0x64fd1075ae424716),
    ('str', '-', 0x12345678, 0x52d7ae5b2dc96a58),
    ('str', 'a', 0x12345678, 0xa5afc1e32b804d00),
    ('str', 'hello', 0x12345678, 0xafca0ab9292ce1e2),
    ('str', '0123456789abcdef', 0x12345678, 0x65f645b936c2b541),
    ('str', 'gomap_hash_v1!!', 0x12345678, 0x274c4a5251120c86),
    ('str', 'a key of exactly 33 bytes, ok ok.', 0x12345678, 0xc99e7745567b4d0e),
    ('i64', '0', 0x12345678, 0x3fc8723ef49b5100),
    ('i64', '1', 0x12345678, 0x9610dd3327185e95),
    ('i64', '-1', 0x12345678, 0x0a146dea6af26fac),
    ('i64', '1234567890123', 0x12345678, 0xdeab515876b59c2d),
    ('i32', '42', 0x12345678, 0x011e946a96c3cca0),
    ('f64', '0', 0x12345678, 0x3fc8723ef49b5100),
    ('f64', '-0', 0x12345678, 0x3fc8723ef49b5100),
    ('f64', '1.5', 0x12345678, 0x3ae0e83849938f2e),
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
