"""`gomap step` and `gomap frame`: mapassign seen as the steps of Go's algorithm.

mapassign (map.go, and the engine's copies of it) goes through a few points
that matter to someone learning the map: the bucket is chosen (hash & mask),
growWork evacuates, the chain is scanned until a free slot or the key is found,
a full chain takes an overflow bucket, a map over its load factor starts a grow
and starts again, the key is written and count goes up. `gomap step` moves
line by line (the debugger's own `next`, so no code of ours runs in the
program) and stops at the first line where one of these has happened,
detected from the frame's locals (hash, bucket, b, insertb/inserti) and the
hmap header, compared before and after each line.

The locals carry Go's names in both runtimes: the engine keeps them, and Go's
debug build (-N -l) has them in DWARF. A local not yet assigned holds stack
garbage, so "changed" means "changed to something that makes sense" (a bucket
index below 2^B, a pointer into a bucket array).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .follow import describe_change
from .regs import argument_words, classify, layout_for, read_engine_maptype, read_go_maptype
from .snapshot import MIN_TOP_HASH, Hmap, read_hmap, tophash_state
from .target import GomapError, Target

MAX_LINES = 400     # a mapassign is a few dozen lines even with a full chain
BODY_NAMES = ("fastAssign", "mapassign")


def is_assign_frame(name: Optional[str]) -> bool:
    if not name:
        return False
    base = name.split("(")[0]
    return any(n in base for n in BODY_NAMES)


def _local(target: Target, name: str) -> Optional[int]:
    try:
        v = target.evaluate(name)
    except GomapError:
        return None
    if not v.data:
        return None
    return int.from_bytes(v.data[:8], "little")


@dataclass
class AssignState:
    function: str
    runtime: str
    t: int
    h: int
    hmap: Optional[Hmap]
    locals: dict = field(default_factory=dict)
    bucketsize: int = 0

    @property
    def in_body(self) -> bool:
        return self.locals.get("inserti") is not None or self.locals.get("insertb") is not None


def read_state(target: Target) -> AssignState:
    fn = target.function_name() or "?"
    call = classify(fn)
    runtime = call.runtime if call else ("engine" if "gomap::" in fn else "go")
    t = h = 0
    if call is not None:
        # At the first instruction the frame's argument slots are not written
        # yet: regs.py takes the registers there, the frame elsewhere.
        try:
            _, t, h, _ = argument_words(target, call)
        except GomapError:
            t = h = 0
    if not t or not h:
        t, h = _local(target, "t") or 0, _local(target, "h") or 0
    hm = None
    bs = 0
    if t and h:
        try:
            mti = read_engine_maptype(target, t) if runtime == "engine" else read_go_maptype(target, t)
            bs = mti.bucketsize
            hm = read_hmap(target, layout_for(mti), h)
        except GomapError:
            hm, bs = None, 0
    names = ("hash", "bucket", "b", "insertb", "inserti", "insertk", "elem", "top")
    return AssignState(fn, runtime, t, h, hm, {n: _local(target, n) for n in names}, bs)


def _in_array(st: AssignState, p: Optional[int]) -> Optional[str]:
    """'new bucket 5' / 'old bucket 2' when p points at the head bucket of an array."""
    if not p or st.hmap is None or not st.bucketsize:
        return None
    for which, base, n in (("new", st.hmap.buckets, 1 << st.hmap.B),
                           ("old", st.hmap.oldbuckets, 1 << max(st.hmap.B - 1, 0))):
        if base and base <= p < base + n * st.bucketsize and (p - base) % st.bucketsize == 0:
            return f"{which} bucket {(p - base) // st.bucketsize}"
    return None


def _slot_of(st: AssignState) -> Optional[tuple[int, int]]:
    """(bucket address, slot) of the chosen slot: fast variants keep insertb and an
    index; the generic mapassign keeps inserti as a pointer to the tophash byte."""
    ib, ii = st.locals.get("insertb"), st.locals.get("inserti")
    if ib and ii is not None and ii < 8:
        return ib, ii
    if ii and ii >= 1 << 12 and st.locals.get("b"):
        b = st.locals["b"]
        if 0 <= ii - b < 8:
            return b, ii - b
    return None


def events_between(a: AssignState, b: AssignState) -> list[str]:
    """What the lines between two states did, in map terms."""
    out: list[str] = []
    if a.hmap is not None and b.hmap is not None:
        for line in describe_change(a.hmap, b.hmap):
            if line.startswith("grow started") or line.startswith("same-size grow started"):
                out.append(line + " (hashGrow; mapassign starts again)")
            elif line.startswith("evacuated") or line.startswith("grow finished"):
                out.append("growWork done: " + line)
            elif line.startswith("noverflow"):
                out.append("overflow taken: " + line)
            elif line.startswith("count"):
                out.append("key inserted: " + line)
            elif line.startswith("first bucket array"):
                out.append(line)
    nb, ob = b.locals.get("bucket"), a.locals.get("bucket")
    if b.hmap is not None and nb is not None and nb != ob and nb < (1 << b.hmap.B):
        hv = b.locals.get("hash")
        out.append(f"bucket chosen: hash {hv:#x} & {(1 << b.hmap.B) - 1:#x} \u2192 bucket {nb} "
                   f"of {1 << b.hmap.B}" + (f" at {b.hmap.buckets + nb * b.bucketsize:#x}"
                                             if b.hmap.buckets and b.bucketsize else ""))
    sa, sb = _slot_of(a), _slot_of(b)
    if sb is not None and sb != sa:
        where = _in_array(b, sb[0]) or f"overflow bucket {sb[0]:#x}"
        out.append(f"slot found: {where} slot {sb[1]}")
    return out


def describe_state(target: Target, st: AssignState) -> str:
    """`gomap frame`: the current mapassign's locals in map terms."""
    h = st.hmap
    lines = [f"{st.function.split('(')[0]} ({'engine' if st.runtime == 'engine' else 'Go runtime'})"]
    if h is None:
        lines.append("  h = nil or unreadable")
        return "\n".join(lines)
    grow = f", growing (oldbuckets {h.oldbuckets:#x}, nevacuate {h.nevacuate})" if h.oldbuckets else ""
    lines.append(f"  map {h.addr:#x}: count {h.count}, B {h.B} ({1 << h.B} buckets at {h.buckets:#x}){grow}")
    L = st.locals
    if L.get("hash") is not None:
        hv = L["hash"]
        top = (hv >> 56) & 0xFF
        top = top + MIN_TOP_HASH if top < MIN_TOP_HASH else top
        lines.append(f"  hash   = {hv:#018x}  tophash {top:#04x}, bucket index hash & {(1 << h.B) - 1:#x} "
                     f"= {hv & ((1 << h.B) - 1)}")
    bk = L.get("bucket")
    if bk is not None:
        ok = bk < (1 << h.B)
        lines.append(f"  bucket = {bk}" + ("" if ok else "  (not assigned yet)"))
    b = L.get("b")
    if b:
        lines.append(f"  b      = {b:#x}  " + (_in_array(st, b) or "an overflow bucket (or not assigned yet)"))
    slot = _slot_of(st)
    if slot is not None:
        addr, i = slot
        try:
            th = target.read_memory(addr + i, 1)[0]
        except GomapError:
            # Before mapassign picks a slot its local holds leftover stack bytes.
            lines.append(f"  insert = no slot chosen yet (the local holds {addr:#x}, "
                         "not a readable bucket)")
        else:
            lines.append(f"  insert = {_in_array(st, addr) or f'bucket {addr:#x}'} slot {i} "
                         f"(tophash {th:#x}: {tophash_state(th)})")
    else:
        lines.append("  insert = no slot chosen yet")
    if L.get("elem"):
        lines.append(f"  elem   = {L['elem']:#x}")
    return "\n".join(lines)


def step(target: Target, max_lines: int = MAX_LINES) -> str:
    """Advance to the next meaningful point of the current mapassign."""
    from .stops import StopControl
    if not isinstance(target, StopControl):
        raise GomapError(f"stepping is not available in this {target.name} adapter")
    if not target.is_running():
        from .target import NotRunningError
        raise NotRunningError()
    fn = target.function_name()
    if classify(fn) is None and not is_assign_frame(fn):
        raise GomapError(f"not stopped inside a mapassign (the selected frame is {fn or 'unknown'}); "
                         "use `gomap break assign` first")
    st = read_state(target)
    # The engine's mapassign_fast* are one-line wrappers around the shared body:
    # step into it so that the locals exist.
    for _ in range(4):
        if st.in_body:
            break
        target.step_into()
        st = read_state(target)
    start_fn = st.function
    for n in range(max_lines):
        target.step_line()
        fn = target.function_name()
        if fn != start_fn:
            if is_assign_frame(fn) or classify(fn) is not None:
                st = read_state(target)
                start_fn = st.function
                continue
            return f"mapassign returned to {fn or 'the caller'} after {n + 1} lines"
        nst = read_state(target)
        if nst.locals.get("insertb") != st.locals.get("insertb") and nst.locals.get("insertb"):
            # insertb is stored one line before inserti: read the pair together.
            target.step_line()
            if target.function_name() == start_fn:
                nst = read_state(target)
        ev = events_between(st, nst)
        if ev:
            return "\n".join(ev) + "\n" + describe_state(target, nst)
        st = nst
    return f"no map event in {max_lines} lines\n" + describe_state(target, st)


def frame(target: Target) -> str:
    if not target.is_running():
        from .target import NotRunningError
        raise NotRunningError()
    fn = target.function_name()
    if classify(fn) is None and not is_assign_frame(fn):
        raise GomapError(f"the selected frame ({fn or 'unknown'}) is not a mapassign")
    st = read_state(target)
    return describe_state(target, st)
