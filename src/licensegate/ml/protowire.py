"""A minimal, bounded protobuf wire-format reader.

Enough to walk ModelProto (ONNX), Model (Core ML), SavedModel / GraphDef (TensorFlow), NetParameter (Caffe) and
ProgramDesc (Paddle) without their generated code. Every read is bounds-checked; anything that does not decode
raises `ProtoError`, which the sniffers turn into "not this format" or a `MemberError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from .._dataclasses import dataclass

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
        reader = _VALUE_READERS.get(wire)
        if reader is None:
            # groups are deprecated and used by none of the model schemas we read
            raise ProtoError(f"unsupported wire type {wire}")
        field = reader(buf, number, pos, stop)
        yield field
        pos = field.end


def _varint_field(buf: bytes | memoryview, number: int, pos: int, stop: int) -> Field:
    value, end = read_varint(buf, pos, stop)
    return Field(number, VARINT, value, pos, end)


def _fixed_field(wire: int, size: int) -> Callable[[bytes | memoryview, int, int, int], Field]:
    def read(buf: bytes | memoryview, number: int, pos: int, stop: int) -> Field:
        if pos + size > stop:
            raise ProtoError(f"truncated fixed{size * 8}")
        return Field(number, wire, int.from_bytes(buf[pos : pos + size], "little"), pos, pos + size)

    return read


def _length_field(buf: bytes | memoryview, number: int, pos: int, stop: int) -> Field:
    length, pos = read_varint(buf, pos, stop)
    if length > stop - pos:
        raise ProtoError(f"field {number} length {length} runs past the end")
    return Field(number, LENGTH, length, pos, pos + length)


# wire type -> reader of the value that follows the key
_VALUE_READERS: dict[int, Callable[[bytes | memoryview, int, int, int], Field]] = {
    VARINT: _varint_field,
    FIXED64: _fixed_field(FIXED64, 8),
    FIXED32: _fixed_field(FIXED32, 4),
    LENGTH: _length_field,
}


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


# Accessors for the optional fields of a decoded message (a list of Fields): the first field with a number, taken
# only when its wire type is the one the schema gives it. A field with the wrong wire type reads as absent.


def first(fields: list[Field], number: int) -> Field | None:
    return next((f for f in fields if f.number == number), None)


def every(fields: list[Field], number: int) -> list[Field]:
    return [f for f in fields if f.number == number]


def length_field(fields: list[Field], number: int) -> Field | None:
    """The first field `number` if it is length-delimited (a string, bytes or a sub-message)."""
    f = first(fields, number)
    return f if f is not None and f.wire_type == LENGTH else None


def varint_value(fields: list[Field], number: int) -> int | None:
    """The value of the first field `number` if it is a varint."""
    f = first(fields, number)
    return f.value if f is not None and f.wire_type == VARINT else None


def string_value(buf: bytes | memoryview, fields: list[Field], number: int, limit: int = 64 * 1024) -> str | None:
    """The first field `number` as text, if it is length-delimited."""
    f = length_field(fields, number)
    return text(buf, f, limit) if f is not None else None


def submessage(buf: bytes | memoryview, field: Field | None) -> list[Field]:
    """The fields of a length-delimited field's payload; [] for an absent or scalar field."""
    if field is None or field.wire_type != LENGTH:
        return []
    return parse_message(buf, field.start, field.end)


def message_field(buf: bytes | memoryview, fields: list[Field], number: int) -> list[Field]:
    """The fields of the first sub-message `number`; [] when it is absent or not length-delimited."""
    return submessage(buf, first(fields, number))


def packed_varints(buf: bytes | memoryview, field: Field, limit: int) -> list[int]:
    """Up to `limit` signed values of a packed repeated varint field."""
    out: list[int] = []
    pos = field.start
    while pos < field.end and len(out) < limit:
        value, pos = read_varint(buf, pos, field.end)
        out.append(signed64(value))
    return out
