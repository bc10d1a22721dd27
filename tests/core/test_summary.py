"""commands.summarize, the pretty-printers' view: the entry count comes from
the map, not from parsing Delve's `+N more` back out of the line."""
import pytest

from test_maps import doubling_image  # the mid-grow image of four entries
from gomapcore.commands import MapSummary, summarize


@pytest.mark.parametrize("limit", [None, 4, 2, 1, 0])
def test_count_is_every_entry_whatever_is_shown(limit):
    t, *_ = doubling_image()
    s = summarize(t, t.values["m"], limit=limit)
    assert isinstance(s, MapSummary)
    assert s.count == 4 and s.short == "map[int64]int64 len: 4"
    assert len(s.children) == (4 if limit is None else limit)
    line, children = s  # callers written for the (line, children) pair
    assert line == s.line and children == s.children
    if limit == 0:
        # Delve's line shows no `+N more` when it shows no entry: the count
        # could not be read back from it.
        assert s.line == "map[int64]int64 [...]"
