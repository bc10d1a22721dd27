"""gomap for GDB: a gomapcore Target over GDB's Python API, the `gomap` commands,
and pretty-printers for gomap::Map<K,V> and Go's map[K]V.

Load it with `source gdb_scripts/gomap_gdb.py`, or let GDB auto-load it from the
samples' .debug_gdb_scripts section (see gdb_scripts/README.md). Sourcing it
again is harmless: commands are re-registered in place, printers are not doubled.

This file is thin on purpose: what a command does lives in gomapcore.commands;
here we only translate between GDB objects and gomapcore's Target/TypeDesc/Value,
and turn every failure into one line (GOMAP_DEBUG=1 shows the traceback).

No code in the debugged program is ever run: expressions are evaluated with
`may-call-functions` off, so `gomap print f(x)` is refused by GDB itself instead
of calling f, while casts, member access and indexing still work.
"""
from __future__ import annotations

import os
import re
import sys
import traceback

import gdb

_ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from gomapcore.guard import (  # noqa: E402
    command_error, debug_enabled as _debug, one_line as _one_line, summary_error)
from gomapcore.target import (  # noqa: E402
    Field, GomapError, Kind, MemoryReadError, Target, TypeDesc, TypeDescCache,
    Value)




# --- types -----------------------------------------------------------------

_SIMPLE_KINDS = {
    gdb.TYPE_CODE_FLT: Kind.FLOAT,
    gdb.TYPE_CODE_BOOL: Kind.BOOL,
    gdb.TYPE_CODE_FUNC: Kind.FUNC,
    gdb.TYPE_CODE_METHOD: Kind.FUNC,
    gdb.TYPE_CODE_ENUM: Kind.ENUM,
    gdb.TYPE_CODE_COMPLEX: Kind.COMPLEX,
}


def _is_signed(t: "gdb.Type") -> bool:
    try:
        return bool(t.is_signed)
    except (AttributeError, ValueError, gdb.error):
        return not (t.name or "").startswith(("unsigned", "uint", "byte", "bool"))


class _TypeCache(TypeDescCache):
    """gdb.Type -> TypeDesc. Every TypeDesc remembers its gdb.Type (gdb_type), so
    the pretty-printer can turn gomapcore's (address, TypeDesc) back into a gdb.Value."""

    native_attr = "gdb_type"

    def key(self, t: "gdb.Type"):
        name = str(t)
        if not self.shareable(name):
            return None
        return (name, int(t.code), t.sizeof if t.code != gdb.TYPE_CODE_FUNC else 0)

    def _make(self, t: "gdb.Type") -> TypeDesc:
        code = t.code
        name = str(t)
        try:
            size = t.sizeof
        except gdb.error:
            size = 0
        if code in (gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_REF, gdb.TYPE_CODE_RVALUE_REF):
            return TypeDesc(name, Kind.POINTER, size, load=lambda: (None, self.desc(t.target())))
        if code == gdb.TYPE_CODE_TYPEDEF:
            return TypeDesc(name, Kind.TYPEDEF, size, load=lambda: (None, self.desc(t.target())))
        if code == gdb.TYPE_CODE_ARRAY:
            lo, hi = t.range()
            return TypeDesc(name, Kind.ARRAY, size, count=hi - lo + 1,
                            load=lambda: (None, self.desc(t.target())))
        if code in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_UNION):
            kind = Kind.STRUCT
            if name in ("runtime.iface", "runtime.eface") or name.startswith("interface {"):
                kind = Kind.INTERFACE
            return TypeDesc(name, kind, size, template_args=self._template_args(t),
                            load=lambda: (self._fields(t), None))
        if code == gdb.TYPE_CODE_INT:
            return TypeDesc(name, Kind.INT if _is_signed(t) else Kind.UINT, size)
        if code == gdb.TYPE_CODE_CHAR:
            if "char" in name:
                return TypeDesc(name, Kind.CHAR, size)
            return TypeDesc(name, Kind.INT if _is_signed(t) else Kind.UINT, size)
        if code == gdb.TYPE_CODE_ENUM:
            return TypeDesc(name, Kind.ENUM, size,
                            load=lambda: (None, TypeDesc("int", Kind.INT if _is_signed(t) else Kind.UINT, size)))
        return TypeDesc(name, _SIMPLE_KINDS.get(code, Kind.UNKNOWN), size)

    def _template_args(self, t: "gdb.Type") -> list:
        args = []
        for i in range(16):
            try:
                a = t.template_argument(i)
            except (RuntimeError, gdb.error, TypeError):
                break
            if isinstance(a, gdb.Type):
                args.append(self.desc(a))
        return args

    def _fields(self, t: "gdb.Type") -> list:
        out = []
        for f in t.fields():
            if not hasattr(f, "bitpos") or f.type is None:  # static members
                continue
            if f.bitsize:  # bit-fields are never part of a map's layout
                continue
            out.append(Field(f.name or (str(f.type) if f.is_base_class else ""),
                             f.bitpos // 8, self.desc(f.type)))
        return out


# --- the Target -------------------------------------------------------------

_SCALAR_CODES = (gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_INT, gdb.TYPE_CODE_ENUM,
                 gdb.TYPE_CODE_BOOL, gdb.TYPE_CODE_CHAR, gdb.TYPE_CODE_FLT)

class GdbTarget(Target):
    name = "gdb"

    def __init__(self) -> None:
        self.types = _TypeCache()

    # process state
    def is_running(self) -> bool:
        try:
            return gdb.selected_thread() is not None and gdb.selected_inferior().pid != 0
        except gdb.error:
            return False

    # memory
    def read_memory(self, addr: int, size: int) -> bytes:
        if size <= 0:
            return b""
        self._require_running()
        try:
            return bytes(gdb.selected_inferior().read_memory(addr, size))
        except (gdb.MemoryError, gdb.error, OverflowError, ValueError) as e:
            raise MemoryReadError(addr, size, _one_line(e)) from None

    # expressions
    def evaluate(self, expr: str) -> Value:
        self._require_running()
        v = self._parse(expr)
        if v.is_optimized_out:
            # Optimised Go code keeps a variable only where it is used: above
            # the innermost frame, a map passed in a register is gone. Said in
            # the words LLDB's path (gomapcore.godwarf) uses.
            raise GomapError(f"variable {expr.strip()!r} is optimised away at pc "
                             f"{self.register('pc'):#x}")
        return self.to_value(v)

    def _parse(self, expr: str) -> "gdb.Value":
        # Refuse to run code in the program: GDB errors out on a call instead.
        try:
            old = gdb.parameter("may-call-functions")
        except (gdb.error, RuntimeError):
            old = None
        try:
            if old:
                gdb.execute("set may-call-functions off", to_string=True)
            v = gdb.parse_and_eval(expr)
            if v.type.code in (gdb.TYPE_CODE_REF, gdb.TYPE_CODE_RVALUE_REF):
                v = v.referenced_value()
            v.fetch_lazy()
            return v
        except gdb.MemoryError as e:
            raise GomapError(f"cannot evaluate {expr!r}: {_one_line(e)}") from None
        except gdb.error as e:
            msg = _one_line(e)
            if "may-call-functions" in msg:
                msg = (f"cannot evaluate {expr!r} without running code in the program "
                       "(gomap never calls functions): use a variable, member or address")
            raise GomapError(msg) from None
        finally:
            if old:
                gdb.execute("set may-call-functions on", to_string=True)

    def to_value(self, v: "gdb.Value") -> Value:
        t = v.type
        desc = self.types.desc(t)
        size = t.sizeof
        code = t.strip_typedefs().code
        if code in _SCALAR_CODES and (code != gdb.TYPE_CODE_FLT or size in (4, 8)):
            # A scalar's bytes are its value, whatever gdb says about where it
            # lives: for `(char*)p + 1000` gdb keeps the location of `p`'s
            # container (value_ptradd copies the component location), so
            # reading at v.address would give 8 bytes of the wrong object.
            # gdb 13 has no Value.is_lvalue; an address is kept only when the
            # memory there holds this very value (a variable, a member).
            data = self._pack(v, size)
            return Value(desc, self._address_holding(v, data), data)
        addr = self._address(v)
        data = b""
        if addr is not None and size:
            try:
                data = self.read_memory(addr, size)
            except MemoryReadError:
                addr = None
        if not data:
            data = self._pack(v, size)
        return Value(desc, addr, data)

    @staticmethod
    def _address(v: "gdb.Value"):
        if v.address is None:
            return None
        try:
            return int(v.address)
        except gdb.error:
            return None

    def _address_holding(self, v: "gdb.Value", data: bytes):
        addr = self._address(v)
        if addr is None or not data:
            return None
        try:
            return addr if self.read_memory(addr, len(data)) == data else None
        except MemoryReadError:
            return None

    def _pack(self, v: "gdb.Value", size: int) -> bytes:
        """Bytes of a value that has no address (a register, a computed value)."""
        t = v.type.strip_typedefs()
        if t.code in (gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_INT, gdb.TYPE_CODE_ENUM,
                      gdb.TYPE_CODE_BOOL, gdb.TYPE_CODE_CHAR):
            n = int(v)
            return (n & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
        if t.code == gdb.TYPE_CODE_FLT:
            import struct
            return struct.pack("<d" if size == 8 else "<f", float(v))
        if t.code in (gdb.TYPE_CODE_STRUCT, gdb.TYPE_CODE_ARRAY):
            buf = bytearray(size)
            if t.code == gdb.TYPE_CODE_ARRAY:
                lo, hi = t.range()
                es = t.target().sizeof
                for i in range(hi - lo + 1):
                    buf[i * es:(i + 1) * es] = self._pack(v[lo + i], es)
            else:
                for f in t.fields():
                    if hasattr(f, "bitpos") and not f.bitsize and f.name:
                        fs = f.type.sizeof
                        off = f.bitpos // 8
                        buf[off:off + fs] = self._pack(v[f.name], fs)
            return bytes(buf)
        raise GomapError(f"cannot read a value of type {v.type} without an address")

    def symbol_address(self, name: str):
        try:
            sym = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
            if sym is not None:
                val = sym.value()
                if sym.addr_class == gdb.SYMBOL_LOC_BLOCK:
                    return int(val.address)
                if val.address is not None:
                    return int(val.address)
        except (gdb.error, RuntimeError, ValueError):
            pass
        try:
            return int(self._parse(f"(unsigned long)&'{name}'"))
        except GomapError:
            return None

    def lookup_type(self, name: str):
        name = name.strip()
        ptr = 0
        while name.endswith("*"):
            name, ptr = name[:-1].rstrip(), ptr + 1
        t = None
        try:
            t = gdb.lookup_type(name)
        except (gdb.error, RuntimeError):
            try:
                t = gdb.parse_and_eval(f"({name}*)0").type.target()
            except (gdb.error, RuntimeError):
                t = None
        if t is None:
            return None
        for _ in range(ptr):
            t = t.pointer()
        return self.types.desc(t)

    # registers and frames
    def register(self, name: str) -> int:
        self._require_running()
        try:
            frame = gdb.selected_frame()
            if name == "pc":
                return int(frame.pc())
            return int(frame.read_register(name)) & ((1 << 64) - 1)
        except (gdb.error, ValueError) as e:
            raise GomapError(f"cannot read register {name}: {_one_line(e)}") from None

    def function_name(self):
        try:
            return gdb.selected_frame().name()
        except gdb.error:
            return None

    def use_color(self) -> bool:
        if os.environ.get("NO_COLOR"):
            return False
        try:
            if not gdb.parameter("style enabled"):
                return False
        except (gdb.error, RuntimeError):
            pass
        return os.isatty(1)

    def value_for(self, addr: int, desc: TypeDesc):
        """A gdb.Value at addr of the type behind desc, or None."""
        t = getattr(desc, "gdb_type", None)
        if t is None or addr is None:
            return None
        return gdb.Value(addr).cast(t.pointer()).dereference()


_TARGET = GdbTarget()
import gdb_scripts.gomap_gdb_stops as _stops; _stops.install(GdbTarget)  # noqa: E402,E702 - gomap break/watch/step (issue 5)


def _commands():
    from gomapcore import commands
    return commands


# --- commands ---------------------------------------------------------------

def _run(name: str, arg: str) -> None:
    try:
        out = _commands().dispatch(_TARGET, name, arg)
    except gdb.GdbError:
        raise
    except BaseException as e:  # noqa: BLE001 - the user must never see a traceback
        raise gdb.GdbError(command_error(name, e)) from None
    if out:
        gdb.write(out if out.endswith("\n") else out + "\n")


class GomapPrefix(gdb.Command):
    """Look inside Go maps (gomap::Map<K,V> and Go's map[K]V).

Subcommands are listed below; `help gomap print` shows one in full."""

    def __init__(self) -> None:
        super().__init__("gomap", gdb.COMMAND_DATA, gdb.COMPLETE_NONE, prefix=True)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError(f"gomap: unknown subcommand {arg.split()[0]!r} (see `help gomap`)")
        gdb.execute("help gomap", from_tty)


def _make_command(name: str, summary: str, helptext: str):
    doc = f"{summary}\n\n{helptext}".rstrip() if summary else helptext

    def __init__(self):
        gdb.Command.__init__(self, f"gomap {name}", gdb.COMMAND_DATA, gdb.COMPLETE_EXPRESSION)

    def invoke(self, arg, from_tty):
        self.dont_repeat()
        _run(name, arg)

    cls = type(f"Gomap_{name}", (gdb.Command,), {"__doc__": doc, "__init__": __init__,
                                                  "invoke": invoke})
    return cls()


def register_commands() -> list:
    GomapPrefix()
    names = []
    for name, summary, helptext in _commands().registrations():
        _make_command(name, summary, helptext)
        names.append(name)
    return names


# --- pretty-printers ----------------------------------------------------------

_CXX_MAP = re.compile(r"^(const )?(volatile )?gomap::Map<.+>( const)?$")
_GO_MAP = re.compile(r"^map\[.+\].+$")


class MapPrinter:
    """`print m`: Delve's summary, then key/value children within GDB's own
    `print elements` limit (GDB stops pulling the generator at the limit)."""

    def __init__(self, val: "gdb.Value") -> None:
        self.val = val
        self._summary = None
        self._children = []

    def _load(self):
        if self._summary is not None:
            return
        try:
            value = _TARGET.to_value(self.val)
            summary = _summarize(value)
            self._summary, self._children = summary.short, summary.children
        except Exception as e:  # noqa: BLE001 - shown in place of the map
            self._summary, self._children = summary_error(e), []

    def to_string(self):
        self._load()
        return self._summary

    def display_hint(self):
        return "map"

    def children(self):
        self._load()
        for i, (ktext, vtext, *_rest) in enumerate(self._children):
            yield f"k{i}", ktext
            yield f"v{i}", vtext


def _print_limit() -> int:
    try:
        n = gdb.parameter("print elements")
    except (gdb.error, RuntimeError):
        return 200
    return n if n else None  # 0/None: unlimited


def _summarize(value: Value):
    return _commands().summarize(_TARGET, value, limit=_print_limit())


def gomap_printer_lookup(val: "gdb.Value"):
    t = val.type
    try:
        name = str(t.unqualified())
        if _GO_MAP.match(name) and t.strip_typedefs().code == gdb.TYPE_CODE_PTR:
            return MapPrinter(val)
        st = t.strip_typedefs().unqualified()
        if st.code == gdb.TYPE_CODE_STRUCT and _CXX_MAP.match(str(st)):
            return MapPrinter(val)
    except (gdb.error, RuntimeError):
        return None
    return None


gomap_printer_lookup.__name__ = "gomap"  # `info pretty-printer` shows this name
gomap_printer_lookup.name = "gomap"  # type: ignore[attr-defined]
gomap_printer_lookup.enabled = True  # type: ignore[attr-defined]


def _is_go_map_printer(p) -> bool:
    # Go's runtime-gdb.py registers one lookup function per objfile that owns,
    # among others, MapTypePrinter: ours must come first for map types.
    g = getattr(p, "__globals__", None) or {}
    return "MapTypePrinter" in g and getattr(p, "__name__", "") != "gomap"


_announced_go = [False]


def _install_on_objfile(objfile) -> None:
    printers = objfile.pretty_printers
    if any(getattr(p, "__name__", "") == "gomap" for p in printers):
        return
    if any(_is_go_map_printer(p) for p in printers):
        printers.insert(0, gomap_printer_lookup)
        if not _announced_go[0]:
            _announced_go[0] = True
            gdb.write("gomap: Go maps are printed by gomap, not by Go's runtime-gdb.py "
                      "(its map printer is wrong during grows)\n")


def _on_new_objfile(event) -> None:
    try:
        _install_on_objfile(event.new_objfile)
    except Exception:  # noqa: BLE001 - never break loading a program
        if _debug():
            traceback.print_exc()


def _before_prompt() -> None:
    # Go's runtime-gdb.py may be auto-loaded after our new_objfile handler ran.
    for objfile in gdb.objfiles():
        _install_on_objfile(objfile)


def register_printers() -> None:
    if not any(getattr(p, "__name__", "") == "gomap" for p in gdb.pretty_printers):
        gdb.pretty_printers.insert(0, gomap_printer_lookup)
    for objfile in gdb.objfiles():
        _install_on_objfile(objfile)
    if not getattr(gdb, "_gomap_events", False):
        gdb.events.new_objfile.connect(_on_new_objfile)
        gdb.events.before_prompt.connect(_before_prompt)
        gdb.events.stop.connect(lambda _e: _before_prompt())
        gdb._gomap_events = True  # type: ignore[attr-defined]


def _load() -> None:
    try:
        names = register_commands()
        register_printers()
    except Exception as e:  # noqa: BLE001 - loading must never dump a traceback
        if _debug():
            traceback.print_exc()
        gdb.write(f"gomap: failed to load: {_one_line(e)}\n")
        return
    gdb.write(f"gomap: loaded for gdb: gomap {', '.join(names) or '(no commands)'}\n")


_load()
