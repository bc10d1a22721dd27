"""GDB half of gomapcore.stops: `gomap break`, `gomap watch` and `gomap step` in GDB.

Mixed into gomap_gdb.GdbTarget by install(); gomap_gdb.py calls it once:

    import gdb_scripts.gomap_gdb_stops as _stops; _stops.install(GdbTarget)

Breakpoints are gdb.Breakpoint subclasses whose stop() runs gomapcore's
decision: returning False lets the program go on without a visible stop, which
is what keeps `gomap break assign --grow` cheap. (GDB's hit_count does not
count the hits stop() declined: `gomap break list` keeps its own counts.)
Watchpoints are hardware write watchpoints on `*(uintN_t *)ADDR`. They are
ordinary GDB breakpoints: `info breakpoints` lists them, `delete N` removes them.

GDB forbids changing breakpoints inside stop(); work queued with after_stop()
runs from the `stop` event, when the stop is final.
"""
from __future__ import annotations

from typing import Optional

import gdb

from gomapcore import guard
from gomapcore.stops import StopControl, StopHandle
from gomapcore.target import GomapError, Target

_C_TYPES = {1: "unsigned char", 2: "unsigned short", 4: "unsigned int", 8: "unsigned long"}


def _one_line(exc: BaseException) -> str:
    return guard.one_line(exc)


_pending: list = []          # after_stop work: run when the stop is final
_target_obj: list = []       # one GdbTarget instance for callbacks


def _target() -> Target:
    return _target_obj[0]


def _decide(on_hit, label: str) -> bool:
    """Run a gomapcore decision inside stop(): True = stop (its line printed)."""
    line = guard.decide(on_hit, _target(), label)
    if line is None:
        return False
    gdb.write(line.rstrip("\n") + "\n")
    gdb.flush()
    return True


class _GomapBreakpoint(gdb.Breakpoint):
    def __init__(self, spec: str, on_hit, label: str, **kw) -> None:
        super().__init__(spec, internal=False, **kw)
        self._on_hit = on_hit
        self._label = label

    def stop(self) -> bool:
        return _decide(self._on_hit, self._label)


def _on_stop(_event) -> None:
    while _pending:
        fn = _pending.pop(0)
        out = guard.after_stop(fn, _target())
        if out:
            gdb.write(out.rstrip("\n") + "\n")


class GdbStopControl(StopControl):
    def set_breakpoint(self, address: int, on_hit, label: str) -> StopHandle:
        try:
            bp = _GomapBreakpoint(f"*{address:#x}", on_hit, label)
        except (gdb.error, RuntimeError) as e:
            raise GomapError(f"cannot set a breakpoint at {label} ({address:#x}): {_one_line(e)}") from None
        return StopHandle(bp.number, "break", label, address)

    def set_watchpoint(self, address: int, size: int, on_hit, label: str) -> StopHandle:
        if size not in _C_TYPES or address % size:
            raise GomapError(f"cannot watch {size} bytes at {address:#x}: not an aligned 1/2/4/8-byte word")
        # The expression is C whatever the program's language (Go's parser would
        # not take a C cast).
        lang = gdb.parameter("language")
        try:
            gdb.execute("set language c", to_string=True)
            wp = _GomapBreakpoint(f"*({_C_TYPES[size]} *) {address:#x}", on_hit, label,
                                  type=gdb.BP_WATCHPOINT, wp_class=gdb.WP_WRITE)
        except (gdb.error, RuntimeError) as e:
            raise GomapError(f"cannot set a hardware watchpoint on {label} ({address:#x}): "
                             f"{_one_line(e)}") from None
        finally:
            gdb.execute(f"set language {lang or 'auto'}", to_string=True)
        return StopHandle(wp.number, "watch", f"{label} ({size} bytes at {address:#x})", address)

    def delete_stop(self, handle: StopHandle) -> None:
        for b in gdb.breakpoints():
            if b.number == handle.number:
                b.delete()
                return

    def stop_exists(self, handle: StopHandle) -> bool:
        return any(b.number == handle.number and b.is_valid() for b in gdb.breakpoints())

    def after_stop(self, fn) -> None:
        _pending.append(fn)

    def emit(self, text: str) -> None:
        gdb.write(text.rstrip("\n") + "\n")

    def caller_function_name(self) -> Optional[str]:
        try:
            f = gdb.selected_frame().older()
            return f.name() if f is not None else None
        except gdb.error:
            return None

    def watchpoints_in_use(self) -> int:
        n = 0
        for b in gdb.breakpoints():
            if b.type in (gdb.BP_HARDWARE_WATCHPOINT, gdb.BP_WATCHPOINT, gdb.BP_READ_WATCHPOINT,
                          gdb.BP_ACCESS_WATCHPOINT) and b.enabled:
                n += 1
        return n

    def step_line(self) -> None:
        self._exec("next")

    def step_into(self) -> None:
        self._exec("step")

    def finish_frame(self) -> None:
        self._exec("finish")

    @staticmethod
    def _exec(cmd: str) -> None:
        # `gomap step` runs many `next`s: GDB would print each stop's source
        # line; only the map event at the end is worth showing.
        try:
            old = gdb.parameter("suppress-cli-notifications")
        except (gdb.error, RuntimeError):
            old = None
        try:
            if old is False:
                gdb.execute("set suppress-cli-notifications on", to_string=True)
            gdb.execute(cmd, to_string=True)
        except gdb.error as e:
            raise GomapError(f"{cmd}: {_one_line(e)}") from None
        finally:
            if old is False:
                gdb.execute("set suppress-cli-notifications off", to_string=True)


def install(target_cls: type) -> None:
    """Mix GdbStopControl into the adapter's Target class (idempotent)."""
    if not issubclass(target_cls, GdbStopControl):
        target_cls.__bases__ = (GdbStopControl,) + tuple(
            b for b in target_cls.__bases__ if b is not GdbStopControl)
    _target_obj[:] = [target_cls()]
    if not getattr(gdb, "_gomap_stop_events", False):
        gdb.events.stop.connect(_on_stop)
        gdb._gomap_stop_events = True  # type: ignore[attr-defined]
