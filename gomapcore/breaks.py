"""`gomap break assign`: stop on a map write only when a condition holds.

The cost of a conditional breakpoint is the number of times the program
traps, not the condition: a trap and a Python callback cost microseconds, a
million of them seconds. So each condition is decided at the cheapest symbol
where it can be decided, the one that runs only when the event happens:

  --grow, --same-size  hashGrow      (runs once per grow: ~20 times for 1M inserts)
  --overflow           newoverflow   (only when a bucket chain is full; its calls
                                      from evacuate are declined: they are not assigns)
  --evacuate           evacuate      (once per old bucket moved)
  --key, --new-key,    the mapassign entry points (every assign: unavoidable,
  --map alone                         the key is only known there)

--map narrows any of them by comparing the hmap argument (a register read);
--key compares the key argument (registers, and the string's bytes for
string keys); --new-key looks the key up the way mapassign would: hash →
bucket → chain, with the engine's hash or Go's own (gomapcore/gohash.py);
only a Go key type whose hash the compiler generated is found by a scan.

Arguments are read from registers at the first instruction of each function
(breakpoints are placed there, not after the prologue): System V for the
engine, Go's register ABI for runtime.* (regs.py has the table).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from .keys import KeyType, KeyValue, format_key, keys_equal, parse_key
from .layout import MapRef
from .regs import (MapTypeInfo, key_hash, layout_for, old_bucket_of, read_engine_maptype,
                   read_go_maptype, tophash)
from .snapshot import MIN_TOP_HASH, SAME_SIZE_GROW, Hmap, read_chain, read_hmap, take_snapshot
from .stops import GomapStop, StopControl, arm, function_address
from .target import GomapError, Target

LOAD_FACTOR_NUM, LOAD_FACTOR_DEN, BUCKET_CNT = 13, 2, 8

# Entry points per runtime and event. Go's fast variants evacuate through their
# own evacuate_fast*; the engine has one evacuate.
SYMBOLS = {
    "engine": {
        "assign": ("gomap::mapassign", "gomap::mapassign_fast32", "gomap::mapassign_fast64",
                   "gomap::mapassign_faststr"),
        "grow": ("gomap::hashGrow",),
        "overflow": ("gomap::newoverflow",),
        "evacuate": ("gomap::evacuate",),
    },
    "go": {
        "assign": ("runtime.mapassign", "runtime.mapassign_fast32", "runtime.mapassign_fast64",
                   "runtime.mapassign_faststr", "runtime.mapassign_fast32ptr",
                   "runtime.mapassign_fast64ptr"),
        "grow": ("runtime.hashGrow",),
        "overflow": ("runtime.(*hmap).newoverflow",),
        "evacuate": ("runtime.evacuate", "runtime.evacuate_fast32", "runtime.evacuate_fast64",
                     "runtime.evacuate_faststr"),
    },
}

# Argument registers at the entry (t, h, third argument); newoverflow is a method
# in Go (receiver h first) but a plain function (t, h, b) in the engine.
ARG_REGS = {"engine": ("rdi", "rsi", "rdx", "rcx"), "go": ("rax", "rbx", "rcx", "rdi")}


def over_load_factor(count: int, B: int) -> bool:
    """map.go overLoadFactor: more than 8 entries and over 6.5 per bucket."""
    return count > BUCKET_CNT and count > LOAD_FACTOR_NUM * ((1 << B) // LOAD_FACTOR_DEN)


def too_many_overflow_buckets(noverflow: int, B: int) -> bool:
    return noverflow >= 1 << min(B, 15)


def grow_reason(count: int, B: int, noverflow: int) -> str:
    """Why hashGrow runs, from the header it sees (count not yet incremented)."""
    if over_load_factor(count + 1, B):
        limit = max(BUCKET_CNT, LOAD_FACTOR_NUM * ((1 << B) // LOAD_FACTOR_DEN))
        return f"doubling: count+1 = {count + 1} > {limit} (overLoadFactor at B {B})"
    return (f"same size: noverflow {noverflow} \u2265 2^{min(B, 15)} "
            "(tooManyOverflowBuckets)")


@dataclass
class BreakSpec:
    map_expr: Optional[str] = None
    key_text: Optional[str] = None
    new_key: bool = False
    grow: bool = False
    overflow: bool = False
    evacuate: bool = False
    same_size: bool = False

    @property
    def event(self) -> str:
        events = [e for e, on in (("grow", self.grow or self.same_size), ("overflow", self.overflow),
                                  ("evacuate", self.evacuate)) if on]
        if len(events) > 1:
            raise GomapError("choose one of --grow/--same-size, --overflow, --evacuate "
                             "(each stops at a different runtime function)")
        if events and self.key_text is not None:
            raise GomapError(f"--key is decided at the mapassign entry; it cannot be combined with "
                             f"--{events[0].replace('grow', 'grow')} (use --map to narrow instead)")
        return events[0] if events else "assign"

    def describe(self) -> str:
        parts = []
        if self.map_expr:
            parts.append(f"map {self.map_expr}")
        if self.key_text is not None:
            parts.append(f"key {self.key_text}")
        if self.new_key:
            parts.append("new key")
        if self.same_size:
            parts.append("same-size grow")
        elif self.grow:
            parts.append("grow")
        if self.overflow:
            parts.append("overflow bucket taken")
        if self.evacuate:
            parts.append("evacuation")
        return "assign" + (": " + ", ".join(parts) if parts else " (every assign)")


def detect_runtime(target: Target) -> str:
    """'engine' or 'go', by which runtime's mapassign the program has."""
    if function_address(target, "gomap::mapassign") is not None:
        return "engine"
    if function_address(target, "runtime.mapassign") is not None:
        return "go"
    raise GomapError("no map runtime in this program: neither gomap::mapassign nor "
                     "runtime.mapassign is a symbol")


@dataclass
class BreakCondition:
    """Decides, at a hit, whether to stop, and what to say."""
    spec: BreakSpec
    runtime: str
    number: int = 0
    map_addr: Optional[int] = None
    map_ref: Optional[MapRef] = None
    key_type: Optional[KeyType] = None
    key: Optional[KeyValue] = None
    _maptypes: dict = field(default_factory=dict)
    _hashers: dict = field(default_factory=dict)   # (maptype address, key material) -> gohash.GoHasher
    _last_stop: Optional[tuple] = None
    _assign: Optional[tuple] = None    # the last assign decided: (maptype, hmap, key type, key, raw)

    # --- shared readers -----------------------------------------------------------
    def _regs(self, target: Target) -> tuple[int, int, int, int]:
        r = ARG_REGS[self.runtime]
        return tuple(target.register(n) for n in r)  # type: ignore[return-value]

    def _maptype(self, target: Target, t: int) -> MapTypeInfo:
        mti = self._maptypes.get(t)
        if mti is None:
            mti = read_engine_maptype(target, t) if self.runtime == "engine" else read_go_maptype(target, t)
            self._maptypes[t] = mti
        return mti

    def _hmap(self, target: Target, mti: MapTypeInfo, h: int) -> Hmap:
        return read_hmap(target, layout_for(mti), h)

    def _line(self, symbol: str, h: Optional[Hmap], mti: Optional[MapTypeInfo], key: str, why: str) -> str:
        name = mti.name if mti else "map"
        where = f"map {h.addr:#x} ({name})" if h else "map"
        state = f" count {h.count} B {h.B}" if h else ""
        k = f" key {key}" if key else ""
        return f"gomap break {self.number}: {symbol.split('(')[0]}: {where}{k}{state}: {why}"

    # --- per event --------------------------------------------------------------------
    def on_hit(self, target: Target, symbol: str) -> Optional[str]:
        ev = self.spec.event
        if ev == "grow":
            line = self._on_grow(target, symbol)
        elif ev == "overflow":
            line = self._on_overflow(target, symbol)
        elif ev == "evacuate":
            line = self._on_evacuate(target, symbol)
        else:
            line = self._on_assign(target, symbol)
        if line is not None and self.runtime == "go" and self._restarted(target, symbol, ev):
            return None
        return line

    def _restarted(self, target: Target, symbol: str, ev: str) -> bool:
        """A Go function whose prologue finds the stack too small (or a
        preemption request) calls morestack, which runs the function again from
        its first instruction on a new stack: the same event hits the entry
        breakpoint twice. The second hit has the same arguments and header; it
        is the same event, not a new one. (For assigns the stack must also have
        moved: the same key assigned twice in a row from one frame is two events.)"""
        regs = self._regs(target)
        # Only registers that hold arguments survive morestack: (t, h) for
        # hashGrow, a third for evacuate/newoverflow/fast keys, a fourth for a
        # string key's length.
        nargs = {"grow": 2, "evacuate": 3, "overflow": 3}.get(
            ev, 4 if symbol.endswith("_faststr") else 3)
        h = regs[1]
        if ev == "overflow":
            h = regs[0]          # Go's newoverflow is a method: receiver h first
        try:
            header = target.read_memory(h, 48) if h else b""
            sp = target.register("rsp")
        except GomapError:
            return False
        state = (symbol, regs[:nargs], header)
        last, self._last_stop = self._last_stop, (state, sp)
        if last is None or last[0] != state:
            return False
        if ev != "assign" or last[1] != sp:
            return True
        # Same frame, same arguments, same header. A second assign for real
        # follows a first that inserted the key (count changed) unless the key
        # was there already; so while it is still absent this is the first
        # call seen again. LLDB reports one hit twice when a signal (Go's
        # SIGURG preemption) lands while it steps off the breakpoint.
        if self._assign is None or not h:
            return False
        try:
            return not self._present(target, *self._assign)
        except GomapError:
            return False

    def _on_grow(self, target: Target, symbol: str) -> Optional[str]:
        t, h, _, _ = self._regs(target)
        if self.map_addr is not None and h != self.map_addr:
            return None
        mti = self._maptype(target, t)
        hm = self._hmap(target, mti, h)
        doubling = over_load_factor(hm.count + 1, hm.B)
        if self.spec.same_size and doubling:
            return None
        to = f"B {hm.B}\u2192{hm.B + 1}" if doubling else f"B stays {hm.B}"
        return self._line(symbol, hm, mti, "", f"grow starts ({to}; {grow_reason(hm.count, hm.B, hm.noverflow)})")

    def _on_overflow(self, target: Target, symbol: str) -> Optional[str]:
        a0, a1, a2, _ = self._regs(target)
        t, h, b = (a0, a1, a2) if self.runtime == "engine" else (a1, a0, a2)
        if self.map_addr is not None and h != self.map_addr:
            return None
        if target.caller_function_name and "evacuate" in (target.caller_function_name() or ""):
            return None   # evacuate filling a new bucket's chain, not an assign
        mti = self._maptype(target, t)
        hm = self._hmap(target, mti, h)
        return self._line(symbol, hm, mti, "",
                          f"bucket {b:#x} is full: an overflow bucket is taken (noverflow {hm.noverflow})")

    def _on_evacuate(self, target: Target, symbol: str) -> Optional[str]:
        t, h, oldbucket, _ = self._regs(target)
        if self.map_addr is not None and h != self.map_addr:
            return None
        mti = self._maptype(target, t)
        hm = self._hmap(target, mti, h)
        if not hm.oldbuckets:
            return None
        first = target.read_memory(hm.oldbuckets + oldbucket * mti.bucketsize, 1)[0]
        if 1 < first < MIN_TOP_HASH:
            return None   # already evacuated: evacuate only advances the mark
        nold = 1 << hm.B if hm.flags & SAME_SIZE_GROW else 1 << max(hm.B - 1, 0)
        return self._line(symbol, hm, mti, "",
                          f"evacuating old bucket {oldbucket} of {nold} (nevacuate {hm.nevacuate})")

    def _on_assign(self, target: Target, symbol: str) -> Optional[str]:
        t, h, k0, k1 = self._regs(target)
        if self.map_addr is not None and h != self.map_addr:
            return None
        mti = self._maptype(target, t)
        kt = mti.key_type()
        key, raw = self._key_arg(target, symbol, mti, kt, k0, k1)
        why = []
        if self.spec.key_text is not None:
            want = parse_key(self.spec.key_text, kt)
            if not keys_equal(key, want):
                return None
            why.append(f"key {format_key(key, kt)}")
        if not h:
            return self._line(symbol, None, mti, format_key(key, kt), "nil map: this assign panics")
        hm = self._hmap(target, mti, h)
        self._assign = (mti, hm, kt, key, raw)
        if self.spec.new_key:
            if self._present(target, mti, hm, kt, key, raw):
                return None
            why.append("new key")
        if not why:
            why.append("assign")
        return self._line(symbol, hm, mti, format_key(key, kt), ", ".join(why))

    def _key_arg(self, target: Target, symbol: str, mti: MapTypeInfo, kt: KeyType,
                 k0: int, k1: int) -> tuple[KeyValue, bytes]:
        from .keys import key_from_int_bytes, read_string
        s = symbol.split("(")[0]
        if s.endswith("_faststr"):
            n = k1 - (1 << 64) if k1 >= 1 << 63 else k1
            return read_string(target, k0, n), k0.to_bytes(8, "little") + k1.to_bytes(8, "little")
        if s.endswith("_fast64") or s.endswith("_fast32"):
            n = 8 if s.endswith("_fast64") else 4
            raw = (k0 & ((1 << (8 * n)) - 1)).to_bytes(n, "little")
            return key_from_int_bytes(kt, raw), raw
        if s.endswith("ptr"):
            return k0, k0.to_bytes(8, "little")
        raw = target.read_memory(k0, mti.key.size)
        if kt.kind == "string":
            return (read_string(target, int.from_bytes(raw[:8], "little"),
                                int.from_bytes(raw[8:16], "little", signed=True)), raw)
        return key_from_int_bytes(kt, raw), raw

    def _hash(self, target: Target, mti: MapTypeInfo, raw: bytes, seed: int) -> Optional[int]:
        """The key's hash as the runtime computes it, or None when it cannot be redone."""
        try:
            return key_hash(target, self.runtime, mti, raw, seed, self._hashers)[0]
        except GomapError:
            return None          # a composite key's hasher, or before alginit: scan

    def _present(self, target: Target, mti: MapTypeInfo, hm: Hmap, kt: KeyType, key, raw: bytes) -> bool:
        """Is key in the map now? From its hash, as mapassign looks: the old
        bucket's chain while that is not evacuated, else the new bucket's;
        only those buckets are read. Without a hash, every bucket."""
        from .follow import find_key, slot_key
        if not hm.buckets:
            return False
        lay = layout_for(mti)
        hv = self._hash(target, mti, raw, hm.hash0)
        if hv is None:
            return find_key(target, take_snapshot(target, MapRef(lay, hm.addr)), kt, key) is not None
        which, index = "new", hv & ((1 << hm.B) - 1)
        if hm.oldbuckets:
            oi, _, evacuated = old_bucket_of(target, hm, hv, lay.bucketsize)
            if not evacuated:                   # the key can only be there
                which, index = "old", oi
        top = tophash(hv)
        for node in read_chain(target, hm, lay, which, index):
            for i in range(BUCKET_CNT):
                if node.tophash[i] != top:
                    continue
                if keys_equal(slot_key(target, lay, kt, node, i), key):
                    return True
        return False


# --- setting, listing, deleting ---------------------------------------------------------

def _stop_control(target: Target) -> StopControl:
    if not isinstance(target, StopControl):
        raise GomapError(f"breakpoints and watchpoints are not available in this {target.name} adapter")
    return target


def break_assign(target: Target, spec: BreakSpec, resolve_map=None) -> str:
    sc = _stop_control(target)
    event = spec.event                  # validates the combination first
    if not target.is_running():
        raise GomapError("start the program first (e.g. break main, run): the breakpoints go at "
                         "the run-time addresses of the runtime's entry points")
    runtime = detect_runtime(target)
    cond = BreakCondition(spec, runtime)
    if spec.map_expr:
        if resolve_map is None:
            raise GomapError("--map needs a running program to evaluate the expression")
        ref = resolve_map(target, spec.map_expr)
        if not ref.hmap_addr:
            raise GomapError(f"--map {spec.map_expr}: the map is nil (no hmap yet); break after it is made")
        cond.map_addr, cond.map_ref = ref.hmap_addr, ref
        if spec.key_text is not None:
            from .keys import key_type_from_desc
            cond.key_type = key_type_from_desc(ref.layout.key_type)
            cond.key = parse_key(spec.key_text, cond.key_type)
    syms = [(s, function_address(target, s)) for s in SYMBOLS[runtime][event]]
    syms = [(s, a) for s, a in syms if a is not None]
    if not syms:
        raise GomapError(f"no {' or '.join(SYMBOLS[runtime][event])} in this program")
    reg = sc.stop_registry()
    stop = reg.add("break", spec.describe())
    cond.number = stop.number
    stop.state = cond
    arm(sc, stop, [("break", addr, 1, _hit(stop, cond, sym), sym) for sym, addr in syms])
    nums = ", ".join(str(h.number) for h in stop.handles)
    where = ", ".join(s for s, _ in syms)
    return (f"gomap break {stop.number}: {spec.describe()} — stops decided at {where} "
            f"(debugger breakpoint{'s' if len(syms) > 1 else ''} {nums})")


def _hit(stop: GomapStop, cond: BreakCondition, symbol: str):
    def on_hit(target: Target) -> Optional[str]:
        try:
            line = cond.on_hit(target, symbol)
        except GomapError as e:
            line = f"gomap break {stop.number}: {symbol}: cannot decide ({e}); stopping"
        if line is None:
            stop.declined += 1
        else:
            stop.hits += 1
        return line
    return on_hit


def list_stops(target: Target) -> str:
    sc = _stop_control(target)
    reg = sc.stop_registry()
    _forget_deleted(sc)
    if not reg.stops:
        return "no gomap breakpoints or watchpoints"
    lines = ["Num  Kind   Hits  Declined  Debugger#   What"]
    for s in reg.stops.values():
        nums = ",".join(str(h.number) for h in s.handles) or "-"
        lines.append(f"{s.number:<4} {s.kind:<6} {s.hits:<5} {s.declined:<9} {nums:<11} {s.description}")
    return "\n".join(lines)


def _forget_deleted(sc: StopControl) -> None:
    """Drop handles the user deleted with the debugger's own `delete`."""
    reg = sc.stop_registry()
    for s in list(reg.stops.values()):
        s.handles = [h for h in s.handles if sc.stop_exists(h)]
        if not s.handles and not getattr(s.state, "pending", False):
            reg.stops.pop(s.number)


def delete_stop(target: Target, numbers: list[int]) -> str:
    sc = _stop_control(target)
    reg = sc.stop_registry()
    if not numbers:
        numbers = list(reg.stops)
    out = []
    for n in numbers:
        s = reg.remove(n)
        for h in s.handles:
            sc.delete_stop(h)
        if hasattr(s.state, "ended"):
            s.state.ended = True
        out.append(f"deleted gomap {s.kind} {n} (debugger #{','.join(str(h.number) for h in s.handles)})")
    return "\n".join(out) if out else "nothing to delete"
