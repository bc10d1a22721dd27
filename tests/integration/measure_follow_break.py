#!/usr/bin/env python3
"""What `gomap break assign --grow` costs over a million inserts, in gdb and lldb-16.

Not a test (timings are not pass/fail on a shared CI machine): run it by hand,
    /usr/bin/python3 tests/integration/measure_follow_break.py [--keys N] [--naive-keys N]
It times, on the grow sample (build/debug/samples/grow --keys N --seed 1):
  native        the program alone
  plain         under the debugger, no breakpoint
  grow-declined `gomap break assign --grow --same-size`: decided at hashGrow,
                every hit declined (a doubling grow is not a same-size one)
  grow-stops    `gomap break assign --grow`, stopping at every grow and continuing
  naive         `gomap break assign --key <absent>`: a Python decision at every
                mapassign entry, the cost that deciding at hashGrow avoids
                (measured on --naive-keys inserts, scaled to N)
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dbg  # noqa: E402


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def session(debugger: str, binary: Path, args: list[str], cmds: list[str]) -> float:
    start = ["break main", "run"] if debugger == "gdb" else ["breakpoint set -n main", "process launch"]
    def go():
        r = dbg.run(debugger, binary, args, start + cmds, timeout=1800)
        if "exited" not in r.raw and "exited normally" not in r.raw:
            raise SystemExit(f"{debugger}: the program did not run to the end:\n{r.raw[-2000:]}")
    return timed(go)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--naive-keys", type=int, default=20_000)
    a = ap.parse_args()
    binary = dbg.SAMPLES / "grow"
    args = ["--keys", str(a.keys), "--seed", "1"]
    native = timed(lambda: subprocess.run([str(binary), *args], stdout=subprocess.DEVNULL, check=True))
    grows = 0
    B = 0
    while True:
        c = next(c for c in range(1 << 30) if c + 1 > 8 and c + 1 > 13 * ((1 << B) // 2))
        if c >= a.keys:
            break
        grows += 1
        B += 1
    print(f"grow sample, {a.keys} inserts ({grows} grows), native: {native:.2f}s")
    for d in dbg.DEBUGGERS:
        if not dbg.have(d):
            continue
        plain = session(d, binary, args, ["continue"])
        declined = session(d, binary, args, ["gomap break assign --grow --same-size", "continue"])
        stops = session(d, binary, args, ["gomap break assign --grow"] + ["continue"] * (grows + 1))
        nargs = ["--keys", str(a.naive_keys), "--seed", "1"]
        nplain = session(d, binary, nargs, ["continue"])
        naive = session(d, binary, nargs, ["gomap break assign --key 123456789123", "continue"])
        per_hit = (naive - nplain) / a.naive_keys
        print(f"{d}: plain {plain:.2f}s | --grow (declined at hashGrow) {declined:.2f}s = "
              f"{declined / plain:.2f}x plain, {declined / native:.2f}x native | --grow stopping "
              f"{grows} times {stops:.2f}s = {stops / plain:.2f}x plain | naive per-assign decision "
              f"{per_hit * 1e6:.0f} us/assign -> ~{plain + per_hit * a.keys:.0f}s for {a.keys} "
              f"(~{(plain + per_hit * a.keys) / plain:.0f}x plain)")


if __name__ == "__main__":
    main()
