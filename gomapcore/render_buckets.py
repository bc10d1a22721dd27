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

import os
from typing import Optional

from . import grow
from .render import codecs_for, decode, DEFAULT_ENTRIES
from .snapshot import MIN_TOP_HASH, Bucket, BucketArray, Snapshot, tophash_state
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


__all__ = ["buckets_text", "buckets_json", "want_color", "old_status", "DEFAULT_ENTRIES"]
