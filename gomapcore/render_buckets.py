"""`gomap buckets`: each bucket of the new and old arrays, its cells and its chain.

One block per bucket (head of chain), for example:

  NEW[3] 0xc000010240-0xc0000102d0 (144 bytes)
    tophash  8a 01 00 00 00 00 00 00
    [0] 8a live      "a": 1
    [1] 01 emptyOne
    [2..7] emptyRest
    overflow -> 0xc000010600 (preallocated)
  OLD[1] 0x...-0x...  evacuated to X NEW[1] and Y NEW[3]
  OLD[2] 0x...-0x...  pending  <- nevacuate

Old buckets say whether they are evacuated (and to which new buckets) or still
pending; the one `nevacuate` points at is marked.
"""
from __future__ import annotations

import json
import os
from operator import add
from typing import Optional

from . import columns, grow
from .bulk import BulkReader
from .layout import BUCKET_CNT
from .render import codecs_for, decode, DEFAULT_ENTRIES
from .snapshot import (EMPTY_ONE, EVACUATED_X, EVACUATED_Y, MIN_TOP_HASH, Bucket, BucketArray,
                       Snapshot, tophash_state)
from .target import GomapError
from .values import DEFAULT_STRING_LIMIT

_COL = {"NEW": "\x1b[32m", "OLD": "\x1b[33m", "dim": "\x1b[2m", "mark": "\x1b[1;35m",
        "bad": "\x1b[31m", "off": "\x1b[0m"}


def want_color(target) -> bool:
    return "NO_COLOR" not in os.environ and bool(target is not None and target.use_color())


class _Paint:
    def __init__(self, on: bool):
        self.on = on

    def __call__(self, what: str, s: str) -> str:
        return f"{_COL[what]}{s}{_COL['off']}" if self.on else s


def _select(arr: Optional[BucketArray], indexes: Optional[list[int]]) -> list[Bucket]:
    if arr is None:
        return []
    if not indexes:
        return arr.buckets
    return [arr.buckets[i] for i in indexes if 0 <= i < arr.nbuckets]


def check_indexes(snap: Snapshot, which: str, indexes: Optional[list[int]]) -> None:
    """Raise one GomapError line when an INDEX names no bucket of the array(s)
    asked for, so `gomap buckets m 99` never prints a header and nothing.

    --old checks the old array; --new and the default check the new one (during
    a doubling grow the new array is the larger: an index past it is in neither).
    A map with no array at all keeps its own message (nil map, no array yet)."""
    if not indexes or snap.hmap is None or snap.new is None:
        return
    label = "old" if which == "old" else "new"
    arr = snap.old if which == "old" else snap.new
    if arr is None:
        bad = sorted(set(indexes))
    else:
        bad = sorted({i for i in indexes if not 0 <= i < arr.nbuckets})
    if not bad:
        return
    what = (f"bucket {bad[0]} is" if len(bad) == 1
            else "buckets " + ", ".join(map(str, bad)) + " are")
    if arr is None:
        raise GomapError(f"{what} out of range: no old array, the map is not growing")
    n = arr.nbuckets
    raise GomapError(f"{what} out of range: the {label} array has {n} bucket"
                     f"{'s' if n != 1 else ''} ({'0' if n == 1 else f'0..{n - 1}'})")


def old_status(snap: Snapshot, b: Bucket) -> tuple[Optional[str], str]:
    """(json value, text) of an old bucket: X, Y, X+Y, empty, or None when pending."""
    if not grow.evacuated(b):
        return None, "pending"
    how = grow.evacuation_summary(b)
    x, y = grow.evacuation_targets(snap, b.index)
    dest = {"X": f"X NEW[{x}]", "Y": f"Y NEW[{y}]",
            "X+Y": f"X NEW[{x}] and Y NEW[{y}]", "empty": "nowhere (was empty)"}[how]
    return how, f"evacuated to {dest}"


def _bucket_cells(snap: Snapshot, b: Bucket) -> list:
    """[(node, slot)] of cells whose key and value are worth showing: live ones."""
    return [(n, i) for n in b.chain for i in range(8) if n.tophash[i] >= MIN_TOP_HASH]


def buckets_text(snap: Snapshot, which: str = "both", indexes: Optional[list[int]] = None,
                 color: bool = False, entry_limit: Optional[int] = None) -> str:
    paint = _Paint(color)
    lay = snap.layout
    if snap.hmap is None:
        return f"{lay.go_name}: nil map, no buckets"
    if snap.new is None:
        return f"{lay.go_name}: no bucket array yet (B = {snap.hmap.B}, allocated on first insert)"
    arrays = []
    if which in ("both", "new"):
        arrays.append(("NEW", snap.new))
    if which in ("both", "old"):
        if snap.old is None and which == "old":
            return f"{lay.go_name}: not growing, no old buckets"
        if snap.old is not None:
            arrays.append(("OLD", snap.old))
    codecs = codecs_for(snap, DEFAULT_STRING_LIMIT)
    out = [f"{lay.go_name} at {snap.hmap.addr:#x}: {grow.progress_text(snap)}"]
    shown = 0
    for label, arr in arrays:
        blist = _select(arr, indexes)
        prealloc = arr.nalloc - arr.nbuckets
        out.append(paint(label, f"{label} array {arr.base:#x}: {arr.nbuckets} buckets of "
                                f"{lay.bucketsize} bytes"
                                + (f", {prealloc} preallocated overflow buckets" if prealloc else "")))
        cells_all = [(b, _bucket_cells(snap, b)) for b in blist]
        flat = [c for _, cells in cells_all for c in cells]
        if entry_limit is not None:
            flat = flat[:max(entry_limit - shown, 0)]
        entries = [grow.entry(n, i) for n, i in flat]
        texts = dict(zip(((id(n), i) for n, i in flat), decode(snap, entries, codecs)))
        for b, _cells in cells_all:
            head = b.chain[0]
            line = paint(label, f"{label}[{b.index}]") + \
                f" {head.addr:#x}-{head.addr + lay.bucketsize:#x}"
            if label == "OLD":
                _, st = old_status(snap, b)
                line += "  " + (paint("dim", st) if st != "pending" else st)
                if b.index == snap.hmap.nevacuate:
                    line += "  " + paint("mark", "<- nevacuate")
            out.append(line)
            for pos, n in enumerate(b.chain):
                if pos:
                    tag = " (preallocated)" if n.preallocated else ""
                    out.append(f"    overflow -> {n.addr:#x}{tag}")
                ind = "    " if pos == 0 else "      "
                out.append(ind + "tophash " + " ".join(f"{t:02x}" for t in n.tophash))
                i = 0
                while i < 8:
                    t = n.tophash[i]
                    if t == 0 and all(x == 0 for x in n.tophash[i:]):
                        rng = f"[{i}]" if i == 7 else f"[{i}..7]"
                        out.append(f"{ind}{rng} 00 emptyRest")
                        break
                    cell = f"{ind}[{i}] {t:02x} {tophash_state(t):<14}"
                    if t >= MIN_TOP_HASH:
                        kv = texts.get((id(n), i))
                        cell += f" {kv[0]}: {kv[1]}" if kv else " (not decoded: entry limit)"
                    else:
                        cell = paint("dim", cell.rstrip())
                    out.append(cell.rstrip())
                    i += 1
            shown += len(flat)
    out.extend(snap.warnings)
    return "\n".join(out)


def buckets_json(snap: Snapshot, which: str = "both", indexes: Optional[list[int]] = None) -> dict:
    from .render import hmap_json
    d = hmap_json(snap)
    codecs = codecs_for(snap, None)
    for label, arr in (("new", snap.new), ("old", snap.old)):
        if which not in ("both", label) or arr is None:
            d[label] = None
            continue
        blist = _select(arr, indexes)
        cells = [(n, i) for b in blist for n in b.chain for i in range(8) if n.tophash[i] >= MIN_TOP_HASH]
        vals = dict(zip(((id(n), i) for n, i in cells),
                        decode(snap, [grow.entry(n, i) for n, i in cells], codecs,
                               as_json=True)))
        buckets = []
        for b in blist:
            chain = []
            for n in b.chain:
                slots = []
                for i, t in enumerate(n.tophash):
                    kv = vals.get((id(n), i))
                    slots.append({"tophash": t, "state": tophash_state(t),
                                  "key": kv[0] if kv else None, "value": kv[1] if kv else None})
                chain.append({"address": n.addr, "preallocated": n.preallocated, "slots": slots})
            bd = {"index": b.index, "address": b.chain[0].addr, "slots": chain[0]["slots"],
                  "overflow": chain[1:]}
            if label == "old":
                bd["evacuated"] = old_status(snap, b)[0]
                x, y = grow.evacuation_targets(snap, b.index)
                bd["x"], bd["y"] = x, y
                bd["nevacuate_mark"] = b.index == snap.hmap.nevacuate
            buckets.append(bd)
        d[label] = {"address": arr.base, "nbuckets": arr.nbuckets, "allocated": arr.nalloc,
                    "bucketsize": snap.layout.bucketsize, "buckets": buckets}
    d["warnings"] = list(snap.warnings)
    return d


# --- buckets --json as text, column by column ------------------------------------
# A million-entry map has two million slots; one dict per slot through json.dumps is
# seconds. Here the text is written directly: each tophash byte picks a ready-made
# slot text (empty and evacuated slots are constant, a live one leaves printf specs
# for its key and value), the keys and values of the live cells come from the column
# decoder as printf arguments, and one % per chunk of buckets fills them in. The
# result is byte for byte what json.dumps(buckets_json(...)) writes (tested).

_NEW_MARK, _OLD_MARK = "\0gomap new buckets\0", "\0gomap old buckets\0"
_CHUNK = 4096   # bmaps per % call: bounds the extra copy of the text in memory
_PRE = '{"index": %d, "address": %d, "slots": ['
_POST_PLAIN = '], "overflow": []}, '


def _slot_texts(kspec: str, espec: str) -> list[str]:
    """Text of one slot for each tophash byte (key and value as printf specs when live)."""
    out = []
    for t in range(256):
        if t >= MIN_TOP_HASH:
            out.append(f'{{"tophash": {t}, "state": "live", "key": {kspec}, "value": {espec}}}')
        else:
            out.append(f'{{"tophash": {t}, "state": "{tophash_state(t)}", "key": null, '
                       '"value": null}')
    return out


def _old_extra(snap: Snapshot, i: int, head_th: bytes, chain: list) -> str:
    """The old-bucket fields after "overflow", as old_status/evacuation_targets say."""
    how = None
    if EMPTY_ONE < head_th[0] < MIN_TOP_HASH:
        th = head_th + b"".join(n.tophash for n in chain)
        xs, ys = th.count(EVACUATED_X), th.count(EVACUATED_Y)
        how = "X+Y" if xs and ys else "X" if xs else "Y" if ys else "empty"
    x, y = grow.evacuation_targets(snap, i)
    return (f', "evacuated": {json.dumps(how)}, "x": {x}, "y": {json.dumps(y)}, '
            f'"nevacuate_mark": {json.dumps(i == snap.hmap.nevacuate)}')


def _array_json_text(snap: Snapshot, arr: BucketArray, indexes: Optional[list[int]]) -> list[str]:
    """The "buckets" list of one array as JSON text, in pieces (joined once, by the caller)."""
    lay = snap.layout
    bs, to = lay.bucketsize, lay.tophash_off
    data, base, chains = arr.data, arr.base, arr.chains
    sel = range(arr.nbuckets) if not indexes else [i for i in indexes if 0 <= i < arr.nbuckets]
    if not sel:
        return ["[]"]
    old = arr.which == "old"
    # One bmap after another (bucket, then its chain): the runs of the column decoder,
    # and for each bmap the text before its first slot and after its last.
    runs: list = []
    pre: list[str] = []
    post: list[str] = []

    def plain_stretch(lo: int, hi: int) -> None:
        # new buckets lo..hi-1 without chains: a few C-level maps, no Python loop
        grow._push(runs, data, lo, hi)
        pre.extend(map(_PRE.__mod__, zip(range(lo, hi), range(base + lo * bs, base + hi * bs, bs))))
        post.extend([_POST_PLAIN] * (hi - lo))

    def one(i: int) -> None:
        o = i * bs
        chain = chains.get(i, ())
        grow._push(runs, data, i, i + 1)
        pre.append(_PRE % (i, base + o))
        extra = _old_extra(snap, i, data[o + to:o + to + BUCKET_CNT], chain) if old else ""
        if not chain:
            post.append(f'], "overflow": []{extra}}}, ')
            return
        post.append('], "overflow": [')
        last = len(chain) - 1
        for pos, n in enumerate(chain):
            k = n.off // bs
            grow._push(runs, n.buf, k, k + 1)
            sep = ", " if pos else ""
            pre.append(f'{sep}{{"address": {n.addr}, "preallocated": '
                       f'{"true" if n.preallocated else "false"}, "slots": [')
            post.append("]}" if pos < last else f"]}}]{extra}}}, ")

    if old or indexes:
        for i in sel:
            one(i)
    else:
        start = 0
        for i in sorted(k for k, ch in chains.items() if ch):
            if start < i:
                plain_stretch(start, i)
            one(i)
            start = i + 1
        if start < arr.nbuckets:
            plain_stretch(start, arr.nbuckets)
    post[-1] = post[-1][:-2]   # no ", " after the last bucket
    cells = columns.Cells(lay, runs, small=8 * len(pre) < arr.nbuckets)
    reader = snap.reader or BulkReader(None)  # type: ignore[arg-type]
    kf, ef = columns.fields_of(cells, codecs_for(snap, None))
    columns.prefetch_fields([kf, ef], reader)
    (ks, kv), (es, ev) = kf.spec(reader, True), ef.spec(reader, True)
    args: list = [None] * (2 * len(kv))
    args[0::2] = kv
    args[1::2] = ev
    single = _slot_texts(ks, es)
    with_sep = [s + ", " for s in single]
    th = cells.tophash
    slots = list(map(with_sep.__getitem__, th))
    slots[7::8] = map(single.__getitem__, th[7::8])
    slots[0::8] = map(add, pre, slots[0::8])
    slots[7::8] = map(add, slots[7::8], post)
    # % per chunk, each with the arguments of its live cells
    out = ["["]
    live = cells.selector
    a = 0
    step = BUCKET_CNT * _CHUNK
    for lo in range(0, len(slots), step):
        fmt = "".join(slots[lo:lo + step])
        n = 2 * live.count(1, lo, lo + step)
        out.append(fmt % tuple(args[a:a + n]) if n else fmt)
        a += n
    out.append("]")
    return out


def buckets_json_text(snap: Snapshot, which: str = "both",
                      indexes: Optional[list[int]] = None) -> str:
    """json.dumps(buckets_json(snap, which, indexes)), written without the per-slot dicts."""
    from .render import hmap_json
    d = hmap_json(snap)
    texts = {}
    for label, arr, mark in (("new", snap.new, _NEW_MARK), ("old", snap.old, _OLD_MARK)):
        if which not in ("both", label) or arr is None:
            d[label] = None
            continue
        texts[mark] = _array_json_text(snap, arr, indexes)
        d[label] = {"address": arr.base, "nbuckets": arr.nbuckets, "allocated": arr.nalloc,
                    "bucketsize": snap.layout.bucketsize, "buckets": mark}
    d["warnings"] = list(snap.warnings)
    # the skeleton cut at its markers (each appears once: keys are not in it yet)
    pieces = []
    rest = json.dumps(d)
    for mark, text in texts.items():
        head, rest = rest.split(json.dumps(mark), 1)
        pieces.append(head)
        pieces.extend(text)
    pieces.append(rest)
    return "".join(pieces)


__all__ = ["buckets_text", "check_indexes", "buckets_json", "buckets_json_text", "want_color", "old_status", "DEFAULT_ENTRIES"]
