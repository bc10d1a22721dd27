"""Every `gomap` subcommand, declared once; both adapters register this registry.

A command is a name, an argparse parser (prog "gomap NAME"), a one-line summary
and run(target, args) -> str. dispatch() parses a command line with shlex and
turns every failure into one GomapError line, so neither debugger ever shows a
Python traceback (set GOMAP_DEBUG=1 to see one).

Importing this module (what both adapters do when they load) imports only
argparse and gomapcore.target: registering the commands and printing their help
need nothing more. Each command imports the modules that do its work (render,
snapshot, layout, heapview, breaks, follow, regs, stepping, ...) when it runs,
so a debugger session that never says `gomap` does not pay for them.
tests/core/test_lazy_imports.py keeps it that way.
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional

from .target import GomapError, Target, Value

if TYPE_CHECKING:  # annotations only: importing them is what a command does when it runs
    from .layout import MapRef
    from .snapshot import Snapshot

# Defaults that the parsers show in their help, copied here so that building the
# parsers imports none of the modules they come from; test_lazy_imports.py checks
# that each still equals its source.
DEFAULT_ENTRIES = 64            # render.DEFAULT_ENTRIES (Delve's MaxArrayValues)
HEAP_BY_CHOICES = ("map", "role", "B")   # heapview.BY_CHOICES
STEP_MAX_LINES = 400            # stepping.MAX_LINES


class _HelpRequested(Exception):
    def __init__(self, text: str):
        self.text = text


class ArgParser(argparse.ArgumentParser):
    """argparse that raises instead of printing and exiting."""

    def __init__(self, *a, **kw):
        kw.setdefault("add_help", False)
        # A fixed width: help must read the same in gdb, lldb and a test.
        kw.setdefault("formatter_class", lambda prog: argparse.HelpFormatter(prog, width=80))
        super().__init__(*a, **kw)
        self.add_argument("-h", "--help", action="store_true", help="show this help")

    def error(self, message: str):
        raise GomapError(f"{message} (see 'help {self.prog}')")

    def exit(self, status: int = 0, message: Optional[str] = None):
        raise GomapError(message.strip() if message else f"{self.prog}: bad arguments")

    def parse(self, argv: list[str]) -> argparse.Namespace:
        if "-h" in argv or "--help" in argv:
            raise _HelpRequested(self.format_help())
        return self.parse_args(argv)


@dataclass
class Command:
    name: str
    summary: str
    parser: ArgParser
    run: Callable[[Target, argparse.Namespace], str]


COMMANDS: dict[str, Command] = {}


def command(name: str, summary: str, description: str = ""):
    """Declare a command; the decorated function gets (parser) to add arguments, and
    returns the run function."""
    def deco(build):
        p = ArgParser(prog=f"gomap {name}", description=description or summary)
        run = build(p)
        COMMANDS[name] = Command(name, summary, p, run)
        return run
    return deco


# --- shared helpers --------------------------------------------------------------

def evaluate_map(target: Target, expr: str, type_str: Optional[str]) -> MapRef:
    from .layout import resolve_map
    expr = expr.strip()
    if not expr:
        raise GomapError("an expression naming a map is needed")
    if not target.is_running():
        from .target import NotRunningError
        raise NotRunningError()
    value = target.evaluate(expr)
    if not type_str:
        _refuse_integer(expr, value)
    return resolve_map(target, value, type_str)


# A name, a member or an element (`i`, `main.sink`, `s.n`, `p->n`, `a[3]`): its
# integer type is a fact about the program, not a missing option. Anything else
# (a literal, `$rax`, a cast, arithmetic) may well be a map's address.
_NAMED = re.compile(r"[A-Za-z_][\w.]*(?:\s*(?:\.|->)\s*[A-Za-z_]\w*|\[[^\]]*\])*")


def _refuse_integer(expr: str, value: Value) -> None:
    from .target import Kind
    t = value.type.strip_typedefs()
    if t.kind not in (Kind.INT, Kind.UINT):
        return
    type_name = value.type.name or t.name or t.kind.value
    if _NAMED.fullmatch(expr):
        raise GomapError(f"{expr} is not a map (its type is {type_name})")
    raise GomapError(f"{expr} is an integer ({type_name}), not a map: if it is a map's "
                     "address, give its type with --type 'map[K]V'")


def snapshot_of(target: Target, expr: str, type_str: Optional[str] = None) -> Snapshot:
    from .snapshot import take_snapshot
    return take_snapshot(target, evaluate_map(target, expr, type_str))


def _expr_arg(p: ArgParser) -> None:
    p.add_argument("expr", nargs="+", metavar="EXPR",
                   help="a gomap::Map<K,V>, a hash<K,V>*, Go's map[K]V, or an address with --type")
    p.add_argument("--type", dest="type", metavar="T",
                   help="the map's type, e.g. 'map[string]int64', for a plain hmap* or an address")


# --- gomap print ----------------------------------------------------------------

@command("print", "print a map like Delve: map[K]V [k: v, ...]",
         "Print a map in Delve's format. -v adds the hmap header and growth progress.")
def _print(p: ArgParser):
    g = p.add_mutually_exclusive_group()
    g.add_argument("-n", type=int, default=DEFAULT_ENTRIES, metavar="N",
                   help=f"show at most N entries (default {DEFAULT_ENTRIES})")
    g.add_argument("--all", action="store_true", help="show every entry, strings in full")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="header: len, B, flags, hash0, buckets, oldbuckets, nevacuate, noverflow, growth")
    p.add_argument("--json", action="store_true", help="JSON: header fields and all entries")
    _expr_arg(p)

    def run(target: Target, a: argparse.Namespace) -> str:
        from . import render
        if a.n is not None and a.n < 0:
            raise GomapError("-n must be 0 or more")
        snap = snapshot_of(target, " ".join(a.expr), a.type)
        if a.json:
            return render.print_json(snap)
        return render.print_text(snap, None if a.all else a.n, a.verbose)
    return run


# --- gomap buckets -------------------------------------------------------------

@command("buckets", "bucket arrays old and new: tophash states, chains, evacuation",
         "Show each bucket of the new array and, during a grow, the old one: address range, "
         "tophash bytes and their meaning, keys and values, overflow chain (preallocated "
         "buckets marked), and for old buckets whether they are evacuated (to X and/or Y) or "
         "pending; the bucket nevacuate points at is marked.")
def _buckets(p: ArgParser):
    g = p.add_mutually_exclusive_group()
    g.add_argument("--old", action="store_true", help="only the old array")
    g.add_argument("--new", action="store_true", help="only the new array")
    p.add_argument("--json", action="store_true", help="JSON: arrays, buckets, slots, chains")
    p.add_argument("--type", dest="type", metavar="T",
                   help="the map's type, e.g. 'map[string]int64', for a plain hmap* or an address")
    p.add_argument("expr", metavar="EXPR", help="the map (quote it if it has spaces)")
    p.add_argument("index", nargs="*", type=int, metavar="INDEX", help="only these bucket indexes")

    def run(target: Target, a: argparse.Namespace) -> str:
        from . import render_buckets
        snap = snapshot_of(target, a.expr, a.type)
        which = "old" if a.old else "new" if a.new else "both"
        render_buckets.check_indexes(snap, which, a.index)
        if a.json:
            return render_buckets.buckets_json_text(snap, which, a.index or None)
        return render_buckets.buckets_text(snap, which, a.index or None,
                                           color=render_buckets.want_color(target))
    return run


# --- gomap dot -------------------------------------------------------------------

@command("dot", "Graphviz of hmap -> new/old arrays -> overflow chains",
         "Write the map's structure as Graphviz: the hmap, the new array and (during a grow) "
         "the old one in another colour, overflow chains, evacuation edges. Without -o the "
         "dot text is printed; -o FILE.dot writes it, -o FILE.svg or .png runs Graphviz.")
def _dot(p: ArgParser):
    p.add_argument("-o", dest="output", metavar="FILE", help="write to FILE (.dot, .svg, .png)")
    p.add_argument("--type", dest="type", metavar="T",
                   help="the map's type, e.g. 'map[string]int64', for a plain hmap* or an address")
    _expr = p.add_argument("expr", nargs="+", metavar="EXPR", help="the map")
    del _expr

    def run(target: Target, a: argparse.Namespace) -> str:
        from . import render_dot
        snap = snapshot_of(target, " ".join(a.expr), a.type)
        text = render_dot.to_dot(snap)
        if a.output:
            return render_dot.write_dot(text, a.output)
        return text
    return run


# --- dispatch -----------------------------------------------------------------------

def help_text(name: Optional[str] = None) -> str:
    if name and name in COMMANDS:
        return COMMANDS[name].parser.format_help()
    lines = ["gomap: see a Go map's memory", "", "commands:"]
    for c in COMMANDS.values():
        lines.append(f"  gomap {c.name:<9} {c.summary}")
    lines.append("")
    lines.append("'help gomap NAME' or 'gomap NAME -h' for a command's options.")
    return "\n".join(lines)


def command_names() -> list[str]:
    return list(COMMANDS)


def registrations() -> list[tuple[str, str, str]]:
    """(name, one-line summary, full help) of every command in declaration order:
    what each debugger adapter registers as `gomap NAME`."""
    return [(c.name, (c.summary or "").strip(), help_text(c.name)) for c in COMMANDS.values()]


def dispatch(target: Target, name: str, argstring: str) -> str:
    """Run `gomap NAME ARGS`. Returns the output; raises GomapError (one line) on failure."""
    try:
        if name in ("", "help", "-h", "--help"):
            return help_text(argstring.strip() or None)
        cmd = COMMANDS.get(name)
        if cmd is None:
            raise GomapError(f"gomap: unknown command {name!r} (commands: {', '.join(COMMANDS)})")
        try:
            argv = shlex.split(argstring)
        except ValueError as e:
            raise GomapError(str(e)) from None
        try:
            args = cmd.parser.parse(argv)
        except _HelpRequested as h:
            return h.text
        return cmd.run(target, args)
    except GomapError as e:
        if os.environ.get("GOMAP_DEBUG") == "1":
            traceback.print_exc()
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise GomapError(msg) from None
    except Exception as e:  # a bug of ours or a debugger surprise: one line, never a traceback
        if os.environ.get("GOMAP_DEBUG") == "1":
            traceback.print_exc()
        where = f"{type(e).__name__}: {e}".splitlines()[0]
        raise GomapError(f"internal error ({where}); set GOMAP_DEBUG=1 for details") from None


def dispatch_line(target: Target, line: str) -> str:
    """`gomap` followed by a whole line ('print -v m')."""
    line = line.strip()
    name, _, rest = line.partition(" ")
    return dispatch(target, name, rest)


# --- pretty-printer support ------------------------------------------------------

@dataclass
class MapSummary:
    """What a gdb/lldb pretty-printer shows for one map.

    line: Delve's one line (`map[K]V [k: v, ...+N more]`); children: the shown
    entries as (key_text, value_text, key_addr, value_addr, key_type,
    value_type); count: every live entry of the map (None for a nil map), so a
    printer need not parse `+N more` back out of the line. Unpacks as
    (line, children) for callers written before count existed."""
    type_name: str
    line: str
    children: list
    count: Optional[int]

    @property
    def short(self) -> str:
        """`map[K]V len: N` or `map[K]V nil`: a printer's one line when the
        entries are shown as its children (and in a backtrace's arguments)."""
        if self.count is None:
            return f"{self.type_name} nil"
        return f"{self.type_name} len: {self.count}"

    def __iter__(self):
        return iter((self.line, self.children))


def summarize(target: Target, value: Value, limit: Optional[int] = DEFAULT_ENTRIES) -> MapSummary:
    """The pretty-printers' view of a map: at most `limit` entries as children
    (None: all), and the map's whole entry count."""
    from . import grow, render
    from .layout import resolve_map
    from .snapshot import take_snapshot
    ref = resolve_map(target, value)
    snap = take_snapshot(target, ref)
    go_name = ref.layout.go_name
    if snap.hmap is None:
        return MapSummary(go_name, render.delve_line(go_name, [], 0, nil=True), [], None)
    entries = grow.live_entries(snap)
    shown = entries if limit is None else entries[:limit]
    pairs = render.decode(snap, shown, render.codecs_for(snap, render.DEFAULT_STRING_LIMIT))
    lay = snap.layout
    children = []
    for (buf, off, slot, addr), (k, v) in zip(shown, pairs):
        ko = lay.keys_off + slot * lay.keysize
        eo = lay.elems_off + slot * lay.elemsize
        kaddr, vaddr = addr + ko, addr + eo
        if lay.indirect_key:
            kaddr = int.from_bytes(buf[off + ko:off + ko + 8], "little")
        if lay.indirect_elem:
            vaddr = int.from_bytes(buf[off + eo:off + eo + 8], "little")
        children.append((k, v, kaddr, vaddr, lay.key_type, lay.elem_type))
    return MapSummary(lay.go_name, render.delve_line(lay.go_name, pairs, len(entries)),
                      children, len(entries))


# --- gomap heap (issue 6: heap bucket lifetimes; views in heapview/heapblock/heaptimeline) ---
#
# One command with four views as argparse subcommands, so `gomap heap inuse ...` reads
# like the other commands and `gomap heap VIEW -h` shows that view's own help.

class _HeapParser(ArgParser):
    def parse(self, argv: list[str]) -> argparse.Namespace:
        if "-h" in argv or "--help" in argv:
            sub = _HEAP_VIEWS.get(argv[0]) if argv else None
            raise _HelpRequested((sub or self).format_help())
        return self.parse_args(argv)


_HEAP_VIEWS: dict = {}


def _heap_state(target: Target):
    from . import heapview
    if not target.is_running():
        from .target import NotRunningError
        raise NotRunningError()
    return heapview.load(target)


def _heap_map_addr(target: Target, a: argparse.Namespace) -> Optional[int]:
    return evaluate_map(target, a.map, a.type).hmap_addr if a.map else None


def _heap_addr(target: Target, expr: str) -> int:
    from .target import Kind
    try:
        return int(expr, 0)
    except ValueError:
        pass
    v = target.evaluate(expr)
    t = v.type.strip_typedefs()
    if t.kind in (Kind.POINTER, Kind.INT, Kind.UINT) and len(v.data) >= 8 or t.kind is Kind.POINTER:
        return int.from_bytes(v.data[:8], "little")
    if v.address is not None:
        return v.address
    raise GomapError(f"gomap heap block: {expr!r} is neither an address nor a pointer")


def _heap_out(text: str, data: dict, as_json: bool) -> str:
    import json
    return json.dumps(data) if as_json else text


def _heap_run_inuse(target: Target, a: argparse.Namespace) -> str:
    from . import heapview
    if not heapview.has_registry(target) and a.map:
        # A Go program: what the map reaches now, lifetimes unknown.
        text, data = heapview.reachable(target, snapshot_of(target, a.map, a.type))
        return _heap_out(text, data, a.json)
    st = _heap_state(target)
    return _heap_out(*heapview.inuse(st, _heap_map_addr(target, a), a.by), a.json)


def _heap_run_allocs(target: Target, a: argparse.Namespace) -> str:
    from . import heapview
    st = _heap_state(target)
    return _heap_out(*heapview.allocs(st, _heap_map_addr(target, a), a.by), a.json)


def _heap_run_block(target: Target, a: argparse.Namespace) -> str:
    from . import heapblock
    st = _heap_state(target)
    layout = evaluate_map(target, a.map, a.type).layout if a.map else None
    return _heap_out(*heapblock.block(st, _heap_addr(target, " ".join(a.addr)), layout), a.json)


def _heap_run_timeline(target: Target, a: argparse.Namespace) -> str:
    from . import heaptimeline
    if a.width < 10:
        raise GomapError("gomap heap timeline: --width must be 10 or more")
    st = _heap_state(target)
    text, data = heaptimeline.timeline(st, _heap_map_addr(target, a), a.svg, a.width)
    return _heap_out(text, data, a.json)


def _build_heap() -> None:
    p = _HeapParser(prog="gomap heap",
                    description="Lifetimes of map memory from the gomap engine's heap registry: "
                                "what is live, OLD (the old array of an unfinished grow), GARBAGE "
                                "(dropped, not yet collected) or freed. 'gomap heap VIEW -h' for "
                                "a view's options.")
    views = p.add_subparsers(dest="view", metavar="VIEW", parser_class=ArgParser, required=True)

    def view(name: str, summary: str, run) -> ArgParser:
        sp = views.add_parser(name, help=summary, description=summary)
        sp.set_defaults(run=run)
        _HEAP_VIEWS[name] = sp
        return sp

    def map_opts(sp: ArgParser, what: str) -> None:
        sp.add_argument("--map", metavar="EXPR", help=what)
        sp.add_argument("--type", metavar="T", help="the map's type for --map, e.g. 'map[string]int64'")
        sp.add_argument("--json", action="store_true", help="JSON instead of text")

    sp = view("inuse", "live map memory grouped, like pprof -inuse_space; OLD and GARBAGE marked",
              _heap_run_inuse)
    map_opts(sp, "only this map (without a registry, e.g. a Go program: the memory it reaches)")
    sp.add_argument("--by", choices=HEAP_BY_CHOICES, default="map", help="group by (default: map)")
    sp = view("allocs", "everything allocated, freed included (past a bounded history, the oldest "
              "reused records are only counted), and the difference from inuse",
              _heap_run_allocs)
    map_opts(sp, "only this map")
    sp.add_argument("--by", choices=HEAP_BY_CHOICES, default="map", help="group by (default: map)")
    sp = view("block", "what an address belongs to: map, array, bucket, slot, lifetime, pointers",
              _heap_run_block)
    map_opts(sp, "the owning map, for its type: exact bucket size and slot")
    sp.add_argument("addr", nargs="+", metavar="ADDR", help="an address or pointer expression")
    sp = view("timeline", "allocation/garbage/free over sequence numbers, one lane per map",
              _heap_run_timeline)
    map_opts(sp, "only this map")
    sp.add_argument("--svg", metavar="FILE", help="also write an SVG picture to FILE")
    sp.add_argument("--width", type=int, default=60, help="text columns for the time axis")
    COMMANDS["heap"] = Command("heap", "heap lifetimes of map memory: inuse, allocs, block, "
                                       "timeline", p, lambda target, a: a.run(target, a))


_build_heap()


# === Following a map as it changes (issue 5): break, watch, regs, step, frame ===
# Declared here like every command; what they do lives in breaks.py, follow.py,
# regs.py and stepping.py. Stops need an adapter Target that mixes in
# gomapcore.stops.StopControl (gdb_scripts/gomap_gdb_stops.py, lldb_plugin/gomap_lldb_stops.py).

class _SubcommandParser(ArgParser):
    """`gomap break SUB -h` shows SUB's own help."""
    subs: dict

    def parse(self, argv: list[str]) -> argparse.Namespace:
        if "-h" in argv or "--help" in argv:
            sub = self.subs.get(argv[0]) if argv else None
            raise _HelpRequested((sub or self).format_help())
        return self.parse_args(argv)


def _build_follow() -> None:
    def resolve(target: Target, expr: str) -> MapRef:
        return evaluate_map(target, expr, None)

    p = _SubcommandParser(prog="gomap break", description=(
        "Breakpoints on map writes that stop only when a condition holds. Each condition is "
        "decided at the cheapest runtime function: --grow at hashGrow, --overflow at "
        "newoverflow, --evacuate at evacuate; --key/--new-key at the mapassign entries. "
        "The debugger's own breakpoint list shows them; `delete N` works too."))
    p.subs = {}
    subs = p.add_subparsers(dest="sub", metavar="assign|list|delete", parser_class=ArgParser, required=True)
    sp = subs.add_parser("assign", help="break on mapassign when a condition holds",
                         description="Stop at a map assign when every given condition holds; "
                                     "prints one line: map, key, count, B, why.")
    sp.add_argument("--map", metavar="EXPR", help="only this map")
    sp.add_argument("--key", metavar="VALUE", help="only this key (Go syntax: 42, \"abc\")")
    sp.add_argument("--new-key", action="store_true", help="only keys not yet in the map")
    sp.add_argument("--grow", action="store_true", help="an assign that starts a grow (at hashGrow)")
    sp.add_argument("--same-size", action="store_true", help="a same-size grow (at hashGrow)")
    sp.add_argument("--overflow", action="store_true",
                    help="an assign that takes an overflow bucket (at newoverflow)")
    sp.add_argument("--evacuate", action="store_true", help="an old bucket being evacuated (at evacuate)")
    p.subs["assign"] = sp
    p.subs["list"] = subs.add_parser("list", help="gomap breakpoints and watchpoints, with hit counts")
    sp = subs.add_parser("delete", help="delete gomap breakpoints/watchpoints (all when no N)")
    sp.add_argument("numbers", nargs="*", type=int, metavar="N")
    p.subs["delete"] = sp

    def run_break(target: Target, a: argparse.Namespace) -> str:
        from . import breaks
        if a.sub == "list":
            return breaks.list_stops(target)
        if a.sub == "delete":
            return breaks.delete_stop(target, a.numbers)
        spec = breaks.BreakSpec(map_expr=a.map, key_text=a.key, new_key=a.new_key, grow=a.grow,
                                overflow=a.overflow, evacuate=a.evacuate, same_size=a.same_size)
        return breaks.break_assign(target, spec, resolve)
    COMMANDS["break"] = Command("break", "break on map writes (assign --grow, --key...); list; delete", p, run_break)

    @command("watch", "hardware watchpoints on hmap fields or one key, told in words",
             "Watch hmap fields (buckets by default; `all` = every field the 4 debug registers "
             "allow) and say what each change means, or watch the value of one key (--key) and "
             "follow it when evacuation moves it.")
    def _watch(wp: ArgParser):
        wp.add_argument("expr", metavar="EXPR", help="the map (quote it if it has spaces)")
        wp.add_argument("fields", nargs="*", metavar="FIELD",
                        help="buckets (default), oldbuckets, count, nevacuate, B, flags or all")
        wp.add_argument("--key", metavar="VALUE", help="watch this key's value and follow it")
        wp.add_argument("--type", dest="type", metavar="T", help="the map's type for an address")

        def run(target: Target, a: argparse.Namespace) -> str:
            from . import follow
            from .keys import key_type_from_desc, parse_key
            from .layout import go_type_name
            ref = evaluate_map(target, a.expr, a.type)
            if a.key is not None:
                if a.fields:
                    raise GomapError("gomap watch: give either FIELDs or --key, not both")
                kt = key_type_from_desc(ref.layout.key_type, go_type_name(ref.layout.key_type))
                return follow.watch_key(target, ref, kt, parse_key(a.key, kt), a.expr)
            return follow.watch_fields(target, ref, a.fields or ["buckets"], a.expr)
        return run

    @command("regs", "at mapassign/mapaccess/mapdelete: arguments, hash, bucket",
             "Decode the argument registers of a map runtime call (SysV RDI/RSI/RDX for the "
             "engine, Go's RAX/RBX/RCX): maptype, hmap, key, then hash, tophash, bucket index "
             "and pointer, old bucket and evacuation. The hash is the runtime's own: the "
             "engine's, or Go's aeshash keyed by the process's runtime.aeskeysched.")
    def _regs(rp: ArgParser):
        rp.add_argument("--json", action="store_true", help="JSON instead of text")

        def run(target: Target, a: argparse.Namespace) -> str:
            from . import regs
            r = regs.decode_call(target)
            return regs.render_json(r) if a.json else regs.render_text(r)
        return run

    @command("step", "inside mapassign: run to the next map event (bucket, slot...)",
             "Step line by line through the current mapassign and stop where something happens "
             "in map terms: bucket chosen, growWork done, slot found, overflow taken, grow started, "
             "key inserted.")
    def _step(sp2: ArgParser):
        sp2.add_argument("--max-lines", type=int, default=STEP_MAX_LINES,
                         help="give up after this many lines")

        def run(target: Target, a: argparse.Namespace) -> str:
            from . import stepping
            return stepping.step(target, a.max_lines)
        return run

    @command("frame", "the current mapassign's locals in map terms",
             "Show hash, bucket, b, the chosen slot and elem of the mapassign in the selected frame.")
    def _frame(fp: ArgParser):
        def run(target: Target, a: argparse.Namespace) -> str:
            from . import stepping
            return stepping.frame(target)
        return run


_build_follow()
