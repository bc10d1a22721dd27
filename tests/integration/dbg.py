"""Run real gdb and real lldb-16 in batch mode, one command list, and split the
output per command.

Each command is preceded by a marker line the debugger itself prints (gdb:
`echo`, lldb: `script print`), so a test can look at what one command said,
errors included (stderr is merged into stdout, both debuggers flush per line).

lldb's `-b` stops at the first failing command; the commands are therefore run
through `command source -e false FILE`, which keeps going, so a test can check
that the debugger still works after a bad input, as a person at the prompt would.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

REPO = Path(__file__).resolve().parents[2]
GDB_PLUGIN = REPO / "gdb_scripts" / "gomap_gdb.py"
LLDB_PLUGIN = REPO / "lldb_plugin" / "gomap_lldb.py"
SAMPLES = Path(os.environ.get("GOMAP_SAMPLES_DIR", REPO / "build" / "debug" / "samples"))
GO_PROGRAMS = Path(os.environ.get("GOMAP_GO_DIR", REPO / "build" / "go"))
LLDB = os.environ.get("GOMAP_LLDB", "lldb-16")
GDB = os.environ.get("GOMAP_GDB", "gdb")
DEBUGGERS = ("gdb", "lldb")

_MARK = "@@gomap-step {}@@"
_MARK_RE = re.compile(r"^@@gomap-step (\d+)@@$")


def have(debugger: str) -> bool:
    return shutil.which(GDB if debugger == "gdb" else LLDB) is not None


@dataclass
class Run:
    debugger: str
    commands: list[str]
    outputs: list[str]     # what each command printed (markers removed)
    preamble: str          # what was printed before the first command
    raw: str
    returncode: int

    def out(self, command_prefix: str, nth: int = 0) -> str:
        """Output of the nth command equal to command_prefix, or if there is
        none, of the nth command that starts with it."""
        pairs = list(zip(self.commands, self.outputs))
        hits = [o for c, o in pairs if c == command_prefix] or \
            [o for c, o in pairs if c.startswith(command_prefix)]
        if len(hits) <= nth:
            raise AssertionError(f"{self.debugger}: no output for {command_prefix!r}\n{self.raw}")
        return hits[nth]

    def json(self, command_prefix: str, nth: int = 0):
        text = self.out(command_prefix, nth)
        start = min([i for i in (text.find("{"), text.find("[")) if i >= 0], default=-1)
        if start < 0:
            raise AssertionError(f"{self.debugger}: no JSON from {command_prefix!r}:\n{text}")
        return json.loads(text[start:])


def _gdb_argv(binary: Path, args: Sequence[str], commands: list[str], load: str,
              init: Sequence[str] = ()) -> list[str]:
    argv = [GDB, "-nx", "-batch", "-iex", "set pagination off", "-iex", "set width 0",
            "-iex", "set confirm off"]
    for c in init:
        argv += ["-iex", c]
    if load == "autoload":
        argv += ["-iex", f"add-auto-load-safe-path {REPO}"]
    # Otherwise gdb declines the samples' .debug_gdb_scripts (one warning) but
    # still auto-loads what gdb_init puts on the safe path (Go's runtime-gdb.py).
    if load == "source":
        argv += ["-ex", f"source {GDB_PLUGIN}"]
    for i, c in enumerate(commands):
        argv += ["-ex", f"echo {_MARK.format(i)}\\n", "-ex", c]
    argv += ["-ex", f"echo {_MARK.format(len(commands))}\\n"]
    return argv + ["--args", str(binary), *args]


def _lldb_script(commands: list[str], load: str) -> str:
    lines = []
    if load == "source":
        lines.append(f"command script import {LLDB_PLUGIN}")
    for i, c in enumerate(commands):
        lines.append(f"script print('{_MARK.format(i)}')")
        lines.append(c)
    lines.append(f"script print('{_MARK.format(len(commands))}')")
    return "\n".join(lines) + "\n"


def run(debugger: str, binary: Path, args: Sequence[str], commands: list[str], *,
        load: str = "source", timeout: float = 120, env: Optional[dict] = None,
        gdb_init: Sequence[str] = ()) -> Run:
    """Run `commands` in `debugger` on `binary args`; load is "source" (load the
    plugin explicitly), "autoload" (gdb: let .debug_gdb_scripts do it) or "none"."""
    e = dict(os.environ)
    e.setdefault("LLDB_DEBUGSERVER_PATH", "/usr/lib/llvm-16/bin/lldb-server")
    e.pop("GOMAP_DEBUG", None)
    e["NO_COLOR"] = "1"
    e.update(env or {})
    with tempfile.TemporaryDirectory(prefix="gomap-it-") as tmp:
        if debugger == "gdb":
            argv = _gdb_argv(binary, args, commands, load, gdb_init)
        else:
            script = Path(tmp) / "cmds.lldb"
            script.write_text(_lldb_script(commands, load))
            argv = [LLDB, "--no-lldbinit", "-b", "-o", f"command source -e false {script}",
                    "--", str(binary), *args]
        try:
            p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, env=e, timeout=timeout, cwd=tmp)
        except subprocess.TimeoutExpired as ex:
            out = (ex.stdout or b"").decode("utf-8", "replace")
            raise AssertionError(f"{debugger} did not finish in {timeout}s; output so far:\n{out}")
    raw = p.stdout.decode("utf-8", "replace")
    return _split(debugger, commands, raw, p.returncode)


# LLDB prints this when it first stops in a Go frame, asynchronously: it can land
# after any command's marker. It is LLDB's own notice, not output of a command.
_LLDB_ASYNC_NOTICES = ('warning: This version of LLDB has no plugin for the language "go".',)


def _split(debugger: str, commands: list[str], raw: str, rc: int) -> Run:
    outputs: list[list[str]] = [[] for _ in commands]
    preamble: list[str] = []
    current = -1
    for line in raw.splitlines():
        m = _MARK_RE.match(line.strip())
        if m:
            current = int(m.group(1))
            continue
        if debugger == "lldb" and line.startswith("(lldb) "):
            continue  # command echo
        if debugger == "lldb" and line.startswith(_LLDB_ASYNC_NOTICES):
            continue  # stays in `raw`
        if current < 0:
            preamble.append(line)
        elif current < len(commands):
            outputs[current].append(line)
    return Run(debugger, commands, ["\n".join(o) for o in outputs], "\n".join(preamble), raw, rc)


# --- the samples ------------------------------------------------------------------

def sample(name: str) -> Path:
    """Path of a built sample, or pytest.skip with the reason."""
    import pytest
    p = SAMPLES / name
    if not p.exists():
        pytest.skip(f"sample {name} not built ({p}); run scripts/build.sh debug")
    return p


def ground_truth(binary: Path, args: Sequence[str]) -> list[dict]:
    """The GROUND lines the sample prints with --dump (run without a debugger:
    with --seed the map's memory is the same in every run)."""
    p = subprocess.run([str(binary), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120, check=True)
    out = []
    for line in p.stdout.decode().splitlines():
        if line.startswith("GROUND "):
            out.append(json.loads(line[len("GROUND "):]))
    return out


def stop_at(debugger: str, seq: int, frame_up: bool = True) -> list[str]:
    """Commands that run the program to the seq-th checkpoint() call (1-based)
    and select the sample's frame, where the map is in scope."""
    if debugger == "gdb":
        cmds = ["break checkpoint"]
        if seq > 1:
            cmds.append(f"ignore 1 {seq - 1}")
        cmds.append("run")
    else:
        cmds = ["breakpoint set -n checkpoint"]
        if seq > 1:
            cmds.append(f"breakpoint modify -i {seq - 1} 1")
        cmds.append("process launch")
    if frame_up:
        cmds.append("up")
    return cmds


def key_place(buckets_json: dict, key) -> tuple[int, int]:
    """(bucket index, tophash) of key's one live slot in `gomap buckets --json`
    (new array, overflow chains included)."""
    found = [(b["index"], slot["tophash"])
             for b in buckets_json["new"]["buckets"]
             for node in [b] + b["overflow"]
             for slot in node["slots"] if slot["state"] == "live" and slot["key"] == key]
    assert len(found) == 1, (key, found)
    return found[0]
