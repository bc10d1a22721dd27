"""Keys as `gomap break --key` and `gomap watch --key` see them: a user's VALUE
parsed for the map's key type, and a key slot's bytes compared with it.

Comparison is Go's: integer keys by value, strings by length then bytes,
floats by value (+0 == -0, NaN never equal), other keys bytewise. The key type
comes from DWARF (MapLayout.key_type) or, at a mapassign entry, from the
maptype in the argument registers (regs.py): both reduce to a KeyType.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Optional, Union

from .target import GomapError, Kind, Target, TypeDesc

STRING_HEADER = 16   # Go's string {str *byte; len int}, also gomap::String
MAX_KEY_STRING = 1 << 20


@dataclass(frozen=True)
class KeyType:
    kind: str     # "int", "uint", "float", "bool", "string", "bytes"
    size: int
    name: str = ""

    def describe(self) -> str:
        return self.name or f"{self.kind}{self.size * 8 if self.kind in ('int', 'uint', 'float') else ''}"


KeyValue = Union[int, float, bool, bytes]


def key_type_from_desc(t: TypeDesc, go_name: str = "") -> KeyType:
    s = t.strip_typedefs()
    name = go_name or t.name
    if name in ("string", "gomap::String") or (s.kind is Kind.STRUCT and s.size == 16
                                                and s.field("str") is not None and s.field("len") is not None):
        return KeyType("string", STRING_HEADER, "string")
    kinds = {Kind.INT: "int", Kind.CHAR: "int", Kind.ENUM: "int", Kind.UINT: "uint",
             Kind.FLOAT: "float", Kind.BOOL: "bool", Kind.POINTER: "uint"}
    return KeyType(kinds.get(s.kind, "bytes"), s.size, name)


def parse_key(text: str, kt: KeyType) -> KeyValue:
    """The user's --key VALUE for a key of type kt; one-line GomapError if it cannot be one."""
    t = text.strip()
    try:
        if kt.kind in ("int", "uint"):
            v = int(t, 0)
            bits = kt.size * 8
            lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if kt.kind == "int" else (0, (1 << bits) - 1)
            if not lo <= v <= hi:
                raise GomapError(f"--key {text}: out of range for {kt.describe()}")
            return v
        if kt.kind == "float":
            return float(t)
        if kt.kind == "bool":
            if t in ("true", "false"):
                return t == "true"
            raise ValueError
        if kt.kind == "string":
            if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'`":
                t = t[1:-1].encode().decode("unicode_escape") if t[0] == '"' else t[1:-1]
            return t.encode()
        raw = bytes.fromhex(t[2:] if t.startswith("0x") else t)
        if len(raw) != kt.size:
            raise GomapError(f"--key {text}: a {kt.describe()} key needs {kt.size} bytes in hex")
        return raw
    except ValueError:
        raise GomapError(f"--key {text!r} is not a valid {kt.describe()}") from None


def key_from_slot(target: Target, kt: KeyType, slot: bytes) -> KeyValue:
    """Decode a key from its slot bytes (a string's bytes are read from memory)."""
    if kt.kind == "string":
        ptr = int.from_bytes(slot[0:8], "little")
        n = int.from_bytes(slot[8:16], "little", signed=True)
        return read_string(target, ptr, n)
    return key_from_int_bytes(kt, slot[:kt.size])


def key_from_int_bytes(kt: KeyType, raw: bytes) -> KeyValue:
    if kt.kind == "int":
        return int.from_bytes(raw, "little", signed=True)
    if kt.kind == "uint":
        return int.from_bytes(raw, "little")
    if kt.kind == "float":
        return struct.unpack("<d" if kt.size == 8 else "<f", raw)[0]
    if kt.kind == "bool":
        return raw[0] != 0
    return bytes(raw)


def read_string(target: Target, ptr: int, n: int) -> bytes:
    if n < 0 or n > MAX_KEY_STRING:
        raise GomapError(f"string key of length {n} at {ptr:#x} is not believable")
    if n == 0:
        return b""
    return target.read_memory(ptr, n)


def keys_equal(a: KeyValue, b: KeyValue) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return not (isinstance(a, float) and math.isnan(a)) and float(a) == float(b)
    return a == b


def format_key(v: KeyValue, kt: Optional[KeyType] = None) -> str:
    """Go's %v-with-quotes spelling (as Delve prints keys)."""
    if isinstance(v, bytes) and (kt is None or kt.kind == "string"):
        s = v.decode("utf-8", "backslashreplace")
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, bytes):
        return "0x" + v.hex()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if not v.is_integer() else f"{v:g}"
    return str(v)
