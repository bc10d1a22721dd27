"""Go 1.19 programs read from their own DWARF, for debuggers that cannot.

LLDB 16 knows nothing of Go: on a Go binary it shows no functions, variables or
types, although registers and memory work. gdb reads Go's DWARF itself. This
module gives the LLDB adapter what gdb has: the function at a pc, the variables
in scope there, where a variable lives (from the registers and memory the
debugger supplies), and Go types by name, as gomapcore TypeDesc trees.

What Go's compiler and linker emit (go1.19, amd64):
- one compile unit per package; the types of the whole program sit in one unit
  and are referenced with DW_FORM_ref_addr from everywhere;
- `map[K]V` is a DW_TAG_typedef of `*hash<K,V>`, and carries Go's own
  attributes: DW_AT_go_kind (reflect.Kind), DW_AT_go_key and DW_AT_go_elem
  (K and V), DW_AT_go_runtime_type (address of the runtime type descriptor);
- a defined type appears twice: `typedef main.Rec` of `struct main.Rec` (K and
  V of a map point at the typedef; strip_typedefs() reaches the fields);
- every function's frame base is DW_OP_call_frame_cfa; parameters, even in
  -N -l builds, have location lists (in a register at entry under the register
  ABI, then in their spill slot at the CFA); optimised builds describe
  variables in registers or in pieces, or not at all for part of a function;
- .debug_* sections are zlib-compressed (SHF_COMPRESSED), which pyelftools
  inflates; old-style .zdebug_* sections are inflated here too.

Load cost is kept low (a Go binary's DWARF is large): the ELF and the section
headers are read once; compile units are only sized, and only the unit that
holds a pc is walked for its functions; types are built on first use, and
pointer targets and struct fields only when followed (bucket.overflow points
back at its own bucket type).
"""
from __future__ import annotations

import bisect
import zlib
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

from .goframe import FrameTable, Piece, dwarf_register_name, evaluate_location
from .target import Field, GomapError, Kind, TypeDesc, Value

# Go's DWARF extensions (cmd/internal/dwarf).
DW_AT_go_kind = 0x2900
DW_AT_go_key = 0x2901
DW_AT_go_elem = 0x2902
DW_AT_go_embedded_field = 0x2903
DW_AT_go_runtime_type = 0x2904

# reflect.Kind values found in DW_AT_go_kind.
GO_KIND_FUNC = 19
GO_KIND_INTERFACE = 20
GO_KIND_MAP = 21
GO_KIND_STRING = 24

_TYPE_TAGS = frozenset({
    "DW_TAG_base_type", "DW_TAG_pointer_type", "DW_TAG_structure_type",
    "DW_TAG_typedef", "DW_TAG_array_type", "DW_TAG_subroutine_type",
    "DW_TAG_unspecified_type", "DW_TAG_union_type", "DW_TAG_enumeration_type",
})

_BASE_KINDS = {
    0x02: Kind.BOOL, 0x03: Kind.COMPLEX, 0x04: Kind.FLOAT,
    0x05: Kind.INT, 0x06: Kind.INT, 0x07: Kind.UINT, 0x08: Kind.UINT,
}


@dataclass(frozen=True)
class GoVariable:
    """A parameter or local visible at some pc."""
    name: str
    is_parameter: bool
    die_offset: int
    type_offset: Optional[int]


@dataclass(frozen=True)
class GoFunction:
    name: str
    low_pc: int
    high_pc: int
    die_offset: int


def _name(die) -> Optional[str]:
    a = die.attributes.get("DW_AT_name")
    if a is None:
        return None
    v = a.value
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _open_elf(path: str):
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    try:
        stream = open(path, "rb")
    except OSError as e:
        raise GomapError(f"cannot open {path}: {e.strerror}") from None
    try:
        return stream, ELFFile(stream)
    except ELFError as e:
        stream.close()
        raise GomapError(f"{path} is not an ELF file ({e})") from None


def _section_bytes(elf, name: str) -> Optional[bytes]:
    """A debug section's contents, inflated: SHF_COMPRESSED sections are
    inflated by pyelftools; old-style .zdebug_* ("ZLIB" + 8-byte big-endian
    size + zlib stream) here."""
    sec = elf.get_section_by_name(name)
    if sec is not None:
        return sec.data()
    zsec = elf.get_section_by_name(".z" + name[1:])
    if zsec is None:
        return None
    raw = zsec.data()
    if raw[:4] != b"ZLIB":
        raise GomapError(f"{zsec.name} is not zlib-compressed as expected")
    try:
        return zlib.decompress(raw[12:])
    except zlib.error as e:
        raise GomapError(f"cannot inflate {zsec.name}: {e}") from None


# DW_AT_location forms that hold one expression (the others point at a location list)
_EXPR_FORMS = ("DW_FORM_exprloc", "DW_FORM_block1", "DW_FORM_block2", "DW_FORM_block4",
               "DW_FORM_block")


class GoProgram:
    """One Go executable's DWARF, parsed once and queried by pc and by name."""

    def __init__(self, path: str):
        self.path = path
        self._stream, self._elf = _open_elf(path)
        try:
            if self._elf.get_machine_arch() != "x64":
                raise GomapError(f"{path}: only amd64 Go programs are supported "
                                 f"(this one is {self._elf.get_machine_arch()})")
            if not self._elf.has_dwarf_info():
                raise GomapError(f"{path} has no DWARF debug info (built with -ldflags=-w?)")
            from elftools.common.exceptions import DWARFError, ELFError
            try:
                self._dwarf = self._elf.get_dwarf_info()
            except (DWARFError, ELFError, zlib.error) as e:
                raise GomapError(f"{path}: cannot read DWARF: {e}") from None
            frame = _section_bytes(self._elf, ".debug_frame")
            if frame is None:
                raise GomapError(f"{path} has no .debug_frame: cannot find frames")
            self._frames = FrameTable(frame)
        except BaseException:
            self._stream.close()
            raise
        self._cu_index: Optional[list[tuple[int, int, int]]] = None  # (low, high, cu offset)
        self._cu_lows: list[int] = []
        self._cu_by_offset: dict[int, object] = {}
        self._functions: dict[int, list[tuple[int, int, int]]] = {}  # cu offset -> sorted (low, high, die)
        self._types: dict[int, TypeDesc] = {}
        self._type_names: dict[str, int] = {}
        self._type_scan: Optional[Iterator] = None
        self._loclists = None
        self._rangelists = None
        self._funcsyms: Optional[list[tuple[int, int, str]]] = None
        self._funcsym_addrs: list[int] = []
        self._by_runtime_type: Optional[dict[int, int]] = None
        self._package_vars: Optional[dict[str, GoVariable]] = None  # full name -> variable
        self._package_units: dict[str, list] = {}  # package path -> units not indexed yet

    def close(self) -> None:
        self._stream.close()

    def __enter__(self) -> "GoProgram":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- compile units and functions ---------------------------------------------

    def _ranges_of(self, die, cu_base: int) -> list[tuple[int, int]]:
        attrs = die.attributes
        if "DW_AT_low_pc" in attrs and "DW_AT_high_pc" in attrs:
            low = attrs["DW_AT_low_pc"].value
            high_attr = attrs["DW_AT_high_pc"]
            high = high_attr.value if high_attr.form == "DW_FORM_addr" else low + high_attr.value
            return [(low, high)]
        if "DW_AT_ranges" in attrs:
            if self._rangelists is None:
                self._rangelists = self._dwarf.range_lists()
            if self._rangelists is None:
                return []
            out, base = [], cu_base
            for entry in self._rangelists.get_range_list_at_offset(attrs["DW_AT_ranges"].value):
                if hasattr(entry, "base_address"):
                    base = entry.base_address
                elif getattr(entry, "is_absolute", False):
                    out.append((entry.begin_offset, entry.end_offset))
                else:
                    out.append((base + entry.begin_offset, base + entry.end_offset))
            return out
        return []

    def _build_cu_index(self) -> None:
        index = []
        for cu in self._dwarf.iter_CUs():
            self._cu_by_offset[cu.cu_offset] = cu
            top = cu.get_top_DIE()
            base = top.attributes["DW_AT_low_pc"].value if "DW_AT_low_pc" in top.attributes else 0
            for low, high in self._ranges_of(top, base):
                if high > low:
                    index.append((low, high, cu.cu_offset))
        index.sort()
        self._cu_index = index
        self._cu_lows = [r[0] for r in index]

    def _cu_at(self, pc: int):
        if self._cu_index is None:
            self._build_cu_index()
        i = bisect.bisect_right(self._cu_lows, pc) - 1
        while i >= 0:
            low, high, off = self._cu_index[i]
            if low <= pc < high:
                return self._cu_by_offset[off]
            if i > 0 and self._cu_index[i - 1][1] > pc:
                i -= 1  # overlapping ranges: keep looking left
                continue
            break
        return None

    def _functions_of(self, cu) -> list[tuple[int, int, int]]:
        funcs = self._functions.get(cu.cu_offset)
        if funcs is None:
            funcs = []
            for die in cu.get_top_DIE().iter_children():
                if die.tag != "DW_TAG_subprogram" or "DW_AT_low_pc" not in die.attributes:
                    continue
                for low, high in self._ranges_of(die, 0):
                    funcs.append((low, high, die.offset))
            funcs.sort()
            self._functions[cu.cu_offset] = funcs
        return funcs

    def _function_die(self, pc: int):
        cu = self._cu_at(pc)
        if cu is None:
            return None, None
        funcs = self._functions_of(cu)
        i = bisect.bisect_right(funcs, (pc, float("inf"), 0)) - 1
        if i >= 0 and funcs[i][0] <= pc < funcs[i][1]:
            return cu, cu.get_DIE_from_refaddr(funcs[i][2])
        return cu, None

    def _symbols(self) -> list[tuple[int, int, str]]:
        """(address, size, name) of every function symbol, sorted: naming a pc
        from .symtab avoids walking a large unit's DWARF (runtime's takes
        about 0.4 s) when only the name is wanted."""
        if self._funcsyms is None:
            syms = []
            symtab = self._elf.get_section_by_name(".symtab")
            for sym in (symtab.iter_symbols() if symtab is not None else ()):
                if sym["st_info"]["type"] == "STT_FUNC" and sym["st_value"]:
                    syms.append((sym["st_value"], sym["st_size"], sym.name))
            syms.sort()
            self._funcsyms = syms
            self._funcsym_addrs = [s[0] for s in syms]
        return self._funcsyms

    def function_at(self, pc: int) -> Optional[str]:
        """Go name of the function containing pc (e.g. "main.checkpoint"), or None."""
        syms = self._symbols()
        i = bisect.bisect_right(self._funcsym_addrs, pc) - 1
        if i >= 0 and syms[i][0] <= pc < syms[i][0] + max(syms[i][1], 1):
            return syms[i][2]
        _, die = self._function_die(pc)
        return self._die_name(die) if die is not None else None

    def function_info(self, pc: int) -> Optional[GoFunction]:
        _, die = self._function_die(pc)
        if die is None:
            return None
        low, high = self._ranges_of(die, 0)[0]
        return GoFunction(self._die_name(die) or "?", low, high, die.offset)

    def find_function(self, name: str) -> Optional[GoFunction]:
        """A function by its Go name, from the symbol table (cheap) refined by
        DWARF. Used to place breakpoints where the debugger cannot name Go code."""
        for addr, size, sym in self._symbols():
            if sym == name:
                info = self.function_info(addr)
                return info if info is not None else GoFunction(name, addr, addr + size, -1)
        return None

    def _die_name(self, die) -> Optional[str]:
        name = _name(die)
        if name is None and "DW_AT_abstract_origin" in die.attributes:
            return _name(self._die(self._ref(die, "DW_AT_abstract_origin")))
        return name

    # --- variables ---------------------------------------------------------------

    def _scopes_at(self, die, pc: int, out: list[GoVariable]) -> None:
        """Variables of die's scope, then of nested lexical blocks that hold pc
        (so that a later, inner declaration shadows an outer one)."""
        for child in die.iter_children():
            tag = child.tag
            if tag in ("DW_TAG_formal_parameter", "DW_TAG_variable"):
                name = self._die_name(child)
                if name is None:
                    continue
                origin = child
                if "DW_AT_type" not in child.attributes and "DW_AT_abstract_origin" in child.attributes:
                    origin = self._die(self._ref(child, "DW_AT_abstract_origin"))
                type_off = self._ref(origin, "DW_AT_type") if "DW_AT_type" in origin.attributes else None
                out.append(GoVariable(name, tag == "DW_TAG_formal_parameter", child.offset, type_off))
            elif tag == "DW_TAG_lexical_block":
                if any(low <= pc < high for low, high in self._ranges_of(child, 0)):
                    self._scopes_at(child, pc, out)
            # DW_TAG_inlined_subroutine: gdb shows an inlined call as a frame of
            # its own; its variables do not belong to this function's scope.

    def variables(self, pc: int) -> list[GoVariable]:
        cu, func = self._function_die(pc)
        if func is None:
            raise GomapError(f"no Go function with debug info at pc {pc:#x}")
        found: list[GoVariable] = []
        self._scopes_at(func, pc, found)
        return found

    def variables_at(self, pc: int) -> list[str]:
        """Names of the parameters and locals in scope at pc (innermost last;
        duplicates, from shadowing, appear once)."""
        names: list[str] = []
        for v in self.variables(pc):
            if v.name in names:
                names.remove(v.name)
            names.append(v.name)
        return names

    def location_ranges(self, name: str, pc: int) -> list[tuple[int, int, bytes]]:
        """Where the variable `name` (in scope at pc) has a location:
        (low, high, DWARF expression) for each pc range of its location list,
        or one range covering the whole function for a single expression.
        A debugger can use it to say from where on a variable is available."""
        cu, func = self._function_die(pc)
        if func is None:
            raise GomapError(f"no Go function with debug info at pc {pc:#x}")
        found: list[GoVariable] = []
        self._scopes_at(func, pc, found)
        matches = [v for v in found if v.name == name]
        if not matches:
            raise GomapError(f"no variable named '{name}' in {self._die_name(func)} at pc {pc:#x}")
        return self._location_list(self._die(matches[-1].die_offset), cu, func)

    def _location_list(self, var_die, cu, func) -> list[tuple[int, int, bytes]]:
        loc = var_die.attributes.get("DW_AT_location")
        if loc is None:
            return []
        if loc.form in _EXPR_FORMS:
            low, high = self._ranges_of(func, 0)[0]
            return [(low, high, bytes(loc.value))]
        return self._loclist_entries(loc, cu)

    def _loclist_entries(self, loc, cu) -> list[tuple[int, int, bytes]]:
        """(low pc, high pc, expression) of a location list, with base addresses applied."""
        if self._loclists is None:
            self._loclists = self._dwarf.location_lists()
            if self._loclists is None:
                raise GomapError("the program has no .debug_loc: cannot place variables")
        top = cu.get_top_DIE()
        base = top.attributes["DW_AT_low_pc"].value if "DW_AT_low_pc" in top.attributes else 0
        out = []
        for entry in self._loclists.get_location_list_at_offset(loc.value):
            if hasattr(entry, "base_address"):
                base = entry.base_address
                continue
            if not hasattr(entry, "loc_expr"):
                continue
            if getattr(entry, "is_absolute", False):
                out.append((entry.begin_offset, entry.end_offset, bytes(entry.loc_expr)))
            else:
                out.append((base + entry.begin_offset, base + entry.end_offset, bytes(entry.loc_expr)))
        return out

    def _location_expr(self, var_die, cu, pc: int, name: str,
                       shown_pc: Optional[int] = None) -> bytes:
        loc = var_die.attributes.get("DW_AT_location")
        if loc is None:
            raise GomapError(f"variable '{name}' is optimised away (no location)")
        if loc.form in _EXPR_FORMS:
            return bytes(loc.value)
        for low, high, expr in self._loclist_entries(loc, cu):
            if low <= pc < high:
                return expr
        raise GomapError(f"variable '{name}' is optimised away at pc "
                         f"{pc if shown_pc is None else shown_pc:#x}")

    def cfa(self, pc: int, read_register: Callable[[str], int]) -> int:
        """The canonical frame address of the frame whose pc is given: the
        value of the stack pointer in the caller just before the call."""
        reg, offset = self._frames.cfa_rule(pc)
        return read_register(dwarf_register_name(reg)) + offset

    def locate(self, name: str, pc: int, read_register: Callable[[str], int],
               read_memory: Callable[[int, int], bytes], *, outer_frame: bool = False) -> Value:
        """Value of the variable `name` in the frame stopped at pc.

        read_register takes amd64 names ("rax", "rsp", "xmm0") of the selected
        frame; read_memory(addr, size) returns bytes. For a frame other than
        the innermost, pc is a return address: pass outer_frame=True so that
        scopes are looked up at pc-1, inside the call, as gdb does."""
        lookup_pc = pc - 1 if outer_frame else pc
        cu, func = self._function_die(lookup_pc)
        matches: list[GoVariable] = []
        if func is not None:
            found: list[GoVariable] = []
            self._scopes_at(func, lookup_pc, found)
            matches = [v for v in found if v.name == name]
        if not matches:
            # A local shadows a package variable of the same name, as in Go.
            package_var = self._package_variable(name)
            if package_var is not None:
                return self._locate_package_variable(name, package_var, read_register,
                                                     read_memory)
            if func is None:
                raise GomapError(f"no Go function with debug info at pc {pc:#x}")
            fname = self._die_name(func)
            raise GomapError(f"no variable named '{name}' in {fname} at pc {pc:#x}")
        var = matches[-1]
        if var.type_offset is None:
            raise GomapError(f"variable '{name}' has no type in the debug info")
        vtype = self.type_at(var.type_offset)
        var_die = self._die(var.die_offset)
        # Messages name the frame's own pc (a return address above the
        # innermost frame), as gdb does, not the pc looked up inside the call.
        expr = self._location_expr(var_die, cu, lookup_pc, name, shown_pc=pc)
        cfa_cache: list[int] = []

        def cfa() -> int:
            if not cfa_cache:
                cfa_cache.append(self.cfa(lookup_pc, read_register))
            return cfa_cache[0]

        pieces = evaluate_location(expr, cfa=cfa, read_register=read_register,
                                   read_memory=read_memory)
        return self._assemble(name, vtype, pieces, read_register, read_memory)

    # --- package variables ---------------------------------------------------------

    def _package_variable(self, name: str) -> Optional[GoVariable]:
        """A package-level variable by its full Go name ('main.sink'): a
        DW_TAG_variable child of its package's compile unit. Go names the unit
        after the package path, so only that unit is indexed for a qualified
        name; a name whose package has no unit of its own costs one scan of
        every unit, once."""
        pkg, dot, _ = name.rpartition(".")
        if not dot or not pkg:
            return None
        if self._package_vars is None:
            self._package_vars = {}
            self._package_units = {}
            for cu in self._dwarf.iter_CUs():
                self._cu_by_offset[cu.cu_offset] = cu
                self._package_units.setdefault(_name(cu.get_top_DIE()) or "", []).append(cu)
        for cu in self._package_units.pop(pkg, []):
            self._index_package_variables(cu)
        if name not in self._package_vars and self._package_units:
            for cus in self._package_units.values():
                for cu in cus:
                    self._index_package_variables(cu)
            self._package_units = {}
        return self._package_vars.get(name)

    def _index_package_variables(self, cu) -> None:
        for die in cu.get_top_DIE().iter_children():
            if die.tag != "DW_TAG_variable":
                continue
            vname = _name(die)
            if vname and vname not in self._package_vars:
                type_off = self._ref(die, "DW_AT_type") if "DW_AT_type" in die.attributes else None
                self._package_vars[vname] = GoVariable(vname, False, die.offset, type_off)

    def _locate_package_variable(self, name: str, var: GoVariable,
                                 read_register: Callable[[str], int],
                                 read_memory: Callable[[int, int], bytes]) -> Value:
        if var.type_offset is None:
            raise GomapError(f"variable '{name}' has no type in the debug info")
        loc = self._die(var.die_offset).attributes.get("DW_AT_location")
        if loc is None or not isinstance(loc.value, list):
            raise GomapError(f"package variable '{name}' has no address in the debug info")

        def no_frame() -> int:
            raise GomapError(f"package variable '{name}' has a frame-relative location")

        pieces = evaluate_location(bytes(loc.value), cfa=no_frame, read_register=read_register,
                                   read_memory=read_memory)
        return self._assemble(name, self.type_at(var.type_offset), pieces, read_register,
                              read_memory)

    @staticmethod
    def _assemble(name: str, vtype: TypeDesc, pieces: list[Piece],
                  read_register: Callable[[str], int],
                  read_memory: Callable[[int, int], bytes]) -> Value:
        if len(pieces) == 1 and pieces[0].address is not None:
            addr = pieces[0].address
            return Value(vtype, addr, read_memory(addr, vtype.size) if vtype.size else b"")
        data = bytearray()
        for p in pieces:
            size = p.size if p.size is not None else max(vtype.size - len(data), 0)
            if p.register is not None:
                reg = dwarf_register_name(p.register)
                raw = read_register(reg) & ((1 << (8 * max(size, 1))) - 1)
                data += raw.to_bytes(max(size, 1), "little")[:size]
            elif p.value is not None:
                data += (p.value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
            elif p.address is not None:
                data += read_memory(p.address, size)
            else:
                raise GomapError(f"variable '{name}' is partly optimised away here")
        return Value(vtype, None, bytes(data[:vtype.size]))

    # --- types -------------------------------------------------------------------

    def _die(self, offset: int):
        return self._dwarf.get_DIE_from_refaddr(offset)

    @staticmethod
    def _ref(die, attr) -> int:
        a = die.attributes[attr]
        if a.form in ("DW_FORM_ref_addr", "DW_FORM_ref_sig8"):
            return a.value
        return a.value + die.cu.cu_offset

    def _size_of(self, die, depth: int = 0) -> int:
        if "DW_AT_byte_size" in die.attributes:
            return die.attributes["DW_AT_byte_size"].value
        if die.tag in ("DW_TAG_pointer_type", "DW_TAG_subroutine_type"):
            return 8
        if depth < 32 and "DW_AT_type" in die.attributes:
            target = self._die(self._ref(die, "DW_AT_type"))
            if die.tag == "DW_TAG_array_type":
                return self._array_count(die) * self._size_of(target, depth + 1)
            return self._size_of(target, depth + 1)
        return 0

    def _array_count(self, die) -> int:
        for sub in die.iter_children():
            if sub.tag == "DW_TAG_subrange_type":
                if "DW_AT_count" in sub.attributes:
                    return sub.attributes["DW_AT_count"].value
                if "DW_AT_upper_bound" in sub.attributes:
                    return sub.attributes["DW_AT_upper_bound"].value + 1
        return 0

    def type_at(self, offset: int) -> TypeDesc:
        """The TypeDesc of the type DIE at a .debug_info offset (cached)."""
        td = self._types.get(offset)
        if td is not None:
            return td
        die = self._die(offset)
        tag = die.tag
        name = _name(die) or ""
        attrs = die.attributes
        go_kind = attrs[DW_AT_go_kind].value if DW_AT_go_kind in attrs else None
        target_off = self._ref(die, "DW_AT_type") if "DW_AT_type" in attrs else None

        def target_loader():
            return None, (self.type_at(target_off) if target_off is not None else None)

        if tag == "DW_TAG_base_type":
            kind = _BASE_KINDS.get(attrs["DW_AT_encoding"].value, Kind.UNKNOWN) \
                if "DW_AT_encoding" in attrs else Kind.UNKNOWN
            td = TypeDesc(name, kind, self._size_of(die))
        elif tag == "DW_TAG_pointer_type":
            td = TypeDesc(name, Kind.POINTER, 8, load=target_loader)
        elif tag in ("DW_TAG_structure_type", "DW_TAG_union_type"):
            td = TypeDesc(name, Kind.STRUCT, self._size_of(die),
                          load=lambda: (self._fields(offset), None))
        elif tag == "DW_TAG_array_type":
            td = TypeDesc(name, Kind.ARRAY, self._size_of(die), count=self._array_count(die),
                          load=target_loader)
        elif tag == "DW_TAG_typedef":
            if go_kind == GO_KIND_INTERFACE:
                # runtime.iface / runtime.eface underneath: give its fields
                # directly so a reader finds tab/_type and data.
                def iface_loader():
                    under = self.type_at(target_off) if target_off is not None else None
                    return (under.strip_typedefs().fields if under else []), under
                td = TypeDesc(name, Kind.INTERFACE, self._size_of(die), load=iface_loader)
            elif go_kind == GO_KIND_FUNC:
                td = TypeDesc(name, Kind.FUNC, 8, load=target_loader)
            else:
                td = TypeDesc(name, Kind.TYPEDEF, self._size_of(die), load=target_loader)
        elif tag == "DW_TAG_subroutine_type":
            td = TypeDesc(name, Kind.FUNC, 8)
        elif tag == "DW_TAG_enumeration_type":
            td = TypeDesc(name, Kind.ENUM, self._size_of(die), load=target_loader)
        else:
            td = TypeDesc(name, Kind.UNKNOWN, self._size_of(die))
        self._types[offset] = td
        # K and V of a map, after caching: `type M map[string]M` refers to itself.
        if go_kind == GO_KIND_MAP and DW_AT_go_key in attrs and DW_AT_go_elem in attrs:
            td.template_args = [self.type_at(self._ref(die, DW_AT_go_key)),
                                self.type_at(self._ref(die, DW_AT_go_elem))]
        if name and name not in self._type_names:
            self._type_names[name] = offset
        return td

    def _fields(self, offset: int) -> list[Field]:
        die = self._die(offset)
        out = []
        for m in die.iter_children():
            if m.tag != "DW_TAG_member" or "DW_AT_type" not in m.attributes:
                continue
            loc = m.attributes.get("DW_AT_data_member_location")
            off = loc.value if loc is not None and isinstance(loc.value, int) else 0
            out.append(Field(_name(m) or "", off, self.type_at(self._ref(m, "DW_AT_type"))))
        return out

    def _scan_type_names(self) -> Iterator[None]:
        """Index the names of top-level type DIEs, one compile unit at a time,
        so that a lookup stops as soon as its name is seen. Go puts nearly all
        types in one unit, which is scanned first once it is known."""
        cus = list(self._dwarf.iter_CUs())
        for cu in cus:
            self._cu_by_offset[cu.cu_offset] = cu
        known = {self._dwarf.get_CU_containing(off).cu_offset for off in list(self._types)[:1]}
        cus.sort(key=lambda c: (c.cu_offset not in known, -c["unit_length"]))
        for cu in cus:
            for die in cu.get_top_DIE().iter_children():
                if die.tag in _TYPE_TAGS:
                    name = _name(die)
                    if name and name not in self._type_names:
                        self._type_names[name] = die.offset
            yield

    def lookup_type(self, name: str) -> Optional[TypeDesc]:
        """A Go type by its DWARF name ('map[int64]int64', 'main.Rec',
        '*hash<string,int>'), or None when the program does not have it."""
        name = name.strip()
        if name not in self._type_names:
            if self._type_scan is None:
                self._type_scan = self._scan_type_names()
            for _ in self._type_scan:
                if name in self._type_names:
                    break
        off = self._type_names.get(name)
        return self.type_at(off) if off is not None else None

    def runtime_type_address(self, td_name: str) -> Optional[int]:
        """Address of the runtime type descriptor (*_type) for a named type."""
        if self.lookup_type(td_name) is None:
            return None
        die = self._die(self._type_names[td_name])
        a = die.attributes.get(DW_AT_go_runtime_type)
        base = self._types_base()
        return base + a.value if a is not None and a.value and base is not None else None

    def _types_base(self) -> Optional[int]:
        """Address of the symbol runtime.types: DW_AT_go_runtime_type is an
        offset from it (the linker's type section), not an address."""
        if not hasattr(self, "_types_base_addr"):
            self._types_base_addr = None
            symtab = self._elf.get_section_by_name(".symtab")
            for sym in (symtab.get_symbol_by_name("runtime.types") or ()) if symtab else ():
                self._types_base_addr = sym["st_value"]
        return self._types_base_addr

    def type_at_runtime_address(self, addr: int) -> Optional[TypeDesc]:
        """The type whose runtime descriptor (*runtime._type) is at addr: what
        an interface's eface._type or itab._type points at, so that a reader
        can name an interface's dynamic type."""
        if self._by_runtime_type is None:
            if self._type_scan is None:
                self._type_scan = self._scan_type_names()
            for _ in self._type_scan:
                pass
            index: dict[int, int] = {}
            for off in self._type_names.values():
                a = self._die(off).attributes.get(DW_AT_go_runtime_type)
                if a is not None and a.value:
                    index.setdefault(a.value, off)
            self._by_runtime_type = index
        base = self._types_base()
        off = self._by_runtime_type.get(addr - base) if base is not None else None
        return self.type_at(off) if off is not None else None
