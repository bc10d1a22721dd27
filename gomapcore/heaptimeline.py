"""`gomap heap timeline`: map memory over time, one lane per map.

Time is the engine's event sequence number (every allocation, drop and free
takes the next one), so the picture shows order, not wall-clock duration. Each
bucket array is a bar from its allocation to its free: solid while it is the
map's array, lighter while it is the OLD array of a grow in progress (from the
next array's allocation to the grow's end), hatched while it is garbage
waiting for a collection. A grow is a new array allocated while the previous
one is still reachable: doubling when B goes up, same-size otherwise. Overflow
buckets are ticks at their allocation.

The SVG is written by hand (a few rect/line/text elements with <title>
tooltips) so that the plugin needs nothing beyond Python's standard library.
"""
from __future__ import annotations

from typing import Optional
from xml.sax.saxutils import escape

from .heapview import FREED, HeapView
from .target import GomapError

ROLE_HMAP, ROLE_BUCKETS, ROLE_OVERFLOW = 1, 2, 3


def _lanes(st: HeapView, map_addr: Optional[int]) -> list:
    """One dict per map: its hmap record, arrays (with grow phases) and overflow ticks."""
    by_owner: dict = {}
    for r in st.reg.records:
        if map_addr is None or r.owner == map_addr:
            by_owner.setdefault(r.owner, []).append(r)
    lanes = []
    for owner, recs in by_owner.items():
        recs.sort(key=lambda r: r.alloc_seq)
        arrays = [r for r in recs if r.role == ROLE_BUCKETS]
        hm = next((r for r in recs if r.role == ROLE_HMAP and r.addr == owner), None)
        bars, grows = [], []
        for i, a in enumerate(arrays):
            nxt = arrays[i + 1] if i + 1 < len(arrays) else None
            # The next array arriving while this one is still reachable is a grow,
            # and this array is OLD from then until it dies.
            grew = nxt is not None and (a.dead_seq == 0 or a.dead_seq > nxt.alloc_seq)
            old_from = nxt.alloc_seq if grew else None
            if grew:
                grows.append({"seq": nxt.alloc_seq, "from_B": a.B, "to_B": nxt.B,
                              "same_size": nxt.B == a.B})
            bars.append({"addr": a.addr, "B": a.B, "nbuckets": a.nbuckets, "size": a.size,
                         "state": a.state_name, "alloc_seq": a.alloc_seq,
                         "old_seq": old_from, "dead_seq": a.dead_seq or None,
                         "free_seq": a.free_seq or None})
        lanes.append({"hmap": owner, "hmap_alloc_seq": hm.alloc_seq if hm else None,
                      "hmap_free_seq": (hm.free_seq or None) if hm else None,
                      "arrays": bars, "grows": grows,
                      "overflow": [r.alloc_seq for r in recs if r.role == ROLE_OVERFLOW],
                      "records": len(recs), "bytes": sum(r.size for r in recs)})
    lanes.sort(key=lambda ln: (min([b["alloc_seq"] for b in ln["arrays"]]
                                   + [ln["hmap_alloc_seq"] or 1 << 63]), ln["hmap"]))
    return lanes


def timeline_data(st: HeapView, map_addr: Optional[int] = None) -> dict:
    recs = st.reg.records
    seqs = [s for r in recs for s in (r.alloc_seq, r.dead_seq, r.free_seq) if s]
    lo = min(seqs) if seqs else 0
    hi = max(seqs + [st.reg.seq]) if seqs else st.reg.seq
    return {"view": "timeline", "seq_min": lo, "seq_max": hi, "gc_cycles": st.reg.gc_cycles,
            "gc_seqs": sorted({r.free_seq for r in recs if r.state == FREED and r.free_seq}),
            "forgotten": st.reg.forgotten, "maps": _lanes(st, map_addr)}


def _col(seq: int, lo: int, hi: int, width: int) -> int:
    return (seq - lo) * (width - 1) // max(1, hi - lo)


def _bar(b: dict, lo: int, hi: int, width: int) -> str:
    """'#' current array, 'O' old array of a grow, '~' garbage, 'x' the free."""
    cells = [" "] * width
    end_live = b["dead_seq"] or hi
    for c in range(_col(b["alloc_seq"], lo, hi, width), _col(end_live, lo, hi, width) + 1):
        cells[c] = "#"
    if b["old_seq"]:
        for c in range(_col(b["old_seq"], lo, hi, width), _col(end_live, lo, hi, width) + 1):
            cells[c] = "O"
    if b["dead_seq"]:
        for c in range(_col(b["dead_seq"], lo, hi, width),
                       _col(b["free_seq"] or hi, lo, hi, width) + 1):
            cells[c] = "~"
    if b["free_seq"]:
        cells[_col(b["free_seq"], lo, hi, width)] = "x"
    return "".join(cells)


def timeline_text(data: dict, width: int = 60, max_maps: int = 20) -> str:
    lo, hi, maps = data["seq_min"], data["seq_max"], data["maps"]
    lines = [f"heap timeline: seq {lo}..{hi}, {len(maps)} maps, {data['gc_cycles']} collections"
             "   (# current array, O old array during a grow, ~ garbage, x freed, "
             "^ grow, + overflow bucket)"]
    if data.get("forgotten"):
        lines.append(f"  ({data['forgotten']} older freed allocations are forgotten: the registry "
                     "keeps a bounded history, so earlier arrays may be missing)")
    label_w = 22
    for ln in maps[:max_maps]:
        life = f"hmap seq {ln['hmap_alloc_seq']}" if ln["hmap_alloc_seq"] else "hmap not recorded"
        if ln["hmap_free_seq"]:
            life += f", freed {ln['hmap_free_seq']}"
        lines.append(f"map {ln['hmap']:#x} ({life}; {ln['records']} allocations, "
                     f"{ln['bytes']} bytes)")
        for b in ln["arrays"]:
            label = f"B={b['B']} {b['size']}B"
            tail = f" {b['alloc_seq']}..{b['free_seq'] or (b['dead_seq'] or '')}"
            lines.append(f"  {label:<{label_w}}|{_bar(b, lo, hi, width)}|{tail}")
        if ln["grows"]:
            cells = [" "] * width
            for g in ln["grows"]:
                cells[_col(g["seq"], lo, hi, width)] = "^"
            desc = ", ".join(f"{'same-size' if g['same_size'] else 'B=' + str(g['to_B'])}"
                             f"@{g['seq']}" for g in ln["grows"])
            lines.append(f"  {'grows':<{label_w}}|{''.join(cells)}| {desc}")
        if ln["overflow"]:
            cells = [" "] * width
            for s in ln["overflow"]:
                cells[_col(s, lo, hi, width)] = "+"
            lines.append(f"  {'overflow x' + str(len(ln['overflow'])):<{label_w}}"
                         f"|{''.join(cells)}|")
    if len(maps) > max_maps:
        lines.append(f"... {len(maps) - max_maps} more maps (--map EXPR for one, --svg for all)")
    return "\n".join(lines)


# --- SVG ----------------------------------------------------------------------

_LEFT, _RIGHT, _TOP, _ROW, _GAP = 190, 30, 40, 14, 10
_COLORS = {"current": "#3b7dd8", "old": "#9cc3f0", "garbage": "#f0a030", "free": "#c0392b",
           "grow": "#2e8b57", "overflow": "#666666"}


def timeline_svg(data: dict, width: int = 960) -> str:
    lo, hi = data["seq_min"], data["seq_max"]
    span = max(1, hi - lo)
    plot_w = width - _LEFT - _RIGHT

    def x(seq: int) -> float:
        return _LEFT + (seq - lo) * plot_w / span

    out = []
    y = _TOP
    for ln in data["maps"]:
        out.append(f'<text x="6" y="{y + 11}" font-weight="bold">map {ln["hmap"]:#x}</text>')
        y += _ROW + 2
        for b in ln["arrays"]:
            tip = escape(f"B={b['B']} array {b['addr']:#x}, {b['size']} bytes: allocated "
                         f"{b['alloc_seq']}, old from {b['old_seq']}, dead {b['dead_seq']}, "
                         f"freed {b['free_seq']}")
            out.append(f'<text x="16" y="{y + 10}">B={b["B"]} ({b["size"]} B)</text>')
            end_live = b["dead_seq"] or hi
            phases = [("current", b["alloc_seq"], b["old_seq"] or end_live)]
            if b["old_seq"]:
                phases.append(("old", b["old_seq"], end_live))
            if b["dead_seq"]:
                phases.append(("garbage", b["dead_seq"], b["free_seq"] or hi))
            for kind, s0, s1 in phases:
                w = max(1.0, x(s1) - x(s0))
                out.append(f'<rect class="{kind}" x="{x(s0):.1f}" y="{y}" width="{w:.1f}" '
                           f'height="{_ROW - 3}" fill="{_COLORS[kind]}"><title>{tip}</title></rect>')
            if b["free_seq"]:
                fx = x(b["free_seq"])
                out.append(f'<line class="free" x1="{fx:.1f}" y1="{y - 1}" x2="{fx:.1f}" '
                           f'y2="{y + _ROW - 2}" stroke="{_COLORS["free"]}" stroke-width="2"/>')
            y += _ROW
        for g in ln["grows"]:
            gx = x(g["seq"])
            what = "same-size grow" if g["same_size"] else f"grow B={g['from_B']}->{g['to_B']}"
            out.append(f'<polygon class="grow" points="{gx - 4:.1f},{y + 8} {gx + 4:.1f},{y + 8} '
                       f'{gx:.1f},{y}" fill="{_COLORS["grow"]}"><title>{escape(what)} at seq '
                       f'{g["seq"]}</title></polygon>')
        for s in ln["overflow"]:
            ox = x(s)
            out.append(f'<line class="overflow" x1="{ox:.1f}" y1="{y + 2}" x2="{ox:.1f}" '
                       f'y2="{y + 8}" stroke="{_COLORS["overflow"]}"/>')
        y += _ROW + _GAP
    height = y + 30
    axis = [f'<line x1="{_LEFT}" y1="{y}" x2="{width - _RIGHT}" y2="{y}" stroke="black"/>']
    for i in range(6):
        seq = lo + span * i // 5
        axis.append(f'<text x="{x(seq):.1f}" y="{y + 16}" text-anchor="middle">{seq}</text>')
    for s in data["gc_seqs"][:200]:
        axis.append(f'<line class="gc" x1="{x(s):.1f}" y1="{_TOP - 6}" x2="{x(s):.1f}" '
                    f'y2="{y}" stroke="#bbb" stroke-dasharray="2,3"/>')
    legend = " ".join(f'<rect x="{_LEFT + i * 120}" y="12" width="10" height="10" fill="{c}"/>'
                      f'<text x="{_LEFT + i * 120 + 14}" y="21">{escape(k)}</text>'
                      for i, (k, c) in enumerate(_COLORS.items()))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="monospace" font-size="11">\n'
            f'<title>gomap heap timeline, seq {lo}..{hi}</title>\n{legend}\n'
            + "\n".join(axis + out) + "\n</svg>\n")


def timeline(st: HeapView, map_addr: Optional[int] = None, svg_path: Optional[str] = None,
             width: int = 60) -> tuple:
    """(text, data); with svg_path the picture is written there too."""
    data = timeline_data(st, map_addr)
    text = timeline_text(data, width)
    if svg_path:
        try:
            with open(svg_path, "w", encoding="utf-8") as f:
                f.write(timeline_svg(data))
        except OSError as e:
            raise GomapError(f"cannot write {svg_path}: {e.strerror}") from None
        text += f"\nwrote {svg_path}"
        data["svg"] = svg_path
    return text, data

