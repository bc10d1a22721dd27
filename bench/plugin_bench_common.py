"""bench/plugin_bench.py's driver side, shared by its map and break parts: where
things are, the debug sample, a timed subprocess, the machine line."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "RESULTS-plugins.md"
BENCH = REPO / "bench"
DNAME = {"gdb": "gdb 13", "lldb": "lldb-16"}

sys.path.insert(0, str(REPO / "tests" / "integration"))


def _dbg():
    import dbg
    return dbg


def sample() -> Path:
    p = _dbg().SAMPLES / "grow"
    if not p.exists():
        print("building the debug samples (scripts/build.sh debug) ...", flush=True)
        subprocess.run(["bash", str(REPO / "scripts" / "build.sh"), "debug"], check=True,
                       stdout=subprocess.DEVNULL)
    return p


def _in_debugger(debugger: str, code: str) -> str:
    return ("python " if debugger == "gdb" else "script ") + code


def _timed_run(argv: list[str], env=None) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, env=env, timeout=1800)
    t = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{argv[0]} failed:\n{p.stdout.decode(errors='replace')[-2000:]}")
    return t


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return f"{platform.node()}, {os.cpu_count()} cores, {cpu or platform.machine()}, load {load:.1f}"


def _k(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"
