#!/usr/bin/env python3
"""Copy the latest benchmark tables into README.md (between marker comments).

bench/run.sh, bench/plugin_bench.py and bench/go_printer_bench.py each write their
own results file; this puts the tables of those files into the README's
"Figures" section so the README always shows what the benchmark commands last
measured. Run by bench/run.sh and bench/plugin_bench.py; safe to run by hand.
"""
from __future__ import annotations

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _section(path: pathlib.Path, begin: str | None = None, end: str | None = None) -> str | None:
    """The text of a results file between two markers (whole file after its title when none)."""
    if not path.exists():
        return None
    text = path.read_text()
    if begin:
        m = re.search(re.escape(begin) + r"\n(.*?)" + re.escape(end), text, re.S)
        return m.group(1).strip() if m else None
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    # a file's own prose after its tables (a "## ..." section) stays there
    out = []
    for line in lines:
        if line.startswith("## ") or line.startswith("<!-- notes"):
            break
        out.append(line)
    return "\n".join(out).strip()


BLOCKS = {
    "engine": lambda: _section(ROOT / "bench/RESULTS.md"),
    "plugins": lambda: _section(ROOT / "bench/RESULTS-plugins.md",
                                "<!-- plugin_bench:begin -->", "<!-- plugin_bench:end -->"),
    "go-printer": lambda: _section(ROOT / "bench/RESULTS-go.md"),
}


def update(readme: pathlib.Path = ROOT / "README.md") -> list[str]:
    text = readme.read_text()
    done = []
    for name, get in BLOCKS.items():
        begin, end = f"<!-- bench:{name}:begin -->", f"<!-- bench:{name}:end -->"
        if begin not in text or end not in text:
            continue
        body = get()
        if not body:
            continue
        text = re.sub(re.escape(begin) + r".*?" + re.escape(end),
                      lambda _m: f"{begin}\n{body}\n{end}", text, flags=re.S)
        done.append(name)
    readme.write_text(text)
    return done


if __name__ == "__main__":
    names = update()
    print(f"README.md: updated {', '.join(names) or 'nothing'}", file=sys.stderr)
