"""What Go 1.19's runtime hashes return, from build/go/hashvec (tests/go/hashvec):
its key material and 2,515 (function, key, seed, hash) vectors, run once per
test session. Shared by test_gohash (gomapcore.gohash against Go) and
test_engine_hash (the engine against Go)."""
from __future__ import annotations

import json
import os
import subprocess
from functools import lru_cache

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HASHVEC = os.path.join(ROOT, "build", "go", "hashvec")


@lru_cache(maxsize=1)
def go_vectors() -> dict:
    """{"use_aes", "aeskeysched" (hex), "hashkey" [4], "vectors": [{fn, data, seed, hash}]};
    skips the test when hashvec is not built."""
    if not os.path.exists(HASHVEC):
        pytest.skip(f"{HASHVEC} not built (tests/go/build.sh)")
    out = subprocess.run([HASHVEC], check=True, capture_output=True, text=True, timeout=60).stdout
    return json.loads(out)
