"""`gomap dot`: Graphviz of hmap -> new and old bucket arrays -> overflow chains.

New buckets are green, old ones orange (evacuated old buckets greyed), preallocated
overflow buckets dashed; an old bucket's evacuation is drawn as dotted edges to
its X and Y buckets.
"""
from __future__ import annotations

import os
import shutil
import subprocess

from . import grow
from .snapshot import MIN_TOP_HASH, Snapshot, flags_text
from .target import GomapError

NEW_COLOR, OLD_COLOR, EVAC_COLOR = "#b7e4b0", "#f6c28b", "#dddddd"


def _esc(s: str) -> str:
    """Quote for a record label: backslash, quotes and the record syntax characters."""
    for c in '\\"{}|<>':
        s = s.replace(c, "\\" + c)
    return s


def to_dot(snap: Snapshot) -> str:
    lay = snap.layout
    h = snap.hmap
    out = ["digraph gomap {", "  rankdir=LR;", '  node [shape=record, fontname="monospace", fontsize=10];']
    if h is None:
        out.append(f'  hmap [label="{_esc(lay.go_name)}|nil"];')
        out.append("}")
        return "\n".join(out)
    out.append(f'  hmap [label="{{{_esc(lay.go_name)}|hmap {h.addr:#x}|count {h.count}|B {h.B}|'
               f'flags {_esc(flags_text(h.flags))}|noverflow {h.noverflow}|nevacuate {h.nevacuate}|'
               f'<b> buckets {h.buckets:#x}|<o> oldbuckets {h.oldbuckets:#x}}}"];')
    for label, arr, color in (("new", snap.new, NEW_COLOR), ("old", snap.old, OLD_COLOR)):
        if arr is None:
            continue
        out.append(f"  subgraph cluster_{label} {{")
        out.append(f'    label="{label.upper()} array {arr.base:#x} ({arr.nbuckets} buckets)";')
        out.append(f'    style=filled; fillcolor="{color}40";')
        for b in arr.buckets:
            fill = color
            note = ""
            if label == "old":
                if grow.evacuated(b):
                    fill, note = EVAC_COLOR, "\\nevacuated " + grow.evacuation_summary(b)
                else:
                    note = "\\npending"
                if b.index == h.nevacuate:
                    note += "\\n(nevacuate)"
            live = sum(1 for t in b.chain[0].tophash if t >= MIN_TOP_HASH)
            out.append(f'    {label}{b.index} [label="{label.upper()}[{b.index}]\\n{b.chain[0].addr:#x}'
                       f'\\n{live} live{note}", style=filled, fillcolor="{fill}"];')
        out.append("  }")
        port = "b" if label == "new" else "o"
        if arr.buckets:
            out.append(f"  hmap:{port} -> {label}0;")
        for b in arr.buckets:
            prev = f"{label}{b.index}"
            for pos, n in enumerate(b.chain[1:], 1):
                name = f"{label}{b.index}_o{pos}"
                live = sum(1 for t in n.tophash if t >= MIN_TOP_HASH)
                style = "dashed,filled" if n.preallocated else "filled"
                tag = "\\npreallocated" if n.preallocated else ""
                out.append(f'  {name} [label="overflow {n.addr:#x}\\n{live} live{tag}", '
                           f'style="{style}", fillcolor="{color}"];')
                out.append(f"  {prev} -> {name};")
                prev = name
    if snap.old is not None and snap.new is not None:
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
