"""A FakeTarget that can also 'stop': registers, a function name, symbols, and a
StopControl that records breakpoints/watchpoints and lets a test fire them.

Memory is FakeTarget's byte image; nothing here decides anything: the decisions
under test are gomapcore's (breaks.py, follow.py).
"""
from __future__ import annotations

import struct
from typing import Optional

from fakes import FakeTarget
from gomapcore.stops import StopControl, StopHandle, StopRegistry


class StopTarget(FakeTarget, StopControl):
    def __init__(self):
        super().__init__()
        self.regs: dict[str, int] = {}
        self.func: Optional[str] = "main"
        self.caller: Optional[str] = None
        self.symbols: dict[str, int] = {}
        self.live: dict[int, tuple] = {}     # number -> (kind, addr, size, on_hit)
        self.deferred: list = []
        self.emitted: list[str] = []
        self._num = 100
        self._gomap_stop_registry = StopRegistry()   # per test, not per class

    # Target
    def register(self, name: str) -> int:
        if name == "pc":
            return self.regs.get("pc", 0)
        if name not in self.regs:
            from gomapcore.target import GomapError
            raise GomapError(f"no register named {name!r}")
        return self.regs[name]

    def function_name(self):
        return self.func

    def symbol_address(self, name: str):
        return self.symbols.get(name)

    # StopControl
    def stop_registry(self) -> StopRegistry:
        return self._gomap_stop_registry

    def set_breakpoint(self, address, on_hit, label):
        self._num += 1
        self.live[self._num] = ("break", address, 1, on_hit)
        return StopHandle(self._num, "break", label, address)

    def set_watchpoint(self, address, size, on_hit, label):
        assert size in (1, 2, 4, 8) and address % size == 0, (address, size)
        assert sum(1 for v in self.live.values() if v[0] == "watch") < 4, "out of debug registers"
        self._num += 1
        self.live[self._num] = ("watch", address, size, on_hit)
        return StopHandle(self._num, "watch", label, address)

    def delete_stop(self, handle):
        self.live.pop(handle.number, None)

    def stop_exists(self, handle):
        return handle.number in self.live

    def after_stop(self, fn):
        self.deferred.append(fn)

    def emit(self, text):
        self.emitted.append(text)

    def caller_function_name(self):
        return self.caller

    def watchpoints_in_use(self):
        return sum(1 for v in self.live.values() if v[0] == "watch")

    # test helpers
    def fire_break(self, address: int) -> list[Optional[str]]:
        return [v[3](self) for v in list(self.live.values()) if v[0] == "break" and v[1] == address]

    def write_and_fire(self, addr: int, data: bytes) -> list[str]:
        """Write like the program would, then run every watch covering a written
        byte (as a hardware watchpoint would), then the deferred after-stop work."""
        self.write(addr, data)
        out = []
        for num, (kind, a, size, fn) in list(self.live.items()):
            if kind == "watch" and a < addr + len(data) and addr < a + size and num in self.live:
                line = fn(self)
                if line is not None:
                    out.append(line)
        while self.deferred:
            r = self.deferred.pop(0)(self)
            if r:
                out.append(r)
        return out

    def watched(self) -> list[tuple[int, int]]:
        return sorted((v[1], v[2]) for v in self.live.values() if v[0] == "watch")


def cstr(t: FakeTarget, s: str) -> int:
    a = t.alloc(len(s) + 1, 1)
    t.write(a, s.encode() + b"\0")
    return a


def engine_maptype(t: FakeTarget, key: str, ksize: int, kkind: int, elem: str, esize: int) -> int:
    """maptype.h in memory: typeinfo{size, align, equal, name, kind, ptrdata}."""
    def typeinfo(name, size, kind):
        a = t.alloc(40, 8)
        t.write(a, struct.pack("<QQQQBB", size, min(size, 8), 0, cstr(t, name), kind, 0))
        return a
    ks, es = min(ksize, 8) if ksize > 128 else ksize, esize if esize <= 128 else 8
    raw = 8 + 8 * ks + 8 * es
    bs = (raw + 7) // 8 * 8 + 8
    mt = t.alloc(40, 8)
    t.write(mt, struct.pack("<QQQBBHIQ", typeinfo(key, ksize, kkind), typeinfo(elem, esize, 0), 0,
                            ks, es, bs, 0, cstr(t, f"map[{key}]{elem}")))
    return mt


GO_KIND = {"int64": 6, "string": 24, "int": 2, "bool": 1, "uint64": 11}


def go_maptype(t: FakeTarget, key: str, ksize: int, elem: str, esize: int, hasher: int = 0) -> int:
    """runtime.maptype: _type (48 bytes, kind at 23), key/elem/bucket *_type,
    hasher @72 (a func value: a pointer to the code pointer; none if hasher
    is 0), keysize @80, elemsize @81, bucketsize @82, flags @84."""
    def rtype(size, kind):
        a = t.alloc(48, 8)
        b = bytearray(48)
        b[0:8] = struct.pack("<Q", size)
        b[23] = kind
        t.write(a, bytes(b))
        return a
    raw = 8 + 8 * ksize + 8 * esize
    bs = (raw + 7) // 8 * 8 + 8
    mt = t.alloc(88, 8)
    b = bytearray(88)
    b[48:56] = struct.pack("<Q", rtype(ksize, GO_KIND[key]))
    b[56:64] = struct.pack("<Q", rtype(esize, GO_KIND[elem]))
    if hasher:
        fv = t.alloc(8, 8)
        t.write(fv, struct.pack("<Q", hasher))
        b[72:80] = struct.pack("<Q", fv)
    b[80], b[81] = ksize, esize
    b[82:84] = struct.pack("<H", bs)
    t.write(mt, bytes(b))
    return mt


def hash_keys(t: FakeTarget, runtime: str = "engine", use_aes: bool = False,
              salt: int = 11):
    """A runtime's hash key material in fake memory, under its names (Go's
    runtime.useAeshash, aeskeysched and hashkey; the engine's gomap::...), and
    the GoHashKeys that hash with it. The engine's fakes default to the
    portable path, which is the quicker one in Python."""
    from gomapcore import gohash
    pre = {"go": "runtime.", "engine": "gomap::"}[runtime]
    ks = bytes((i * 37 + salt) & 0xFF for i in range(128))
    k0 = 0x1234567 | 1
    for name, data in (("useAeshash", bytes([use_aes])), ("aeskeysched", ks),
                       ("hashkey", struct.pack("<4Q", k0, 3, 5, 7))):
        a = t.alloc(len(data), 8)
        t.write(a, data)
        t.symbols[pre + name] = a
    return gohash.GoHashKeys(use_aes, aeskeysched=ks, hashkey0=k0)
