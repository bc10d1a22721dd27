"""The Target interface: the only door from gomapcore to a debugger.

An adapter (gdb_scripts/gomap_gdb.py, lldb_plugin/gomap_lldb.py) implements Target
over its debugger's API; gomapcore's unit tests implement it over a byte image
(tests/core/fakes.py). Nothing else in gomapcore may import gdb or lldb.

Types cross this door as TypeDesc trees: a debugger-neutral description of a
C++ or Go type (kind, size, fields, pointer/array targets), built lazily so
recursive types (a bucket's overflow pointer) cost nothing until followed.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable, Optional, Sequence


class GomapError(Exception):
    """A problem to report to the user as one line (no traceback)."""


class NotRunningError(GomapError):
    def __init__(self, msg: str = "the program is not running (start it, or attach, first)"):
        super().__init__(msg)


class MemoryReadError(GomapError):
    def __init__(self, addr: int, size: int, why: str = ""):
        self.addr, self.size = addr, size
        super().__init__(f"cannot read {size} bytes at {addr:#x}" + (f": {why}" if why else ""))


class Kind(enum.Enum):
    INT = "int"          # signed integer (size 1, 2, 4, 8)
    UINT = "uint"        # unsigned integer, including uintptr and byte
    FLOAT = "float"
    COMPLEX = "complex"
    BOOL = "bool"
    CHAR = "char"        # C++ char types
    POINTER = "pointer"
    STRUCT = "struct"    # also C++ classes and unions
    ARRAY = "array"
    TYPEDEF = "typedef"  # Go's map[K]V is a typedef of *hash<K,V>
    ENUM = "enum"
    FUNC = "func"
    INTERFACE = "interface"  # Go's runtime.iface / runtime.eface
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Field:
    name: str
    offset: int
    type: "TypeDesc"


class TypeDesc:
    """A type as gomapcore sees it. `fields`, `target` may be given eagerly or
    produced on first use by `load()` (returning (fields, target))."""

    def __init__(self, name: str, kind: Kind, size: int, *,
                 fields: Optional[Sequence[Field]] = None,
                 target: Optional["TypeDesc"] = None,
                 count: int = 0,
                 template_args: Sequence["TypeDesc"] = (),
                 load: Optional[Callable[[], tuple]] = None):
        self.name = name
        self.kind = kind
        self.size = size
        self.count = count  # ARRAY: number of elements
        self.template_args = list(template_args)
        self._fields = list(fields) if fields is not None else None
        self._target = target
        self._load = load

    def _ensure(self) -> None:
        if self._load is not None:
            load, self._load = self._load, None
            fields, target = load()
            if self._fields is None and fields is not None:
                self._fields = list(fields)
            if self._target is None:
                self._target = target

    @property
    def fields(self) -> list[Field]:
        self._ensure()
        return self._fields or []

    @property
    def target(self) -> Optional["TypeDesc"]:
        """POINTER: the pointee; ARRAY: the element; TYPEDEF/ENUM: the underlying type."""
        self._ensure()
        return self._target

    def field(self, name: str) -> Optional[Field]:
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def strip_typedefs(self) -> "TypeDesc":
        t = self
        for _ in range(32):
            if t.kind is not Kind.TYPEDEF or t.target is None:
                return t
            t = t.target
        return t

    def __repr__(self) -> str:
        return f"TypeDesc({self.name!r}, {self.kind.value}, size={self.size})"


class TypeDescCache:
    """A debugger's native types turned into TypeDescs once per named type.

    Each adapter says how to name a native type (`key`: None for an anonymous
    type, which is never shared) and how to describe one (`_make`, which builds
    pointer targets and fields lazily through `desc`, so a recursive type such as
    bucket.overflow costs nothing until followed). Every TypeDesc keeps its
    native type under `native_attr`, so the adapter can turn gomapcore's
    (address, TypeDesc) back into a debugger value."""

    native_attr = "native_type"

    def __init__(self) -> None:
        self._by_key: dict = {}

    @staticmethod
    def shareable(name: str) -> bool:
        """Whether a type name identifies one type (anonymous ones do not)."""
        return bool(name) and "{" not in name and "anonymous" not in name

    def key(self, t) -> Optional[tuple]:
        raise NotImplementedError

    def _make(self, t) -> "TypeDesc":
        raise NotImplementedError

    def desc(self, t) -> "TypeDesc":
        key = self.key(t)
        if key is not None and key in self._by_key:
            return self._by_key[key]
        d = self._make(t)
        setattr(d, self.native_attr, t)
        if key is not None:
            self._by_key[key] = d
        return d


@dataclass
class Value:
    """An evaluated expression: its type, where it lives (None for a register or
    computed value) and its bytes (at least the first `type.size` bytes)."""
    type: TypeDesc
    address: Optional[int]
    data: bytes


class Target:
    """What gomapcore needs from a debugger. Every method raises GomapError
    subclasses for the user-facing failures, never debugger exceptions."""

    name = "target"          # "gdb", "lldb", "fake"
    pointer_size = 8
    byte_order = "little"

    # --- process state ---
    def is_running(self) -> bool:
        """A live process, stopped, whose memory can be read."""
        raise NotImplementedError

    def _require_running(self) -> None:
        if not self.is_running():
            raise NotRunningError()

    # --- memory ---
    def read_memory(self, addr: int, size: int) -> bytes:
        """Exactly `size` bytes at `addr`, or MemoryReadError."""
        raise NotImplementedError

    # --- expressions, symbols, types ---
    def evaluate(self, expr: str) -> Value:
        """Evaluate expr in the selected frame (GomapError with the debugger's
        own one-line message when it cannot)."""
        raise NotImplementedError

    def symbol_address(self, name: str) -> Optional[int]:
        """Address of a global data or code symbol, or None."""
        raise NotImplementedError

    def lookup_type(self, name: str) -> Optional[TypeDesc]:
        """A type by name from debug info, or None."""
        raise NotImplementedError

    # --- registers and frames ---
    def register(self, name: str) -> int:
        raise NotImplementedError

    def pc(self) -> int:
        return self.register("pc")

    def function_name(self) -> Optional[str]:
        """Name of the function of the selected frame, if known."""
        raise NotImplementedError

    # --- output ---
    def use_color(self) -> bool:
        """True when output goes to a terminal that shows ANSI colour."""
        return False

    def read_pointer(self, addr: int) -> int:
        return int.from_bytes(self.read_memory(addr, self.pointer_size), "little")
