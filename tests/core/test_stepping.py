"""gomap step/frame: map events recognised between two frame states (no debugger)."""
from gomapcore.snapshot import Hmap
from gomapcore.stepping import AssignState, events_between, is_assign_frame


def H(**kw):
    base = dict(addr=0x1000, count=5, flags=4, B=2, noverflow=0, hash0=1, buckets=0xa000,
                oldbuckets=0, nevacuate=0, extra=0)
    base.update(kw)
    return Hmap(**base)


def S(h, **locals_):
    return AssignState("gomap::detail_rt::fastAssign<unsigned long>", "engine", 0x10, 0x1000, h,
                       dict(locals_), 144)


def test_bucket_chosen_ignores_stack_garbage():
    a = S(H(), hash=0xabc, bucket=0x7ffff00)          # not assigned yet: garbage
    b = S(H(), hash=0xabc, bucket=0xabc & 3)
    assert events_between(a, b) == ["bucket chosen: hash 0xabc & 0x3 \u2192 bucket 0 of 4 at 0xa000"]
    assert events_between(b, b) == []


def test_slot_found_fast_and_generic_forms():
    a = S(H(), insertb=0, inserti=0)
    b = S(H(), insertb=0xa000 + 144, inserti=3)
    assert events_between(a, b) == ["slot found: new bucket 1 slot 3"]
    # generic mapassign: inserti points at the tophash byte
    g = S(H(), b=0xa000 + 2 * 144, inserti=0xa000 + 2 * 144 + 5)
    assert events_between(a, g) == ["slot found: new bucket 2 slot 5"]
    ovf = S(H(), insertb=0xf000, inserti=0)
    assert events_between(a, ovf) == ["slot found: overflow bucket 0xf000 slot 0"]


def test_header_events_in_assign_words():
    a = S(H())
    grow = S(H(B=3, buckets=0xb000, oldbuckets=0xa000))
    assert events_between(a, grow)[0].startswith("grow started: B 2\u21923")
    assert events_between(a, grow)[0].endswith("(hashGrow; mapassign starts again)")
    g1 = S(H(B=3, buckets=0xb000, oldbuckets=0xa000, nevacuate=0))
    g2 = S(H(B=3, buckets=0xb000, oldbuckets=0xa000, nevacuate=2))
    assert events_between(g1, g2) == ["growWork done: evacuated old buckets 0-1 (nevacuate 0\u21922 of 4)"]
    assert events_between(a, S(H(noverflow=1))) == ["overflow taken: noverflow 0\u21921 (overflow bucket taken)"]
    assert events_between(a, S(H(count=6))) == ["key inserted: count 5\u21926 (+1)"]


def test_assign_frames():
    assert is_assign_frame("gomap::detail_rt::fastAssign<unsigned long>(gomap::maptype const*)")
    assert is_assign_frame("runtime.mapassign_fast64")
    assert not is_assign_frame("gomap::hashGrow")
    assert not is_assign_frame(None)


def test_frame_before_a_slot_is_chosen_says_so():
    # insertb still holds leftover stack bytes: no tophash to read, no Python None shown
    from fakes import FakeTarget
    from gomapcore.stepping import describe_state
    out = describe_state(FakeTarget(), S(H(), hash=0xabc, bucket=0, insertb=0xe, inserti=6))
    assert "insert = no slot chosen yet (the local holds 0xe, not a readable bucket)" in out
    assert "None" not in out
