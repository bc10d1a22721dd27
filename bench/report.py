#!/usr/bin/env python3
"""Merge benchmark TSV files into one Markdown table of times and ratios.

Input: the TSV lines engine_bench and gobench print
(peer, keytype, workload, n, median_ns, min_ns, reps, checksum).
Every peer's checksum for a row must equal the reference peer's (std, else the
first peer seen): a mismatch means a peer computed something else, and this
script then exits 1 after naming each one. Standard library only.

usage: report.py [--check-only] [--out FILE] [--command CMD] TSV...
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
from dataclasses import dataclass

PEERS = ["engine", "engine-norec", "std", "absl", "go"]
WORKLOAD_ORDER = ["insert_seq", "insert_rand", "lookup_inorder", "lookup_shuffled", "iterate", "delete"]
# Targets from issue 7: engine time / peer time must stay at or under these.
TARGETS = {"go": 0.8, "absl": 1.5, "engine-norec": 1.05}


@dataclass
class Row:
    peer: str
    keytype: str
    workload: str
    n: int
    median_ns: float
    min_ns: float
    reps: int
    checksum: int
    source: str = ""   # the file (one round of one program) the row came from


def read_tsv(path: str) -> list[Row]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 8:
                raise ValueError(f"{path}:{lineno}: expected 8 tab-separated fields, got {len(parts)}")
            try:
                rows.append(Row(parts[0], parts[1], parts[2], int(parts[3]), float(parts[4]),
                                float(parts[5]), int(parts[6]), int(parts[7]), path))
            except ValueError:
                raise ValueError(f"{path}:{lineno}: malformed line: {line!r}") from None
    return rows


def check(rows: list[Row]) -> list[str]:
    """Return one message per peer whose checksum differs from the reference's."""
    ref: dict[tuple, Row] = {}
    for r in rows:
        key = (r.keytype, r.workload, r.n)
        if r.peer == "std" or key not in ref:
            ref[key] = r
    errors = []
    for r in rows:
        f = ref[(r.keytype, r.workload, r.n)]
        if r.checksum != f.checksum:
            errors.append(f"checksum mismatch: {r.peer} {r.keytype} {r.workload} n={r.n}: "
                          f"{r.checksum}, {f.peer} has {f.checksum}")
    return errors


def sh(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> str:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    cxx = sh(["c++", "--version"]).splitlines()
    go = sh([os.environ.get("GO", "/usr/lib/go-1.19/bin/go"), "version"])
    parts = [cpu or platform.processor() or "unknown CPU", f"{os.cpu_count()} cores",
             f"{platform.system()} {platform.release()}"]
    if cxx:
        parts.append(cxx[0])
    if go:
        parts.append(go.replace("go version ", ""))
    return ", ".join(parts)


def fmt_ms(ns: float | None) -> str:
    return "—" if ns is None else f"{ns / 1e6:.1f}" if ns >= 1e7 else f"{ns / 1e6:.2f}"


def fmt_n(n: int) -> str:
    return f"{n // 1000000}M" if n % 1000000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)


def _median(v: list[float]) -> float:
    v = sorted(v)
    return v[(len(v) - 1) // 2]


def cell_medians(rows: list[Row]) -> tuple[dict[tuple, float], list[int]]:
    """(keytype, workload, n, peer) -> ns, and the numbers of rounds seen.
    A cell measured in several rounds (run.sh alternates the engine's and Go's
    programs, so that a slow spell of a shared machine lands on both) gets the
    median of the rounds' medians."""
    runs: dict[tuple, list[float]] = {}
    for r in rows:
        runs.setdefault((r.keytype, r.workload, r.n, r.peer), []).append(r.median_ns)
    return {k: _median(v) for k, v in runs.items()}, sorted({len(v) for v in runs.values()})


def round_of(source: str) -> str:
    """The round a results file belongs to: run.sh writes round r of a size
    group as engine_NAME_r.tsv and go_NAME_r.tsv, run back to back."""
    base = os.path.basename(source)
    for prefix in ("engine_", "go_"):
        if base.startswith(prefix):
            return base[len(prefix):]
    return base


def paired_ratios(rows: list[Row], a: str, b: str) -> dict[tuple, float]:
    """(keytype, workload, n) -> the median over rounds of a's time / b's time
    within the round. A round runs the engine's program (engine, engine-norec
    interleaved rep by rep; std, absl) and then Go's, so a slow spell of this
    shared machine lands on all of one round: the round's own ratio is the
    measurement, where a ratio of two medians taken from different rounds
    would mix the spells."""
    per: dict[tuple, dict[str, float]] = {}
    for r in rows:
        if r.peer in (a, b):
            per.setdefault((r.keytype, r.workload, r.n, round_of(r.source)), {})[r.peer] = r.median_ns
    ratios: dict[tuple, list[float]] = {}
    for (kt, wl, n, _), v in per.items():
        if a in v and b in v and v[b] > 0:
            ratios.setdefault((kt, wl, n), []).append(v[a] / v[b])
    return {k: _median(v) for k, v in ratios.items()}


def fmt_value(r: float | None, target: float | None) -> str:
    if r is None:
        return "—"
    mark = "" if target is None else (" ✓" if r <= target else " ✗")
    return f"{r:.2f}{mark}"


def table(rows: list[Row], command: str, clock: str = "cpu") -> str:
    by, rounds = cell_medians(rows)
    ratio = {p: paired_ratios(rows, "engine", p) for p in ("std", "absl", "go", "engine-norec")}
    keys = sorted({(r.keytype, r.workload, r.n) for r in rows},
                  key=lambda k: (k[0] != "uint64", k[2], WORKLOAD_ORDER.index(k[1])
                                 if k[1] in WORKLOAD_ORDER else 99, k[1]))
    present = [p for p in PEERS if any(r.peer == p for r in rows)]
    out = [f"Machine: {machine()}  ",
           f"Date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}  "]
    if command:
        out.append(f"Command: `{command}`  ")
    reps = sorted({r.reps for r in rows})
    what = "process CPU time" if clock == "cpu" else "wall-clock time"
    over = "" if rounds == [1] else f", then the median over {'/'.join(map(str, rounds))} rounds"
    runs = '/'.join(map(str, reps)) if len(reps) <= 3 else f"{reps[0]} to {reps[-1]}"
    out.append(f"Median of {runs} runs per cell (short cells get more, up to 25){over}, "
               f"milliseconds of {what}. Ratios are engine time / peer time "
               "(below 1: the engine is faster), each the median over rounds of the round's own ratio (a round "
               "runs the engine's program, then Go's: a slow spell of the machine lands on both); ✓/✗ against the targets: ≤ 0.8 vs Go, ≤ 1.5 vs absl, "
               "registry cost (engine / engine-norec, the same engine writing no heap records; its memory is freed, "
               "poisoned and reused alike; the two run interleaved, rep by rep) ≤ 1.05. Every peer reads the same keys in the same order "
               "from memory on transparent huge pages (Go's heap is advised onto them; engine_bench does the same "
               "for the C++ peers, which share one copy of the string keys' bytes).")
    out.append("")
    head = ["keys", "workload", "n"] + [f"{p} ms" for p in present]
    ratio_peers = [p for p in ["std", "absl", "go"] if p in present]
    head += [f"engine/{p}" for p in ratio_peers]
    if "engine-norec" in present:
        head.append("registry cost")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join("---" if i < 2 else "---:" for i in range(len(head))) + "|")
    for kt, wl, n in keys:
        cells = [kt, wl, fmt_n(n)] + [fmt_ms(by.get((kt, wl, n, p))) for p in present]
        cells += [fmt_value(ratio[p].get((kt, wl, n)), TARGETS.get(p)) for p in ratio_peers]
        if "engine-norec" in present:
            cells.append(fmt_value(ratio["engine-norec"].get((kt, wl, n)), TARGETS["engine-norec"]))
        out.append("| " + " | ".join(cells) + " |")
    if "go" not in present:
        out += ["", "Go 1.19 was not found: the go column is missing."]
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tsv", nargs="+")
    ap.add_argument("--check-only", action="store_true", help="only verify checksums")
    ap.add_argument("--out", help="also write the Markdown table here")
    ap.add_argument("--command", default="", help="the command that produced the figures")
    ap.add_argument("--clock", default="cpu", choices=["cpu", "wall"], help="the clock the figures used")
    a = ap.parse_args()
    try:
        rows = [r for p in a.tsv for r in read_tsv(p)]
    except (OSError, ValueError) as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 2
    if not rows:
        print("report.py: no results in " + ", ".join(a.tsv), file=sys.stderr)
        return 2
    errors = check(rows)
    for e in errors:
        print(f"report.py: {e}", file=sys.stderr)
    if not a.check_only:
        text = table(rows, a.command, a.clock)
        sys.stdout.write(text)
        if a.out:
            with open(a.out, "w", encoding="utf-8") as f:
                f.write("# Benchmark results\n\nProduced by `bench/run.sh`; do not edit by hand.\n\n" + text)
    elif not errors:
        print(f"report.py: {len(rows)} results, checksums agree")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
