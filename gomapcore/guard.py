"""Turning any failure inside a plugin into one line for the user.

Both debugger adapters call these at their edges (a command, a pretty-printer, a
stop decision, work deferred to a stop), so a user sees the same sentence in gdb
and lldb and never a traceback; GOMAP_DEBUG=1 prints the traceback as well.
Call them from inside an `except` block (they print the active traceback).
"""
from __future__ import annotations

import os
import traceback
from typing import Callable, Optional

from .target import GomapError


def one_line(exc: object) -> str:
    """An exception's (or debugger error's) text folded onto one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


def debug_enabled() -> bool:
    return os.environ.get("GOMAP_DEBUG", "") not in ("", "0")


def _internal(exc: BaseException) -> str:
    if debug_enabled():
        traceback.print_exc()
    return f"internal error: {type(exc).__name__}: {one_line(exc)}"


def command_error(name: str, exc: BaseException) -> str:
    """The one line for an exception escaping `gomap NAME`."""
    if isinstance(exc, GomapError):
        msg = one_line(exc)
        # gomapcore's parser errors already name the command
        return msg if msg.startswith(("gomap ", "gomap:")) else f"gomap {name}: {msg}"
    if isinstance(exc, KeyboardInterrupt):
        return f"gomap {name}: interrupted"
    if isinstance(exc, SystemExit):  # argparse -h / usage errors that slipped through
        return f"gomap {name}: bad arguments (see `help gomap {name}`)"
    return f"gomap {name}: {_internal(exc)} (set GOMAP_DEBUG=1 for the traceback)"


def summary_error(exc: BaseException) -> str:
    """What a pretty-printer shows in place of a map it cannot read."""
    if isinstance(exc, GomapError):
        return f"<gomap: {one_line(exc)}>"
    return f"<gomap: {_internal(exc)}>"


def decide(on_hit: Callable, target, label: str) -> Optional[str]:
    """Run a stop decision on_hit(target) -> line to print and stop, or None to go on.
    A failure stops the program with a line saying why: a lost stop would be worse."""
    try:
        return on_hit(target)
    except GomapError as e:
        return f"gomap: {label}: {one_line(e)} (stopping)"
    except Exception as e:  # noqa: BLE001 - never a traceback, never a lost stop
        return f"gomap: {label}: {_internal(e)} (stopping)"


def after_stop(fn: Callable, target) -> Optional[str]:
    """Run work deferred to a final stop (re-arming a watch, ...): its line, if any."""
    try:
        return fn(target)
    except GomapError as e:
        return f"gomap: {one_line(e)}"
    except Exception as e:  # noqa: BLE001
        return f"gomap: {_internal(e)}"
