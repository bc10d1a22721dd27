"""A fake Target over byte regions, and an image builder that lays out maps as abi.h says.

The builder computes the layout from abi.h's rules by itself (tophash[8], keys,
elems, padding, overflow pointer last; 48-byte hmap) and does not import the
decoder's layout code, so a test compares two independent readings of the spec.
"""
from __future__ import annotations

import struct
from typing import Optional

from gomapcore.target import Field, Kind, MemoryReadError, Target, TypeDesc, Value

# --- types as an adapter would describe them -------------------------------------

I64 = TypeDesc("long", Kind.INT, 8)
U64 = TypeDesc("unsigned long", Kind.UINT, 8)
I32 = TypeDesc("int", Kind.INT, 4)
U8 = TypeDesc("unsigned char", Kind.UINT, 1)
F64 = TypeDesc("double", Kind.FLOAT, 8)
BOOL = TypeDesc("bool", Kind.BOOL, 1)
STRING = TypeDesc("gomap::String", Kind.STRUCT, 16, fields=[
    Field("str", 0, TypeDesc("const unsigned char *", Kind.POINTER, 8, target=U8)),
    Field("len", 8, I64)])


def struct_type(name: str, fields: list[tuple[str, TypeDesc]]) -> TypeDesc:
    off = 0
    fs = []
    for n, t in fields:
        al = min(t.size, 8) if t.kind is not Kind.ARRAY else min(t.target.size, 8)
        al = al or 1
        off = (off + al - 1) // al * al
        fs.append(Field(n, off, t))
        off += t.size
    return TypeDesc(name, Kind.STRUCT, (off + 7) // 8 * 8, fields=fs)


def array_of(t: TypeDesc, n: int) -> TypeDesc:
    return TypeDesc(f"{t.name} [{n}]", Kind.ARRAY, t.size * n, target=t, count=n)


def pointer_to(t: TypeDesc) -> TypeDesc:
    return TypeDesc(f"{t.name} *", Kind.POINTER, 8, target=t)


def slot_type(t: TypeDesc) -> TypeDesc:
    return pointer_to(t) if t.size > 128 else t


def bucket_geometry(ks: int, es: int) -> tuple[int, int, int]:
    """(keys offset, elems offset, bucket size) per abi.h."""
    raw = 8 + 8 * ks + 8 * es
    return 8, 8 + 8 * ks, (raw + 7) // 8 * 8 + 8


def hash_types(k: TypeDesc, v: TypeDesc) -> tuple[TypeDesc, TypeDesc]:
    """(hash<K',V'>, bucket<K',V'>) as the engine's DWARF describes them."""
    ks, vs = slot_type(k), slot_type(v)
    ko, eo, bs = bucket_geometry(ks.size, vs.size)
    bname = f"gomap::bucket<{ks.name}, {vs.name}>"
    bucket = TypeDesc(bname, Kind.STRUCT, bs)
    bucket._fields = [Field("tophash", 0, array_of(U8, 8)), Field("keys", ko, array_of(ks, 8)),
                      Field("values", eo, array_of(vs, 8)), Field("overflow", bs - 8, pointer_to(bucket))]
    bp = pointer_to(bucket)
    extra = pointer_to(TypeDesc("gomap::mapextra", Kind.STRUCT, 24, fields=[]))
    hashname = f"gomap::hash<{ks.name}, {vs.name}>"
    hs = TypeDesc(hashname, Kind.STRUCT, 48, fields=[
        Field("count", 0, I64), Field("flags", 8, U8), Field("B", 9, U8),
        Field("noverflow", 10, TypeDesc("unsigned short", Kind.UINT, 2)),
        Field("hash0", 12, TypeDesc("unsigned int", Kind.UINT, 4)),
        Field("buckets", 16, bp), Field("oldbuckets", 24, bp),
        Field("nevacuate", 32, U64), Field("extra", 40, extra)], template_args=[ks, vs])
    return hs, bucket


def map_type(k: TypeDesc, v: TypeDesc) -> TypeDesc:
    """gomap::Map<K,V>: one field h, template arguments K and V."""
    hs, _ = hash_types(k, v)
    return TypeDesc(f"gomap::Map<{k.name}, {v.name}>", Kind.STRUCT, 8,
                    fields=[Field("h", 0, pointer_to(hs))], template_args=[k, v])


def go_map_type(name: str, k: TypeDesc, v: TypeDesc) -> TypeDesc:
    """Go's DWARF: map[K]V is a typedef of *hash<K,V> (bucket fields topbits/keys/values/overflow)."""
    hs, bucket = hash_types(k, v)
    bucket._fields[0] = Field("topbits", 0, array_of(U8, 8))
    return TypeDesc(name, Kind.TYPEDEF, 8, target=pointer_to(hs))


# --- memory -------------------------------------------------------------------------

class FakeTarget(Target):
    name = "fake"

    def __init__(self):
        self.regions: dict[int, bytearray] = {}
        self.values: dict[str, Value] = {}
        self.types: dict[str, TypeDesc] = {}
        self.running = True
        self.reads = 0
        self._next = 0x10000

    # memory
    def alloc(self, size: int, align: int = 16) -> int:
        """Like a heap: allocations follow each other in one mapped arena, with small
        gaps, so a read spanning several allocations works as in a real process."""
        addr = (self._next + align - 1) // align * align
        end = addr + size + 16
        heap = self.regions.setdefault(0x10000, bytearray())
        if end - 0x10000 > len(heap):
            heap.extend(bytes(end - 0x10000 - len(heap)))
        self._next = end
        return addr

    def _find(self, addr: int, size: int) -> Optional[tuple[bytearray, int]]:
        for base, buf in self.regions.items():
            if base <= addr and addr + size <= base + len(buf):
                return buf, addr - base
        return None

    def write(self, addr: int, data: bytes) -> None:
        f = self._find(addr, len(data))
        assert f is not None, f"write outside regions at {addr:#x}"
        buf, off = f
        buf[off:off + len(data)] = data

    def read_memory(self, addr: int, size: int) -> bytes:
        self.reads += 1
        if size == 0:
            return b""
        f = self._find(addr, size)
        if f is None:
            raise MemoryReadError(addr, size, "not mapped")
        buf, off = f
        return bytes(buf[off:off + size])

    def is_running(self) -> bool:
        return self.running

    def evaluate(self, expr: str) -> Value:
        from gomapcore.target import GomapError
        if expr in self.values:
            return self.values[expr]
        try:
            n = int(expr, 0)
            return Value(I64, None, n.to_bytes(8, "little", signed=n < 0))
        except ValueError:
            raise GomapError(f"no symbol \"{expr}\" in current context") from None

    def symbol_address(self, name: str):
        return None

    def lookup_type(self, name: str):
        return self.types.get(name)

    def function_name(self):
        return "main"

    def register(self, name: str) -> int:
        return 0


def string_bytes(t: FakeTarget, s: bytes) -> bytes:
    """Store s somewhere and return a 16-byte string header for it."""
    if not s:
        return struct.pack("<Qq", 0, 0)
    a = t.alloc(len(s), 1)
    t.write(a, s)
    return struct.pack("<Qq", a, len(s))


class MapImage:
    """Builds hmap + bucket arrays + overflow buckets in a FakeTarget."""

    def __init__(self, t: FakeTarget, k: TypeDesc, v: TypeDesc):
        self.t = t
        self.k, self.v = k, v
        self.ks = 8 if k.size > 128 else k.size
        self.vs = 8 if v.size > 128 else v.size
        self.ko, self.eo, self.bs = bucket_geometry(self.ks, self.vs)
        self.hmap = t.alloc(48)

    def header(self, count: int, B: int, buckets: int, oldbuckets: int = 0, flags: int = 0,
               noverflow: int = 0, hash0: int = 0x1234, nevacuate: int = 0, extra: int = 0) -> None:
        self.t.write(self.hmap, struct.pack("<qBBHIQQQQ", count, flags, B, noverflow, hash0,
                                            buckets, oldbuckets, nevacuate, extra))

    def array(self, nbuckets: int, nalloc: Optional[int] = None) -> int:
        n = nalloc or nbuckets
        return self.t.alloc(n * self.bs)

    def overflow_bucket(self) -> int:
        return self.t.alloc(self.bs)

    def set_slot(self, bucket: int, i: int, tophash: int, key: bytes = b"", elem: bytes = b"") -> None:
        self.t.write(bucket + i, bytes([tophash]))
        if key:
            self.t.write(bucket + self.ko + i * self.ks, self._slot(key, self.k))
        if elem:
            self.t.write(bucket + self.eo + i * self.vs, self._slot(elem, self.v))

    def _slot(self, data: bytes, ty: TypeDesc) -> bytes:
        if ty.size > 128:
            a = self.t.alloc(ty.size, 8)
            self.t.write(a, data)
            return struct.pack("<Q", a)
        return data

    def link(self, bucket: int, overflow: int) -> None:
        self.t.write(bucket + self.bs - 8, struct.pack("<Q", overflow))

    def bucket_addr(self, base: int, i: int) -> int:
        return base + i * self.bs

    def bind(self, name: str, kind: str = "Map") -> None:
        """Make `name` evaluate to this map as a gomap::Map<K,V>."""
        mt = map_type(self.k, self.v)
        self.t.values[name] = Value(mt, 0x9000, struct.pack("<Q", self.hmap))


def i64(n: int) -> bytes:
    return struct.pack("<q", n)
