"""gomap for LLDB: the `gomap` commands, and a summary + synthetic children
for gomap::Map<K,V>.

Load it with `command script import lldb_plugin/gomap_lldb.py` (see
lldb_plugin/README.md for a ~/.lldbinit line): this file is the one entry
point. Importing it again is harmless.

Thin on purpose: commands live in gomapcore.commands; the Target over LLDB's SB
API is in gomap_lldb_types.py; this file registers the commands and the
formatters and turns every failure into one line (GOMAP_DEBUG=1 shows the
traceback).
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

from gomapcore.target import GomapError, Kind, TypeDesc, Value  # noqa: E402
from gomapcore.guard import (  # noqa: E402
    command_error, debug_enabled as _debug, one_line as _one_line, summary_error)
from lldb_plugin.gomap_lldb_types import (  # noqa: E402
    LldbTarget, let_go_signals_through, stopped_only_by)

_MODULE = __name__  # what `command script add -c` must name


import lldb_plugin.gomap_lldb_stops as _stops; _stops.install(LldbTarget)  # noqa: E402,E702 - gomap break/watch/step (issue 5)


# --- commands ---------------------------------------------------------------

def _commands():
    from gomapcore import commands
    return commands


def run_command(debugger, name: str, command: str, exe_ctx, result) -> None:
    try:
        target = LldbTarget.from_exe_ctx(debugger, exe_ctx)
        if target.target is not None:
            let_go_signals_through(debugger, target.target)
        out = _commands().dispatch(target, name, command)
    except BaseException as e:  # noqa: BLE001 - the user must never see a traceback
        result.SetError(command_error(name, e))
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
    return _commands().summarize(target, value, limit=limit)


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
    """(one line, children) for a gomap::Map SBValue: the line is `map[K]V
    len: N` (or `nil`); an error becomes the line."""
    raw = valobj.GetNonSyntheticValue()
    try:
        target = LldbTarget.from_value(raw)
        summary = _summarize(target, target.to_value(raw), limit)
        return summary.short, summary.children
    except Exception as e:  # noqa: BLE001 - shown in place of the map
        return summary_error(e), []


def map_summary(valobj, internal_dict, options=None):
    # Only the type and length: the entries are the children just below, and
    # an argument in a backtrace line must stay one short line.
    return _describe(valobj, 1)[0]


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


# --- Go's SIGURG ------------------------------------------------------------------

class GoSignals:
    """Stop hook that lets Go's preemption signal through on a Go target.

    Added to LLDB's dummy target when the plugin is loaded, so that every
    target created afterwards gets a copy (a ~/.lldbinit import comes before
    `lldb ./prog` creates its target). At the first stop of a Go process it
    sets `process handle SIGURG -n false -p true -s false` for that target;
    when that stop was SIGURG itself, the process goes on as if it had not
    stopped (returning False resumes it)."""

    def __init__(self, target, extra_args, internal_dict):
        self.target = target

    def handle_stop(self, exe_ctx, stream):
        try:
            target = exe_ctx.GetTarget()
            if not let_go_signals_through(target.GetDebugger(), target):
                return True
            return not stopped_only_by(exe_ctx.GetProcess(), "SIGURG")
        except Exception:  # noqa: BLE001 - a stop hook must never break a stop
            if _debug():
                traceback.print_exc()
            return True


def _install_signal_hook(debugger) -> None:
    """Go targets that exist now are set directly; later ones get the stop hook
    copied from the dummy target (once per debugger, across re-imports)."""
    for i in range(debugger.GetNumTargets()):
        let_go_signals_through(debugger, debugger.GetTargetAtIndex(i))
    done = getattr(lldb, "_gomap_signal_hook", None)
    if done is None:
        done = set()
        lldb._gomap_signal_hook = done  # type: ignore[attr-defined]
    if debugger.GetID() in done:
        return
    dummy = debugger.GetDummyTarget()
    if not dummy.IsValid():
        return
    res = lldb.SBCommandReturnObject()
    debugger.GetCommandInterpreter().HandleCommand(
        f"target stop-hook add -P {_MODULE}.GoSignals", lldb.SBExecutionContext(dummy), res)
    if res.Succeeded():
        done.add(debugger.GetID())


# --- loading --------------------------------------------------------------------

def _handle(debugger, line: str) -> bool:
    res = lldb.SBCommandReturnObject()
    debugger.GetCommandInterpreter().HandleCommand(line, res)
    return res.Succeeded()


def __lldb_init_module(debugger, internal_dict):
    try:
        # Fails harmlessly when the container exists (a second import).
        _handle(debugger, 'command container add -h "Look inside Go maps '
                          '(gomap::Map<K,V> and Go\'s map[K]V)." gomap')
        names = []
        for name, summary, helptext in _commands().registrations():
            cls_name = _make_command_class(name, summary, helptext)
            if not _handle(debugger, f"command script add -o -c {_MODULE}.{cls_name} gomap {name}"):
                raise GomapError(f"cannot register `gomap {name}`")
            names.append(name)
        _handle(debugger, f"type summary add -e -w gomap -x {shlex.quote(_CXX_MAP_RE)} "
                          f"-F {_MODULE}.map_summary")
        _handle(debugger, f"type synthetic add -w gomap -x {shlex.quote(_CXX_MAP_RE)} "
                          f"-l {_MODULE}.MapSynthetic")
        _handle(debugger, "type category enable gomap")
        _install_signal_hook(debugger)
    except Exception as e:  # noqa: BLE001 - importing must never dump a traceback
        if _debug():
            traceback.print_exc()
        print(f"gomap: failed to load: {_one_line(e)}")
        return
    print(f"gomap: loaded for lldb: gomap {', '.join(names) or '(no commands)'}")
