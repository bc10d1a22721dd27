"""gomapcore.guard: every failure at an adapter's edge becomes one line."""
from gomapcore import guard
from gomapcore.target import GomapError


def _raise(exc):
    def f(_target):
        raise exc
    return f


def test_command_error_names_the_command_once():
    assert guard.command_error("print", GomapError("no variable named 'x'")) == \
        "gomap print: no variable named 'x'"
    assert guard.command_error("print", GomapError("gomap print: bad -n")) == "gomap print: bad -n"


def test_command_error_for_bugs_interrupts_and_usage():
    try:
        {}["k"]
    except KeyError as e:
        line = guard.command_error("buckets", e)
    assert line.startswith("gomap buckets: internal error: KeyError") and "GOMAP_DEBUG" in line
    assert "\n" not in line
    assert guard.command_error("dot", KeyboardInterrupt()) == "gomap dot: interrupted"
    assert "help gomap heap" in guard.command_error("heap", SystemExit(2))


def test_multi_line_messages_fold_onto_one_line():
    assert guard.one_line(GomapError("a\n  b\tc")) == "a b c"
    assert guard.summary_error(GomapError("x\ny")) == "<gomap: x y>"


def test_decide_stops_with_a_reason_instead_of_losing_the_stop():
    assert guard.decide(lambda t: None, object(), "break 1") is None
    assert guard.decide(lambda t: "hit", object(), "break 1") == "hit"
    assert guard.decide(_raise(GomapError("gone")), object(), "break 1") == \
        "gomap: break 1: gone (stopping)"
    assert guard.decide(_raise(ValueError("bad")), object(), "watch 2") == \
        "gomap: watch 2: internal error: ValueError: bad (stopping)"


def test_after_stop_reports_failures_as_a_line():
    assert guard.after_stop(lambda t: "re-armed", None) == "re-armed"
    assert guard.after_stop(_raise(GomapError("moved")), None) == "gomap: moved"
