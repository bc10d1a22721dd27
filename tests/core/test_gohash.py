"""gomapcore.gohash against Go 1.19's own runtime.

build/go/hashvec (tests/go/hashvec, built by tests/go/build.sh) calls the
runtime's hash functions through go:linkname and prints, with the process's
runtime.aeskeysched and runtime.hashkey, what each returned for keys of every
length from 0 to 140 bytes and some up to 385 (each of aeshashbody's length
cases and its loop), five seeds, and both paths: the AES one this machine
takes and the portable fallbacks of hash64.go. Every value must match.
"""
from __future__ import annotations


import pytest

from gomapcore import gohash
from go_hashvec import go_vectors
from gomapcore.target import GomapError

_ground = go_vectors


def _vectors(fn: str) -> list[tuple[bytes, int, int]]:
    vs = [(bytes.fromhex(v["data"]), v["seed"], v["hash"]) for v in _ground()["vectors"] if v["fn"] == fn]
    assert vs, f"no vectors for {fn}"
    return vs


def _keys(use_aes: bool) -> gohash.GoHashKeys:
    g = _ground()
    return gohash.GoHashKeys(use_aes, aeskeysched=bytes.fromhex(g["aeskeysched"]), hashkey0=g["hashkey"][0])


def _mismatches(fn, vectors):
    return [(len(d), s, h, fn(d, s)) for d, s, h in vectors if fn(d, s) != h]


@pytest.mark.parametrize("name", ["memhash", "strhash", "memhash64", "memhash32",
                                  "f64hash", "f32hash", "c64hash", "c128hash"])
def test_aes_path_matches_the_runtime(name):
    g = _ground()
    if not g["use_aes"]:
        pytest.skip("this CPU has no AES-NI: the runtime took the fallback path")
    keys = _keys(True)
    fn = keys.memhash if name == "strhash" else getattr(keys, name)
    assert _mismatches(fn, _vectors(name)) == []


@pytest.mark.parametrize("name", ["memhash", "memhash64", "memhash32"])
def test_fallback_path_matches_the_runtime(name):
    keys = _keys(False)
    assert _mismatches(getattr(keys, name), _vectors(name + "Fallback")) == []


def test_every_length_case_is_covered():
    lengths = {len(d) for d, _, _ in _vectors("memhash")}
    # 0, 1..15, 16, 17..32, 33..64, 65..128, then one and several 128-byte blocks
    assert {0, 1, 15, 16, 17, 32, 33, 64, 65, 128, 129, 256, 257, 385} <= lengths


def test_aesenc_is_one_round_of_aes():
    # FIPS-197 appendix B, round 1: the state after the initial AddRoundKey and
    # the first round key give the state at the start of round 2.
    start = bytes.fromhex("193de3bea0f4e22b9ac68d2ae9f84808")
    key1 = bytes.fromhex("a0fafe1788542cb123a339392a6c7605")
    assert gohash.aesenc(start, key1) == bytes.fromhex("a49c7ff2689f352b6b5bea43026a5049")
    assert gohash.SBOX[0x00] == 0x63 and gohash.SBOX[0x53] == 0xED


def test_a_different_key_schedule_gives_different_hashes():
    keys = _keys(True)
    other = gohash.GoHashKeys(True, aeskeysched=bytes(b ^ 1 for b in keys.aeskeysched))
    data, seed, want = _vectors("memhash")[40]
    assert keys.memhash(data, seed) == want != other.memhash(data, seed)


def test_float_zero_and_nan():
    keys = _keys(True)
    assert keys.f64hash(b"\0" * 8, 7) == keys.f64hash(b"\0" * 7 + b"\x80", 7)   # +0 and -0
    with pytest.raises(GomapError, match="NaN"):
        keys.f64hash(b"\0\0\0\0\0\0\xf8\x7f", 7)
