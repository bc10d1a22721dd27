#!/usr/bin/python3
"""Run one sample and check what it printed: exit status, regexes, GROUND lines.

Usage: expect.py [checks...] -- COMMAND [ARGS...]

  --status N            the exit status must be N (default 0)
  --stdout RE           RE must match somewhere in stdout (re.MULTILINE); repeatable
  --stderr RE           likewise for stderr
  --no-stdout RE        RE must not match stdout; repeatable
  --stderr-lines N      stderr must have exactly N lines
  --ground N            at least N `GROUND {json}` lines, each self-consistent
  --ground-expect 'CHECKPOINT PATH OP VALUE'
                        in every GROUND line of CHECKPOINT, the number at PATH
                        (dotted, e.g. heap.by_role.buckets.unreachable.count, or
                        a top-level field like oldbuckets) compares OP (== != >= <=
                        > <) with VALUE (a number or null)

Exit status 0 when every check holds; otherwise each failed check is printed
with the command's output, and the status is 1.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys

TIMEOUT = 120


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    if "--" not in argv:
        sys.exit("expect.py: missing `-- COMMAND`")
    cut = argv.index("--")
    p = argparse.ArgumentParser(prog="expect.py")
    p.add_argument("--status", type=int, default=0)
    p.add_argument("--stdout", action="append", default=[])
    p.add_argument("--stderr", action="append", default=[])
    p.add_argument("--no-stdout", action="append", default=[])
    p.add_argument("--stderr-lines", type=int)
    p.add_argument("--ground", type=int)
    p.add_argument("--ground-expect", action="append", default=[])
    return p.parse_args(argv[:cut]), argv[cut + 1:]


def check_map_ground(g: dict) -> list[str]:
    """What must hold for any map snapshot, whatever the sample."""
    errs = []
    where = f"GROUND {g.get('checkpoint')} #{g.get('seq')}"
    if g.get("nil"):
        if g.get("count") != 0 or g.get("entries") != []:
            errs.append(f"{where}: a nil map with entries")
        return errs
    for field in ("hmap", "count", "B", "flags", "hash0", "buckets", "oldbuckets",
                  "nevacuate", "noverflow", "entries"):
        if field not in g:
            errs.append(f"{where}: missing field {field}")
    if errs:
        return errs
    if len(g["entries"]) != g["count"]:
        errs.append(f"{where}: {len(g['entries'])} entries but count {g['count']}")
    # Every key once, except NaNs (NaN != NaN: each is its own key).
    keys = [json.dumps(k) for k, _ in g["entries"]
            if not (isinstance(k, float) and math.isnan(k))]
    if len(keys) != len(set(keys)):
        errs.append(f"{where}: a key appears twice")
    for field in ("hmap", "buckets", "oldbuckets"):
        v = g[field]
        if v is not None and not re.fullmatch(r"0x[0-9a-f]+", v):
            errs.append(f"{where}: {field} = {v!r} is not an address")
    if g["oldbuckets"] is not None and g["nevacuate"] >= (1 << g["B"]):
        errs.append(f"{where}: growing with nevacuate {g['nevacuate']} >= 2^B")
    if not 0 <= g["B"] < 64 or not 0 <= g["flags"] < 16:
        errs.append(f"{where}: B or flags out of range")
    return errs


def check_heap_ground(g: dict) -> list[str]:
    errs = []
    h = g["heap"]
    where = f"GROUND {g.get('checkpoint')} #{g.get('seq')}"
    for state in ("live", "unreachable", "freed"):
        n = sum(r[state]["count"] for r in h["by_role"].values())
        b = sum(r[state]["bytes"] for r in h["by_role"].values())
        if (n, b) != (h[state]["count"], h[state]["bytes"]):
            errs.append(f"{where}: by_role does not add up to {state}")
    total = sum(h[s]["count"] for s in ("live", "unreachable", "freed"))
    if total != h["records"]:
        errs.append(f"{where}: {total} records by state, {h['records']} in the registry")
    return errs


def lookup(obj, path: str):
    for part in path.split("."):
        obj = obj[part]
    return obj


def compare(a, op: str, b) -> bool:
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if a is None or b is None:
        return False
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def main() -> int:
    args, cmd = parse_args(sys.argv[1:])
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"FAIL: {cmd[0]} did not finish in {TIMEOUT} s")
        return 1
    except OSError as e:
        print(f"FAIL: cannot run {cmd[0]}: {e}")
        return 1
    out, err = proc.stdout, proc.stderr
    fails = []
    if proc.returncode != args.status:
        fails.append(f"exit status {proc.returncode}, expected {args.status}")
    for rx in args.stdout:
        if not re.search(rx, out, re.M):
            fails.append(f"stdout does not match: {rx}")
    for rx in args.stderr:
        if not re.search(rx, err, re.M):
            fails.append(f"stderr does not match: {rx}")
    for rx in args.no_stdout:
        if re.search(rx, out, re.M):
            fails.append(f"stdout matches (it must not): {rx}")
    if args.stderr_lines is not None and len(err.splitlines()) != args.stderr_lines:
        fails.append(f"stderr has {len(err.splitlines())} lines, expected {args.stderr_lines}")

    grounds = []
    for line in out.splitlines():
        if line.startswith("GROUND "):
            try:
                grounds.append(json.loads(line[len("GROUND "):]))
            except json.JSONDecodeError as e:
                fails.append(f"GROUND line is not JSON ({e}): {line[:200]}")
    if args.ground is not None:
        if len(grounds) < args.ground:
            fails.append(f"{len(grounds)} GROUND lines, expected at least {args.ground}")
        for g in grounds:
            fails += check_heap_ground(g) if "heap" in g else check_map_ground(g)
    for spec in args.ground_expect:
        name, path, op, value = spec.split()
        want = None if value == "null" else float(value)
        hits = [g for g in grounds if g.get("checkpoint") == name]
        if not hits:
            fails.append(f"no GROUND line for checkpoint {name}")
        for g in hits:
            try:
                got = lookup(g, path)
            except (KeyError, TypeError):
                fails.append(f"GROUND {name}: no field {path}")
                continue
            if not compare(got, op, want):
                fails.append(f"GROUND {name}: {path} = {got!r}, expected {op} {value}")

    if fails:
        print("command:", " ".join(cmd))
        for f in fails:
            print("FAIL:", f)
        print("---- stdout (first 4000 chars)\n" + out[:4000])
        print("---- stderr (first 2000 chars)\n" + err[:2000])
        return 1
    print(f"ok: {' '.join(cmd)} ({len(grounds)} GROUND lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
