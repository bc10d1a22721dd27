"""Go 1.19's own map hashes on amd64, recomputed from the process's key material.

A Go map hashes a key with maptype.hasher(key, uintptr(h.hash0)). On amd64 the
hashers of the common key types end in runtime.memhash, memhash32, memhash64
and strhash (runtime/asm_amd64.s), which take one of two paths, chosen once at
start-up (runtime/alg.go alginit):

  - runtime.useAeshash true (the CPU has AES-NI, SSSE3 and SSE4.1: every amd64
    machine of the last decade): rounds of the AESENC instruction keyed by the
    128 random bytes of runtime.aeskeysched;
  - otherwise the portable hashes of runtime/hash64.go, keyed by the four
    random words of runtime.hashkey.

Both keys are ordinary globals of the process, so a debugger can read them
and compute, outside the program, exactly the hash the runtime computes
inside it. This module holds the arithmetic: one AES round (AESENC: ShiftRows,
SubBytes, MixColumns, then the round key) in plain Python, the length cases of
aeshashbody, and the fallbacks. hasher_for() reads the keys and tells which
of these a maptype's hasher is. tests/core/test_gohash.py checks every
function against the values the runtime itself returns (tests/go/hashvec).

The engine hashes with the same functions (engine/include/gomap/hash.h) and
keeps its key material under the same names in namespace gomap
(gomap::useAeshash, gomap::aeskeysched, gomap::hashkey); engine_hasher()
picks its function by the key's kind.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable, Optional

from .target import GomapError, Target

M64 = (1 << 64) - 1


def mix(a: int, b: int) -> int:
    """hash64.go's mix: hi64(a*b) ^ lo64(a*b) of the 128-bit product."""
    r = (a & M64) * (b & M64)
    return (r >> 64) ^ (r & M64)



# --- one AES encryption round, as AESENC computes it ---------------------------

def _xtime(b: int) -> int:
    b <<= 1
    return (b ^ 0x1B) & 0xFF if b & 0x100 else b


def _make_sbox() -> bytes:
    # The S-box: the multiplicative inverse in GF(2^8) (0 maps to 0), then the
    # affine map b ^ rotl(b,1) ^ rotl(b,2) ^ rotl(b,3) ^ rotl(b,4) ^ 0x63.
    exp, log = [0] * 255, [0] * 256
    x = 1
    for i in range(255):
        exp[i], log[x] = x, i
        x ^= _xtime(x)                      # times 3, a generator of the group
    box = bytearray(256)
    for v in range(256):
        inv = 0 if v == 0 else exp[(255 - log[v]) % 255]
        r = inv
        for s in range(1, 5):
            r ^= ((inv << s) | (inv >> (8 - s))) & 0xFF
        box[v] = r ^ 0x63
    return bytes(box)


SBOX = _make_sbox()
_MUL2 = bytes(_xtime(v) for v in range(256))
_MUL3 = bytes(_xtime(v) ^ v for v in range(256))
# The state is column-major (byte i is row i % 4 of column i // 4), as in the
# XMM register; ShiftRows moves row r left by r columns.
_SHIFT = tuple((i % 4) + 4 * ((i // 4 + i % 4) % 4) for i in range(16))


def aesenc(state: bytes, key: bytes) -> bytes:
    """AESENC state, key: one middle round of AES encryption (16 bytes each)."""
    t = [SBOX[state[j]] for j in _SHIFT]
    out = bytearray(16)
    for c in range(0, 16, 4):
        a0, a1, a2, a3 = t[c], t[c + 1], t[c + 2], t[c + 3]
        out[c] = _MUL2[a0] ^ _MUL3[a1] ^ a2 ^ a3 ^ key[c]
        out[c + 1] = a0 ^ _MUL2[a1] ^ _MUL3[a2] ^ a3 ^ key[c + 1]
        out[c + 2] = a0 ^ a1 ^ _MUL2[a2] ^ _MUL3[a3] ^ key[c + 2]
        out[c + 3] = _MUL3[a0] ^ a1 ^ a2 ^ _MUL2[a3] ^ key[c + 3]
    return bytes(out)


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "little") ^ int.from_bytes(b, "little")).to_bytes(16, "little")


def _scramble(x: bytes, times: int = 1) -> bytes:
    for _ in range(times):
        x = aesenc(x, x)
    return x


def _low64(x: bytes) -> int:
    return int.from_bytes(x[:8], "little")


# --- the AES path (asm_amd64.s) ----------------------------------------------------

def aeshash(data: bytes, seed: int, ks: bytes) -> int:
    """aeshashbody: memhash(p, seed, len(data)) and strhash when useAeshash."""
    n = len(data)
    # 64 bits of seed, then the length's low 16 bits four times.
    s = (seed & M64).to_bytes(8, "little") + (n & 0xFFFF).to_bytes(2, "little") * 4
    x0 = _scramble(_xor(s, ks[0:16]))
    if n == 0:
        return _low64(_scramble(x0))
    if n <= 16:
        # 1..15 bytes are loaded as 16 with the bytes past the key cleared.
        return _low64(_scramble(_xor(data.ljust(16, b"\0"), x0), 3))
    lanes = 2 if n <= 32 else 4 if n <= 64 else 8
    seeds = [x0] + [_scramble(_xor(s, ks[16 * k:16 * k + 16])) for k in range(1, lanes)]
    if n <= 128:
        # Half the lanes take the key's first bytes, half its last (they may overlap).
        half = lanes // 2
        blocks = [data[16 * k:16 * k + 16] for k in range(half)] + \
                 [data[n - 16 * (lanes - k):n - 16 * (lanes - k) + 16] for k in range(half, lanes)]
        states = [_scramble(_xor(b, sd), 3) for b, sd in zip(blocks, seeds)]
    else:
        # The last 128 bytes seed the eight lanes; then every whole 128 bytes
        # from the start, each lane scrambled and keyed with its 16 bytes.
        states = [_xor(data[n - 128 + 16 * k:n - 112 + 16 * k], seeds[k]) for k in range(8)]
        for blk in range((n - 1) >> 7):
            p = 128 * blk
            states = [aesenc(_scramble(st), data[p + 16 * k:p + 16 * k + 16]) for k, st in enumerate(states)]
        states = [_scramble(st, 3) for st in states]
    acc = 0
    for st in states:
        acc ^= _low64(st)
    return acc


def aeshash64(data: bytes, seed: int, ks: bytes) -> int:
    """memhash64 when useAeshash: seed and the 8 key bytes in one block, 3 rounds."""
    x = (seed & M64).to_bytes(8, "little") + bytes(data[:8])
    for k in range(3):
        x = aesenc(x, ks[16 * k:16 * k + 16])
    return _low64(x)


def aeshash32(data: bytes, seed: int, ks: bytes) -> int:
    """memhash32 when useAeshash: the 4 key bytes at byte 8 of the block."""
    x = (seed & M64).to_bytes(8, "little") + bytes(data[:4]) + bytes(4)
    for k in range(3):
        x = aesenc(x, ks[16 * k:16 * k + 16])
    return _low64(x)


# --- the portable path (hash64.go) -----------------------------------------------

_M1, _M2, _M3 = 0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3
_M4, _M5 = 0x589965CC75374CC3, 0x1D8E4E27C47D124F


def _r8(d: bytes, at: int) -> int:
    return int.from_bytes(d[at:at + 8], "little")


def _r4(d: bytes, at: int) -> int:
    return int.from_bytes(d[at:at + 4], "little")


def fallback_memhash(data: bytes, seed: int, hashkey0: int) -> int:
    n = len(data)
    seed = (seed ^ hashkey0 ^ _M1) & M64
    a = b = 0
    if n == 0:
        return seed
    if n < 4:
        a = data[0] | data[n >> 1] << 8 | data[n - 1] << 16
    elif n == 4:
        a = b = _r4(data, 0)
    elif n < 8:
        a, b = _r4(data, 0), _r4(data, n - 4)
    elif n == 8:
        a = b = _r8(data, 0)
    elif n <= 16:
        a, b = _r8(data, 0), _r8(data, n - 8)
    else:
        p, left = 0, n
        if left > 48:
            seed1 = seed2 = seed
            while left > 48:
                seed = mix(_r8(data, p) ^ _M2, _r8(data, p + 8) ^ seed)
                seed1 = mix(_r8(data, p + 16) ^ _M3, _r8(data, p + 24) ^ seed1)
                seed2 = mix(_r8(data, p + 32) ^ _M4, _r8(data, p + 40) ^ seed2)
                p, left = p + 48, left - 48
            seed ^= seed1 ^ seed2
        while left > 16:
            seed = mix(_r8(data, p) ^ _M2, _r8(data, p + 8) ^ seed)
            p, left = p + 16, left - 16
        a, b = _r8(data, p + left - 16), _r8(data, p + left - 8)
    return mix(_M5 ^ n, mix(a ^ _M2, b ^ seed))


def fallback_memhash64(data: bytes, seed: int, hashkey0: int) -> int:
    a = _r8(data, 0)
    return mix(_M5 ^ 8, mix(a ^ _M2, a ^ seed ^ hashkey0 ^ _M1))


def fallback_memhash32(data: bytes, seed: int, hashkey0: int) -> int:
    a = _r4(data, 0)
    return mix(_M5 ^ 4, mix(a ^ _M2, a ^ seed ^ hashkey0 ^ _M1))


# --- the process's hash functions --------------------------------------------------

# alg.go's constants for 64-bit pointers: the hash of a float zero is c1 * (c0 ^ h).
_C0, _C1 = 33054211828000289, 23344194077549503


@dataclass(frozen=True)
class GoHashKeys:
    """What alginit chose: the AES path with aeskeysched, or the fallback with hashkey[0]."""
    use_aes: bool
    aeskeysched: bytes = bytes(128)
    hashkey0: int = 0

    @property
    def path(self) -> str:
        return "aeshash (AES-NI, keyed by runtime.aeskeysched)" if self.use_aes else \
            "the portable hash of hash64.go (keyed by runtime.hashkey)"

    def memhash(self, data: bytes, seed: int) -> int:
        return aeshash(bytes(data), seed, self.aeskeysched) if self.use_aes \
            else fallback_memhash(bytes(data), seed, self.hashkey0)

    def memhash64(self, data: bytes, seed: int) -> int:
        return aeshash64(data, seed, self.aeskeysched) if self.use_aes \
            else fallback_memhash64(data, seed, self.hashkey0)

    def memhash32(self, data: bytes, seed: int) -> int:
        return aeshash32(data, seed, self.aeskeysched) if self.use_aes \
            else fallback_memhash32(data, seed, self.hashkey0)

    def _float_hash(self, data: bytes, seed: int, fmt: str) -> int:
        n = struct.calcsize(fmt)
        (f,) = struct.unpack(fmt, bytes(data[:n]))
        if f == 0:
            return (_C1 * (_C0 ^ seed)) & M64       # +0 and -0 are one key
        if f != f:
            raise GomapError("a NaN key gets a random hash (every NaN is a new key): "
                             "its bucket cannot be recomputed")
        return self.memhash(data[:n], seed)

    def f64hash(self, data: bytes, seed: int) -> int:
        return self._float_hash(data, seed, "<d")

    def f32hash(self, data: bytes, seed: int) -> int:
        return self._float_hash(data, seed, "<f")

    def c64hash(self, data: bytes, seed: int) -> int:
        return self.f32hash(data[4:8], self.f32hash(data[0:4], seed))

    def c128hash(self, data: bytes, seed: int) -> int:
        return self.f64hash(data[8:16], self.f64hash(data[0:8], seed))


# Where each runtime keeps alginit's choice and key material: Go's runtime, and
# the engine, which keeps the same variables under the same names in its own
# namespace (engine/include/gomap/hash.h).
_PREFIX = {"go": "runtime.", "engine": "gomap::"}


def read_keys(target: Target, runtime: str = "go") -> GoHashKeys:
    """useAeshash and its key (aeskeysched, or hashkey[0]), read from the process."""
    pre = _PREFIX[runtime]
    init = "runtime.alginit" if runtime == "go" else "the engine's alginit (a static constructor)"
    use = target.symbol_address(pre + "useAeshash")
    if use is None:
        raise GomapError(f"{pre}useAeshash is not in the symbol table: "
                         + ("not a Go program?" if runtime == "go" else "an engine older than Go's hash?"))
    if target.read_memory(use, 1)[0]:
        ks = target.symbol_address(pre + "aeskeysched")
        if ks is None:
            raise GomapError(f"{pre}aeskeysched is not in the symbol table")
        sched = target.read_memory(ks, 128)
        if not any(sched):
            raise GomapError(f"{pre}aeskeysched is still zero: the runtime has not "
                             f"initialised its hash yet (stopped before {init}?)")
        return GoHashKeys(True, aeskeysched=sched)
    hk = target.symbol_address(pre + "hashkey")
    if hk is None:
        raise GomapError(f"{pre}hashkey is not in the symbol table")
    k0 = target.read_pointer(hk)
    if k0 == 0:
        raise GomapError(f"{pre}hashkey is still zero: the runtime has not "
                         f"initialised its hash yet (stopped before {init}?)")
    return GoHashKeys(False, hashkey0=k0)


# A key's bytes (as stored in its slot) and the seed -> its hash.
KeyHasher = Callable[[bytes, int], int]


@dataclass(frozen=True)
class GoHasher:
    name: str          # the runtime function maptype.hasher points at
    fn: KeyHasher
    keys: GoHashKeys


def _strhash(target: Target, keys: GoHashKeys) -> KeyHasher:
    """strhash of a string key's 16-byte header: its bytes, read from the process."""
    def strhash(raw: bytes, seed: int) -> int:
        p, n = int.from_bytes(raw[0:8], "little"), int.from_bytes(raw[8:16], "little")
        if n >= 1 << 32:
            raise GomapError(f"string key of length {n}: not a string header?")
        return keys.memhash(target.read_memory(p, n) if n else b"", seed)
    return strhash


def engine_hasher(target: Target, kind: str, key_size: int, keys: Optional[GoHashKeys] = None) -> GoHasher:
    """The engine's hash of a key of this kind (keys.py's kinds): the same
    functions as Go's (hash.h), with the engine's own key material."""
    keys = keys or read_keys(target, "engine")
    by_kind: dict[str, tuple[str, KeyHasher]] = {
        "string": ("gomap::strhash", _strhash(target, keys)),
        "mem64": ("gomap::memhash64", keys.memhash64),
        "mem32": ("gomap::memhash32", keys.memhash32),
        "float64": ("gomap::f64hash", keys.f64hash),
        "float32": ("gomap::f32hash", keys.f32hash),
    }
    name, fn = by_kind.get(kind, ("gomap::memhash", lambda raw, seed: keys.memhash(raw[:key_size], seed)))
    return GoHasher(name, fn, keys)


def hasher_for(target: Target, maptype: int, key_size: int, keys: Optional[GoHashKeys] = None) -> GoHasher:
    """Which of the runtime's hash functions maptype.hasher (the func value at
    offset 72 of runtime.maptype) is, as a Python function of the key slot's
    bytes; GomapError when it is one that cannot be recomputed here (the
    compiler's generated hashes of structs and arrays with strings, floats or
    padding, and interface keys, whose hash depends on the dynamic type)."""
    fv = target.read_pointer(maptype + 72)
    if not fv:
        raise GomapError(f"maptype at {maptype:#x} has no hasher")
    pc = target.read_pointer(fv)
    keys = keys or read_keys(target)
    strhash = _strhash(target, keys)
    known: dict[str, KeyHasher] = {
        "runtime.memhash64": keys.memhash64,
        "runtime.memhash32": keys.memhash32,
        "runtime.strhash": strhash,
        "runtime.f64hash": keys.f64hash,
        "runtime.f32hash": keys.f32hash,
        "runtime.c64hash": keys.c64hash,
        "runtime.c128hash": keys.c128hash,
        "runtime.memhash8": lambda raw, seed: keys.memhash(raw[:1], seed),
        "runtime.memhash16": lambda raw, seed: keys.memhash(raw[:2], seed),
        "runtime.memhash128": lambda raw, seed: keys.memhash(raw[:16], seed),
        "runtime.memhash0": lambda raw, seed: seed,
    }
    for name, fn in known.items():
        if target.symbol_address(name) == pc:
            return GoHasher(name, fn, keys)
    if target.symbol_address("runtime.memhash_varlen") == pc:
        # A closure: the size of the key's memory follows the code pointer.
        size = target.read_pointer(fv + 8)
        if size != key_size:
            raise GomapError(f"memhash_varlen closure at {fv:#x} hashes {size} bytes, "
                             f"but the key is {key_size}")
        return GoHasher("runtime.memhash_varlen", lambda raw, seed: keys.memhash(raw[:size], seed), keys)
    for name in ("runtime.interhash", "runtime.nilinterhash"):
        if target.symbol_address(name) == pc:
            raise GomapError(f"an interface key ({name}) hashes with its dynamic type's "
                             "own hash")
    raise GomapError(f"the key's hasher ({pc:#x}) is one the compiler generated for this "
                     "key type")

