"""A minimal, bounded FlatBuffers reader (tables, vectors, strings, scalars).

Field ids are schema slot numbers (0-based, in declaration order). Every offset is checked against the buffer
before it is followed; loops follow only forward or bounded links, so hostile input cannot make the reader spin.
Anything inconsistent raises `FlatBufferError`.
"""

from __future__ import annotations

import struct

from .._dataclasses import dataclass

MAX_VECTOR = 1 << 24


class FlatBufferError(ValueError):
    """The bytes are not a consistent FlatBuffer."""


def _u32(buf: bytes | memoryview, pos: int) -> int:
    if pos < 0 or pos + 4 > len(buf):
        raise FlatBufferError(f"offset {pos} outside the buffer")
    return int.from_bytes(buf[pos : pos + 4], "little")


def _i32(buf: bytes | memoryview, pos: int) -> int:
    v = _u32(buf, pos)
    return v - (1 << 32) if v >= 1 << 31 else v


def file_identifier(buf: bytes | memoryview) -> bytes:
    return bytes(buf[4:8]) if len(buf) >= 8 else b""


def _vtable_fits(size: int, pos: int, vt: int, vt_size: int, table_size: int) -> bool:
    """A vtable of at least its own header, in whole 16-bit entries, and its table, inside the buffer."""
    return vt_size >= 4 and not vt_size % 2 and vt + vt_size <= size and pos + table_size <= size


@dataclass(frozen=True)
class Table:
    buf: bytes | memoryview
    pos: int  # absolute offset of the table
    vtable: int
    vtable_size: int

    @classmethod
    def at(cls, buf: bytes | memoryview, pos: int) -> Table:
        if pos < 0 or pos + 4 > len(buf):
            raise FlatBufferError(f"table offset {pos} outside the buffer")
        vt = pos - _i32(buf, pos)
        if vt < 0 or vt + 4 > len(buf):
            raise FlatBufferError(f"vtable offset {vt} outside the buffer")
        vt_size = int.from_bytes(buf[vt : vt + 2], "little")
        table_size = int.from_bytes(buf[vt + 2 : vt + 4], "little")
        if not _vtable_fits(len(buf), pos, vt, vt_size, table_size):
            raise FlatBufferError("bad vtable")
        return cls(buf, pos, vt, vt_size)

    @classmethod
    def root(cls, buf: bytes | memoryview) -> Table:
        return cls.at(buf, _u32(buf, 0))

    def _field_pos(self, slot: int) -> int | None:
        entry = 4 + 2 * slot
        if entry + 2 > self.vtable_size:
            return None
        off = int.from_bytes(self.buf[self.vtable + entry : self.vtable + entry + 2], "little")
        return self.pos + off if off else None

    def has(self, slot: int) -> bool:
        return self._field_pos(slot) is not None

    def scalar(self, slot: int, fmt: str, default: int | float = 0) -> int | float:
        p = self._field_pos(slot)
        if p is None:
            return default
        size = struct.calcsize("<" + fmt)
        if p + size > len(self.buf):
            raise FlatBufferError("scalar outside the buffer")
        value: int | float = struct.unpack_from("<" + fmt, self.buf, p)[0]
        return value

    def uint(self, slot: int, default: int = 0) -> int:
        return int(self.scalar(slot, "I", default))

    def _indirect(self, slot: int) -> int | None:
        p = self._field_pos(slot)
        if p is None:
            return None
        return p + _u32(self.buf, p)

    def string_at(self, slot: int, limit: int = 64 * 1024) -> tuple[str, int] | None:
        """The string in the slot and its absolute offset, or None when absent."""
        target = self._indirect(slot)
        if target is None:
            return None
        return read_string(self.buf, target, limit)

    def string(self, slot: int, limit: int = 64 * 1024) -> str | None:
        s = self.string_at(slot, limit)
        return None if s is None else s[0]

    def table(self, slot: int) -> Table | None:
        target = self._indirect(slot)
        return None if target is None else Table.at(self.buf, target)

    def vector(self, slot: int) -> tuple[int, int] | None:
        """(element start, element count) of a vector, or None when absent."""
        target = self._indirect(slot)
        if target is None:
            return None
        n = _u32(self.buf, target)
        if n > MAX_VECTOR:
            raise FlatBufferError(f"vector of {n} elements")
        return target + 4, n

    def vector_bytes(self, slot: int) -> tuple[int, int] | None:
        """(absolute start, length) of a [ubyte] vector, checked to lie inside the buffer."""
        target = self._indirect(slot)
        if target is None:
            return None
        n = _u32(self.buf, target)
        if target + 4 + n > len(self.buf):
            raise FlatBufferError("byte vector runs past the end")
        return target + 4, n

    def tables(self, slot: int, limit: int = 4096) -> list[Table]:
        v = self.vector(slot)
        if v is None:
            return []
        start, n = v
        if start + 4 * n > len(self.buf):
            raise FlatBufferError("table vector runs past the end")
        out = []
        for i in range(min(n, limit)):
            p = start + 4 * i
            out.append(Table.at(self.buf, p + _u32(self.buf, p)))
        return out

    def strings(self, slot: int, limit: int = 4096) -> list[str]:
        v = self.vector(slot)
        if v is None:
            return []
        start, n = v
        if start + 4 * n > len(self.buf):
            raise FlatBufferError("string vector runs past the end")
        out = []
        for i in range(min(n, limit)):
            p = start + 4 * i
            out.append(read_string(self.buf, p + _u32(self.buf, p), 4096)[0])
        return out

    def ints(self, slot: int, limit: int = 64) -> list[int]:
        v = self.vector(slot)
        if v is None:
            return []
        start, n = v
        if start + 4 * n > len(self.buf):
            raise FlatBufferError("int vector runs past the end")
        return [_i32(self.buf, start + 4 * i) for i in range(min(n, limit))]


def read_string(buf: bytes | memoryview, pos: int, limit: int = 64 * 1024) -> tuple[str, int]:
    n = _u32(buf, pos)
    if pos + 4 + n > len(buf):
        raise FlatBufferError("string runs past the end")
    raw = bytes(buf[pos + 4 : pos + 4 + min(n, limit)])
    return raw.decode("utf-8", errors="replace"), pos + 4
