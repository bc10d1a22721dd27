"""The `help gomap` listing fits an 80-column terminal.

LLDB re-wraps any help line wider than its terminal (80 columns in batch
mode) while gdb prints it as it is; a summary that fits keeps the two
listings alike and readable in both.
"""
from gomapcore import commands


def test_every_command_listing_line_fits_80_columns():
    listing = commands.help_text()
    command_lines = [ln for ln in listing.splitlines() if ln.startswith("  gomap ")]
    assert len(command_lines) == len(commands.COMMANDS)
    too_wide = [ln for ln in command_lines if len(ln) > 80]
    assert too_wide == []


def test_each_summary_is_one_line():
    for name, summary, _ in commands.registrations():
        assert summary and "\n" not in summary, name
