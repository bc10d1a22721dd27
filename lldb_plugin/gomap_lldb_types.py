"""gomap for LLDB, the debugger side: a gomapcore Target over LLDB's SB API.

Split out of gomap_lldb.py (the one entry point, which registers the commands
and formatters): this file only translates SB objects into gomapcore's
Target/TypeDesc/Value, and finds Go's debug info for a Go binary.

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
import traceback

import lldb

from gomapcore.guard import debug_enabled, one_line
from gomapcore.target import (
    Field, GomapError, Kind, MemoryReadError, Target, TypeDesc, TypeDescCache,
    Value)

_INVALID = lldb.LLDB_INVALID_ADDRESS


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


class _TypeCache(TypeDescCache):
    """SBType -> TypeDesc. Every TypeDesc keeps its SBType (lldb_type) so the
    synthetic provider can build typed children."""

    native_attr = "lldb_type"

    def key(self, t: "lldb.SBType"):
        name = t.GetName() or ""
        return (name, t.GetByteSize()) if self.shareable(name) else None

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
            raise MemoryReadError(addr, size, one_line(err.GetCString() or "unreadable"))
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
        if self._go_program() is not None:
            # LLDB has no type system for Go: in a Go frame it refuses every
            # expression. As C++ the registers, casts and arithmetic work
            # (`$rax`, `(char*)$rdx + 8`); Go names were resolved before.
            opts.SetLanguage(lldb.eLanguageTypeC_plus_plus)
        v = self.frame.EvaluateExpression(expr, opts)
        err = v.GetError()
        if not v.IsValid() or not err.Success():
            msg = one_line(err.GetCString() or "cannot evaluate")
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
                                 f"{one_line(err.GetCString() or v.GetError().GetCString())}")
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
            if debug_enabled():
                traceback.print_exc()
            raise GomapError(f"cannot locate {name!r} in Go's debug info: {one_line(e)}") from None

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
            raise GomapError(f"cannot read register {name}: {one_line(err.GetCString())}")
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
            if debug_enabled():
                traceback.print_exc()
            raise GomapError(f"cannot read Go's debug info in {path}: {one_line(e)}") from None
    _GO_CACHE[path] = prog
    return prog


# --- Go's preemption signal -----------------------------------------------------

# Go's scheduler preempts goroutines with SIGURG (runtime.preemptM) many times a
# second. LLDB stops on it by default, in runtime code, where nothing is to be
# seen: on a Go target it is passed to the program without a stop or a notice,
# as gdb does. Only on Go targets: a C++ program that uses SIGURG keeps LLDB's
# default.
_SIGURG_ARGS = "-n false -p true -s false"
_NOT_GO: set = set()


def is_go_target(target) -> bool:
    """A Go executable: its main module has .go_buildinfo (or runtime.buildVersion)."""
    if target is None or not target.IsValid() or target.GetNumModules() == 0:
        return False
    module = target.GetModuleAtIndex(0)
    path = module.GetFileSpec().fullpath
    if path in _NOT_GO:
        return False
    if module.FindSection(".go_buildinfo").IsValid() or \
            module.FindSymbol("runtime.buildVersion").IsValid():
        return True
    _NOT_GO.add(path)
    return False


def _signal_number(process, name: str):
    if process is None or not process.IsValid():
        return None
    signals = process.GetUnixSignals()
    n = signals.GetSignalNumberFromName(name) if signals.IsValid() else 0
    return n or None


def let_go_signals_through(debugger, target) -> bool:
    """On a Go target, `process handle SIGURG -n false -p true -s false` for
    that target: LLDB 16 keeps it at target level without a process (and
    applies it at each launch), and on the live process when there is one.
    Returns whether the target is Go. Cheap when already done."""
    if not is_go_target(target):
        return False
    process = target.GetProcess()
    n = _signal_number(process, "SIGURG")
    if n is not None and not process.GetUnixSignals().GetShouldStop(n):
        return True  # already let through (by us or by the user)
    dbg = debugger if debugger is not None and debugger.IsValid() else target.GetDebugger()
    res = lldb.SBCommandReturnObject()
    dbg.GetCommandInterpreter().HandleCommand(f"process handle SIGURG {_SIGURG_ARGS}",
                                               lldb.SBExecutionContext(target), res)
    if n is not None and process.GetUnixSignals().GetShouldStop(n):
        # The command did not reach this process: set its table directly.
        signals = process.GetUnixSignals()
        signals.SetShouldStop(n, False)
        signals.SetShouldNotify(n, False)
        signals.SetShouldSuppress(n, False)
    return True


def stopped_only_by(process, name: str) -> bool:
    """Whether every thread that has a stop reason stopped for signal `name`."""
    n = _signal_number(process, name)
    if n is None:
        return False
    reasons = 0
    for thread in process:
        reason = thread.GetStopReason()
        if reason in (lldb.eStopReasonNone, lldb.eStopReasonInvalid):
            continue
        reasons += 1
        if reason != lldb.eStopReasonSignal or thread.GetStopReasonDataAtIndex(0) != n:
            return False
    return reasons > 0
