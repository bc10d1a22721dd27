"""Where a map's fields are: from a debugger Value or TypeDesc to a MapLayout.

A map reaches us in one of these shapes:
  (a) the engine's gomap::Map<K,V>: a struct whose field `h` points at hash<K',V'>;
  (b) a pointer to gomap::hash<K',V'> (or the struct itself, when it has an address);
  (c) Go's map[K]V: a TYPEDEF of a POINTER to struct hash<K,V>;
  (d) a plain gomap::hmap* or an integer address, plus a `--type 'map[K]V'`.
In every case the slot types come from the bucket struct that `buckets` points at
(tophash/topbits [8]uint8, keys [8]K', values [8]V', overflow), as in Go's DWARF,
so offsets and sizes are read from the type, not assumed. Only the 8-slot and
8-byte tophash facts (abi.h) are built in, plus the 48-byte hmap ABI when a
type has to be made up from a `--type` string.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from .target import Field, GomapError, Kind, Target, TypeDesc, Value

BUCKET_CNT = 8          # slots per bucket (bucketCnt)
MAX_KEY_SIZE = 128      # larger keys are stored behind a pointer (maxKeySize)
MAX_ELEM_SIZE = 128     # likewise elems (maxElemSize)
HMAP_SIZE = 48

# Go's hmap on amd64 (abi.h static_asserts); used only when no DWARF type of the
# header is available (an integer address with --type).
HMAP_FIELDS = (("count", 0, 8), ("flags", 8, 1), ("B", 9, 1), ("noverflow", 10, 2),
               ("hash0", 12, 4), ("buckets", 16, 8), ("oldbuckets", 24, 8),
               ("nevacuate", 32, 8), ("extra", 40, 8))


@dataclass
class MapLayout:
    """Everything needed to read one map type's memory."""
    go_name: str                 # "map[string]int64"
    key_type: TypeDesc           # K (after indirection)
    elem_type: TypeDesc          # V (after indirection)
    key_slot: TypeDesc           # what a key slot holds (K or *K)
    elem_slot: TypeDesc
    indirect_key: bool
    indirect_elem: bool
    keysize: int                 # slot sizes
    elemsize: int
    bucketsize: int
    tophash_off: int
    keys_off: int
    elems_off: int
    overflow_off: int
    hmap_offsets: dict = field(default_factory=dict)  # name -> (offset, size)


@dataclass
class MapRef:
    """A resolved map: its layout and the hmap address (0 for a nil map)."""
    layout: MapLayout
    hmap_addr: int


# --- Go-style names -----------------------------------------------------------

_CXX_TO_GO = {
    "long": "int64", "long int": "int64", "long long": "int64", "long long int": "int64",
    "int64_t": "int64", "std::int64_t": "int64",
    "unsigned long": "uint64", "long unsigned int": "uint64", "unsigned long long": "uint64",
    "long long unsigned int": "uint64", "uint64_t": "uint64", "std::uint64_t": "uint64",
    "unsigned long int": "uint64",
    "int": "int32", "int32_t": "int32", "std::int32_t": "int32",
    "unsigned int": "uint32", "unsigned": "uint32", "uint32_t": "uint32", "std::uint32_t": "uint32",
    "short": "int16", "short int": "int16", "int16_t": "int16", "std::int16_t": "int16",
    "unsigned short": "uint16", "short unsigned int": "uint16", "uint16_t": "uint16",
    "std::uint16_t": "uint16",
    "signed char": "int8", "char": "int8", "int8_t": "int8", "std::int8_t": "int8",
    "unsigned char": "uint8", "uint8_t": "uint8", "std::uint8_t": "uint8",
    "double": "float64", "float": "float32", "bool": "bool", "_Bool": "bool",
    "gomap::String": "string", "String": "string",
}


def go_type_name(t: TypeDesc) -> str:
    """A Go spelling of a (C++ or Go) type: Go names pass through unchanged."""
    name = (t.name or "").strip()
    if name.startswith("const "):
        name = name[6:]
    if name in _CXX_TO_GO:
        return _CXX_TO_GO[name]
    k = t.kind
    if k is Kind.TYPEDEF and name.startswith("map["):
        return name
    if k is Kind.TYPEDEF and t.target is not None and name not in ("",) and "::" in name \
            and name.split("::")[-1] in _CXX_TO_GO:
        return _CXX_TO_GO[name.split("::")[-1]]
    if k is Kind.POINTER:
        if name.startswith("*"):
            return name
        return "*" + go_type_name(t.target) if t.target is not None else "unsafe.Pointer"
    if k is Kind.ARRAY:
        if name.startswith("["):
            return name
        el = go_type_name(t.target) if t.target is not None else "?"
        return f"[{t.count}]{el}"
    if k is Kind.TYPEDEF and t.target is not None and (not name or name.startswith("std::")):
        return go_type_name(t.target)
    return name or "?"


def split_map_type(s: str) -> tuple[str, str]:
    """'map[K]V' -> ('K', 'V'), honouring nested brackets."""
    s = s.strip()
    if not s.startswith("map["):
        raise GomapError(f"--type must look like map[K]V, not {s!r}")
    depth = 0
    for i in range(3, len(s)):
        c = s[i]
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                k, v = s[4:i].strip(), s[i + 1:].strip()
                if not k or not v:
                    break
                return k, v
    raise GomapError(f"--type must look like map[K]V, not {s!r}")


# --- builtin types for --type -----------------------------------------------

_BASIC = {
    "int8": (Kind.INT, 1), "int16": (Kind.INT, 2), "int32": (Kind.INT, 4), "int64": (Kind.INT, 8),
    "int": (Kind.INT, 8), "rune": (Kind.INT, 4),
    "uint8": (Kind.UINT, 1), "byte": (Kind.UINT, 1), "uint16": (Kind.UINT, 2),
    "uint32": (Kind.UINT, 4), "uint64": (Kind.UINT, 8), "uint": (Kind.UINT, 8),
    "uintptr": (Kind.UINT, 8),
    "float32": (Kind.FLOAT, 4), "float64": (Kind.FLOAT, 8), "bool": (Kind.BOOL, 1),
    "complex64": (Kind.COMPLEX, 8), "complex128": (Kind.COMPLEX, 16),
}
_GO_TO_CXX = {"int64": "long", "uint64": "unsigned long", "int32": "int", "uint32": "unsigned int",
              "int16": "short", "uint16": "unsigned short", "int8": "signed char",
              "uint8": "unsigned char", "float64": "double", "float32": "float",
              "string": "gomap::String", "bool": "bool"}


def builtin_type(name: str) -> Optional[TypeDesc]:
    name = name.strip()
    if name in _BASIC:
        kind, size = _BASIC[name]
        return TypeDesc(name, kind, size)
    if name == "string":
        u8p = TypeDesc("*uint8", Kind.POINTER, 8, target=TypeDesc("uint8", Kind.UINT, 1))
        return TypeDesc("string", Kind.STRUCT, 16, fields=[
            Field("str", 0, u8p), Field("len", 8, TypeDesc("int", Kind.INT, 8))])
    m = re.fullmatch(r"\[(\d+)\](.+)", name)
    if m:
        el = builtin_type(m.group(2))
        if el is not None:
            n = int(m.group(1))
            return TypeDesc(name, Kind.ARRAY, n * el.size, target=el, count=n)
    if name.startswith("*"):
        el = builtin_type(name[1:])
        return TypeDesc(name, Kind.POINTER, 8, target=el)
    return None


def resolve_type_name(target: Target, name: str) -> TypeDesc:
    """A Go-spelt type: builtin, then the debug info (Go name, then C++ name)."""
    t = builtin_type(name)
    if t is not None:
        return t
    for cand in (name, _GO_TO_CXX.get(name, name), name.replace(".", "::")):
        try:
            t = target.lookup_type(cand)
        except GomapError:
            t = None
        if t is not None:
            return t
    raise GomapError(f"no type named {name!r} in the debug info")


# --- layout from a bucket type -------------------------------------------------

def _field_any(t: TypeDesc, *names: str) -> Optional[Field]:
    for n in names:
        f = t.field(n)
        if f is not None:
            return f
    return None


def _is_hmap_struct(t: TypeDesc) -> bool:
    return t.kind is Kind.STRUCT and t.field("buckets") is not None and t.field("B") is not None \
        and t.field("count") is not None


def _slot_is_indirect(slot: TypeDesc, declared: Optional[TypeDesc], limit: int) -> bool:
    """Go stores K (or V) behind a pointer iff it is larger than 128 bytes. A slot that
    is a pointer is ambiguous (map[int]*Big has pointer values that are not
    indirect): when the declared type is known, it decides."""
    s = slot.strip_typedefs()
    if s.kind is not Kind.POINTER or s.target is None:
        return False
    if declared is not None:
        d = declared.strip_typedefs()
        return d.kind is not Kind.POINTER and d.size > limit
    return s.target.strip_typedefs().size > limit


def layout_from_hash(hash_t: TypeDesc, go_name: Optional[str] = None,
                     key_decl: Optional[TypeDesc] = None,
                     elem_decl: Optional[TypeDesc] = None) -> MapLayout:
    """Layout from the header struct hash<K,V> (its buckets field names the bucket type)."""
    bf = hash_t.field("buckets")
    if bf is None:
        raise GomapError(f"{hash_t.name} has no field 'buckets': not a map header")
    bp = bf.type.strip_typedefs()
    bucket = bp.target.strip_typedefs() if bp.kind is Kind.POINTER and bp.target is not None else None
    if bucket is None or bucket.kind is not Kind.STRUCT or bucket.field("keys") is None:
        raise GomapError(f"{hash_t.name}.buckets does not point at a typed bucket struct "
                         "(give --type 'map[K]V')")
    lay = layout_from_bucket(bucket, go_name, key_decl, elem_decl)
    lay.hmap_offsets = {f.name: (f.offset, f.type.size) for f in hash_t.fields}
    return lay


def layout_from_bucket(bucket: TypeDesc, go_name: Optional[str] = None,
                       key_decl: Optional[TypeDesc] = None,
                       elem_decl: Optional[TypeDesc] = None) -> MapLayout:
    th = _field_any(bucket, "tophash", "topbits")
    kf = bucket.field("keys")
    vf = _field_any(bucket, "values", "elems")
    of = bucket.field("overflow")
    if th is None or kf is None or vf is None or of is None:
        raise GomapError(f"bucket type {bucket.name} lacks tophash/keys/values/overflow")
    ka, va = kf.type.strip_typedefs(), vf.type.strip_typedefs()
    if ka.kind is not Kind.ARRAY or va.kind is not Kind.ARRAY or ka.target is None or va.target is None:
        raise GomapError(f"bucket type {bucket.name}: keys/values are not arrays")
    key_slot, elem_slot = ka.target, va.target
    keysize = ka.size // BUCKET_CNT if ka.size else key_slot.size
    elemsize = va.size // BUCKET_CNT if va.size else elem_slot.size
    ind_k = _slot_is_indirect(key_slot, key_decl, MAX_KEY_SIZE)
    ind_v = _slot_is_indirect(elem_slot, elem_decl, MAX_ELEM_SIZE)
    key_t = key_slot.strip_typedefs().target if ind_k else key_slot
    elem_t = elem_slot.strip_typedefs().target if ind_v else elem_slot
    if go_name is None:
        go_name = f"map[{go_type_name(key_t)}]{go_type_name(elem_t)}"
    bucketsize = bucket.size or (of.offset + 8)
    return MapLayout(go_name=go_name, key_type=key_t, elem_type=elem_t, key_slot=key_slot,
                     elem_slot=elem_slot, indirect_key=ind_k, indirect_elem=ind_v,
                     keysize=keysize, elemsize=elemsize, bucketsize=bucketsize,
                     tophash_off=th.offset, keys_off=kf.offset, elems_off=vf.offset,
                     overflow_off=of.offset,
                     hmap_offsets={n: (o, s) for n, o, s in HMAP_FIELDS})


def bucket_size(keysize: int, elemsize: int) -> int:
    """abi.h bucketSize: tophash, keys, elems, padded to 8, then the overflow pointer."""
    raw = 8 + BUCKET_CNT * keysize + BUCKET_CNT * elemsize
    return ((raw + 7) & ~7) + 8


def layout_from_types(key_t: TypeDesc, elem_t: TypeDesc, go_name: str) -> MapLayout:
    """Make up the bucket of map[K]V from K and V, by Go's rules (abi.h bucketSize)."""
    def slot(t: TypeDesc, limit: int) -> tuple[TypeDesc, bool]:
        if t.size > limit:
            return TypeDesc("*" + go_type_name(t), Kind.POINTER, 8, target=t), True
        return t, False
    ks, ik = slot(key_t, MAX_KEY_SIZE)
    vs, iv = slot(elem_t, MAX_ELEM_SIZE)
    bs = bucket_size(ks.size, vs.size)
    return MapLayout(go_name=go_name, key_type=key_t, elem_type=elem_t, key_slot=ks, elem_slot=vs,
                     indirect_key=ik, indirect_elem=iv, keysize=ks.size, elemsize=vs.size,
                     bucketsize=bs, tophash_off=0, keys_off=8, elems_off=8 + BUCKET_CNT * ks.size,
                     overflow_off=bs - 8,
                     hmap_offsets={n: (o, s) for n, o, s in HMAP_FIELDS})


def layout_from_type_string(target: Target, type_str: str) -> MapLayout:
    """`--type 'map[K]V'`: Go's own DWARF type when the program has one, else build it."""
    k, v = split_map_type(type_str)
    try:
        t = target.lookup_type(type_str.strip())
    except GomapError:
        t = None
    if t is not None:
        hs = t.strip_typedefs()
        if hs.kind is Kind.POINTER and hs.target is not None and _is_hmap_struct(hs.target.strip_typedefs()):
            return layout_from_hash(hs.target.strip_typedefs(), go_name=type_str.strip())
    kt, vt = resolve_type_name(target, k), resolve_type_name(target, v)
    return layout_from_types(kt, vt, f"map[{k}]{v}")


# --- from a Value --------------------------------------------------------------

def _read_word(data: bytes, off: int, size: int = 8) -> int:
    if len(data) < off + size:
        raise GomapError("the expression's value is shorter than its type")
    return int.from_bytes(data[off:off + size], "little")


def _decls_from_template(t: TypeDesc) -> tuple[Optional[TypeDesc], Optional[TypeDesc]]:
    if len(t.template_args) >= 2:
        return t.template_args[0], t.template_args[1]
    return None, None


def resolve_map(target: Target, value: Value, type_str: Optional[str] = None) -> MapRef:
    """Find the hmap address and layout of a map-like Value (see module doc)."""
    t = value.type
    go_name = None
    k_decl = v_decl = None
    for _ in range(16):
        if t.kind is Kind.TYPEDEF and t.target is not None:
            if t.name.startswith("map[") and go_name is None:
                go_name = t.name
            t = t.target
            continue
        break
    if type_str:
        lay = layout_from_type_string(target, type_str)
        return MapRef(lay, _address_of(value, t))
    if t.kind is Kind.STRUCT and t.field("h") is not None:                      # (a)
        hf = t.field("h")
        hp = hf.type.strip_typedefs()
        k_decl, v_decl = _decls_from_template(t)
        if hp.kind is not Kind.POINTER or hp.target is None or not _is_hmap_struct(hp.target.strip_typedefs()):
            raise GomapError(f"{value.type.name}: field h is not a pointer to a map header")
        hs = hp.target.strip_typedefs()
        if go_name is None and k_decl is not None:
            go_name = f"map[{go_type_name(k_decl)}]{go_type_name(v_decl)}"
        lay = layout_from_hash(hs, go_name, k_decl, v_decl)
        return MapRef(lay, _read_word(value.data, hf.offset))
    if t.kind is Kind.POINTER and t.target is not None:                        # (b), (c)
        hs = t.target.strip_typedefs()
        if _is_hmap_struct(hs):
            if not _bucket_is_typed(hs):
                raise GomapError(f"{value.type.name} does not name K and V: add --type 'map[K]V'")
            lay = layout_from_hash(hs, go_name, *_decls_from_template(hs))
            return MapRef(lay, _read_word(value.data, 0))
    if _is_hmap_struct(t):                                                        # *h
        if value.address is None:
            raise GomapError("the map header has no address in memory")
        if not _bucket_is_typed(t):
            raise GomapError(f"{value.type.name} does not name K and V: add --type 'map[K]V'")
        return MapRef(layout_from_hash(t, go_name, *_decls_from_template(t)), value.address)
    if t.kind in (Kind.INT, Kind.UINT):
        raise GomapError(f"an integer ({value.type.name or t.kind.value}) is not a map: if it is "
                         "a map's address, give its type with --type 'map[K]V'")
    raise GomapError(f"{value.type.name or t.kind.value} is not a map "
                     "(expected gomap::Map<K,V>, a hash<K,V>* or Go's map[K]V)")


def _bucket_is_typed(hs: TypeDesc) -> bool:
    bp = hs.field("buckets").type.strip_typedefs()
    return bp.kind is Kind.POINTER and bp.target is not None \
        and bp.target.strip_typedefs().kind is Kind.STRUCT \
        and bp.target.strip_typedefs().field("keys") is not None


def _address_of(value: Value, t: TypeDesc) -> int:
    """With --type: the hmap address from an integer, a pointer, a Map, or an hmap lvalue."""
    if t.kind in (Kind.INT, Kind.UINT, Kind.POINTER, Kind.ENUM):
        return _read_word(value.data, 0, min(8, t.size or 8))
    if t.kind is Kind.STRUCT and t.field("h") is not None:
        return _read_word(value.data, t.field("h").offset)
    if _is_hmap_struct(t) and value.address is not None:
        return value.address
    raise GomapError(f"cannot take a map address from a {t.kind.value}")
