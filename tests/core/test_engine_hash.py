"""The engine's hashes against Go 1.19's own runtime.

build/go/hashvec (tests/go/hashvec) prints what Go's runtime.memhash,
strhash, memhash32/64, f32/f64hash and the hash64.go fallbacks returned for
keys of 0 to 385 bytes and five seeds, with the process's aeskeysched and
hashkey. engine_hashvec (tests/engine/hashvec.cpp) is given the same key
material and inputs, and every value must be Go's: the AES path
(aeshashbody and the AES memhash32/64) and the portable one. It runs from
every build that has it; the ASan one copies each key to a heap block of its
exact size, so a read past a key's end fails there.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from go_hashvec import ROOT, go_vectors

BUILDS = ["debug", "asan", "release"]
FNS = ["memhash", "strhash", "memhash64", "memhash32", "f64hash", "f32hash",
       "memhashFallback", "memhash64Fallback", "memhash32Fallback"]


_go = go_vectors


def _engine(build: str, use_aes: bool, vectors: list[dict]) -> list[str]:
    exe = os.path.join(ROOT, "build", build, "tests", "engine_hashvec")
    if not os.path.exists(exe):
        pytest.skip(f"{exe} not built")
    g = _go()
    head = " ".join([str(int(use_aes)), g["aeskeysched"]] + [str(k) for k in g["hashkey"]])
    lines = [head] + [f"{v['fn']} {v['data'] or '-'} {v['seed']}" for v in vectors]
    res = subprocess.run([exe], input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout.split()


@pytest.mark.parametrize("build", BUILDS)
def test_engine_hashes_are_gos(build):
    g = _go()
    assert g["use_aes"], "this machine's Go takes the AES path; the engine's must be checked on it"
    vectors = [v for v in g["vectors"] if v["fn"] in FNS]
    assert len(vectors) > 2000
    got = _engine(build, True, vectors)
    assert len(got) == len(vectors)
    bad = [(v["fn"], len(v["data"]) // 2, v["seed"], v["hash"], h)
           for v, h in zip(vectors, got) if h != str(v["hash"])]
    assert not bad, f"{len(bad)} of {len(vectors)} differ from Go's, first: {bad[:5]}"
    for fn in FNS:
        assert any(v["fn"] == fn for v in vectors), fn


@pytest.mark.parametrize("build", ["debug"])
def test_engine_fallback_path_is_hash64_go(build):
    """With useAeshash off, memhash and the others are hash64.go's fallbacks:
    the engine's value for memhash equals Go's memhashFallback of the same key."""
    g = _go()
    pairs = {"memhash": "memhashFallback", "memhash64": "memhash64Fallback", "memhash32": "memhash32Fallback"}
    fallback = {(v["fn"], v["data"], v["seed"]): v["hash"] for v in g["vectors"] if v["fn"] in pairs.values()}
    vectors = [v for v in g["vectors"] if v["fn"] in pairs]
    got = _engine(build, False, vectors)
    bad = [(v["fn"], v["data"], v["seed"]) for v, h in zip(vectors, got)
           if h != str(fallback[(pairs[v["fn"]], v["data"], v["seed"])])]
    assert not bad, bad[:5]
    # And the AES values are not those: the paths differ.
    aes = _engine(build, True, vectors[:50])
    assert aes != got[:50]
