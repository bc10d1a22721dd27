"""Time `gomap print --all` of a large map in gdb and lldb-16 (not a test: run
it by hand, it takes a while). The grow sample inserts N keys and stops at its
last checkpoint ("done"); each debugger prints every entry to a file.

    /usr/bin/python3 tests/integration/measure_print_all.py [N]

Prints, per debugger: the seconds for the whole session, for the session
without the print (program start and insert time), the difference, and the
number of entries written.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dbg  # noqa: E402


def stop_at_done(debugger: str) -> list[str]:
    # Condition on the checkpoint's name without calling code in the program.
    if debugger == "gdb":
        return ['break checkpoint if $_streq(what, "done")', "run", "up"]
    return ["breakpoint set -n checkpoint -c \"what[0] == 'd' && what[1] == 'o'\"",
            "process launch", "up"]


def session(debugger: str, binary: Path, n: int, out: Path | None) -> float:
    cmds = stop_at_done(debugger)
    if out is not None:
        if debugger == "gdb":
            cmds += [f"pipe gomap print --all m | cat > {out}"]
        else:
            cmds += [f"script import lldb; r = lldb.SBCommandReturnObject(); "
                     f"lldb.debugger.GetCommandInterpreter().HandleCommand("
                     f"'gomap print --all m', lldb.SBExecutionContext(lldb.frame), r); "
                     f"open('{out}', 'w').write(r.GetOutput() or r.GetError())"]
    t0 = time.perf_counter()
    dbg.run(debugger, binary, ["--seed", "1", "--keys", str(n)], cmds, timeout=1800)
    return time.perf_counter() - t0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    binary = dbg.SAMPLES / "grow"
    if not binary.exists():
        sys.exit(f"build the samples first ({binary} is missing)")
    with tempfile.TemporaryDirectory() as tmp:
        for debugger in dbg.DEBUGGERS:
            out = Path(tmp) / f"{debugger}.txt"
            base = session(debugger, binary, n, None)
            full = session(debugger, binary, n, out)
            text = out.read_text() if out.exists() else ""
            entries = len(re.findall(r"\d+: \d+, ", text))
            print(f"{debugger}: {n} keys: session {full:.1f}s, without print {base:.1f}s, "
                  f"print --all {full - base:.1f}s, {entries} entries, "
                  f"{os.path.getsize(out) if out.exists() else 0} bytes")


if __name__ == "__main__":
    main()
