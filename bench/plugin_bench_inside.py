"""bench/plugin_bench.py, the part that runs INSIDE gdb or lldb-16: the timed
map commands (inside()), the session clock marks (clock()) and the timing of
gomapcore's stop decisions (time_decisions()). Imported by the debugger's
Python, so it imports nothing of the driver (no subprocess, no test helpers).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

COMMANDS = {"print": "gomap print --all m", "buckets": "gomap buckets --json m",
            "heap": "gomap heap inuse"}


class _Dbg:
    """The few debugger calls the measurement needs, gdb or lldb."""

    def __init__(self, kind: str):
        self.kind = kind
        if kind == "gdb":
            import gdb
            self.gdb = gdb
        else:
            import lldb
            self.lldb = lldb
            self.debugger = lldb.debugger
            self.process = self.debugger.GetSelectedTarget().GetProcess()

    def run(self, cmd: str) -> str:
        if self.kind == "gdb":
            return self.gdb.execute(cmd, to_string=True)
        res = self.lldb.SBCommandReturnObject()
        self.debugger.GetCommandInterpreter().HandleCommand(cmd, res)
        if not res.Succeeded():
            raise RuntimeError(f"{cmd}: {res.GetError()}")
        return res.GetOutput() or ""

    def read(self, addr: int, size: int) -> bytes:
        if self.kind == "gdb":
            return bytes(self.gdb.selected_inferior().read_memory(addr, size))
        err = self.lldb.SBError()
        data = self.process.ReadMemory(addr, size, err)
        if not err.Success():
            raise RuntimeError(f"read {size} bytes at {addr:#x}: {err}")
        return data

    def hmap(self) -> tuple[int, int, int, int, int]:
        """(hmap address, B, buckets, oldbuckets, bucketsize) of m, from the debug info."""
        if self.kind == "gdb":
            h = self.gdb.parse_and_eval("m.h").dereference()
            return (int(h.address), int(h["B"]), int(h["buckets"]), int(h["oldbuckets"]),
                    h["buckets"].type.target().sizeof)
        frame = self.process.GetSelectedThread().GetSelectedFrame()
        h = frame.GetValueForVariablePath("m.h").Dereference()
        b = h.GetChildMemberWithName("buckets")
        return (h.GetLoadAddress(), h.GetChildMemberWithName("B").GetValueAsUnsigned(),
                b.GetValueAsUnsigned(), h.GetChildMemberWithName("oldbuckets").GetValueAsUnsigned(),
                b.GetType().GetPointeeType().GetByteSize())


def _best(fn, reps: int) -> tuple[float, float, object]:
    """(min wall, its CPU, last result) over reps runs."""
    best, cpu, out = None, 0.0, None
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        t, c = time.perf_counter() - t0, time.process_time() - c0
        if best is None or t < best:
            best, cpu = t, c
    return best, cpu, out


def _patch_reads(mode: str, memo: dict) -> None:
    """Every Target's read_memory: 'record' into memo, 'replay' from it, 'off'."""
    from gomapcore.target import Target
    classes = [c for c in Target.__subclasses__() if "read_memory" in c.__dict__]
    for cls in classes:
        real = cls.__dict__.get("_bench_real_read") or cls.__dict__["read_memory"]
        cls._bench_real_read = real
        if mode == "off":
            cls.read_memory = real
        elif mode == "record":
            def rec(self, addr, size, _real=real):
                data = _real(self, addr, size)
                memo[(addr, size)] = data
                return data
            cls.read_memory = rec
        else:
            def rep(self, addr, size, _real=real):
                data = memo.get((addr, size))
                return data if data is not None else _real(self, addr, size)
            cls.read_memory = rep


def inside(kind: str, out_path: str, reps: int, outdir: str) -> None:
    """Run in the debugger, stopped in grow's frame with m in scope."""
    from gomapcore import render_buckets
    d = _Dbg(kind)
    res: dict = {}
    addr, B, buckets, oldbuckets, bs = d.hmap()
    from gomapcore.sizeclasses import bucket_array_len
    arrays = [(buckets, bucket_array_len(B, bs) * bs)]
    if oldbuckets:
        arrays.append((oldbuckets, bucket_array_len(B - 1, bs) * bs))

    def raw():
        return sum(len(d.read(a, n)) for a, n in [(addr, 48)] + arrays)
    res["raw"], res["raw_cpu"], res["raw_bytes"] = _best(raw, 3)
    res["B"] = B
    for name, cmd in COMMANDS.items():
        t, c, text = _best(lambda: d.run(cmd), reps)
        res[name], res[name + "_cpu"], res[name + "_bytes"] = t, c, len(text)
        Path(outdir, name + ".out").write_text(text)
    # before: the same command through json.dumps of the per-slot dicts
    fast = render_buckets.buckets_json_text
    render_buckets.buckets_json_text = lambda snap, which="both", indexes=None: \
        json.dumps(render_buckets.buckets_json(snap, which, indexes))
    try:
        t, c, text = _best(lambda: d.run(COMMANDS["buckets"]), 1)
    finally:
        render_buckets.buckets_json_text = fast
    res["buckets_old"], res["buckets_old_cpu"] = t, c
    res["buckets_same"] = text == Path(outdir, "buckets.out").read_text()
    # decode alone: every read answered from a recording
    memo: dict = {}
    try:
        _patch_reads("record", memo)
        for cmd in COMMANDS.values():
            d.run(cmd)
        _patch_reads("replay", memo)
        for name, cmd in COMMANDS.items():
            res[name + "_decode"], _, _ = _best(lambda: d.run(cmd), reps)
    finally:
        _patch_reads("off", memo)
    Path(out_path).write_text(json.dumps(res))


# --- the session clock (bench/plugin_bench_break.py reads the marks) -------------

_CLOCK = "@@gomap-clock"


def clock(label: str) -> None:
    """Inside the debugger: print the wall clock (time.time(), comparable with the
    driver's) under a label; at "end" also the decisions timed by time_decisions()."""
    extra = ""
    if label == "end" and _DECIDE:
        extra = f" {len(_DECIDE)} {sum(_DECIDE):.6f} {_DECIDE[0]:.6f}"
    print(f"{_CLOCK} {label} {time.time():.6f}{extra}@@", flush=True)


_DECIDE: list = []


def time_decisions() -> None:
    """Inside the debugger, after the plugin is loaded: time every call of
    gomapcore's stop decision (BreakCondition.on_hit), the Python work a hit
    costs (registers, the hmap header, the line). Two perf_counter calls each."""
    from gomapcore import breaks
    real = breaks.BreakCondition.on_hit

    def on_hit(self, target, symbol):
        t0 = time.perf_counter()
        try:
            return real(self, target, symbol)
        finally:
            _DECIDE.append(time.perf_counter() - t0)
    breaks.BreakCondition.on_hit = on_hit
