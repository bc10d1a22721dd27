"""LLDB half of gomapcore.stops: `gomap break`, `gomap watch` and `gomap step` in LLDB.

Mixed into gomap_lldb.LldbTarget by install(); gomap_lldb.py calls it once:

    import lldb_plugin.gomap_lldb_stops as _stops; _stops.install(LldbTarget)

Breakpoints are SBBreakpoints at a function's first instruction whose script
callback body calls gomapcore's decision and returns False to let the program
go on without a visible stop. Watchpoints are SBWatchpoints (hardware, write)
with a `watchpoint command add -s python -o "return ..."` one-liner: LLDB 16
ignores the return value of `-F` functions, but honours a returned False from
a script body. Both are ordinary LLDB breakpoints/watchpoints: `breakpoint
list`, `watchpoint list` show them and `breakpoint delete N` /
`watchpoint delete N` remove them.

Changing watchpoints from inside a stop callback is not safe (LLDB is still
deciding the stop), so after_stop() work runs from a scripted stop hook, once
the stop is final.
"""
from __future__ import annotations

import itertools
import sys
from typing import Optional

import lldb

from gomapcore import guard
from gomapcore.stops import StopControl, StopHandle
from gomapcore.target import GomapError

_MOD = __name__                     # "lldb_plugin.gomap_lldb_stops"
_CALLBACKS: dict = {}               # key -> (on_hit, label)
_KEYS = itertools.count(1)
_PENDING: list = []                 # after_stop work
_TARGET_CLS: list = []
_HOOKED: set = set()                # targets with our stop hook


def _one_line(exc) -> str:
    return guard.one_line(exc)


def _say(text: str) -> None:
    sys.stdout.write(text.rstrip("\n") + "\n")
    sys.stdout.flush()


def _qualified(name: Optional[str]) -> str:
    """'gomap::hashGrow(gomap::maptype const*, gomap::hmap*)' -> 'gomap::hashGrow'."""
    name = name or ""
    return name.split("(")[0] if not name.startswith("runtime.(") else name


def _target_for(frame):
    t = frame.GetThread().GetProcess().GetTarget()
    return _TARGET_CLS[0](t.GetDebugger(), t, t.GetProcess(), frame)


def _decide(key: int, frame) -> bool:
    entry = _CALLBACKS.get(key)
    if entry is None:
        return False          # deleted behind our back: never stop for it
    on_hit, label = entry
    line = guard.decide(on_hit, _target_for(frame), label)
    if line is None:
        return False
    _say(line)
    return True


def on_breakpoint(frame, bp_loc, key: int) -> bool:
    return _decide(key, frame)


def on_watchpoint(frame, wp, key: int) -> bool:
    return _decide(key, frame)


class AfterStop:
    """Scripted stop hook: runs queued after_stop() work once a stop is final."""

    def __init__(self, target, extra_args, internal_dict):
        self.target = target

    def handle_stop(self, exe_ctx, stream):
        while _PENDING:
            fn = _PENDING.pop(0)
            out = guard.after_stop(
                fn, _TARGET_CLS[0].from_exe_ctx(self.target.GetDebugger(), exe_ctx))
            if out:
                stream.Print(out.rstrip("\n") + "\n")
        return True


def _handle(debugger, target, line: str) -> lldb.SBCommandReturnObject:
    res = lldb.SBCommandReturnObject()
    ctx = lldb.SBExecutionContext(target)
    debugger.GetCommandInterpreter().HandleCommand(line, ctx, res)
    return res


class LldbStopControl(StopControl):
    def _sbtarget(self):
        if self.target is None:
            raise GomapError("no target: load a program first")
        return self.target

    def set_breakpoint(self, address: int, on_hit, label: str) -> StopHandle:
        t = self._sbtarget()
        bp = t.BreakpointCreateByAddress(address)
        if not bp.IsValid() or bp.GetNumLocations() == 0:
            raise GomapError(f"cannot set a breakpoint at {label} ({address:#x})")
        key = next(_KEYS)
        _CALLBACKS[key] = (on_hit, label)
        err = bp.SetScriptCallbackBody(
            f"import {_MOD} as _gomap_stops\nreturn _gomap_stops.on_breakpoint(frame, bp_loc, {key})")
        if not err.Success():
            t.BreakpointDelete(bp.GetID())
            raise GomapError(f"cannot attach the gomap callback to {label}: {err.GetCString()}")
        return StopHandle(bp.GetID(), "break", label, address)

    def set_watchpoint(self, address: int, size: int, on_hit, label: str) -> StopHandle:
        t = self._sbtarget()
        err = lldb.SBError()
        wp = t.WatchAddress(address, size, False, True, err)
        if not err.Success() or not wp.IsValid():
            raise GomapError(f"cannot set a hardware watchpoint on {label} ({size} bytes at "
                             f"{address:#x}): {err.GetCString() or 'refused'}")
        key = next(_KEYS)
        _CALLBACKS[key] = (on_hit, label)
        body = (f"return __import__('{_MOD}', fromlist=['_']).on_watchpoint(frame, wp, {key})")
        res = _handle(self.debugger or t.GetDebugger(), t,
                      f'watchpoint command add -s python -o "{body}" {wp.GetID()}')
        if not res.Succeeded():
            t.DeleteWatchpoint(wp.GetID())
            raise GomapError(f"cannot attach the gomap callback to watchpoint {wp.GetID()}: "
                             f"{_one_line(res.GetError())}")
        return StopHandle(wp.GetID(), "watch", f"{label} ({size} bytes at {address:#x})", address)

    def delete_stop(self, handle: StopHandle) -> None:
        t = self._sbtarget()
        if handle.kind == "watch":
            t.DeleteWatchpoint(handle.number)
        else:
            t.BreakpointDelete(handle.number)

    def stop_exists(self, handle: StopHandle) -> bool:
        t = self._sbtarget()
        if handle.kind == "watch":
            return t.FindWatchpointByID(handle.number).IsValid()
        return t.FindBreakpointByID(handle.number).IsValid()

    def after_stop(self, fn) -> None:
        t = self._sbtarget()
        key = t.GetProcess().GetProcessID() if t.GetProcess().IsValid() else 0
        if (id(t.GetDebugger()), key, t.GetExecutable().fullpath) not in _HOOKED:
            res = _handle(self.debugger or t.GetDebugger(), t, f"target stop-hook add -P {_MOD}.AfterStop")
            if not res.Succeeded():
                raise GomapError(f"cannot add the gomap stop hook: {_one_line(res.GetError())}")
            _HOOKED.add((id(t.GetDebugger()), key, t.GetExecutable().fullpath))
        _PENDING.append(fn)

    def function_address(self, name: str) -> Optional[int]:
        # Symbols of C++ functions are indexed by their full signature; a
        # function lookup by qualified name finds gomap::hashGrow(...) too.
        t = self._sbtarget()
        scl = t.FindFunctions(name, lldb.eFunctionNameTypeFull | lldb.eFunctionNameTypeMethod
                              | lldb.eFunctionNameTypeBase)
        for i in range(scl.GetSize()):
            ctx = scl.GetContextAtIndex(i)
            for obj in (ctx.GetFunction(), ctx.GetSymbol()):
                if obj.IsValid() and _qualified(obj.GetName()) == name:
                    a = obj.GetStartAddress().GetLoadAddress(t)
                    if a != lldb.LLDB_INVALID_ADDRESS:
                        return a
        return self.symbol_address(name)

    def emit(self, text: str) -> None:
        _say(text)

    def caller_function_name(self) -> Optional[str]:
        if self.frame is None:
            return None
        f = self.frame.GetThread().GetFrameAtIndex(self.frame.GetFrameID() + 1)
        return f.GetFunctionName() if f.IsValid() else None

    def watchpoints_in_use(self) -> int:
        t = self._sbtarget()
        return sum(1 for i in range(t.GetNumWatchpoints()) if t.GetWatchpointAtIndex(i).IsEnabled())

    def _thread(self):
        if self.frame is None:
            raise GomapError("no frame is selected")
        return self.frame.GetThread()

    def _after_step(self, thread) -> None:
        err = thread.GetStopDescription(256)
        self.process = thread.GetProcess()
        self.frame = thread.GetSelectedFrame()
        if not self.frame.IsValid():
            raise GomapError(f"the program stopped: {err}")

    def step_line(self) -> None:
        th = self._thread()
        th.StepOver()
        self._after_step(th)

    def step_into(self) -> None:
        th = self._thread()
        th.StepInto()
        self._after_step(th)

    def finish_frame(self) -> None:
        th = self._thread()
        th.StepOut()
        self._after_step(th)


def install(target_cls: type) -> None:
    """Mix LldbStopControl into the adapter's Target class (idempotent), and make
    this module importable by name from LLDB's script interpreter (callbacks and
    the stop hook are looked up there)."""
    if not issubclass(target_cls, LldbStopControl):
        target_cls.__bases__ = (LldbStopControl,) + tuple(
            b for b in target_cls.__bases__ if b is not LldbStopControl)
    _TARGET_CLS[:] = [target_cls]
    dbg = lldb.debugger if getattr(lldb, "debugger", None) is not None else None
    if dbg is not None and dbg.IsValid():
        res = lldb.SBCommandReturnObject()
        dbg.GetCommandInterpreter().HandleCommand(f"script import {_MOD}", res)
