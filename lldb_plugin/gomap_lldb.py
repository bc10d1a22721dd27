"""gomap for LLDB: a gomapcore Target over LLDB's SB API, the `gomap` commands,
and a summary + synthetic children for gomap::Map<K,V>.

Load it with `command script import lldb_plugin/gomap_lldb.py` (see
lldb_plugin/README.md for a ~/.lldbinit line). Importing it again is harmless.

Thin on purpose: commands live in gomapcore.commands; this file translates SB
objects into gomapcore's Target/TypeDesc/Value and every failure into one line
(GOMAP_DEBUG=1 shows the traceback).

No code in the debugged program is ever run. Expressions are resolved in this
order: frame.GetValueForVariablePath (variables, members, `*p`, `a[i]`: pure
reads), then globals, then EvaluateExpression with JIT forbidden, which leaves
only LLDB's IR interpreter: casts, arithmetic and registers work, a function
call is refused. LLDB has no Go support, so on a Go binary a name is resolved
through gomapcore.godwarf (Go's DWARF read by pyelftools) instead.
"""
from __future__ import annotations

import os
import re
import shlex
import sys
import traceback

import lldb

_ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from gomapcore.target import (  # noqa: E402
    Field, GomapError, Kind, MemoryReadError, NotRunningError, Target, TypeDesc, Value)

_MODULE = __name__  # what `command script add -c` must name
_INVALID = lldb.LLDB_INVALID_ADDRESS


def _one_line(exc) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _user_message(name: str, exc: BaseException) -> str:
    """One line naming the command, once (gomapcore's parser errors already do)."""
    msg = _one_line(exc)
    return msg if msg.startswith(("gomap ", "gomap:")) else f"gomap {name}: {msg}"


_MORE = re.compile(r"\+(\d+) more\]$")


def short_summary(delve_line: str, shown: int) -> str:
    """`map[K]V len: N` (or `map[K]V nil`) from gomapcore's Delve line: the
    pretty-printer's one line, the entries being its children.
    (Should move to gomapcore: summarize() could return the count.)"""
    if delve_line.startswith("<") or delve_line.endswith(" nil"):
        return delve_line
    type_name = delve_line.split(" [", 1)[0]
    m = _MORE.search(delve_line)
    return f"{type_name} len: {shown + (int(m.group(1)) if m else 0)}"


def _debug() -> bool:
    return os.environ.get("GOMAP_DEBUG", "") not in ("", "0")


# --- types -----------------------------------------------------------------

_SIGNED = {lldb.eBasicTypeSignedChar, lldb.eBasicTypeShort, lldb.eBasicTypeInt,
           lldb.eBasicTypeLong, lldb.eBasicTypeLongLong, lldb.eBasicTypeInt128}
_UNSIGNED = {lldb.eBasicTypeUnsignedChar, lldb.eBasicTypeUnsignedShort,
             lldb.eBasicTypeUnsignedInt, lldb.eBasicTypeUnsignedLong,
             lldb.eBasicTypeUnsignedLongLong, lldb.eBasicTypeUnsignedInt128}
_CHARS = {lldb.eBasicTypeChar, lldb.eBasicTypeWChar, lldb.eBasicTypeSignedWChar,
          lldb.eBasicTypeUnsignedWChar, lldb.eBasicTypeChar16, lldb.eBasicTypeChar32,
          getattr(lldb, "eBasicTypeChar8", -1)}
_FLOATS = {lldb.eBasicTypeFloat, lldb.eBasicTypeDouble, lldb.eBasicTypeLongDouble,
           getattr(lldb, "eBasicTypeHalf", -1)}
_COMPLEX = {lldb.eBasicTypeFloatComplex, lldb.eBasicTypeDoubleComplex,
            lldb.eBasicTypeLongDoubleComplex}


class _TypeCache:
    """SBType -> TypeDesc, lazily (bucket.overflow is recursive). Every TypeDesc
    keeps its SBType so the synthetic provider can build typed children."""

    def __init__(self) -> None:
        self._by_name: dict = {}

    def desc(self, t: "lldb.SBType") -> TypeDesc:
        name = t.GetName() or ""
        key = None if (not name or "anonymous" in name or "{" in name) else (name, t.GetByteSize())
        if key is not None and key in self._by_name:
            return self._by_name[key]
        d = self._make(t)
        d.lldb_type = t  # type: ignore[attr-defined]
        if key is not None:
            self._by_name[key] = d
        return d

    def _make(self, t: "lldb.SBType") -> TypeDesc:
        name = t.GetName() or ""
        size = t.GetByteSize()
        tc = t.GetTypeClass()
        if t.IsPointerType():
            return TypeDesc(name, Kind.POINTER, size, load=lambda: (None, self.desc(t.GetPointeeType())))
        if t.IsReferenceType():
            return TypeDesc(name, Kind.POINTER, 8, load=lambda: (None, self.desc(t.GetDereferencedType())))
        if t.IsTypedefType():
            return TypeDesc(name, Kind.TYPEDEF, size, load=lambda: (None, self.desc(t.GetTypedefedType())))
        if t.IsArrayType():
            elem = t.GetArrayElementType()
            es = elem.GetByteSize()
            return TypeDesc(name, Kind.ARRAY, size, count=size // es if es else 0,
                            load=lambda: (None, self.desc(elem)))
        if tc & (lldb.eTypeClassStruct | lldb.eTypeClassClass | lldb.eTypeClassUnion):
            kind = Kind.STRUCT
            if name in ("runtime.iface", "runtime.eface") or name.startswith("interface {"):
                kind = Kind.INTERFACE
            return TypeDesc(name, kind, size, template_args=self._template_args(t),
                            load=lambda: (self._fields(t), None))
        if tc & lldb.eTypeClassEnumeration:
            under = t.GetEnumerationIntegerType()
            return TypeDesc(name, Kind.ENUM, size, load=lambda: (None, self.desc(under)))
        if tc & (lldb.eTypeClassFunction | lldb.eTypeClassMemberPointer):
            return TypeDesc(name, Kind.FUNC, size)
        basic = t.GetCanonicalType().GetBasicType()
        if basic == lldb.eBasicTypeBool:
            return TypeDesc(name, Kind.BOOL, size)
        if basic in _SIGNED:
            return TypeDesc(name, Kind.INT, size)
        if basic in _UNSIGNED:
            return TypeDesc(name, Kind.UINT, size)
        if basic in _CHARS:
            return TypeDesc(name, Kind.CHAR, size)
        if basic in _FLOATS:
            return TypeDesc(name, Kind.FLOAT, size)
        if basic in _COMPLEX:
            return TypeDesc(name, Kind.COMPLEX, size)
        return TypeDesc(name, Kind.UNKNOWN, size)

    def _template_args(self, t: "lldb.SBType") -> list:
        out = []
        for i in range(t.GetNumberOfTemplateArguments()):
            a = t.GetTemplateArgumentType(i)
            if a.IsValid():
                out.append(self.desc(a))
        return out

    def _fields(self, t: "lldb.SBType") -> list:
        out = []
        for i in range(t.GetNumberOfDirectBaseClasses()):
            b = t.GetDirectBaseClassAtIndex(i)
            out.append(Field(b.GetType().GetName(), b.GetOffsetInBytes(), self.desc(b.GetType())))
        for i in range(t.GetNumberOfFields()):
            f = t.GetFieldAtIndex(i)
            if f.IsBitfield():
                continue
            out.append(Field(f.GetName() or "", f.GetOffsetInBytes(), self.desc(f.GetType())))
        return out


_TYPES = _TypeCache()


# --- the Target -------------------------------------------------------------

class LldbTarget(Target):
    """A Target bound to one execution context (the one a command or a
    formatter was given: never lldb.frame, which is stale inside scripts)."""

    name = "lldb"

    def __init__(self, debugger=None, target=None, process=None, frame=None) -> None:
        self.debugger = debugger
        self.target = target if target is not None and target.IsValid() else None
        self.process = process if process is not None and process.IsValid() else None
        self.frame = frame if frame is not None and frame.IsValid() else None
        if self.process is None and self.target is not None:
            p = self.target.GetProcess()
            self.process = p if p.IsValid() else None
        if self.frame is None and self.process is not None:
            f = self.process.GetSelectedThread().GetSelectedFrame()
            self.frame = f if f.IsValid() else None
        self._go = None

    @classmethod
    def from_exe_ctx(cls, debugger, exe_ctx) -> "LldbTarget":
        target = exe_ctx.GetTarget() if exe_ctx is not None else None
        if target is None or not target.IsValid():
            target = debugger.GetSelectedTarget()
        return cls(debugger, target, exe_ctx.GetProcess() if exe_ctx else None,
                   exe_ctx.GetFrame() if exe_ctx else None)

    @classmethod
    def from_value(cls, valobj: "lldb.SBValue") -> "LldbTarget":
        t = valobj.GetTarget()
        return cls(t.GetDebugger() if t.IsValid() else None, t, valobj.GetProcess(), valobj.GetFrame())

    # process state
    def is_running(self) -> bool:
        if self.process is None:
            return False
        return self.process.GetState() in (lldb.eStateStopped, lldb.eStateCrashed,
                                           lldb.eStateSuspended)

    def _require_running(self) -> None:
        if not self.is_running():
            raise NotRunningError()

    # memory
    def read_memory(self, addr: int, size: int) -> bytes:
        if size <= 0:
            return b""
        self._require_running()
        if addr < 0 or addr + size > 1 << 64:
            raise MemoryReadError(addr % (1 << 64), size, "address out of range")
        err = lldb.SBError()
        data = self.process.ReadMemory(addr, size, err)
        if not err.Success() or data is None or len(data) != size:
            raise MemoryReadError(addr, size, _one_line(err.GetCString() or "unreadable"))
        return bytes(data)

    # expressions
    def _go_program(self):
        if self._go is None:
            self._go = _go_program_for(self.target, self.frame)
        return self._go or None

    def evaluate(self, expr: str) -> Value:
        self._require_running()
        if self.frame is None:
            raise GomapError("no frame is selected")
        expr = expr.strip()
        if not expr:
            raise GomapError("an expression is needed")
        go = self._go_program()
        if go is not None and re.fullmatch(r"[A-Za-z_][\w.]*", expr):
            return self._go_locate(go, expr)
        v = self.frame.GetValueForVariablePath(expr)
        if not (v.IsValid() and v.GetError().Success()):
            v = self.target.FindFirstGlobalVariable(expr) if re.fullmatch(r"[\w:]+", expr) else v
        if not (v.IsValid() and v.GetError().Success()):
            v = self._expression(expr)
        return self.to_value(v)

    def _expression(self, expr: str) -> "lldb.SBValue":
        opts = lldb.SBExpressionOptions()
        opts.SetAllowJIT(False)          # the IR interpreter cannot call functions
        opts.SetTryAllThreads(False)
        opts.SetStopOthers(True)
        opts.SetIgnoreBreakpoints(True)
        opts.SetUnwindOnError(True)
        opts.SetSuppressPersistentResult(True)
        opts.SetTimeoutInMicroSeconds(5_000_000)
        v = self.frame.EvaluateExpression(expr, opts)
        err = v.GetError()
        if not v.IsValid() or not err.Success():
            msg = _one_line(err.GetCString() or "cannot evaluate")
            if "Interpreter doesn't handle" in msg or "without a running target" in msg:
                msg = (f"cannot evaluate {expr!r} without running code in the program "
                       "(gomap never calls functions): use a variable, member or address")
            elif re.search(r"use of undeclared identifier '([^']+)'", msg):
                ident = re.search(r"use of undeclared identifier '([^']+)'", msg).group(1)
                msg = f"no variable named {ident!r} in this frame"
            msg = re.sub(r"^error: ", "", msg)
            raise GomapError(msg)
        return v

    def to_value(self, v: "lldb.SBValue") -> Value:
        v = v.GetNonSyntheticValue()
        t = v.GetType()
        if t.IsReferenceType():
            v = v.Dereference()
            t = v.GetType()
        desc = _TYPES.desc(t)
        size = t.GetByteSize()
        addr = None
        vt = v.GetValueType()
        # An expression's scalar result (`$rax`, `p + 8`) lives in a buffer LLDB
        # allocated: its address means nothing to the user, only its bytes do.
        # A struct result (`*m.h`) keeps the address of the object it names.
        scalar = not (t.GetTypeClass() & (lldb.eTypeClassStruct | lldb.eTypeClassClass |
                                          lldb.eTypeClassUnion | lldb.eTypeClassArray))
        if vt != lldb.eValueTypeRegister and not (vt == lldb.eValueTypeConstResult and scalar):
            a = v.GetLoadAddress()
            if a != _INVALID:
                addr = a
        data = b""
        if addr is not None and size:
            try:
                data = self.read_memory(addr, size)
            except MemoryReadError:
                addr = None
        if not data:
            err = lldb.SBError()
            sbdata = v.GetData()
            raw = sbdata.ReadRawData(err, 0, sbdata.GetByteSize()) if sbdata.GetByteSize() else None
            if not err.Success() or raw is None:
                raise GomapError(f"cannot read the value of type {t.GetName()}: "
                                 f"{_one_line(err.GetCString() or v.GetError().GetCString())}")
            data = bytes(raw)
        return Value(desc, addr, data)

    def _go_locate(self, go, name: str) -> Value:
        try:
            # Above the innermost frame the pc is a return address: scopes are
            # looked up inside the call, as gdb does.
            outer = self.frame.GetFrameID() > 0
            return go.locate(name, self.pc(), self.register, self.read_memory, outer_frame=outer)
        except GomapError:
            raise
        except Exception as e:  # noqa: BLE001 - pyelftools errors are one line too
            if _debug():
                traceback.print_exc()
            raise GomapError(f"cannot locate {name!r} in Go's debug info: {_one_line(e)}") from None

    def symbol_address(self, name: str):
        if self.target is None:
            return None
        gv = self.target.FindFirstGlobalVariable(name)
        if gv.IsValid():
            a = gv.GetLoadAddress()
            if a != _INVALID:
                return a
        scl = self.target.FindSymbols(name)
        for i in range(scl.GetSize()):
            sym = scl.GetContextAtIndex(i).GetSymbol()
            if sym.IsValid():
                a = sym.GetStartAddress().GetLoadAddress(self.target)
                if a != _INVALID:
                    return a
        return None

    def lookup_type(self, name: str):
        if self.target is None:
            return None
        name = name.strip()
        go = self._go_program()
        if go is not None:
            try:
                t = go.lookup_type(name)
            except Exception:  # noqa: BLE001
                t = None
            if t is not None:
                return t
        ptr = 0
        while name.endswith("*"):
            name, ptr = name[:-1].rstrip(), ptr + 1
        t = self.target.FindFirstType(name)
        if not t.IsValid():
            t = self.target.FindFirstType(re.sub(r",\s*", ", ", name))
        if not t.IsValid() and self.frame is not None and re.fullmatch(r"[\w:<>, *]+", name):
            # Template types are not always indexed by name: let the IR
            # interpreter parse a null pointer cast (no code runs).
            try:
                t = self._expression(f"({name}*)0").GetType().GetPointeeType()
            except GomapError:
                return None
        if not t.IsValid():
            return None
        for _ in range(ptr):
            t = t.GetPointerType()
        return _TYPES.desc(t)

    # registers and frames
    def register(self, name: str) -> int:
        self._require_running()
        if self.frame is None:
            raise GomapError("no frame is selected")
        if name in ("pc", "rip"):
            return self.frame.GetPC()
        if name in ("sp", "rsp"):
            return self.frame.GetSP()
        if name in ("fp", "rbp") and self.frame.GetFP() != _INVALID:
            return self.frame.GetFP()
        r = self.frame.FindRegister(name)
        if not r.IsValid():
            raise GomapError(f"no register named {name!r}")
        err = lldb.SBError()
        n = r.GetValueAsUnsigned(err, 0)
        if not err.Success():
            raise GomapError(f"cannot read register {name}: {_one_line(err.GetCString())}")
        return n

    def function_name(self):
        if self.frame is None:
            return None
        name = self.frame.GetFunctionName() or None
        go = self._go_program() if name is None else None
        if go is not None:
            return go.function_at(self.pc())
        return _strip_params(name) if name else None

    def use_color(self) -> bool:
        if os.environ.get("NO_COLOR"):
            return False
        if self.debugger is not None and not self.debugger.GetUseColor():
            return False
        return os.isatty(1)


def _strip_params(name: str) -> str:
    """LLDB names a C++ function with its parameter list; gdb without. Drop it
    so both debuggers name the frame alike (`run<...>`, not `run<...>(const ...)`)."""
    if not name.endswith(")"):
        return name
    depth = 0
    for i in range(len(name) - 1, -1, -1):
        c = name[i]
        depth += c == ")"
        depth -= c == "("
        if depth == 0:
            return name[:i] if i > 0 else name
    return name


import lldb_plugin.gomap_lldb_stops as _stops; _stops.install(LldbTarget)  # noqa: E402,E702 - gomap break/watch/step (issue 5)


# --- Go binaries --------------------------------------------------------------

_GO_CACHE: dict = {}


def _go_program_for(target, frame):
    """gomapcore.godwarf.GoProgram for the frame's module when it is a Go
    binary (it has .go_buildinfo or runtime.buildVersion), else False."""
    if target is None:
        return False
    module = frame.GetModule() if frame is not None and frame.GetModule().IsValid() \
        else target.GetModuleAtIndex(0)
    if not module.IsValid():
        return False
    path = module.GetFileSpec().fullpath
    if path in _GO_CACHE:
        return _GO_CACHE[path]
    is_go = module.FindSection(".go_buildinfo").IsValid() or \
        module.FindSymbol("runtime.buildVersion").IsValid()
    prog = False
    if is_go:
        try:
            from gomapcore import godwarf
            prog = godwarf.GoProgram(path)
        except ImportError:
            prog = False
        except Exception as e:  # noqa: BLE001
            if _debug():
                traceback.print_exc()
            raise GomapError(f"cannot read Go's debug info in {path}: {_one_line(e)}") from None
    _GO_CACHE[path] = prog
    return prog


# --- commands ---------------------------------------------------------------

def _commands():
    from gomapcore import commands
    return commands


def _registry(mod) -> list:
    for attr in ("REGISTRY", "COMMANDS", "registry", "commands"):
        reg = getattr(mod, attr, None)
        if reg is None:
            continue
        if callable(reg) and not isinstance(reg, (dict, list, tuple)):
            reg = reg()
        if isinstance(reg, dict):
            return list(reg.values())
        return list(reg)
    return []


def _help(mod, name: str) -> str:
    try:
        return mod.help_text(name)
    except Exception:  # noqa: BLE001
        return f"gomap {name}"


def run_command(debugger, name: str, command: str, exe_ctx, result) -> None:
    try:
        target = LldbTarget.from_exe_ctx(debugger, exe_ctx)
        out = _commands().dispatch(target, name, command)
    except GomapError as e:
        result.SetError(_user_message(name, e))
        return
    except KeyboardInterrupt:
        result.SetError(f"gomap {name}: interrupted")
        return
    except BaseException as e:  # noqa: BLE001 - the user must never see a traceback
        if isinstance(e, SystemExit):
            result.SetError(f"gomap {name}: bad arguments (see `help gomap {name}`)")
            return
        if _debug():
            traceback.print_exc()
        result.SetError(f"gomap {name}: internal error: {type(e).__name__}: {_one_line(e)}"
                        " (set GOMAP_DEBUG=1 for the traceback)")
        return
    if out:
        result.AppendMessage(out.rstrip("\n"))
    result.SetStatus(lldb.eReturnStatusSuccessFinishResult)


class _GomapCommand:
    """Base of the generated `gomap <name>` command classes."""
    cmd_name = ""
    short_help = ""
    long_help = ""

    def __init__(self, debugger, internal_dict):
        pass

    def __call__(self, debugger, command, exe_ctx, result):
        run_command(debugger, self.cmd_name, command, exe_ctx, result)

    def get_short_help(self):
        return self.short_help

    def get_long_help(self):
        return self.long_help


def _make_command_class(name: str, summary: str, helptext: str) -> str:
    cls_name = "Gomap_" + re.sub(r"\W", "_", name)
    cls = type(cls_name, (_GomapCommand,), {
        "cmd_name": name, "short_help": summary or f"gomap {name}",
        "long_help": f"{summary}\n\n{helptext}".rstrip() if summary else helptext})
    globals()[cls_name] = cls
    return cls_name


# --- formatters ----------------------------------------------------------------

_CXX_MAP_RE = r"^gomap::Map<.+>$"


def _summarize(target: LldbTarget, value: Value, limit: int):
    mod = _commands()
    try:
        return mod.summarize(target, value, limit=limit)
    except TypeError:
        return mod.summarize(target, value)


def _max_children(valobj) -> int:
    t = valobj.GetTarget()
    if t.IsValid():
        n = t.GetMaximumNumberOfChildrenToDisplay() if hasattr(t, "GetMaximumNumberOfChildrenToDisplay") else 0
        if n:
            return n
        dbg = t.GetDebugger()
        s = lldb.SBDebugger.GetInternalVariableValue("target.max-children-count",
                                                     dbg.GetInstanceName())
        try:
            return int(s.GetStringAtIndex(0))
        except (TypeError, ValueError):
            pass
    return 256


def _describe(valobj, limit: int):
    """(summary, children) for a gomap::Map SBValue; errors become the summary."""
    raw = valobj.GetNonSyntheticValue()
    try:
        target = LldbTarget.from_value(raw)
        return _summarize(target, target.to_value(raw), limit)
    except GomapError as e:
        return f"<gomap: {_one_line(e)}>", []
    except Exception as e:  # noqa: BLE001
        if _debug():
            traceback.print_exc()
        return f"<gomap: internal error: {_one_line(e)}>", []


def map_summary(valobj, internal_dict, options=None):
    # Only the type and length: the entries are the children just below, and
    # an argument in a backtrace line must stay one short line.
    summary, children = _describe(valobj, 1)
    return short_summary(summary, len(children))


class MapSynthetic:
    """Children `[key]` = value, within LLDB's max-children-count: typed values
    at their addresses when the value type is known to LLDB."""

    def __init__(self, valobj, internal_dict):
        self.valobj = valobj
        self.children = []

    def update(self):
        _, self.children = _describe(self.valobj, _max_children(self.valobj))
        return False

    def has_children(self):
        return True

    def num_children(self, max_children=None):
        return len(self.children)

    def get_child_index(self, name):
        for i, c in enumerate(self.children):
            if f"[{c[0]}]" == name:
                return i
        return -1

    def get_child_at_index(self, index):
        if not 0 <= index < len(self.children):
            return None
        ktext, vtext, _kaddr, vaddr, _kdesc, vdesc = self.children[index][:6]
        name = f"[{ktext}]"
        sbtype = getattr(vdesc, "lldb_type", None)
        if sbtype is not None and vaddr is not None and not _needs_text(vdesc):
            return self.valobj.CreateValueFromAddress(name, vaddr, sbtype)
        # No LLDB type to show the value with (or it is a Go string/struct that
        # LLDB would show as raw fields): show gomapcore's text as a char array.
        data = lldb.SBData.CreateDataFromCString(lldb.eByteOrderLittle, 8, vtext)
        chars = self.valobj.GetTarget().GetBasicType(lldb.eBasicTypeChar).GetArrayType(len(vtext) + 1)
        return self.valobj.CreateValueFromData(name, data, chars)


def _needs_text(desc: TypeDesc) -> bool:
    d = desc.strip_typedefs()
    return d.kind in (Kind.STRUCT, Kind.INTERFACE, Kind.POINTER) or d.kind is Kind.UNKNOWN


# --- loading --------------------------------------------------------------------

def _handle(debugger, line: str) -> bool:
    res = lldb.SBCommandReturnObject()
    debugger.GetCommandInterpreter().HandleCommand(line, res)
    return res.Succeeded()


def __lldb_init_module(debugger, internal_dict):
    try:
        mod = _commands()
        # Fails harmlessly when the container exists (a second import).
        _handle(debugger, 'command container add -h "Look inside Go maps '
                          '(gomap::Map<K,V> and Go\'s map[K]V)." gomap')
        names = []
        for cmd in _registry(mod):
            name = cmd.name
            cls_name = _make_command_class(name, (getattr(cmd, "summary", "") or "").strip(),
                                           _help(mod, name))
            if not _handle(debugger, f"command script add -o -c {_MODULE}.{cls_name} gomap {name}"):
                raise GomapError(f"cannot register `gomap {name}`")
            names.append(name)
        _handle(debugger, f"type summary add -e -w gomap -x {shlex.quote(_CXX_MAP_RE)} "
                          f"-F {_MODULE}.map_summary")
        _handle(debugger, f"type synthetic add -w gomap -x {shlex.quote(_CXX_MAP_RE)} "
                          f"-l {_MODULE}.MapSynthetic")
        _handle(debugger, "type category enable gomap")
    except Exception as e:  # noqa: BLE001 - importing must never dump a traceback
        if _debug():
            traceback.print_exc()
        print(f"gomap: failed to load: {_one_line(e)}")
        return
    print(f"gomap: loaded for lldb: gomap {', '.join(names) or '(no commands)'}")
