"""bench/report.py: ratios are taken round by round, then the median over rounds."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import report  # noqa: E402


def _write(path: Path, rows: list[tuple]) -> str:
    path.write_text("# peer keytype workload n median_ns min_ns reps checksum\n" +
                    "".join("\t".join(map(str, (p, "uint64", "delete", 1000000, ns, ns, 5, 7))) + "\n"
                            for p, ns in rows))
    return str(path)


def _cells(text: str) -> list[str]:
    row = next(ln for ln in text.splitlines() if ln.startswith("| uint64 | delete |"))
    return [c.strip() for c in row.strip("|").split("|")]


def test_ratios_pair_each_round_then_take_the_median(tmp_path):
    # engine/go per round: 0.80, 0.714, 0.833 (median 0.80); the medians of the
    # columns, taken from different rounds, would give 50/70 = 0.71.
    # engine/engine-norec per round: 1.0, 1.1, 1.0 (median 1.00); medians of
    # the columns: 50/45 = 1.11.
    rounds = [((40, 40, 50)), ((50, 45, 70)), ((60, 60, 72))]
    files = []
    for i, (eng, norec, go) in enumerate(rounds, 1):
        files.append(_write(tmp_path / f"engine_1m_{i}.tsv", [("engine", eng * 1e6),
                                                               ("engine-norec", norec * 1e6)]))
        files.append(_write(tmp_path / f"go_1m_{i}.tsv", [("go", go * 1e6)]))
    rows = [r for f in files for r in report.read_tsv(f)]
    cells = _cells(report.table(rows, "test"))
    # keys workload n | engine norec go (ms) | engine/go | registry cost
    assert cells[3:6] == ["50.0", "45.0", "70.0"]
    assert cells[6] == "0.80 ✓"
    assert cells[7] == "1.00 ✓"


def test_round_of_names_the_round_of_both_programs():
    assert report.round_of("/x/engine_10m_2.tsv") == report.round_of("go_10m_2.tsv") == "10m_2.tsv"
    assert report.round_of("smoke.tsv") == "smoke.tsv"
