"""Loading the plugin imports only what registering the commands and printing
their help need; each command imports its own modules when it runs.

Every debugger session that loads the plugin (a ~/.gdbinit or ~/.lldbinit line,
gdb's auto-load from .debug_gdb_scripts) pays for what gomapcore.commands
imports, whether or not it ever says `gomap`. Importing all of gomapcore there
cost 50-70 ms per session; these tests fail if a top-level import of a command's
module (render, snapshot, layout, heapview, breaks, ...) comes back.

Each check runs in a fresh interpreter: in this one, other tests have long
imported everything.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# What loading may import from gomapcore: the registry and the Target contract,
# plus (adapters only) the one-line error helpers and the stop bookkeeping that
# the adapters mix into their Target at load.
REGISTRY_MODULES = {"gomapcore", "gomapcore.commands", "gomapcore.target"}
ADAPTER_MODULES = REGISTRY_MODULES | {"gomapcore.guard", "gomapcore.stops"}

# The modules that do the work; named so a failure says what came back.
HEAVY = ("gomapcore.render", "gomapcore.snapshot", "gomapcore.layout", "gomapcore.heapview",
         "gomapcore.breaks", "gomapcore.follow", "gomapcore.regs", "gomapcore.stepping",
         "gomapcore.columns", "gomapcore.values", "gomapcore.grow", "gomapcore.keys",
         "gomapcore.godwarf")


def _fresh(code: str) -> dict:
    """Run code in a new interpreter (-S -E: no site or environment imports to
    hide behind) and return the JSON it prints last."""
    out = subprocess.run([sys.executable, "-S", "-E", "-c", textwrap.dedent(code)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _check(loaded: list[str], allowed: set[str]) -> None:
    gomap = {m for m in loaded if m == "gomapcore" or m.startswith("gomapcore.")}
    heavy = sorted(m for m in HEAVY if m in gomap)
    assert not heavy, f"loading imported {heavy}: import them inside the command that needs them"
    assert gomap <= allowed, f"loading imported {sorted(gomap - allowed)} as well"


def test_registering_and_help_import_only_the_registry():
    got = _fresh("""
        import json, sys
        sys.path.insert(0, ".")
        from gomapcore import commands
        # What an adapter does at load (registrations) and what `help gomap NAME`,
        # `gomap NAME -h` and a usage error do.
        regs = commands.registrations()
        texts = [commands.help_text(None)] + [commands.help_text(n) for n, _, _ in regs]
        texts.append(commands.dispatch(None, "print", "-h"))
        texts.append(commands.dispatch(None, "heap", "inuse -h"))
        try:
            commands.dispatch(None, "print", "--bogus")
        except commands.GomapError as e:
            texts.append(str(e))
        print(json.dumps({"modules": sorted(sys.modules), "names": [r[0] for r in regs],
                          "chars": sum(map(len, texts))}))
    """)
    assert got["names"] == ["print", "buckets", "dot", "heap", "break", "watch", "regs",
                            "step", "frame"]
    assert got["chars"] > 1000
    _check(got["modules"], REGISTRY_MODULES)


def test_a_command_imports_its_modules_when_it_runs():
    """The other side: running `gomap print` does import what it needs (so the
    check above is not passing because nothing is ever imported)."""
    got = _fresh("""
        import json, sys
        sys.path.insert(0, ".")
        from gomapcore import commands
        from gomapcore.target import Target

        class Stopped(Target):   # no process: the command gets as far as asking
            def is_running(self):
                return False

        before = sorted(sys.modules)
        try:
            commands.dispatch(Stopped(), "print", "m")
        except commands.GomapError as e:
            err = str(e)
        print(json.dumps({"before": before, "after": sorted(sys.modules), "err": err}))
    """)
    assert "gomapcore.render" not in got["before"]
    assert {"gomapcore.render", "gomapcore.layout", "gomapcore.snapshot"} <= set(got["after"])
    assert got["err"] == "the program is not running (start it, or attach, first)"


def test_help_defaults_copied_into_commands_match_their_modules():
    # commands.py keeps these to build its parsers without importing the modules.
    from gomapcore import commands, heapview, render, stepping
    assert commands.DEFAULT_ENTRIES == render.DEFAULT_ENTRIES
    assert tuple(commands.HEAP_BY_CHOICES) == tuple(heapview.BY_CHOICES)
    assert commands.STEP_MAX_LINES == stepping.MAX_LINES
    assert f"(default {render.DEFAULT_ENTRIES})" in commands.help_text("print")


# --- the adapters, loaded by the real debuggers (skipped where one is missing) ---------

_PROBE = "import json, sys; print('@@' + json.dumps(sorted(sys.modules)))"


def _modules_from(output: str) -> list[str]:
    for line in output.splitlines():
        if line.startswith("@@"):
            return json.loads(line[2:])
    raise AssertionError(f"no module list in the debugger's output:\n{output}")


@pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed")
def test_gdb_plugin_load_imports_only_the_registry():
    out = subprocess.run(["gdb", "-nx", "-batch", "-ex", "source gdb_scripts/gomap_gdb.py",
                          "-ex", "help gomap print", "-ex", f"python {_PROBE}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "gomap: loaded for gdb" in out.stdout, out.stdout + out.stderr
    assert "usage: gomap print" in out.stdout
    _check(_modules_from(out.stdout), ADAPTER_MODULES)


@pytest.mark.skipif(shutil.which("lldb-16") is None, reason="lldb-16 is not installed")
def test_lldb_plugin_load_imports_only_the_registry():
    out = subprocess.run(["lldb-16", "-b", "-o", "command script import lldb_plugin/gomap_lldb.py",
                          "-o", "help gomap print", "-o", f"script {_PROBE}"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "gomap: loaded for lldb" in out.stdout, out.stdout + out.stderr
    assert "usage: gomap print" in out.stdout
    _check(_modules_from(out.stdout), ADAPTER_MODULES)
