"""Frames of a Go program without a debugger's help: the CFA from .debug_frame
and DWARF location expressions.

Go's compiler gives every function DW_AT_frame_base = DW_OP_call_frame_cfa and
describes locals and parameters relative to it (DW_OP_fbreg) or, under the
register ABI, in registers for part of the function (location lists). The CFA
itself is only known from the call frame information, so this module reads
.debug_frame.

pyelftools can decode .debug_frame, but decoding every entry of a Go binary
takes seconds (about 6 s for 2,500 FDEs here), so this module scans the entry
headers once (milliseconds) and interprets only the FDE that covers the pc.
Go's CFI is simple: one CIE (CFA = rsp+8, return address at CFA-8) and FDEs
that only move the CFA offset as the stack pointer moves.
"""
from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass
from typing import Callable, Optional

from .target import GomapError

# DWARF register numbers of amd64 (System V psABI), as Go's compiler uses them.
AMD64_DWARF_REGS = (
    "rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
) + tuple(f"xmm{i}" for i in range(16))


def dwarf_register_name(number: int) -> str:
    if 0 <= number < len(AMD64_DWARF_REGS):
        return AMD64_DWARF_REGS[number]
    raise GomapError(f"DWARF register {number} is not an amd64 register this tool knows")


def read_uleb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, pos


def read_sleb(data: bytes, pos: int) -> tuple[int, int]:
    """The same 7-bit groups as read_uleb; bit 6 of the last byte is the sign."""
    start = pos
    result, pos = read_uleb(data, pos)
    if data[pos - 1] & 0x40:
        result -= 1 << (7 * (pos - start))
    return result, pos


@dataclass(frozen=True)
class _CIE:
    code_align: int
    data_align: int
    instructions: bytes


class FrameTable:
    """Index of .debug_frame: which FDE covers a pc, and the CFA rule there."""

    def __init__(self, data: bytes, address_size: int = 8):
        self._data = data
        self._addr_fmt = "<Q" if address_size == 8 else "<I"
        self._addr_size = address_size
        self._cies: dict[int, _CIE] = {}
        starts: list[tuple[int, int, int, int]] = []  # (pc_begin, pc_end, fde offset, cie offset)
        pos = 0
        while pos + 4 <= len(data):
            (length,) = struct.unpack_from("<I", data, pos)
            if length == 0xFFFFFFFF:  # 64-bit DWARF
                (length,) = struct.unpack_from("<Q", data, pos + 4)
                hdr, id_size, cie_marker = 12, 8, 0xFFFFFFFFFFFFFFFF
                (cie_id,) = struct.unpack_from("<Q", data, pos + hdr)
            else:
                hdr, id_size, cie_marker = 4, 4, 0xFFFFFFFF
                (cie_id,) = struct.unpack_from("<I", data, pos + hdr)
            if length == 0:
                pos += hdr
                continue
            end = pos + hdr + length
            if cie_id != cie_marker:
                body = pos + hdr + id_size
                (begin,) = struct.unpack_from(self._addr_fmt, data, body)
                (size,) = struct.unpack_from(self._addr_fmt, data, body + address_size)
                starts.append((begin, begin + size, pos, cie_id))
            pos = end
        starts.sort()
        self._fdes = starts
        self._begins = [s[0] for s in starts]

    def __len__(self) -> int:
        return len(self._fdes)

    def _cie(self, offset: int) -> _CIE:
        cie = self._cies.get(offset)
        if cie is not None:
            return cie
        data = self._data
        (length,) = struct.unpack_from("<I", data, offset)
        if length == 0xFFFFFFFF:
            (length,) = struct.unpack_from("<Q", data, offset + 4)
            pos, end = offset + 20, offset + 12 + length
        else:
            pos, end = offset + 8, offset + 4 + length
        version = data[pos]
        pos += 1
        aug_end = data.index(b"\0", pos)
        augmentation = data[pos:aug_end]
        pos = aug_end + 1
        if augmentation not in (b"",):
            raise GomapError(f"unsupported CIE augmentation {augmentation!r} in .debug_frame")
        if version >= 4:
            pos += 2  # address_size, segment_selector_size
        code_align, pos = read_uleb(data, pos)
        data_align, pos = read_sleb(data, pos)
        if version == 1:
            pos += 1
        else:
            _, pos = read_uleb(data, pos)  # return address register
        cie = _CIE(code_align, data_align, data[pos:end])
        self._cies[offset] = cie
        return cie

    def fde_range(self, pc: int) -> Optional[tuple[int, int]]:
        i = bisect.bisect_right(self._begins, pc) - 1
        if i >= 0 and self._fdes[i][0] <= pc < self._fdes[i][1]:
            return self._fdes[i][0], self._fdes[i][1]
        return None

    def cfa_rule(self, pc: int) -> tuple[int, int]:
        """(DWARF register, offset): CFA = register + offset at pc."""
        i = bisect.bisect_right(self._begins, pc) - 1
        if i < 0 or not (self._fdes[i][0] <= pc < self._fdes[i][1]):
            raise GomapError(f"no call frame information covers pc {pc:#x}")
        begin, _end, fde_off, cie_off = self._fdes[i]
        cie = self._cie(cie_off)
        data = self._data
        (length,) = struct.unpack_from("<I", data, fde_off)
        if length == 0xFFFFFFFF:
            (length,) = struct.unpack_from("<Q", data, fde_off + 4)
            insns_start, fde_end = fde_off + 20 + 2 * self._addr_size, fde_off + 12 + length
        else:
            insns_start, fde_end = fde_off + 8 + 2 * self._addr_size, fde_off + 4 + length
        state = [None, None]  # [register, offset]
        initial = self._run(cie.instructions, cie, state, None, begin, None)
        self._run(data[insns_start:fde_end], cie, state, pc, begin, initial)
        if state[0] is None:
            raise GomapError(f"the CFA at pc {pc:#x} is not given as register+offset")
        return state[0], state[1]

    def _run(self, insns: bytes, cie: _CIE, state: list, pc: Optional[int], loc: int,
             initial: Optional[tuple]) -> tuple:
        """Interpret CFA instructions up to the row that covers pc. Only the
        CFA rule is tracked: the registers' save slots do not matter here."""
        stack: list[tuple] = []
        pos, n = 0, len(insns)
        while pos < n:
            op = insns[pos]
            pos += 1
            high, low = op >> 6, op & 0x3F
            delta = None
            if high == 1:  # DW_CFA_advance_loc
                delta = low
            elif high == 2:  # DW_CFA_offset
                _, pos = read_uleb(insns, pos)
            elif high == 3:  # DW_CFA_restore
                pass
            elif op == 0x00:  # nop
                pass
            elif op == 0x01:  # set_loc
                (newloc,) = struct.unpack_from(self._addr_fmt, insns, pos)
                pos += self._addr_size
                if pc is not None and newloc > pc:
                    break
                loc = newloc
            elif op in (0x02, 0x03, 0x04):  # advance_loc1/2/4
                size = {0x02: 1, 0x03: 2, 0x04: 4}[op]
                delta = int.from_bytes(insns[pos:pos + size], "little")
                pos += size
            elif op in (0x05, 0x14):  # offset_extended, val_offset
                _, pos = read_uleb(insns, pos)
                _, pos = read_uleb(insns, pos)
            elif op in (0x11, 0x15):  # offset_extended_sf, val_offset_sf
                _, pos = read_uleb(insns, pos)
                _, pos = read_sleb(insns, pos)
            elif op in (0x06, 0x07, 0x08):  # restore_extended, undefined, same_value
                _, pos = read_uleb(insns, pos)
            elif op == 0x09:  # register
                _, pos = read_uleb(insns, pos)
                _, pos = read_uleb(insns, pos)
            elif op == 0x0A:  # remember_state
                stack.append((state[0], state[1]))
            elif op == 0x0B:  # restore_state
                if stack:
                    state[0], state[1] = stack.pop()
            elif op == 0x0C:  # def_cfa
                state[0], pos = read_uleb(insns, pos)
                state[1], pos = read_uleb(insns, pos)
            elif op == 0x0D:  # def_cfa_register
                state[0], pos = read_uleb(insns, pos)
            elif op == 0x0E:  # def_cfa_offset
                state[1], pos = read_uleb(insns, pos)
            elif op == 0x12:  # def_cfa_sf
                state[0], pos = read_uleb(insns, pos)
                off, pos = read_sleb(insns, pos)
                state[1] = off * cie.data_align
            elif op == 0x13:  # def_cfa_offset_sf
                off, pos = read_sleb(insns, pos)
                state[1] = off * cie.data_align
            elif op == 0x0F:  # def_cfa_expression
                size, pos = read_uleb(insns, pos)
                pos += size
                state[0] = state[1] = None
            elif op in (0x10, 0x16):  # expression, val_expression
                _, pos = read_uleb(insns, pos)
                size, pos = read_uleb(insns, pos)
                pos += size
            else:
                raise GomapError(f"unknown call frame instruction {op:#x} in .debug_frame")
            if delta is not None:
                newloc = loc + delta * cie.code_align
                if pc is not None and newloc > pc:
                    break
                loc = newloc
        return (state[0], state[1])


# --- DWARF location expressions -------------------------------------------------

@dataclass(frozen=True)
class Piece:
    """Part of a variable: in memory at `address`, or in DWARF register `register`,
    `size` bytes (None: the whole variable)."""
    size: Optional[int]
    address: Optional[int] = None
    register: Optional[int] = None
    value: Optional[int] = None  # DW_OP_stack_value / implicit value


def evaluate_location(expr: bytes, *, cfa: Callable[[], int],
                      read_register: Callable[[str], int],
                      frame_base: Optional[Callable[[], int]] = None,
                      read_memory: Optional[Callable[[int, int], bytes]] = None) -> list[Piece]:
    """The pieces a location expression describes. Supports what Go emits:
    DW_OP_call_frame_cfa, DW_OP_fbreg, DW_OP_reg*/regx, DW_OP_breg*/bregx,
    DW_OP_addr, DW_OP_plus_uconst, DW_OP_consts/constu, DW_OP_deref,
    DW_OP_stack_value and DW_OP_piece."""
    stack: list[int] = []
    pieces: list[Piece] = []
    reg: Optional[int] = None
    implicit = False
    pos, n = 0, len(expr)

    def finish_piece(size: Optional[int]) -> None:
        nonlocal reg, implicit
        if reg is not None:
            pieces.append(Piece(size, register=reg))
        elif implicit and stack:
            pieces.append(Piece(size, value=stack.pop()))
        elif stack:
            pieces.append(Piece(size, address=stack.pop()))
        else:  # empty piece: that part of the variable is optimised away
            pieces.append(Piece(size))
        reg, implicit = None, False
        stack.clear()

    while pos < n:
        op = expr[pos]
        pos += 1
        if 0x50 <= op <= 0x6F:  # DW_OP_reg0..31
            reg = op - 0x50
        elif op == 0x90:  # DW_OP_regx
            reg, pos = read_uleb(expr, pos)
        elif 0x70 <= op <= 0x8F:  # DW_OP_breg0..31
            off, pos = read_sleb(expr, pos)
            stack.append(read_register(dwarf_register_name(op - 0x70)) + off)
        elif op == 0x92:  # DW_OP_bregx
            r, pos = read_uleb(expr, pos)
            off, pos = read_sleb(expr, pos)
            stack.append(read_register(dwarf_register_name(r)) + off)
        elif op == 0x9C:  # DW_OP_call_frame_cfa
            stack.append(cfa())
        elif op == 0x91:  # DW_OP_fbreg
            off, pos = read_sleb(expr, pos)
            base = frame_base() if frame_base is not None else cfa()
            stack.append(base + off)
        elif op == 0x03:  # DW_OP_addr
            stack.append(int.from_bytes(expr[pos:pos + 8], "little"))
            pos += 8
        elif op == 0x23:  # DW_OP_plus_uconst
            v, pos = read_uleb(expr, pos)
            stack.append(stack.pop() + v)
        elif op == 0x22:  # DW_OP_plus
            b, a = stack.pop(), stack.pop()
            stack.append(a + b)
        elif op == 0x1C:  # DW_OP_minus
            b, a = stack.pop(), stack.pop()
            stack.append(a - b)
        elif op == 0x10:  # DW_OP_constu
            v, pos = read_uleb(expr, pos)
            stack.append(v)
        elif op == 0x11:  # DW_OP_consts
            v, pos = read_sleb(expr, pos)
            stack.append(v)
        elif 0x30 <= op <= 0x4F:  # DW_OP_lit0..31
            stack.append(op - 0x30)
        elif op == 0x06:  # DW_OP_deref
            if read_memory is None:
                raise GomapError("location needs a memory read (DW_OP_deref)")
            stack.append(int.from_bytes(read_memory(stack.pop(), 8), "little"))
        elif op == 0x9F:  # DW_OP_stack_value
            implicit = True
        elif op == 0x93:  # DW_OP_piece
            size, pos = read_uleb(expr, pos)
            finish_piece(size)
        else:
            raise GomapError(f"unsupported DWARF location operation {op:#x}")
    if reg is not None or stack or not pieces:
        finish_piece(None)
    return pieces
