"""Run inside gdb (gdb -batch -x this file --args PROGRAM SITUATION): compares
gomapcore.godwarf's view of a Go frame with gdb's own, gdb being the reference
that reads Go's DWARF itself.

Environment: GOMAP_ROOT (repository root), GOMAP_PROBE_FUNC (function to stop
in, e.g. main.checkpointInt64), GOMAP_PROBE_OUT (JSON file to write).

It stops at the function's entry, then at the first instruction of each range
of m's location list (and one past them, where m may be optimised away), and
at each stop compares m in frame 0 and every variable of the caller's frame:
address, bytes, type name, or that both call it optimised away.
"""
import json
import os
import sys

import gdb  # noqa: E402  (only inside gdb)

sys.path.insert(0, os.environ["GOMAP_ROOT"])
from gomapcore.godwarf import GoProgram  # noqa: E402
from gomapcore.target import GomapError  # noqa: E402

MASK64 = (1 << 64) - 1


def reader(frame):
    def read_register(name):
        v = frame.read_register(name)
        if name.startswith("xmm"):
            return int(v["uint128"])
        return int(v) & MASK64
    return read_register


def read_memory(addr, size):
    return bytes(gdb.selected_inferior().read_memory(addr, size))


def leaves(v, base=0):
    """(offset, size, unsigned int) of every scalar inside a gdb value that
    is not in memory (registers, pieces)."""
    t = v.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_STRUCT:
        out = []
        for f in t.fields():
            try:
                out += leaves(v[f.name], base + f.bitpos // 8)
            except gdb.error:
                pass  # an optimised-away piece
        return out
    if v.is_optimized_out:
        return []
    size = t.sizeof
    if t.code == gdb.TYPE_CODE_FLT:
        import struct
        raw = struct.pack("<d" if size == 8 else "<f", float(v))
        return [(base, size, int.from_bytes(raw, "little"))]
    return [(base, size, int(v) & ((1 << (8 * size)) - 1))]


def compare(prog, name, frame, outer):
    rec = {"name": name, "pc": frame.pc(), "outer": outer}
    try:
        gv = frame.read_var(name)
        rec["gdb_type"] = str(gv.type)
        rec["gdb_optimised_out"] = bool(gv.is_optimized_out)
        rec["gdb_address"] = int(gv.address) if gv.address is not None else None
        if rec["gdb_address"] is not None:
            rec["gdb_hex"] = read_memory(rec["gdb_address"], gv.type.sizeof).hex()
        elif not gv.is_optimized_out:
            rec["gdb_leaves"] = leaves(gv)
    except (gdb.error, ValueError) as e:
        rec["gdb_error"] = str(e)
    try:
        mine = prog.locate(name, frame.pc(), reader(frame), read_memory, outer_frame=outer)
        rec["mine_type"] = mine.type.name
        rec["mine_address"] = mine.address
        rec["mine_hex"] = mine.data.hex()
    except GomapError as e:
        rec["mine_error"] = str(e)
    return rec


def main():
    out_path = os.environ["GOMAP_PROBE_OUT"]
    prog = GoProgram(gdb.current_progspace().filename)
    func = prog.find_function(os.environ["GOMAP_PROBE_FUNC"])
    gdb.execute(f"break *{func.low_pc:#x}", to_string=True)
    gdb.execute("run", to_string=True)
    arch = gdb.selected_frame().architecture()
    insns = [i["addr"] for i in arch.disassemble(func.low_pc, func.high_pc - 1)]
    targets = set()
    ranges = prog.location_ranges("m", func.low_pc)
    for low, high, _ in ranges:
        targets.update(a for a in insns if low <= a < high and a == min(x for x in insns if x >= low))
    past = [a for a in insns if all(not (lo <= a < hi) for lo, hi, _ in ranges)]
    if past:
        targets.add(past[0])
    records = []
    for target in sorted(targets):
        for _ in range(200):
            if gdb.selected_frame().pc() >= target:
                break
            gdb.execute("nexti", to_string=True)
        frame = gdb.selected_frame()
        if frame.pc() != target or frame.function() is None:
            continue
        records.append(compare(prog, "m", frame, False))
        caller = frame.older()
        caller.select()
        for name in prog.variables_at(caller.pc() - 1):
            records.append(compare(prog, name, caller, True))
        frame.select()
    with open(out_path, "w") as f:
        json.dump({"ranges": [(lo, hi, e.hex()) for lo, hi, e in ranges],
                   "targets": sorted(targets), "records": records}, f)


try:
    main()
except Exception as e:  # report, do not leave gdb hanging in batch mode
    with open(os.environ["GOMAP_PROBE_OUT"], "w") as f:
        json.dump({"probe_error": f"{type(e).__name__}: {e}"}, f)
gdb.execute("kill", to_string=True)
