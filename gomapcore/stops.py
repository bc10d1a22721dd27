"""Stops: the debugger-neutral half of breakpoints, watchpoints and stepping.

target.py is the door for *reading* a stopped program; this module is the door
for *stopping* it. An adapter's Target subclass mixes in StopControl and
implements its few primitives over gdb.Breakpoint or SBBreakpoint/SBWatchpoint;
everything that decides whether a stop is interesting (breaks.py, follow.py)
is plain Python over a Target and is unit-tested without a debugger.

Design points that hold in both debuggers:

- A stop is decided by a Python callback, `on_hit(target) -> Optional[str]`:
  return None and the program continues without a visible stop (gdb: stop()
  returns False; lldb: the callback returns False), return a line and the
  program stops with that line printed. Deciding in the callback is what makes
  a conditional break cheap: no command round-trip per hit.
- Inside a stop callback the debuggers forbid creating or deleting
  breakpoints (gdb documents it for Breakpoint.stop; lldb runs callbacks
  while it is still deciding the stop). Work that must change breakpoints (re-arming a key watch after
  evacuation moved the key) is queued with `after_stop(fn)` and run by the
  adapter once the stop is final (gdb: events.stop; lldb: a stop hook).
- Every breakpoint or watchpoint the plugin sets is an ordinary debugger
  breakpoint: `info breakpoints` / `breakpoint list` / `watchpoint list` show
  it and `delete N` removes it. The plugin remembers which debugger numbers
  belong to which `gomap break` number and forgets numbers that the user
  deleted behind its back (`stop_exists`).
- Breakpoints are set at a function's first instruction (not after the
  prologue): that is where the argument registers still hold the arguments,
  in both the engine's SysV calls and Go's register ABI.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from gomapcore.target import GomapError

# x86-64 has four debug address registers (DR0-DR3); each watches 1, 2, 4 or 8
# aligned bytes. Both gdb and lldb-16 fail, or silently fall back to slow
# single-stepping (gdb's software watchpoints), when asked for more.
HW_WATCH_SLOTS = 4
HW_WATCH_SIZES = (1, 2, 4, 8)

# A stop callback: return None to continue silently, or the line to print and stop.
OnHit = Callable[["StopControl"], Optional[str]]


@dataclass
class StopHandle:
    """One debugger breakpoint or watchpoint set by the plugin."""
    number: int               # the debugger's own number (`delete N` works on it)
    kind: str                 # "break" or "watch"
    where: str                # symbol, or "0x... (8 bytes)" for a watchpoint
    address: int = 0


@dataclass
class GomapStop:
    """A `gomap break` or `gomap watch`: one user-level stop made of one or more
    debugger stops (one per entry point, or one per watched field)."""
    number: int
    kind: str                 # "break" or "watch"
    description: str          # what the user asked, in words
    handles: list[StopHandle] = field(default_factory=list)
    hits: int = 0             # stops shown to the user
    declined: int = 0         # hits the condition turned into a silent continue
    state: object = None      # per-stop state (e.g. a KeyWatch)


class StopRegistry:
    """The plugin's `gomap break`/`gomap watch` numbers, per debugger session."""

    def __init__(self) -> None:
        self.stops: dict[int, GomapStop] = {}
        self._next = 1

    def add(self, kind: str, description: str) -> GomapStop:
        s = GomapStop(self._next, kind, description)
        self.stops[s.number] = s
        self._next += 1
        return s

    def get(self, number: int) -> GomapStop:
        if number not in self.stops:
            raise GomapError(f"no gomap break/watch number {number} (see `gomap break list`)")
        return self.stops[number]

    def remove(self, number: int) -> GomapStop:
        return self.stops.pop(self.get(number).number)

    def watch_slots_used(self) -> int:
        return sum(1 for s in self.stops.values() for h in s.handles if h.kind == "watch")


class StopControl:
    """Mixed into an adapter's Target. Primitives raise GomapError with one line."""

    registry: StopRegistry

    def stop_registry(self) -> StopRegistry:
        reg = getattr(self, "_gomap_stop_registry", None)
        if reg is None:
            reg = StopRegistry()
            # Adapters may create a new Target per command; the registry must
            # survive that, so it lives on the class (one debugger per process).
            type(self)._gomap_stop_registry = reg
        return reg

    # --- primitives an adapter implements ---------------------------------
    def set_breakpoint(self, address: int, on_hit: OnHit, label: str) -> StopHandle:
        """A breakpoint at exactly `address` (a function's first instruction)."""
        raise NotImplementedError

    def set_watchpoint(self, address: int, size: int, on_hit: OnHit, label: str) -> StopHandle:
        """A hardware write watchpoint on `size` (1, 2, 4, 8) aligned bytes."""
        raise NotImplementedError

    def delete_stop(self, handle: StopHandle) -> None:
        """Remove a breakpoint/watchpoint; silently fine if the user already did."""
        raise NotImplementedError

    def stop_exists(self, handle: StopHandle) -> bool:
        raise NotImplementedError

    def after_stop(self, fn: Callable[["StopControl"], Optional[str]]) -> None:
        """Run fn(stop_control) once the current stop is final (breakpoints may
        change then); a returned string is printed."""
        raise NotImplementedError

    def function_address(self, name: str) -> Optional[int]:
        """Run-time address of the first instruction of function `name`
        ("gomap::hashGrow", "runtime.hashGrow"), or None."""
        return self.symbol_address(name)  # type: ignore[attr-defined]

    def watchpoints_in_use(self) -> int:
        """Debug registers taken by any watchpoint (the user's own included)."""
        return self.stop_registry().watch_slots_used()

    def emit(self, text: str) -> None:
        """Print a line to the user from inside a stop callback."""
        raise NotImplementedError

    def caller_function_name(self) -> Optional[str]:
        """Function name of the selected frame's caller (frame 1), if known."""
        raise NotImplementedError

    def frame_locals(self, names: Sequence[str]) -> dict[str, Optional[int]]:
        """Integer (or pointer) value of each named local/argument in the
        selected frame, None where it is not available."""
        raise NotImplementedError

    def step_line(self) -> None:
        """Step over one source line in the selected thread (`next`)."""
        raise NotImplementedError

    def step_into(self) -> None:
        """Step one source line, entering calls (`step`)."""
        raise NotImplementedError

    def finish_frame(self) -> None:
        """Run until the selected frame returns (`finish`)."""
        raise NotImplementedError


def arm(sc: "StopControl", stop: GomapStop, requests) -> None:
    """Set every (kind, address, size, on_hit, label) for one gomap stop; on the
    first failure undo the ones already set and forget the stop, so that a
    half-made watch never lingers."""
    try:
        for kind, address, size, on_hit, label in requests:
            if kind == "break":
                stop.handles.append(sc.set_breakpoint(address, on_hit, label))
            else:
                stop.handles.append(sc.set_watchpoint(address, size, on_hit, label))
    except Exception:
        for h in stop.handles:
            try:
                sc.delete_stop(h)
            except Exception:  # noqa: BLE001 - already failing; report the first error
                pass
        stop.handles.clear()
        sc.stop_registry().stops.pop(stop.number, None)
        raise


def function_address(target, name: str) -> Optional[int]:
    """function_address when the Target can stop, else its symbol_address."""
    f = getattr(target, "function_address", None)
    return f(name) if f is not None else target.symbol_address(name)


def watch_sizes(address: int, size: int) -> list[tuple[int, int]]:
    """Split [address, address+size) into aligned pieces a debug register can
    watch; fewer pieces first. A field of 1, 2, 4 or 8 aligned bytes is one piece."""
    pieces: list[tuple[int, int]] = []
    a, end = address, address + size
    while a < end:
        for s in (8, 4, 2, 1):
            if a % s == 0 and a + s <= end:
                pieces.append((a, s))
                a += s
                break
    return pieces
