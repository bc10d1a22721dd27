"""Following a map as it changes: what a watchpoint hit means, in words.

A hardware watchpoint tells us only that some bytes of the hmap were written.
This module compares the header before and after the write and says what
happened in Go's terms: a grow started (hashGrow swapped buckets into
oldbuckets), the evacuation mark moved (evacuate/advanceEvacuationMark), the
grow finished (oldbuckets released), an overflow bucket was taken, the seed
was renewed (the map became empty). The watch plan respects the four x86-64
debug registers: fields are packed into aligned 8-byte words where one word
covers several (flags, B, noverflow and hash0 share hmap's second word).

A key watch (KeyWatch) watches two things of one entry: its value slot (a
write is an update of the key's value) and its tophash byte (a write there is
evacuation or deletion). evacuate() writes the old tophash (evacuatedX/Y)
*before* copying the entry (map.go's order, kept by engine/src/grow.cpp), so
at that hit the destination slot is computed the way evacuate chooses it:
entries of one old chain fill the X (or Y) bucket in order, taking an overflow
bucket after every 8. The watch then moves there; when the destination is an
overflow bucket evacuate has not taken yet, the overflow pointer it will write
is watched instead until it has.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional

from .keys import KeyType, KeyValue, format_key, key_from_slot, keys_equal
from .layout import BUCKET_CNT, MapLayout, MapRef
from .snapshot import (EMPTY_ONE, EMPTY_REST, EVACUATED_EMPTY, EVACUATED_X, EVACUATED_Y,
                       MIN_TOP_HASH, SAME_SIZE_GROW, HASH_WRITING, Hmap, Snapshot, flags_text, read_hmap,
                       take_snapshot)
from .stops import HW_WATCH_SLOTS, arm, watch_sizes
from .target import GomapError, Target

# hmap fields a user can name: the bytes a watchpoint covers for each.
FIELD_BYTES = {
    "count": (0, 8),
    "flags": (8, 1),
    "B": (9, 1),
    "buckets": (16, 8),
    "oldbuckets": (24, 8),
    "nevacuate": (32, 8),
}
WATCHABLE = ("buckets", "oldbuckets", "count", "nevacuate", "B", "flags")
# `all`: most telling first, so that when registers run out the noisy count goes.
ALL_ORDER = ("buckets", "oldbuckets", "nevacuate", "B", "flags", "count")


@dataclass
class WatchPlan:
    words: list[tuple[int, int, list[str]]]   # (address, size, fields it covers)
    not_watched: list[str]                    # fields for which no register was left

    @property
    def fields(self) -> set[str]:
        return {f for _, _, names in self.words for f in names}

    def summary(self) -> str:
        parts = []
        for addr, size, names in self.words:
            parts.append(f"{'+'.join(names)} ({size} byte{'s' if size > 1 else ''} at {addr:#x})")
        s = "watching " + ", ".join(parts) if parts else "watching nothing"
        if self.not_watched:
            s += (f"; NOT watched (the {HW_WATCH_SLOTS} debug registers are taken): "
                  + ", ".join(self.not_watched))
        return s


def plan_field_watches(hmap_addr: int, fields: list[str], free_slots: int) -> WatchPlan:
    """Which hmap bytes to watch for `fields` with at most free_slots debug registers.

    Each field gets its own exact watch (B alone, not the word it shares with
    flags, which every assign toggles). When registers run short, flags and B
    share one 2-byte watch; what still does not fit is reported, not dropped silently."""
    want: list[str] = []
    for f in fields:
        for g in (ALL_ORDER if f == "all" else (f,)):
            if g not in FIELD_BYTES:
                raise GomapError(f"cannot watch {g!r}: choose from {', '.join(WATCHABLE)}, all")
            if g not in want:
                want.append(g)
    pieces = [(FIELD_BYTES[f][0], FIELD_BYTES[f][1], [f]) for f in want]
    if len(pieces) > free_slots and "flags" in want and "B" in want:
        pieces = [p for p in pieces if p[2][0] not in ("flags", "B")]
        at = min(want.index("flags"), want.index("B"))
        pieces.insert(at, (8, 2, ["B", "flags"]))
    words = [(hmap_addr + off, size, names) for off, size, names in pieces[:max(free_slots, 0)]]
    not_watched = [n for _, _, names in pieces[max(free_slots, 0):] for n in names]
    return WatchPlan(words, not_watched)


def _arrow(a, b) -> str:
    return f"{a}\u2192{b}"


def describe_change(before: Hmap, after: Hmap, fields: Optional[set[str]] = None,
                    hide_flags: int = 0) -> list[str]:
    """The header change from `before` to `after` in Go's words, most important
    first; with `fields`, only what concerns those fields; flag bits in
    hide_flags are not reported on their own."""
    if hide_flags:
        after = replace(after, flags=(after.flags & ~hide_flags) | (before.flags & hide_flags))
    return [line for about, line in _changes(before, after)
            if fields is None or about & fields]


def _changes(before: Hmap, after: Hmap) -> list[tuple[set[str], str]]:
    out: list[tuple[set[str], str]] = []
    grew = not before.oldbuckets and after.oldbuckets
    finished = before.oldbuckets and not after.oldbuckets
    if grew:
        about = {"buckets", "oldbuckets", "B", "flags", "nevacuate"}
        if after.flags & SAME_SIZE_GROW:
            out.append((about, f"same-size grow started: B stays {after.B} (too many overflow "
                               f"buckets: noverflow was {before.noverflow}), oldbuckets = "
                               f"{after.oldbuckets:#x}, new buckets = {after.buckets:#x}"))
        # hashGrow stores B before oldbuckets (as Go's does), so `before` may
        # already hold the new B: a doubling grow's old B is always B - 1.
        elif after.buckets == after.oldbuckets:
            # Stopped inside hashGrow between its stores of oldbuckets and buckets.
            out.append((about, f"grow started: B {_arrow(after.B - 1, after.B)}, oldbuckets = "
                               f"{after.oldbuckets:#x} (hashGrow stores the new buckets next)"))
        else:
            out.append((about, f"grow started: B {_arrow(after.B - 1, after.B)}, oldbuckets = "
                               f"{after.oldbuckets:#x}, new buckets = {after.buckets:#x}"))
    elif finished:
        if after.nevacuate != before.nevacuate:
            out.append(({"nevacuate"}, f"evacuated old bucket{_s(before.nevacuate, after.nevacuate)} "
                                       f"{_range(before.nevacuate, after.nevacuate)} (nevacuate "
                                       f"{_arrow(before.nevacuate, after.nevacuate)} of {after.nevacuate})"))
        out.insert(0, ({"oldbuckets", "nevacuate", "buckets", "flags"},
                       f"grow finished: oldbuckets released ({before.oldbuckets:#x} is garbage "
                       f"now), {1 << after.B} buckets at {after.buckets:#x}"))
    else:
        if before.buckets != after.buckets:
            if not before.buckets:
                out.append(({"buckets"}, f"first bucket array allocated: buckets = "
                                         f"{after.buckets:#x} (B = {after.B})"))
            else:
                out.append(({"buckets"}, f"buckets {_arrow(hex(before.buckets), hex(after.buckets))}"))
        if before.B != after.B:
            out.append(({"B"}, f"B {_arrow(before.B, after.B)}"))
        if after.nevacuate < before.nevacuate and after.oldbuckets:
            out.append(({"nevacuate"}, f"nevacuate reset {_arrow(before.nevacuate, after.nevacuate)} "
                                       "(hashGrow: evacuation of the new grow starts at old bucket 0)"))
        elif before.nevacuate != after.nevacuate and after.oldbuckets:
            out.append(({"nevacuate"}, f"evacuated old bucket{_s(before.nevacuate, after.nevacuate)} "
                                       f"{_range(before.nevacuate, after.nevacuate)} (nevacuate "
                                       f"{_arrow(before.nevacuate, after.nevacuate)} of "
                                       f"{_oldnbuckets(after)})"))
    if before.count != after.count:
        d = after.count - before.count
        out.append(({"count"}, f"count {_arrow(before.count, after.count)} ({'+' if d > 0 else ''}{d})"))
    if before.noverflow != after.noverflow and not grew:
        out.append(({"noverflow"}, f"noverflow {_arrow(before.noverflow, after.noverflow)}"
                    + (" (overflow bucket taken)" if after.noverflow > before.noverflow else "")))
    if before.hash0 != after.hash0:
        out.append(({"hash0", "count"}, f"hash0 reseeded {_arrow(hex(before.hash0), hex(after.hash0))} "
                                        "(the map became empty)"))
    fb, fa = before.flags & ~SAME_SIZE_GROW, after.flags & ~SAME_SIZE_GROW
    if fb != fa:
        set_, cleared = fa & ~fb, fb & ~fa
        parts = []
        if set_:
            parts.append(f"{flags_text(set_)} set")
        if cleared:
            parts.append(f"{flags_text(cleared)} cleared")
        out.append(({"flags"}, f"flags: {', '.join(parts)} (now {flags_text(after.flags)})"))
    return out


def _s(a: int, b: int) -> str:
    return "s" if b - a > 1 else ""


def _range(a: int, b: int) -> str:
    return str(a) if b - a <= 1 else f"{a}-{b - 1}"


def _oldnbuckets(h: Hmap) -> int:
    return 1 << h.B if h.flags & SAME_SIZE_GROW else 1 << max(h.B - 1, 0)


# --- FieldWatch: state kept between hits of `gomap watch EXPR FIELD` ----------

@dataclass
class FieldWatch:
    ref: MapRef
    plan: WatchPlan
    last: Hmap
    silent_writes: int = 0     # hits that wrote the same value (lldb reports those)
    hide_flags: int = 0        # hashWriting toggles on every write: shown only when flags is named

    @classmethod
    def start(cls, target: Target, ref: MapRef, fields: list[str], free_slots: int) -> "FieldWatch":
        if not ref.hmap_addr:
            raise GomapError("the map is nil: there is no hmap to watch yet")
        h = read_hmap(target, ref.layout, ref.hmap_addr)
        return cls(ref, plan_field_watches(ref.hmap_addr, fields, free_slots), h,
                   hide_flags=0 if "flags" in fields else HASH_WRITING)

    def on_hit(self, target: Target) -> Optional[str]:
        """The line to stop with, or None when the write changed nothing."""
        now = read_hmap(target, self.ref.layout, self.ref.hmap_addr)
        if now.oldbuckets and now.buckets == now.oldbuckets and "buckets" in self.plan.fields:
            # hashGrow has stored oldbuckets but not yet the new array: the
            # buckets watch reports the grow once the header makes sense.
            self.silent_writes += 1
            return None
        lines = describe_change(self.last, now, self.plan.fields, self.hide_flags)
        self.last = now
        if not lines:
            self.silent_writes += 1
            return None
        return f"gomap watch: map {now.addr:#x}: " + "; ".join(lines)


# --- where a key is ---------------------------------------------------------------

@dataclass
class KeyPlace:
    which: str          # "new" or "old"
    index: int          # bucket index in its array
    depth: int          # 0 = the bucket in the array, n = n-th overflow bucket
    slot: int           # 0..7
    bucket_addr: int
    layout: MapLayout

    @property
    def tophash_addr(self) -> int:
        return self.bucket_addr + self.layout.tophash_off + self.slot

    @property
    def elem_addr(self) -> int:
        return self.bucket_addr + self.layout.elems_off + self.slot * self.layout.elemsize

    @property
    def key_addr(self) -> int:
        return self.bucket_addr + self.layout.keys_off + self.slot * self.layout.keysize

    def describe(self) -> str:
        where = f"{self.which} bucket {self.index}"
        if self.depth:
            where += f" (overflow #{self.depth} at {self.bucket_addr:#x})"
        else:
            where += f" ({self.bucket_addr:#x})"
        return f"{where} slot {self.slot}"


def slot_key(target: Target, lay: MapLayout, kt: KeyType, node, slot: int) -> KeyValue:
    """The key in cell `slot` of a bucket node (through its pointer when indirect)."""
    off = node.off + lay.keys_off + slot * lay.keysize
    raw = node.buf[off:off + lay.keysize]
    if lay.indirect_key:
        p = int.from_bytes(raw[:8], "little")
        raw = target.read_memory(p, lay.key_type.size)
    return key_from_slot(target, kt, raw)


def find_key(target: Target, snap: Snapshot, kt: KeyType, key: KeyValue) -> Optional[KeyPlace]:
    """Where the live entry of `key` is: old array first for buckets not yet
    evacuated (that is where Go's lookups read it), then the new array.

    Scans every bucket, so it needs no hash: it serves every key type of
    both runtimes, including those whose Go hash the compiler generated."""
    for arr in (snap.old, snap.new):
        if arr is None:
            continue
        for b in arr.buckets:
            for depth, node in enumerate(b.chain):
                for i in range(BUCKET_CNT):
                    if node.tophash[i] < MIN_TOP_HASH:
                        continue
                    try:
                        k = slot_key(target, snap.layout, kt, node, i)
                    except GomapError:
                        continue
                    if keys_equal(k, key):
                        return KeyPlace(arr.which, b.index, depth, i, node.addr, snap.layout)
    return None


def evacuation_destination(snap: Snapshot, place: KeyPlace, mark: int) -> tuple[int, int, int]:
    """(new bucket index, chain depth, slot) where evacuate puts the entry that
    sits at `place` in the old array and was just marked `mark` (evacuatedX/Y).

    evacuate fills each destination half in chain order: the entry's position
    among the entries of its old chain sent to the same half decides its slot."""
    old_bucket = next(b for b in snap.old.buckets if b.index == place.index)
    n = 0
    for depth, node in enumerate(old_bucket.chain):
        for i in range(BUCKET_CNT):
            if depth == place.depth and i == place.slot:
                dst = place.index + (snap.oldnbuckets if mark == EVACUATED_Y else 0)
                return dst, n // BUCKET_CNT, n % BUCKET_CNT
            if node.tophash[i] == mark:
                n += 1
    raise GomapError("the watched slot is not in its old bucket's chain any more")


@dataclass
class KeyWatch:
    """State of `gomap watch EXPR --key VALUE` between hits."""
    ref: MapRef
    kt: KeyType
    key: KeyValue
    place: KeyPlace
    value: bytes                      # last seen bytes of the value slot
    pending_overflow: Optional[tuple[int, int]] = None   # (new bucket index, slot) awaiting newoverflow
    history: list[str] = field(default_factory=list)
    ended: bool = False
    pending: bool = False             # a re-arm is queued until the stop is final
    arriving: bool = False            # moved; evacuate has not copied the elem yet
    _pending_dst: tuple = (0, 0)      # (new bucket, chain depth) while waiting for newoverflow

    @classmethod
    def start(cls, target: Target, ref: MapRef, kt: KeyType, key: KeyValue) -> "KeyWatch":
        if not ref.hmap_addr:
            raise GomapError("the map is nil: it has no keys to watch")
        snap = take_snapshot(target, ref)
        place = find_key(target, snap, kt, key)
        if place is None:
            raise GomapError(f"key {format_key(key, kt)} is not in the map at {ref.hmap_addr:#x}")
        return cls(ref, kt, key, place, cls._value_bytes(target, place))

    @staticmethod
    def _value_bytes(target: Target, place: KeyPlace) -> bytes:
        n = min(place.layout.elemsize, 8)
        return target.read_memory(place.elem_addr, n)

    def watch_ranges(self) -> list[tuple[int, int, str]]:
        """(address, size, role) to arm now: the value word(s) and the tophash byte,
        or the overflow pointer while waiting for evacuate's newoverflow."""
        if self.ended:
            return []
        if self.pending_overflow is not None:
            return [(self.pending_overflow[0], 8, "overflow")]
        out = [(self.place.tophash_addr, 1, "tophash")]
        a, s = watch_sizes(self.place.elem_addr, min(self.place.layout.elemsize, 8))[0]
        out.insert(0, (a, s, "value"))
        return out

    def _k(self) -> str:
        return format_key(self.key, self.kt)

    def on_value_hit(self, target: Target) -> Optional[str]:
        now = self._value_bytes(target, self.place)
        if now == self.value:
            return None
        old, self.value = self.value, now
        if self.arriving:
            # evacuate copying the elem into the slot the move stop announced:
            # not a change of the key's value, so no second stop.
            self.arriving = False
            return None
        return (f"gomap watch: key {self._k()}: value {_fmt_val(old)} \u2192 {_fmt_val(now)} "
                f"({self.place.describe()})")

    def on_tophash_hit(self, target: Target) -> tuple[Optional[str], bool]:
        """(line, re-arm needed). Evacuation moves the watch; deletion ends it."""
        top = target.read_memory(self.place.tophash_addr, 1)[0]
        if top >= MIN_TOP_HASH:
            return None, False          # rewritten with its own hash byte: nothing moved
        if top in (EMPTY_ONE, EMPTY_REST):
            self.ended = True
            return (f"gomap watch: key {self._k()} deleted from {self.place.describe()} "
                    "(tophash now {}); watch ended".format("emptyOne" if top == EMPTY_ONE else "emptyRest"),
                    True)
        if top == EVACUATED_EMPTY:
            self.ended = True
            return f"gomap watch: key {self._k()}'s slot was marked evacuatedEmpty; watch ended", True
        # evacuatedX / evacuatedY: evacuate is moving the entry now.
        snap = take_snapshot(target, self.ref)
        if snap.old is None:
            self.ended = True
            return f"gomap watch: key {self._k()}'s slot was marked evacuated but no grow is in progress", True
        dst, depth, slot = evacuation_destination(snap, self.place, top)
        half = "X, same index" if top == EVACUATED_X else "Y, index + " + str(snap.oldnbuckets)
        # Only the old array holds evacuation marks, whatever it was called when the watch began.
        src = replace(self.place, which="old").describe()
        nb = next(b for b in snap.new.buckets if b.index == dst)
        if depth < len(nb.chain):
            node = nb.chain[depth]
            self.place = KeyPlace("new", dst, depth, slot, node.addr, snap.layout)
            self.value = self._value_bytes(target, self.place)  # not copied yet
            self.arriving = True
            msg = (f"gomap watch: key {self._k()} evacuated ({'evacuatedX' if top == EVACUATED_X else 'evacuatedY'}"
                   f", {half}): {src} \u2192 {self.place.describe()}; watch follows it")
        else:
            # evacuate takes the overflow bucket right after this write (newoverflow):
            # watch the pointer it will store into the last bucket of the chain.
            last = nb.chain[-1]
            self.pending_overflow = (last.addr + snap.layout.overflow_off, slot)
            self._pending_dst = (dst, depth)
            msg = (f"gomap watch: key {self._k()} evacuated ({half}): {src} \u2192 new bucket {dst}, "
                   f"overflow #{depth} slot {slot} (not allocated yet: watching the overflow pointer "
                   f"at {self.pending_overflow[0]:#x})")
        self.history.append(msg)
        return msg, True

    def on_overflow_hit(self, target: Target) -> tuple[Optional[str], bool]:
        ptr_addr, slot = self.pending_overflow
        ovf = target.read_pointer(ptr_addr)
        if not ovf:
            return None, False
        dst, depth = self._pending_dst
        self.pending_overflow = None
        self.place = KeyPlace("new", dst, depth, slot, ovf, self.ref.layout)
        self.value = self._value_bytes(target, self.place)
        self.arriving = True
        return (f"gomap watch: key {self._k()}: overflow bucket {ovf:#x} taken; now watching "
                f"{self.place.describe()}", True)


def _fmt_val(b: bytes) -> str:
    return str(int.from_bytes(b, "little", signed=True)) if len(b) == 8 else "0x" + b[::-1].hex()


# --- arming: `gomap watch` over a StopControl -------------------------------------

def _sc(target: Target):
    from .stops import StopControl
    if not isinstance(target, StopControl):
        raise GomapError(f"watchpoints are not available in this {target.name} adapter")
    return target


def free_watch_slots(sc) -> int:
    used = sc.watchpoints_in_use()
    return max(HW_WATCH_SLOTS - used, 0)


def watch_fields(target: Target, ref: MapRef, fields: list[str], label: str) -> str:
    sc = _sc(target)
    free = free_watch_slots(sc)
    fw = FieldWatch.start(target, ref, fields, free)
    if not fw.plan.words:
        raise GomapError(f"no debug register left for {', '.join(fields)}: all {HW_WATCH_SLOTS} are "
                         "in use (`gomap break list`, `info watchpoints` / `watchpoint list`)")
    reg = sc.stop_registry()
    stop = reg.add("watch", f"{label}: {'+'.join(n for _, _, ns in fw.plan.words for n in ns)}")
    stop.state = fw

    def on_hit(t: Target) -> Optional[str]:
        line = fw.on_hit(t)
        if line is None:
            stop.declined += 1
        else:
            stop.hits += 1
            line = line.replace("gomap watch:", f"gomap watch {stop.number}:", 1)
        return line
    arm(sc, stop, [("watch", addr, size, on_hit, "hmap." + "+".join(names))
                   for addr, size, names in fw.plan.words])
    nums = ", ".join(str(h.number) for h in stop.handles)
    return (f"gomap watch {stop.number}: map {ref.hmap_addr:#x}: {fw.plan.summary()} "
            f"(debugger watchpoint{'s' if len(stop.handles) > 1 else ''} {nums}). "
            "Writes that store the value already there do not stop: gdb never reports them, "
            "and lldb's are passed over so both debuggers agree.")


def watch_key(target: Target, ref: MapRef, kt: KeyType, key: KeyValue, label: str) -> str:
    sc = _sc(target)
    kw = KeyWatch.start(target, ref, kt, key)
    if free_watch_slots(sc) < 2:
        raise GomapError(f"a key watch needs 2 debug registers (value and tophash); "
                         f"{free_watch_slots(sc)} of {HW_WATCH_SLOTS} are free")
    reg = sc.stop_registry()
    stop = reg.add("watch", f"{label}: key {format_key(key, kt)}")
    stop.state = kw
    arm(sc, stop, _key_requests(stop, kw))
    nums = ", ".join(str(h.number) for h in stop.handles)
    return (f"gomap watch {stop.number}: key {format_key(key, kt)} is in {kw.place.describe()}: "
            f"watching its value at {kw.place.elem_addr:#x} and its tophash byte at "
            f"{kw.place.tophash_addr:#x} (debugger watchpoints {nums}); the watch follows the key "
            "when evacuation moves it")


def _key_requests(stop, kw: KeyWatch) -> list:
    return [("watch", addr, size, _key_hit(stop, kw, role), f"key.{role}")
            for addr, size, role in kw.watch_ranges()]


def _key_hit(stop, kw: KeyWatch, role: str):
    def on_hit(t: Target) -> Optional[str]:
        if kw.ended:
            return None
        if role == "value":
            line, rearm = kw.on_value_hit(t), False
        elif role == "tophash":
            line, rearm = kw.on_tophash_hit(t)
        else:
            line, rearm = kw.on_overflow_hit(t)
        if line is None:
            stop.declined += 1
            return None
        stop.hits += 1
        line = line.replace("gomap watch:", f"gomap watch {stop.number}:", 1)
        if rearm:
            kw.pending = True

            def move(sc) -> Optional[str]:
                old = list(stop.handles)
                stop.handles.clear()
                for h in old:
                    sc.delete_stop(h)
                kw.pending = False
                if kw.ended:
                    return None
                sc.stop_registry().stops[stop.number] = stop
                arm(sc, stop, _key_requests(stop, kw))
                return (f"gomap watch {stop.number}: re-armed at {kw.place.describe()} "
                        f"(debugger watchpoints {', '.join(str(h.number) for h in stop.handles)})")
            t.after_stop(move)
        return line
    return on_hit
