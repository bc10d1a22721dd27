"""gomapcore.godwarf on real Go 1.19 binaries (tests/go, built by build.sh).

Most tests need no debugger: types, functions and scopes come from DWARF only.
The location tests run the program under gdb in batch mode, gdb being the
reference that reads Go's DWARF itself (tests/go/gdb_locate_probe.py).
"""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)

from gomapcore.godwarf import GoProgram  # noqa: E402
from gomapcore.goframe import FrameTable, evaluate_location, Piece  # noqa: E402
from gomapcore.target import GomapError, Kind  # noqa: E402

GO = "/usr/lib/go-1.19/bin/go"
BUILD = os.path.join(ROOT, "build", "go")


@pytest.fixture(scope="session")
def binaries():
    if not os.path.exists(GO):
        pytest.skip("golang-1.19 is not installed")
    subprocess.run([os.path.join(ROOT, "tests", "go", "build.sh")], check=True,
                   stdout=subprocess.DEVNULL)
    return {b: os.path.join(BUILD, f"gomaps-{b}") for b in ("debug", "opt")}


@pytest.fixture(scope="session")
def programs(binaries):
    progs = {b: GoProgram(p) for b, p in binaries.items()}
    yield progs
    for p in progs.values():
        p.close()


HMAP_FIELDS = [("count", 0, 8), ("flags", 8, 1), ("B", 9, 1), ("noverflow", 10, 2),
               ("hash0", 12, 4), ("buckets", 16, 8), ("oldbuckets", 24, 8),
               ("nevacuate", 32, 8), ("extra", 40, 8)]


@pytest.mark.parametrize("build", ["debug", "opt"])
def test_map_parameter_type_tree(programs, build):
    prog = programs[build]
    f = prog.find_function("main.checkpointInt64")
    assert f is not None and f.high_pc > f.low_pc
    assert prog.function_at(f.low_pc) == "main.checkpointInt64"
    assert prog.variables_at(f.low_pc) == ["m"]
    var = prog.variables(f.low_pc)[0]
    assert var.is_parameter
    mt = prog.type_at(var.type_offset)
    assert (mt.name, mt.kind, mt.size) == ("map[int64]int64", Kind.TYPEDEF, 8)
    assert [t.name for t in mt.template_args] == ["int64", "int64"]
    assert all(t.kind is Kind.INT and t.size == 8 for t in mt.template_args)
    hptr = mt.target
    assert hptr.kind is Kind.POINTER and hptr.name == "*hash<int64,int64>"
    hmap = hptr.target
    assert (hmap.kind, hmap.size) == (Kind.STRUCT, 48)
    assert [(f.name, f.offset, f.type.size) for f in hmap.fields] == HMAP_FIELDS
    bucket = hmap.field("buckets").type.target
    assert (bucket.name, bucket.size) == ("bucket<int64,int64>", 144)
    got = {f.name: (f.offset, f.type.kind, f.type.count, f.type.target.name) for f in bucket.fields}
    assert got == {"tophash": (0, Kind.ARRAY, 8, "uint8"),
                   "keys": (8, Kind.ARRAY, 8, "int64"),
                   "values": (72, Kind.ARRAY, 8, "int64"),
                   "overflow": (136, Kind.POINTER, 0, "bucket<int64,int64>")}
    # The overflow pointer leads back to the same (cached, lazily built) type.
    assert bucket.field("overflow").type.target is bucket
    assert hmap.field("oldbuckets").type.target is bucket


def test_lookup_type_by_go_name(programs):
    prog = programs["debug"]
    mt = prog.lookup_type("map[int64]int64")
    assert mt is not None and mt.kind is Kind.TYPEDEF
    assert mt.target.target.field("B").offset == 9
    assert prog.lookup_type("  map[int64]int64 ") is mt
    assert prog.lookup_type("map[int64]float32") is None  # not in this program
    s = prog.lookup_type("string")
    assert [(f.name, f.offset, f.type.kind) for f in s.fields] == \
        [("str", 0, Kind.POINTER), ("len", 8, Kind.INT)]
    sl = prog.lookup_type("[]int64")
    assert [f.name for f in sl.fields] == ["array", "len", "cap"] and sl.size == 24
    err = prog.lookup_type("error")
    assert err.kind is Kind.INTERFACE and [f.name for f in err.fields] == ["tab", "data"]
    # What runtime.mapassign_fast64 gets in RAX (maptype, whose first field is
    # the _type) in this build, as gdb shows it: runtime.types + the DWARF offset.
    from elftools.elf.elffile import ELFFile
    with open(prog.path, "rb") as f:
        types = ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name("runtime.types")[0]
    rt = prog.runtime_type_address("map[int64]int64")
    assert rt > types["st_value"]
    assert rt and prog.type_at_runtime_address(rt).name == "map[int64]int64"
    assert prog.type_at_runtime_address(prog.runtime_type_address("main.Rec")).name == "main.Rec"
    assert prog.type_at_runtime_address(1) is None


def test_string_keys_struct_values_and_big_keys(programs):
    prog = programs["opt"]
    ss = prog.lookup_type("map[string]string")
    b = ss.target.target.field("buckets").type.target
    assert b.field("keys").type.target.name == "string"
    assert b.field("values").offset == 8 + 8 * 16 and b.size == 8 + 8 * 16 * 2 + 8

    rec = prog.lookup_type("map[int32]main.Rec")
    k, v = rec.template_args
    assert (k.name, k.kind, k.size) == ("int32", Kind.INT, 4)
    # Go names a defined type twice: typedef main.Rec -> struct main.Rec.
    assert v.name == "main.Rec" and v.size == 48 and v.kind is Kind.TYPEDEF
    assert [(f.name, f.offset, f.type.kind) for f in v.strip_typedefs().fields] == [
        ("A", 0, Kind.INT), ("B", 8, Kind.STRUCT), ("C", 24, Kind.BOOL),
        ("D", 32, Kind.FLOAT), ("E", 40, Kind.INT)]

    # Keys and elems over 128 bytes are stored as pointers in the bucket.
    big = prog.lookup_type("map[main.BigKey]main.BigVal")
    bk, bv = big.template_args
    assert (bk.size, bv.size) == (136, 144)
    bucket = big.target.target.field("buckets").type.target
    keys, vals = bucket.field("keys").type, bucket.field("values").type
    assert keys.count == 8 and keys.target.kind is Kind.POINTER
    assert keys.target.target.name == "main.BigKey"
    assert vals.target.kind is Kind.POINTER and vals.target.target.name == "main.BigVal"
    assert bucket.size == 8 + 8 * 8 + 8 * 8 + 8


def test_scopes_and_unknown_names(programs):
    prog = programs["debug"]
    main = prog.find_function("main.main")
    assert main is not None
    assert "situation" in prog.variables_at(main.low_pc + 200)
    assert prog.function_at(0x10) is None
    assert prog.find_function("main.noSuchFunction") is None
    f = prog.find_function("main.checkpointInt64")
    with pytest.raises(GomapError, match="no variable named 'x' in main.checkpointInt64"):
        prog.locate("x", f.low_pc, lambda r: 0, lambda a, n: b"\0" * n)
    with pytest.raises(GomapError, match="no Go function"):
        prog.locate("m", 0x10, lambda r: 0, lambda a, n: b"\0" * n)


def test_locate_without_a_debugger(programs):
    """Register and CFA locations from fake registers and memory."""
    prog = programs["debug"]
    f = prog.find_function("main.checkpointInt64")
    regs = {"rax": 0xC000012345, "rsp": 0xC000100000}
    v = prog.locate("m", f.low_pc, regs.__getitem__, lambda a, n: pytest.fail("no memory read"))
    assert v.address is None and int.from_bytes(v.data, "little") == 0xC000012345
    # Past the spill m lives at the CFA: rsp + the frame size from .debug_frame.
    ranges = prog.location_ranges("m", f.low_pc)
    assert [e for _, _, e in ranges] == [b"\x50", b"\x9c"]  # DW_OP_reg0, DW_OP_call_frame_cfa
    pc = ranges[1][0]
    reg, off = prog._frames.cfa_rule(pc)
    assert reg == 7 and off > 8  # rsp-based, after the prologue moved rsp
    mem = {regs["rsp"] + off: (0xC0000ABCDE).to_bytes(8, "little")}
    v = prog.locate("m", pc, regs.__getitem__, lambda a, n: mem[a][:n])
    assert v.address == regs["rsp"] + off and int.from_bytes(v.data, "little") == 0xC0000ABCDE

    opt = programs["opt"]
    g = opt.find_function("main.checkpointInt64")
    (lo, hi, _), = opt.location_ranges("m", g.low_pc)
    with pytest.raises(GomapError, match="optimised away at pc"):
        opt.locate("m", hi, regs.__getitem__, lambda a, n: b"\0" * n)


def test_location_pieces():
    # A Go string split between a register and a stack slot: DW_OP_reg4 (rsi)
    # piece 8, DW_OP_fbreg -16 piece 8.
    expr = bytes([0x54, 0x93, 8, 0x91, 0x70, 0x93, 8])
    pieces = evaluate_location(expr, cfa=lambda: 1000, read_register=lambda r: 0)
    assert pieces == [Piece(8, register=4), Piece(8, address=984)]
    # An empty piece is an optimised-away part.
    assert evaluate_location(bytes([0x50, 0x93, 8, 0x93, 8]), cfa=lambda: 0,
                             read_register=lambda r: 0)[1] == Piece(8)


def test_frame_table_rules():
    # One CIE (CFA = rsp+8, data alignment -4) and one FDE for [0x1000, 0x1040)
    # that moves the CFA to rsp+32 at 0x100a and back to rsp+8 at 0x103d,
    # as Go's linker writes them.
    cie_body = b"\xff\xff\xff\xff" + bytes([3]) + b"\0" + bytes([1, 0x7C, 16]) + bytes([0x0C, 7, 8])
    cie = len(cie_body).to_bytes(4, "little") + cie_body
    insns = bytes([0x13, 0x7E, 0x4A, 0x13, 0x78, 0x40 | 51, 0x13, 0x7E])
    fde_body = (0).to_bytes(4, "little") + (0x1000).to_bytes(8, "little") + \
        (0x40).to_bytes(8, "little") + insns
    fde = len(fde_body).to_bytes(4, "little") + fde_body
    ft = FrameTable(cie + fde)
    assert len(ft) == 1
    assert ft.cfa_rule(0x1000) == (7, 8)
    assert ft.cfa_rule(0x1009) == (7, 8)
    assert ft.cfa_rule(0x100A) == (7, 32)
    assert ft.cfa_rule(0x103C) == (7, 32)
    assert ft.cfa_rule(0x103D) == (7, 8)
    with pytest.raises(GomapError, match="no call frame information"):
        ft.cfa_rule(0x1040)


def test_bad_input_is_one_line(tmp_path):
    with pytest.raises(GomapError, match="cannot open"):
        GoProgram(str(tmp_path / "missing"))
    junk = tmp_path / "junk"
    junk.write_bytes(b"not an elf at all")
    with pytest.raises(GomapError, match="not an ELF file"):
        GoProgram(str(junk))
    stripped = tmp_path / "stripped"
    if shutil.which("objcopy"):
        subprocess.run(["objcopy", "--strip-debug", os.path.join(BUILD, "gomaps-opt"),
                        str(stripped)], check=True)
        with pytest.raises(GomapError, match="no DWARF"):
            GoProgram(str(stripped))


def test_compressed_dwarf_both_styles(binaries, tmp_path):
    """Go's linker compresses DWARF (SHF_COMPRESSED); older toolchains wrote
    .zdebug_* sections. Both must read the same."""
    from elftools.elf.elffile import ELFFile
    with open(binaries["debug"], "rb") as f:
        sec = ELFFile(f).get_section_by_name(".debug_info")
        assert sec["sh_flags"] & 0x800, "expected Go's default SHF_COMPRESSED DWARF"
    if not shutil.which("objcopy"):
        pytest.skip("objcopy not installed")
    gnu = tmp_path / "zdebug"
    subprocess.run(["objcopy", "--compress-debug-sections=zlib-gnu", binaries["debug"], str(gnu)],
                   check=True)
    with open(gnu, "rb") as f:
        assert ELFFile(f).get_section_by_name(".zdebug_frame") is not None
    with GoProgram(str(gnu)) as prog, GoProgram(binaries["debug"]) as ref:
        f = prog.find_function("main.checkpointInt64")
        assert f == ref.find_function("main.checkpointInt64")
        assert prog._frames.cfa_rule(f.low_pc + 20) == ref._frames.cfa_rule(f.low_pc + 20)
        assert [x.offset for x in prog.lookup_type("map[int64]int64").target.target.fields] == \
            [x.offset for x in ref.lookup_type("map[int64]int64").target.target.fields]


def test_load_time(binaries):
    """Opening is cheap; the first variable lookup parses one compile unit."""
    t0 = time.perf_counter()
    with GoProgram(binaries["debug"]) as prog:
        t1 = time.perf_counter()
        f = prog.find_function("main.checkpointInt64")
        prog.locate("m", f.low_pc, lambda r: 0, lambda a, n: b"\0" * n)
        t2 = time.perf_counter()
        prog.lookup_type("map[int64]int64")
        t3 = time.perf_counter()
    print(f"\nGoProgram open {t1 - t0:.3f}s, first locate {t2 - t1:.3f}s, "
          f"lookup_type {t3 - t2:.3f}s")
    assert t1 - t0 < 1.0 and t2 - t1 < 2.0 and t3 - t2 < 2.0


# --- against gdb ---------------------------------------------------------------

def _probe(binary, situation, func, tmp_path):
    if not shutil.which("gdb"):
        pytest.skip("gdb is not installed")
    out = tmp_path / "probe.json"
    env = dict(os.environ, GOMAP_ROOT=ROOT, GOMAP_PROBE_FUNC=func, GOMAP_PROBE_OUT=str(out))
    proc = subprocess.run(
        ["gdb", "-nx", "-batch", "-iex", "set auto-load python-scripts off",
         "-x", os.path.join(ROOT, "tests", "go", "gdb_locate_probe.py"),
         "--args", binary, situation],
        env=env, capture_output=True, text=True, timeout=120)
    ground = next((json.loads(line[7:]) for line in proc.stdout.splitlines()
                   if line.startswith("GROUND ")), None)
    data = json.loads(out.read_text())
    assert "probe_error" not in data, data.get("probe_error")
    return data, ground


def _agree(rec):
    """Both say optimised away, or the same address and bytes."""
    if "gdb_error" in rec:
        return True  # gdb cannot either: nothing to compare
    if rec["gdb_optimised_out"]:
        return "optimised away" in rec.get("mine_error", "")
    if "mine_error" in rec:
        return False
    if rec["gdb_address"] is not None:
        # gdb sizes Go func values as 1 byte; compare what it read.
        return rec["mine_address"] == rec["gdb_address"] and \
            rec["mine_hex"].startswith(rec["gdb_hex"])
    data = bytes.fromhex(rec["mine_hex"])
    return rec["mine_address"] is None and all(
        int.from_bytes(data[off:off + size], "little") == val for off, size, val in rec["gdb_leaves"])


@pytest.mark.parametrize("build,situation,func", [
    ("debug", "small", "main.checkpointStrInt"),
    ("opt", "small", "main.checkpointStrInt"),
    ("debug", "bigkeys", "main.checkpointBig"),
    ("opt", "structvals", "main.checkpointRec"),
])
def test_locate_agrees_with_gdb(binaries, tmp_path, build, situation, func):
    data, ground = _probe(binaries[build], situation, func, tmp_path)
    records = data["records"]
    bad = [r for r in records if not _agree(r)]
    assert not bad, bad
    inner = [r for r in records if r["name"] == "m" and not r["outer"] and "mine_hex" in r]
    assert inner, "m was never located in the checkpoint frame"
    # The map value is the *hmap the program itself reported.
    for r in inner:
        assert int.from_bytes(bytes.fromhex(r["mine_hex"]), "little") == ground["hmap"]
        assert r["mine_type"] == ground["type"]
    # The caller's frame (through the unwound registers) was compared too.
    assert sum(1 for r in records if r["outer"] and "mine_hex" in r) >= 3
    if build == "debug":  # both the register and the CFA slot were exercised
        assert {r["mine_address"] is None for r in inner} == {True, False}
    else:  # and the optimised build's gap where m is gone
        assert any("optimised away" in r.get("mine_error", "") for r in records
                   if r["name"] == "m" and not r["outer"])


# --- the Go test programs themselves ----------------------------------------------

def _ground(binary, situation):
    proc = subprocess.run([binary, situation], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = [l for l in proc.stdout.splitlines() if l.startswith("GROUND ")]
    assert len(lines) == 1 and proc.stdout.rstrip().endswith("DONE")
    return json.loads(lines[0][7:])


@pytest.mark.parametrize("build", ["debug", "opt"])
def test_situations_are_what_they_claim(binaries, build):
    """Each program's own ground truth shows the map state it is named for;
    the debugger tests rely on it."""
    g = {s: _ground(binaries[build], s) for s in
         ("small", "large", "midgrow", "samesize", "deleted", "iterator",
          "strkeys", "structvals", "bigkeys")}
    for s, d in g.items():
        assert d["count"] == d["len"] == len(d["entries"]), s
        assert d["hmap"] and d["buckets"], s
    assert g["small"]["type"] == "map[string]int" and g["small"]["B"] == 0
    assert g["large"]["count"] == 100000 and g["large"]["oldbuckets"] == 0
    mid = g["midgrow"]
    assert mid["oldbuckets"] and mid["flags"] & 8 == 0 and 0 < mid["nevacuate"] < 2 ** (mid["B"] - 1)
    same = g["samesize"]
    assert same["oldbuckets"] and same["flags"] & 8
    assert g["deleted"]["count"] == 200
    it = g["iterator"]
    assert it["oldbuckets"] and it["flags"] & 2  # oldIterator: an iterator may use oldbuckets
    assert any(e["k"] == "" for e in g["strkeys"]["entries"])
    assert g["structvals"]["type"] == "map[int32]main.Rec"
    assert g["structvals"]["entries"][0]["v"].keys() == {"A", "B", "C", "D", "E"}
    assert g["bigkeys"]["type"] == "map[main.BigKey]main.BigVal"
    assert subprocess.run([binaries[build], "nosuch"], capture_output=True).returncode == 2


def test_function_names_from_symbols(programs):
    prog = programs["opt"]
    f = prog.find_function("runtime.mapassign_fast64")
    assert f is not None
    assert prog.function_at(f.low_pc + 1) == "runtime.mapassign_fast64"
    assert prog.function_at(f.low_pc - 1) != "runtime.mapassign_fast64"
    assert prog.find_function("runtime.hashGrow") is not None


@pytest.mark.parametrize("build", ["debug", "opt"])
def test_package_variables(programs, build):
    """A package variable is found by its full name from any pc (even one
    outside Go code), at its DW_OP_addr address, the symbol's address."""
    prog = programs[build]
    sym = {name: addr for addr, _, name in prog._symbols()}  # functions only: no main.sink
    f = prog.find_function("main.checkpointInt64")
    for pc in (f.low_pc, 0x10):
        mem = {}
        v = prog.locate("main.sink", pc, lambda r: pytest.fail("no register read"),
                        lambda a, n: mem.setdefault(a, (42).to_bytes(n, "little")))
        assert v.type.name == "int" and v.type.kind is Kind.INT
        assert list(mem) == [v.address] and int.from_bytes(v.data, "little") == 42
    symtab = prog._elf.get_section_by_name(".symtab")
    assert v.address == symtab.get_symbol_by_name("main.sink")[0]["st_value"]
    assert "main.sink" not in sym
    units = prog.locate("main.units", f.low_pc, lambda r: 0, lambda a, n: b"\0" * n)
    assert units.type.name == "map[string]int" and units.type.strip_typedefs().kind is Kind.POINTER
    with pytest.raises(GomapError, match="no variable named 'main.nosuch'"):
        prog.locate("main.nosuch", f.low_pc, lambda r: 0, lambda a, n: b"\0" * n)


def test_leb128_readers():
    from gomapcore.goframe import read_sleb, read_uleb
    # DWARF 5 spec, section 7.6 examples
    for data, value in {b"\x02": 2, b"\x7f": 127, b"\x80\x01": 128, b"\x81\x01": 129,
                        b"\x82\x01": 130, b"\xb9\x64": 12857}.items():
        assert read_uleb(data, 0) == (value, len(data))
    for data, value in {b"\x02": 2, b"\x7e": -2, b"\xff\x00": 127, b"\x81\x7f": -127,
                        b"\x80\x01": 128, b"\x80\x7f": -128, b"\x40": -64, b"\x3f": 63}.items():
        assert read_sleb(data, 0) == (value, len(data))
    assert read_sleb(b"\x00\x7e", 1) == (-2, 2)   # from an offset
