"""`gomap dot`: Graphviz of hmap -> new and old bucket arrays -> overflow chains.

New buckets are green, old ones orange (evacuated old buckets greyed), preallocated
overflow buckets dashed; an old bucket's evacuation is drawn as dotted edges to
its X and Y buckets. Each array is a column in index order (row i = bucket i, old
bucket j beside new bucket j), each overflow chain on its head's row.
"""
from __future__ import annotations

import os
import shutil
import subprocess

from . import grow
from .snapshot import MIN_TOP_HASH, BucketArray, Hmap, Node, Snapshot, flags_text
from .target import GomapError

NEW_COLOR, OLD_COLOR, EVAC_COLOR = "#b7e4b0", "#f6c28b", "#dddddd"


def _esc(s: str) -> str:
    """Quote for a record label: backslash, quotes and the record syntax characters."""
    for c in '\\"{}|<>':
        s = s.replace(c, "\\" + c)
    return s


def _live(node: Node) -> int:
    return sum(1 for t in node.tophash if t >= MIN_TOP_HASH)


def to_dot(snap: Snapshot) -> str:
    lay = snap.layout
    h = snap.hmap
    out = ["digraph gomap {", "  newrank=true;",
           '  node [shape=box, fontname="monospace", fontsize=10];']
    if h is None:
        out.append(f'  hmap [shape=record, label="{_esc(lay.go_name)}|nil"];')
        out.append("}")
        return "\n".join(out)
    # Records only for the hmap: Graphviz loses flat edges between record nodes.
    out.append(f'  hmap [shape=record, label="{_esc(lay.go_name)}|hmap {h.addr:#x}|count {h.count}|B {h.B}|'
               f'flags {_esc(flags_text(h.flags))}|noverflow {h.noverflow}|nevacuate {h.nevacuate}|'
               f'<o> oldbuckets {h.oldbuckets:#x}|<b> buckets {h.buckets:#x}"];')
    # The old array is declared first so that Graphviz draws it left of the new one.
    for label, arr, color in (("old", snap.old, OLD_COLOR), ("new", snap.new, NEW_COLOR)):
        if arr is not None:
            out.extend(_array(h, label, arr, color))
    if snap.old is not None and snap.new is not None:
        for j in range(min(snap.old.nbuckets, snap.new.nbuckets)):
            out.append(f"  {{ rank=same; old{j}; new{j}; }}")
        for b in snap.old.buckets:
            if grow.evacuated(b):
                how = grow.evacuation_summary(b)
                x, y = grow.evacuation_targets(snap, b.index)
                if "X" in how:
                    out.append(f'  old{b.index} -> new{x} [style=dotted, label="X"];')
                if "Y" in how and y is not None:
                    out.append(f'  old{b.index} -> new{y} [style=dotted, label="Y"];')
    out.append("}")
    return "\n".join(out)


def _array(h: Hmap, label: str, arr: BucketArray, color: str) -> list[str]:
    """One array as a column: bucket i on row i, its overflow chain beside it.

    Rows are ranks (top to bottom) tied by invisible edges bucket i -> bucket i+1, the one
    order Graphviz never trades for fewer crossings; within a rank it does reorder, so
    ordering=out, rank=same chains and the like did not keep NEW[0], NEW[1], ... in order.
    Old bucket j shares a row with new bucket j, so X edges are level and Y edges go down.
    """
    out = [f"  subgraph cluster_{label} {{",
           f'    label="{label.upper()} array {arr.base:#x} ({arr.nbuckets} buckets)";',
           f'    style=filled; fillcolor="{color}40";']
    for b in arr.buckets:
        fill, note = color, ""
        if label == "old":
            if grow.evacuated(b):
                fill, note = EVAC_COLOR, "\\nevacuated " + grow.evacuation_summary(b)
            else:
                note = "\\npending"
            if b.index == h.nevacuate:
                note += "\\n(nevacuate)"
        out.append(f'    {label}{b.index} [label="{label.upper()}[{b.index}]\\n{b.chain[0].addr:#x}'
                   f'\\n{_live(b.chain[0])} live{note}", group={label}, style=filled, fillcolor="{fill}"];')
    # Overflow buckets stand in the cluster too, on their head's row: the chain reads
    # left to right beside its bucket and never crosses the other array.
    links = []
    for b in arr.buckets:
        chain = [f"{label}{b.index}"]
        for pos, n in enumerate(b.chain[1:], 1):
            name = f"{label}{b.index}_o{pos}"
            style = "dashed,filled" if n.preallocated else "filled"
            tag = "\\npreallocated" if n.preallocated else ""
            out.append(f'    {name} [label="overflow {n.addr:#x}\\n{_live(n)} live{tag}", '
                       f'style="{style}", fillcolor="{color}"];')
            links.append(f"  {chain[-1]} -> {name};")
            chain.append(name)
        if len(chain) > 1:
            out.append(f"    {{ rank=same; {'; '.join(chain)}; }}")
    if arr.nbuckets > 1:
        out.append("    " + " -> ".join(f"{label}{i}" for i in range(arr.nbuckets)) + " [style=invis];")
    out.append("  }")
    if arr.nbuckets:
        out.append(f"  hmap:{'b' if label == 'new' else 'o'} -> {label}0;")
    out.extend(links)
    return out


def write_dot(text: str, path: str) -> str:
    """Write .dot, or run Graphviz for .svg/.png/.pdf. Returns a one-line report."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    try:
        if ext in ("svg", "png", "pdf"):
            dot = shutil.which("dot")
            if dot is None:
                base = os.path.splitext(path)[0] + ".dot"
                with open(base, "w") as f:
                    f.write(text + "\n")
                return f"graphviz 'dot' is not installed: wrote {base} instead"
            r = subprocess.run([dot, f"-T{ext}", "-o", path], input=text.encode(),
                               capture_output=True, timeout=60)
            if r.returncode != 0:
                msg = r.stderr.decode(errors="replace").strip().splitlines()
                raise GomapError(f"dot failed: {msg[0] if msg else r.returncode}")
            return f"wrote {path}"
        with open(path, "w") as f:
            f.write(text + "\n")
        return f"wrote {path}"
    except OSError as e:
        raise GomapError(f"cannot write {path}: {e.strerror or e}") from None
    except subprocess.TimeoutExpired:
        raise GomapError("dot took more than 60 s; write a .dot file instead") from None
