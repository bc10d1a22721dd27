"""What keeps `gomap break assign --grow` cheap (issue 7), asserted as behaviour,
never as a time: a stop reads the hmap header and nothing else (the map type
once per session), the debug samples carry a gdb index, and
bench/plugin_bench.py's session clock (plugin_bench_break.py) splits a real session into its parts.
"""
from __future__ import annotations

import json
import re
import shutil
import sys

import pytest

import dbg

# Loaded into the debugger next to the plugin: records every Target.read_memory
# made while gomapcore decides a hit, and prints them after the decision.
PROBE = '''
import json
from gomapcore import breaks
from gomapcore.target import Target

_reads = []
for _cls in Target.__subclasses__():
    if "read_memory" in _cls.__dict__:
        def _read(self, addr, size, _real=_cls.__dict__["read_memory"]):
            _reads.append([addr, size])
            return _real(self, addr, size)
        _cls.read_memory = _read

_real_on_hit = breaks.BreakCondition.on_hit

def _on_hit(self, target, symbol):
    del _reads[:]
    try:
        return _real_on_hit(self, target, symbol)
    finally:
        print("@@reads " + json.dumps(_reads) + "@@", flush=True)

breaks.BreakCondition.on_hit = _on_hit
'''

HMAP_SIZE = 48          # sizeof(hmap): count, flags, B, noverflow, hash0, buckets, oldbuckets, nevacuate, extra
KEYS = 10_000


def _grows(n: int) -> int:
    sys.path.insert(0, str(dbg.REPO / "bench"))
    import plugin_bench_break
    return plugin_bench_break._grow_count(n)


def _run_with_probe(debugger: str, tmp_path, extra: list[str]):
    probe = tmp_path / "gomap_read_probe.py"
    probe.write_text(PROBE)
    load = f"source {probe}" if debugger == "gdb" else f"command script import {probe}"
    start = ["break main", "run"] if debugger == "gdb" else ["breakpoint set -n main",
                                                              "process launch"]
    return dbg.run(debugger, dbg.sample("grow"), ["--keys", str(KEYS), "--seed", "1"],
                   [load] + start + extra)


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
def test_a_grow_stop_reads_only_the_hmap_header(debugger, tmp_path):
    if not dbg.have(debugger):
        pytest.skip(f"{debugger} not installed")
    grows = _grows(KEYS)
    r = _run_with_probe(debugger, tmp_path,
                        ["gomap break assign --grow"] + ["continue"] * (grows + 1))
    stops = re.findall(r"^gomap break \d+: gomap::hashGrow: map (0x[0-9a-f]+) .*grow starts",
                       r.raw, re.M)
    reads = [json.loads(m) for m in re.findall(r"^@@reads (.*)@@$", r.raw, re.M)]
    assert len(stops) == grows and len(reads) == grows, r.raw[-3000:]
    h = int(stops[0], 16)
    # The first hit also reads the map type (sizes, kinds, the type's name): once.
    assert [h, HMAP_SIZE] in reads[0]
    assert sum(size for _, size in reads[0]) < 1024, reads[0]
    # Every later hit: the 48 header bytes, no bucket, no type read again.
    for i, hit in enumerate(reads[1:], 2):
        assert hit == [[h, HMAP_SIZE]], f"hit {i}: {hit}"


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
def test_a_declined_hit_reads_only_the_hmap_header(debugger, tmp_path):
    """--same-size over inserts only: every hashGrow hit is a doubling, declined
    after the header read; the program runs to its end without a stop."""
    if not dbg.have(debugger):
        pytest.skip(f"{debugger} not installed")
    r = _run_with_probe(debugger, tmp_path, ["gomap break assign --grow --same-size",
                                             "continue"])
    reads = [json.loads(m) for m in re.findall(r"^@@reads (.*)@@$", r.raw, re.M)]
    assert len(reads) == _grows(KEYS), r.raw[-3000:]
    assert not re.search(r"^gomap break \d+: gomap::hashGrow", r.raw, re.M)
    assert "exited" in r.raw
    for hit in reads[1:]:
        assert len(hit) == 1 and hit[0][1] == HMAP_SIZE, hit


def test_debug_samples_carry_a_gdb_index():
    """samples/CMakeLists.txt runs gdb-add-index after linking a debug build:
    gdb then skips indexing ~3 MB of DWARF at every start-up."""
    if shutil.which("gdb-add-index") is None:
        pytest.skip("gdb-add-index not installed: the samples are built without an index")
    from elftools.elf.elffile import ELFFile
    for name in ("grow", "fast64", "faststr"):
        with open(dbg.sample(name), "rb") as f:
            elf = ELFFile(f)
            assert elf.get_section_by_name(".gdb_index") is not None, name
            # lldb would trust a .debug_names and miss what it lacks: none is written
            assert elf.get_section_by_name(".debug_names") is None, name


def _unit_typedefs(elf, unit_suffix: str) -> set[str]:
    """Names of the typedefs described in the compilation unit of that source."""
    for cu in elf.get_dwarf_info().iter_CUs():
        if cu.get_top_DIE().attributes["DW_AT_name"].value.decode().endswith(unit_suffix):
            return {d.attributes["DW_AT_name"].value.decode() for d in cu.iter_DIEs()
                    if d.tag == "DW_TAG_typedef" and "DW_AT_name" in d.attributes}
    raise AssertionError(f"no compilation unit {unit_suffix}")


def test_sample_units_describe_only_the_types_they_use():
    """The debug preset no longer passes -fno-eliminate-unused-debug-types
    (top CMakeLists.txt): gdb expands the unit holding main at every
    start-up, and every type of every header made it ~500 KB. The types a
    person and the plugins use stay complete in the sample."""
    from elftools.elf.elffile import ELFFile
    with open(dbg.sample("grow"), "rb") as f:
        typedefs = _unit_typedefs(ELFFile(f), "samples/grow.cpp")
    # <string> declares std::u16string; grow.cpp never uses it
    assert "u16string" not in typedefs
    # gomap::Map<K,V>::header_type, which the sample uses (complete_debug_types)
    assert "header_type" in typedefs
    r = dbg.run("gdb", dbg.sample("grow"), ["--keys", "100", "--seed", "1"],
                ['break checkpoint if $_streq(what, "done")', "run", "up",
                 "ptype m.h", "ptype m.h->buckets", "gomap print m"])
    assert "hash<unsigned long, long>" in r.out("ptype m.h"), r.raw[-2000:]
    assert "keys[8]" in r.out("ptype m.h->buckets") and "overflow" in r.out("ptype m.h->buckets")
    assert r.out("gomap print m").startswith("map[uint64]int64 ["), r.out("gomap print m")


@pytest.mark.parametrize("debugger", dbg.DEBUGGERS)
def test_bench_session_clock_splits_a_real_session(debugger, tmp_path):
    """bench/plugin_bench.py's --grow session in a real debugger: every clock
    mark is printed, in order, every grow stopped once and was decided once."""
    if not dbg.have(debugger):
        pytest.skip(f"{debugger} not installed")
    dbg.sample("grow")
    sys.path.insert(0, str(dbg.REPO / "bench"))
    import plugin_bench_break as plugin_bench
    n = 1000
    grows = plugin_bench._grow_count(n)
    r = plugin_bench._break_session(debugger, ["--keys", str(n), "--seed", "1"], "grow", grows)
    assert r["stops"] == grows and r["decisions"] == grows
    parts = ("up", "plugin", "launch", "arm", "run", "exit")
    assert all(r[p] >= 0 for p in parts), r
    assert abs(sum(r[p] for p in parts) - r["total"]) < 1e-3, r
    d = plugin_bench._break_session(debugger, ["--keys", str(n), "--seed", "1"], "declined", grows)
    assert d["stops"] == 0 and d["decisions"] == grows
    # the peer: the debugger's own breakpoint at hashGrow, no plugin, stops as often
    own = plugin_bench._break_session(debugger, ["--keys", str(n), "--seed", "1"], "native", grows)
    assert own["stops"] == grows and own["decisions"] == 0
    # --grow with the debugger's own index cache on: the cache is written where told
    cache = tmp_path / "index-cache"
    c = plugin_bench._break_session(debugger, ["--keys", str(n), "--seed", "1"], "cached", grows,
                                    index_cache=cache)
    assert c["stops"] == grows and c["decisions"] == grows
    assert cache.is_dir() and any(cache.iterdir()), "the debugger wrote no index cache"
