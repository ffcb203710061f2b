"""A minimal, bounded protobuf wire-format reader.

Enough to walk ModelProto (ONNX), Model (Core ML), SavedModel / GraphDef (TensorFlow), NetParameter (Caffe) and
ProgramDesc (Paddle) without their generated code. Every read is bounds-checked; anything that does not decode
raises `ProtoError`, which the sniffers turn into "not this format" or a `MemberError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

VARINT, FIXED64, LENGTH, GROUP_START, GROUP_END, FIXED32 = 0, 1, 2, 3, 4, 5
MAX_DEPTH = 64


class ProtoError(ValueError):
    """The bytes are not a well-formed protobuf message."""


@dataclass(frozen=True)
class Field:
    number: int
    wire_type: int
    value: int  # the varint / fixed value; for LENGTH fields, the payload length
    start: int  # absolute offset of the payload (LENGTH) or value
    end: int  # absolute offset one past the payload


def read_varint(buf: bytes | memoryview, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise ProtoError("truncated varint")
        if shift > 63:
            raise ProtoError("varint longer than 10 bytes")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7


def iter_fields(buf: bytes | memoryview, start: int = 0, end: int | None = None) -> Iterator[Field]:
    """Yield the top-level fields of the message in buf[start:end]; raise ProtoError on malformed input."""
    stop = len(buf) if end is None else end
    if stop > len(buf) or start < 0 or start > stop:
        raise ProtoError("message range outside the buffer")
    pos = start
    while pos < stop:
        key, pos = read_varint(buf, pos, stop)
        number, wire = key >> 3, key & 7
        if number == 0 or number > 0x1FFFFFFF:
            raise ProtoError(f"invalid field number {number}")
        if wire == VARINT:
            val_start = pos
            value, pos = read_varint(buf, pos, stop)
            yield Field(number, wire, value, val_start, pos)
        elif wire == FIXED64:
            if pos + 8 > stop:
                raise ProtoError("truncated fixed64")
            yield Field(number, wire, int.from_bytes(buf[pos : pos + 8], "little"), pos, pos + 8)
            pos += 8
        elif wire == FIXED32:
            if pos + 4 > stop:
                raise ProtoError("truncated fixed32")
            yield Field(number, wire, int.from_bytes(buf[pos : pos + 4], "little"), pos, pos + 4)
            pos += 4
        elif wire == LENGTH:
            length, pos = read_varint(buf, pos, stop)
            if length > stop - pos:
                raise ProtoError(f"field {number} length {length} runs past the end")
            yield Field(number, wire, length, pos, pos + length)
            pos += length
        else:
            # groups are deprecated and used by none of the model schemas we read
            raise ProtoError(f"unsupported wire type {wire}")


def parse_message(buf: bytes | memoryview, start: int = 0, end: int | None = None) -> list[Field]:
    """All fields of one message; raises ProtoError unless the range decodes exactly."""
    return list(iter_fields(buf, start, end))


def is_message(buf: bytes | memoryview, field: Field) -> bool:
    """Whether a LENGTH field's payload decodes as a protobuf message."""
    if field.wire_type != LENGTH:
        return False
    try:
        for _ in iter_fields(buf, field.start, field.end):
            pass
    except ProtoError:
        return False
    return True


def text(buf: bytes | memoryview, field: Field, limit: int = 64 * 1024) -> str:
    """A LENGTH field as UTF-8 text (invalid bytes replaced, long text trimmed)."""
    if field.wire_type != LENGTH:
        raise ProtoError(f"field {field.number} is not a string")
    raw = bytes(buf[field.start : min(field.end, field.start + limit)])
    return raw.decode("utf-8", errors="replace")


def is_printable_text(buf: bytes | memoryview, field: Field, max_len: int = 4096) -> bool:
    """Whether a LENGTH field is short, valid UTF-8 without control characters (a name, a producer string)."""
    if field.wire_type != LENGTH or field.end - field.start > max_len:
        return False
    try:
        s = bytes(buf[field.start : field.end]).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\t\r\n" for c in s)


def signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value
