"""Text for people and data for programs: Delve-style lines, headers, JSON.

Bucket tables live in render_buckets.py and Graphviz in render_dot.py; this file
holds what `gomap print` needs and the decoding helpers the others share.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from . import columns, grow
from .bulk import BulkReader
from .snapshot import Snapshot, flags_text
from .values import Codec, DEFAULT_STRING_LIMIT, prefetch

DEFAULT_ENTRIES = 64   # Delve's default MaxArrayValues
_ENTRIES_MARK = "\0gomap entries\0"   # a NUL cannot come from a C or Go type name


@dataclass
class Codecs:
    key: Codec
    elem: Codec


def codecs_for(snap: Snapshot, string_limit: Optional[int]) -> Codecs:
    lay = snap.layout
    return Codecs(Codec(lay.key_type, string_limit, indirect=lay.indirect_key),
                  Codec(lay.elem_type, string_limit, indirect=lay.indirect_elem))


def key_place(snap: Snapshot, node, slot: int) -> tuple[bytes, int]:
    lay = snap.layout
    return node.buf, node.off + lay.keys_off + slot * lay.keysize


def elem_place(snap: Snapshot, node, slot: int) -> tuple[bytes, int]:
    lay = snap.layout
    return node.buf, node.off + lay.elems_off + slot * lay.elemsize


def decode(snap: Snapshot, entries: list, codecs: Codecs, as_json: bool = False) -> list[tuple]:
    """(key, elem) texts (or JSON values) of entries, with one bulk fetch for what they point at."""
    lay = snap.layout
    ko, ks, eo, es = lay.keys_off, lay.keysize, lay.elems_off, lay.elemsize
    kp = [(b, o + ko + s * ks) for b, o, s, _ in entries]
    ep = [(b, o + eo + s * es) for b, o, s, _ in entries]
    reader = snap.reader or BulkReader(None)  # type: ignore[arg-type]
    prefetch([(codecs.key, kp), (codecs.elem, ep)], reader)
    kf = codecs.key.json if as_json else codecs.key.text
    ef = codecs.elem.json if as_json else codecs.elem.text
    return [(kf(b, o, reader), ef(b2, o2, reader)) for (b, o), (b2, o2) in zip(kp, ep)]


def map_cells(snap: Snapshot, limit: Optional[int]) -> "columns.Cells":
    """The live cells to print (the first `limit`), with the count and stray warnings."""
    runs, stray = grow.live_runs(snap)
    cells = columns.Cells(snap.layout, runs, limit)
    if stray:
        n = columns.Cells(snap.layout, stray).total
        if n:
            snap.warnings.append(f"warning: {n} live cells in new buckets whose old bucket is not "
                                 "evacuated (not shown: Go never writes there before evacuating)")
    grow.check_count(snap, cells.total)
    return cells


def decode_columns(snap: Snapshot, cells: "columns.Cells", codecs: Codecs,
                   as_json: bool = False) -> tuple[tuple[str, list], tuple[str, list]]:
    """Keys and elems of the cells as (printf spec, arguments): decode() column by column.
    as_json: arguments that write JSON text."""
    reader = snap.reader or BulkReader(None)  # type: ignore[arg-type]
    kf, ef = columns.fields_of(cells, codecs)
    columns.prefetch_fields([kf, ef], reader)
    return kf.spec(reader, as_json), ef.spec(reader, as_json)


def delve_line(type_name: str, pairs: list[tuple[str, str]], total: int, nil: bool = False) -> str:
    """Delve's writeMapTo on one line: each pair followed by ", "; a cut list ends ",...+N more"."""
    if nil:
        return f"{type_name} nil"
    body = "".join(f"{k}: {v}, " for k, v in pairs)
    if len(pairs) != total:
        body += f",...+{total - len(pairs)} more" if pairs else "..."
    return f"{type_name} [{body}]"


def header_lines(snap: Snapshot) -> list[str]:
    h = snap.hmap
    if h is None:
        return [f"{snap.layout.go_name}: nil map"]
    lines = [f"hmap at {h.addr:#x}: len {h.count}, B {h.B} ({1 << h.B} buckets), "
             f"flags {flags_text(h.flags)}, hash0 {h.hash0:#x}",
             f"buckets {h.buckets:#x}, oldbuckets {h.oldbuckets:#x}, nevacuate {h.nevacuate}, "
             f"noverflow {h.noverflow}, extra {h.extra:#x}",
             f"growth: {grow.progress_text(snap)}"]
    return lines


def print_text(snap: Snapshot, limit: Optional[int] = DEFAULT_ENTRIES, verbose: bool = False) -> str:
    name = snap.layout.go_name
    out: list[str] = []
    if verbose:
        out.extend(header_lines(snap))
    if snap.hmap is None:
        out.append(delve_line(name, [], 0, nil=True))
        return "\n".join(out)
    cells = map_cells(snap, limit)
    codecs = codecs_for(snap, None if limit is None else DEFAULT_STRING_LIMIT)
    body = columns.join_pairs("{k}: {v}, ", *decode_columns(snap, cells, codecs))
    if cells.count != cells.total:
        body += f",...+{cells.total - cells.count} more" if cells.count else "..."
    out.append(f"{name} [{body}]")
    out.extend(snap.warnings)
    return "\n".join(out)


def hmap_json(snap: Snapshot) -> dict:
    h = snap.hmap
    d = {"type": snap.layout.go_name, "address": None, "nil": h is None}
    if h is None:
        d.update(count=0, B=0, flags=0, flags_names=[], hash0=0, buckets=0, oldbuckets=0,
                 nevacuate=0, noverflow=0, growing=False, same_size_grow=False)
        return d
    d.update(address=h.addr, count=h.count, B=h.B, flags=h.flags,
             flags_names=[] if not h.flags else flags_text(h.flags).split("|"),
             hash0=h.hash0, buckets=h.buckets, oldbuckets=h.oldbuckets, nevacuate=h.nevacuate,
             noverflow=h.noverflow, extra=h.extra, growing=snap.growing,
             same_size_grow=snap.same_size_grow)
    if snap.growing:
        d["evacuated_old_buckets"] = grow.evacuated_count(snap)
        d["old_bucket_count"] = snap.oldnbuckets
    return d


def print_json(snap: Snapshot, limit: Optional[int] = None) -> str:
    d = hmap_json(snap)
    if snap.hmap is not None:
        cells = map_cells(snap, limit)
        entries = "[" + columns.join_pairs(
            "[{k}, {v}]", *decode_columns(snap, cells, codecs_for(snap, None), as_json=True),
            sep=", ") + "]"
        d["live"] = cells.total
    else:
        entries = "[]"
        d["live"] = 0
    # The entries are JSON text already: json.dumps writes the rest around a marker.
    d["entries"] = _ENTRIES_MARK
    d["warnings"] = list(snap.warnings)
    return json.dumps(d).replace(json.dumps(_ENTRIES_MARK), entries, 1)
