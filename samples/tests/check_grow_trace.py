#!/usr/bin/python3
"""Check `grow --trace` output against Go 1.19's growth rules, independently of the engine.

Usage: check_grow_trace.py [--hint N] (--file TRACE | -- COMMAND [ARGS...])

The trace is a header `count B growing nevacuate noverflow flags` (tab-separated)
and one line per insert of a new key. The rules, from runtime/map.go:

- overLoadFactor(count, B) = count > 8 && count > 13 * (2^B / 2)   (integer division)
- tooManyOverflowBuckets(noverflow, B) = noverflow >= 2^min(B, 15)
- mapassign of a new key, when not growing, calls hashGrow if overLoadFactor(count+1, B)
  (doubling: B+1) or else if tooManyOverflowBuckets (same size, flag sameSizeGrow = 8).
- Each later write evacuates at least one old bucket (nevacuate advances); the grow
  is over when oldbuckets is nil, and nevacuate then equals the old bucket count.
- hashWriting (4) is never set between writes.

So B runs hintToB(hint), +1, +2, ... and doubling grows start exactly at counts 9, 14,
27, 53, 105, 209, ...; a grow must be over before the count reaching the next one.
"""
from __future__ import annotations

import argparse
import subprocess
import sys

HEADER = ["count", "B", "growing", "nevacuate", "noverflow", "flags"]
SAME_SIZE_GROW = 8
HASH_WRITING = 4


def over_load_factor(count: int, B: int) -> bool:
    return count > 8 and count > 13 * ((1 << B) // 2)


def too_many_overflow_buckets(noverflow: int, B: int) -> bool:
    return noverflow >= (1 << min(B, 15))


def hint_to_B(hint: int) -> int:
    B = 0
    while over_load_factor(hint, B):
        B += 1
    return B


def expected_starts(B0: int, last_count: int) -> list[int]:
    """Counts at which doubling grows must start, derived from the formula alone."""
    starts, B = [], B0
    for count in range(1, last_count + 1):
        if over_load_factor(count, B):
            starts.append(count)
            B += 1
    return starts


def read_trace(text: str) -> list[list[int]]:
    lines = text.splitlines()
    try:
        start = lines.index("\t".join(HEADER))
    except ValueError:
        raise SystemExit("check_grow_trace: no header line `" + " ".join(HEADER) + "`")
    rows = []
    for n, line in enumerate(lines[start + 1:], start + 2):
        if line.startswith("GROUND "):
            continue
        fields = line.split("\t")
        if len(fields) != len(HEADER) or not all(f.isdigit() for f in fields):
            raise SystemExit(f"check_grow_trace: line {n} is not a trace line: {line!r}")
        rows.append([int(f) for f in fields])
    return rows


def check(rows: list[list[int]], hint: int) -> tuple[list[str], list[int]]:
    errors: list[str] = []
    B0 = hint_to_B(hint)
    prev = dict(count=0, B=B0, growing=0, nevacuate=0, noverflow=0, flags=0)
    last_grow = None  # "double" or "same"
    starts: list[int] = []
    for row in rows:
        cur = dict(zip(HEADER, row))
        c, where = cur["count"], f"count {cur['count']}"
        if c != prev["count"] + 1:
            errors.append(f"{where}: count went {prev['count']} -> {c}, expected +1")
        grew = "none"
        if over_load_factor(c, prev["B"]):
            if prev["growing"]:
                errors.append(f"{where}: over the load factor for B={prev['B']} while the "
                              f"previous grow is still running")
            else:
                grew = "double"
        elif not prev["growing"] and too_many_overflow_buckets(prev["noverflow"], prev["B"]):
            grew = "same"
        want_B = prev["B"] + (1 if grew == "double" else 0)
        if cur["B"] != want_B:
            errors.append(f"{where}: B = {cur['B']}, expected {want_B}")
        if grew == "double":
            starts.append(c)
        if grew != "none":
            last_grow = grew
        if cur["growing"] and not prev["growing"] and grew == "none":
            errors.append(f"{where}: a grow started without reason")
        if cur["flags"] & HASH_WRITING:
            errors.append(f"{where}: hashWriting still set after the write")
        same = bool(cur["flags"] & SAME_SIZE_GROW)
        if same != (bool(cur["growing"]) and last_grow == "same"):
            errors.append(f"{where}: sameSizeGrow flag {int(same)} does not match the grow")
        old_buckets = 0 if last_grow is None else (
            1 << cur["B"] if last_grow == "same" else 1 << (cur["B"] - 1))
        if cur["growing"]:
            if cur["nevacuate"] >= old_buckets:
                errors.append(f"{where}: growing with nevacuate {cur['nevacuate']} >= "
                              f"{old_buckets} old buckets")
            if prev["growing"] and cur["nevacuate"] <= prev["nevacuate"]:
                errors.append(f"{where}: nevacuate did not advance ({prev['nevacuate']} -> "
                              f"{cur['nevacuate']})")
        elif cur["nevacuate"] != old_buckets:
            errors.append(f"{where}: not growing but nevacuate {cur['nevacuate']} != "
                          f"{old_buckets} (the old bucket count of the last grow)")
        prev = cur
    Bs = [r[1] for r in rows]
    if Bs and sorted(set(Bs)) != list(range(B0, max(Bs) + 1)):
        errors.append(f"B sequence {sorted(set(Bs))} is not {B0}, {B0 + 1}, ...")
    want = expected_starts(B0, rows[-1][0] if rows else 0)
    if starts != want:
        errors.append(f"doubling grows started at counts {starts}, expected {want}")
    return errors, starts


def main() -> int:
    argv = sys.argv[1:]
    cmd = argv[argv.index("--") + 1:] if "--" in argv else []
    p = argparse.ArgumentParser(prog="check_grow_trace.py")
    p.add_argument("--hint", type=int, default=0)
    p.add_argument("--file")
    args = p.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    if args.file:
        with open(args.file) as f:
            text = f.read()
    elif cmd:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            print(f"check_grow_trace: {' '.join(cmd)} exited {proc.returncode}: "
                  f"{proc.stderr.strip()[:500]}")
            return 1
        text = proc.stdout
    else:
        p.error("give --file TRACE or -- COMMAND")
    rows = read_trace(text)
    if not rows:
        print("check_grow_trace: the trace has no lines")
        return 1
    errors, starts = check(rows, args.hint)
    for e in errors[:30]:
        print("FAIL:", e)
    if errors:
        print(f"{len(errors)} rule violations in {len(rows)} lines")
        return 1
    print(f"ok: {len(rows)} inserts, B {rows[0][1]}..{rows[-1][1]}, doubling grows at counts "
          f"{' '.join(map(str, starts))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
