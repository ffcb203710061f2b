"""A minimal JVM class-file reader: the class name and its native-library load sites.

AARs and JARs ship `.class` files (inside classes.jar), not DEX. This reader walks the whole structure (so a
truncated or inconsistent file is reported, not half-read) but decodes bytecode only for methods whose code
holds a constant-pool index of a loader method, and only when the pool references a loader at all.

The argument of a loader call is found by abstract interpretation of the method: each stack slot and local is
either a known string constant (from `ldc` / `ldc_w`) or unknown; states merge at branch targets and exception
handlers until nothing changes, so `f ? "a" : "b"` or a local reassigned in a loop gives None, not a guess.

Format: https://docs.oracle.com/javase/specs/jvms/se21/html/jvms-4.html (class file) and
https://docs.oracle.com/javase/specs/jvms/se21/html/jvms-6.html (instruction set).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Literal, NoReturn, TypeAlias

from licensegate.android.dex import _LOADERS as _DEX_LOADERS
from licensegate.android.dex import decode_mutf8
from licensegate.errors import MemberError
from licensegate.model import LoadSite

from .._dataclasses import dataclass, field

__all__ = ["ClassInfo", "is_class_file", "read_class"]

_MAGIC = b"\xca\xfe\xba\xbe"
# JDK 1.0.2. A fat Mach-O shares the magic and keeps its (small) architecture count where the version is.
_MIN_MAJOR = 45
_HEADER = struct.Struct(">4sHHH")  # magic, minor, major, constant_pool_count
_U2 = struct.Struct(">H")
_S2 = struct.Struct(">h")
_S4 = struct.Struct(">i")

# The loader methods of licensegate.android.dex, with JVM internal class names ("java/lang/System") in place of
# Dalvik descriptors ("Ljava/lang/System;"). Overloads are matched by name; the String argument is found from the
# descriptor.
_LOADERS: tuple[tuple[str, str, Literal["loadLibrary", "load"]], ...] = tuple(
    (descriptor[1:-1], name, call) for descriptor, name, call in _DEX_LOADERS
)
_LOADER_CALLS: dict[tuple[bytes, bytes], Literal["loadLibrary", "load"]] = {
    (cls.encode(), name.encode()): call for cls, name, call in _LOADERS
}
_LOADER_NAMES = frozenset(name.encode() for _cls, name, _call in _LOADERS)

# Constant pool tags and the size of each entry after its tag byte (Utf8 is variable).
_UTF8, _INTEGER, _FLOAT, _LONG, _DOUBLE, _CLASS, _STRING = 1, 3, 4, 5, 6, 7, 8
_FIELDREF, _METHODREF, _INTERFACE_METHODREF, _NAME_AND_TYPE = 9, 10, 11, 12
_METHOD_HANDLE, _METHOD_TYPE, _DYNAMIC, _INVOKE_DYNAMIC = 15, 16, 17, 18
_ENTRY_SIZES: dict[int, int] = {
    _INTEGER: 4, _FLOAT: 4, _LONG: 8, _DOUBLE: 8, _CLASS: 2, _STRING: 2, _FIELDREF: 4, _METHODREF: 4,
    _INTERFACE_METHODREF: 4, _NAME_AND_TYPE: 4, _METHOD_HANDLE: 3, _METHOD_TYPE: 2, _DYNAMIC: 4,
    _INVOKE_DYNAMIC: 4, 19: 2, 20: 2,  # Module, Package
}  # fmt: skip
_LDC_TAGS = (_INTEGER, _FLOAT, _STRING, _CLASS, _METHOD_HANDLE, _METHOD_TYPE, _DYNAMIC)
_LDC2_TAGS = (_LONG, _DOUBLE, _DYNAMIC)

# Opcodes with special handling.
_LDC, _LDC_W, _LDC2_W = 0x12, 0x13, 0x14
_IINC, _TABLESWITCH, _LOOKUPSWITCH, _WIDE = 0x84, 0xAA, 0xAB, 0xC4
_GOTO, _JSR, _RET, _GOTO_W, _JSR_W = 0xA7, 0xA8, 0xA9, 0xC8, 0xC9
_GETSTATIC, _PUTSTATIC, _GETFIELD, _PUTFIELD = 0xB2, 0xB3, 0xB4, 0xB5
_INVOKEVIRTUAL, _INVOKESPECIAL, _INVOKESTATIC, _INVOKEINTERFACE, _INVOKEDYNAMIC = 0xB6, 0xB7, 0xB8, 0xB9, 0xBA
_CHECKCAST, _MULTIANEWARRAY = 0xC0, 0xC5
_LOADER_INVOKES = frozenset((_INVOKEVIRTUAL, _INVOKESTATIC, _INVOKEINTERFACE))
_BRANCH16 = frozenset((*range(0x99, 0xA8), 0xC6, 0xC7))  # if<cond>, if_icmp/acmp<cond>, goto, ifnull, ifnonnull
_ENDS = frozenset((*range(0xAC, 0xB2), 0xBF, _RET))  # returns, athrow, ret: no successor
_WIDENABLE = frozenset((*range(0x15, 0x1A), *range(0x36, 0x3B), _RET))  # loads, stores, ret

# Dup-family: slots popped (top first) and the order they are pushed back, bottom to top (JVMS 6.5 dup*).
_DUPS: dict[int, tuple[int, tuple[int, ...]]] = {
    0x59: (1, (0, 0)),  # dup
    0x5A: (2, (0, 1, 0)),  # dup_x1
    0x5B: (3, (0, 2, 1, 0)),  # dup_x2
    0x5C: (2, (1, 0, 1, 0)),  # dup2
    0x5D: (3, (1, 0, 2, 1, 0)),  # dup2_x1
    0x5E: (4, (1, 0, 3, 2, 1, 0)),  # dup2_x2
    0x5F: (2, (0, 1)),  # swap
}


def _build_lengths() -> tuple[int, ...]:
    """Instruction length in bytes per opcode; 0 for variable length (switches, wide) and -1 for invalid."""
    lengths = [-1] * 256
    for op in range(0x00, 0xCA):
        lengths[op] = 1
    for op in (0x10, _LDC, *range(0x15, 0x1A), *range(0x36, 0x3B), _RET, 0xBC):
        lengths[op] = 2
    for op in (0x11, _LDC_W, _LDC2_W, _IINC, *_BRANCH16, _JSR, *range(0xB2, 0xB9), 0xBB, 0xBD, 0xC0, 0xC1):
        lengths[op] = 3
    lengths[_MULTIANEWARRAY] = 4
    for op in (_INVOKEINTERFACE, _INVOKEDYNAMIC, _GOTO_W, _JSR_W):
        lengths[op] = 5
    for op in (_TABLESWITCH, _LOOKUPSWITCH, _WIDE):
        lengths[op] = 0
    return tuple(lengths)


_LENGTHS = _build_lengths()


def _build_effects() -> dict[int, tuple[int, int]]:
    """(slots popped, unknown slots pushed) for the opcodes that need nothing but counting."""
    effects: dict[int, tuple[int, int]] = {0x00: (0, 0)}

    def put(ops: tuple[int, ...] | range, pop: int, push: int) -> None:
        for op in ops:
            effects[op] = (pop, push)

    put((0x01, *range(0x02, 0x09), 0x0B, 0x0C, 0x0D, 0x10, 0x11), 0, 1)  # aconst_null, iconst, fconst, push
    put((0x09, 0x0A, 0x0E, 0x0F), 0, 2)  # lconst, dconst
    put((0x2E, 0x30, 0x32, 0x33, 0x34, 0x35), 2, 1)  # 32-bit array loads
    put((0x2F, 0x31), 2, 2)  # laload, daload
    put((0x4F, 0x51, 0x53, 0x54, 0x55, 0x56), 3, 0)  # 32-bit array stores
    put((0x50, 0x52), 4, 0)  # lastore, dastore
    put((0x57,), 1, 0)  # pop
    put((0x58,), 2, 0)  # pop2
    for op in range(0x60, 0x74):  # add, sub, mul, div, rem: i, l, f, d
        effects[op] = (4, 2) if (op - 0x60) % 2 else (2, 1)
    for op in range(0x74, 0x78):  # neg
        effects[op] = (2, 2) if (op - 0x74) % 2 else (1, 1)
    for op in range(0x78, 0x7E):  # shl, shr, ushr: the shift distance is an int
        effects[op] = (3, 2) if (op - 0x78) % 2 else (2, 1)
    for op in range(0x7E, 0x84):  # and, or, xor
        effects[op] = (4, 2) if (op - 0x7E) % 2 else (2, 1)
    conversions = [(1, 2), (1, 1), (1, 2), (2, 1), (2, 1), (2, 2), (1, 1), (1, 2), (1, 2), (2, 1), (2, 2), (2, 1)]
    for op, effect in zip(range(0x85, 0x91), conversions, strict=True):  # i2l .. d2f
        effects[op] = effect
    put(range(0x91, 0x94), 1, 1)  # i2b, i2c, i2s
    put((0x94, 0x97, 0x98), 4, 1)  # lcmp, dcmpl, dcmpg
    put((0x95, 0x96), 2, 1)  # fcmpl, fcmpg
    put(range(0x99, 0x9F), 1, 0)  # if<cond>
    put(range(0x9F, 0xA7), 2, 0)  # if_icmp<cond>, if_acmp<cond>
    put((_GOTO, _GOTO_W), 0, 0)
    put((_TABLESWITCH, _LOOKUPSWITCH, 0xC6, 0xC7), 1, 0)  # switches, ifnull, ifnonnull
    put((0xBB,), 0, 1)  # new
    put((0xBC, 0xBD, 0xBE, 0xC1), 1, 1)  # newarray, anewarray, arraylength, instanceof
    put((0xC2, 0xC3), 1, 0)  # monitorenter, monitorexit
    put((_CHECKCAST,), 0, 0)  # the reference, and any string it holds, stays on the stack
    return effects


_EFFECTS = _build_effects()

# Budgets that keep hostile bytecode from costing more than a moment; exceeding one gives argument None.
_STEPS_PER_INSTRUCTION = 20
_MAX_HANDLER_COVER = 1_000_000
_MAX_KNOWN_LOCALS = 256


@dataclass
class ClassInfo:
    """What a scan needs from one class file."""

    member: str
    version: str  # "61.0" (major.minor)
    class_name: str  # dotted, "com.example.Player$Inner"
    package: str  # dotted, "" for the default package
    load_sites: list[LoadSite] = field(default_factory=list)


@dataclass(frozen=True)
class _Loader:
    call: Literal["loadLibrary", "load"]
    depth: int | None  # stack slots above the String argument at the invoke; None without a String parameter


class _Unanalysable(Exception):
    """The bytecode is well-formed but its stack cannot be followed (unverifiable, or over a budget)."""


# A stack of abstract values as a linked list (top, rest) so that pushes and pops share structure.
_Stack: TypeAlias = "tuple[str | None, _Stack] | None"
_State: TypeAlias = "tuple[_Stack, int, dict[int, str]]"  # stack, depth in slots, locals known to be strings


def is_class_file(head: bytes | memoryview) -> bool:
    """True when the bytes start like a JVM class file: 0xCAFEBABE and a major version of at least 45."""
    raw = bytes(head[:8])
    return len(raw) == 8 and raw[:4] == _MAGIC and _U2.unpack_from(raw, 6)[0] >= _MIN_MAJOR


def read_class(data: bytes | memoryview, member: str) -> ClassInfo:
    """Read `data` (a whole .class file) and return its name and native-library load sites.

    Raises MemberError when the file is not a class file or is truncated, inconsistent or hostile.
    """
    raw = bytes(data)
    try:
        return _ClassReader(raw, member).read()
    except MemberError:
        raise
    except (IndexError, KeyError, struct.error, ValueError, OverflowError, RecursionError) as exc:
        # A bounds check missed something: still an input error, not a crash.
        raise MemberError(f"{member}: malformed class file ({type(exc).__name__}: {exc})") from exc


class _ClassReader:
    def __init__(self, data: bytes, member: str) -> None:
        self.data = data
        self.size = len(data)
        self.member = member
        self.tags = bytearray()
        self.offsets: list[int] = []  # pool index -> offset of the entry body (after the tag)
        self.utf8_hits: dict[bytes, list[int]] = {}  # "Code" and loader method names -> their Utf8 indices
        self._utf8: dict[int, str] = {}
        self._shapes: dict[int, tuple[int, int]] = {}  # member ref index -> (argument slots, result slots)

    # -- checks -----------------------------------------------------------------------------------------

    def _fail(self, message: str) -> NoReturn:
        raise MemberError(f"{self.member}: {message}")

    def _need(self, pos: int, count: int, what: str) -> None:
        if pos + count > self.size:
            self._fail(f"truncated in {what} (need {count} bytes at 0x{pos:x}, file has {self.size})")

    def _u2(self, pos: int) -> int:
        value: int = _U2.unpack_from(self.data, pos)[0]
        return value

    # -- constant pool ----------------------------------------------------------------------------------

    def _read_pool(self, count: int, pos: int) -> int:
        if count == 0:
            self._fail("constant pool count is 0")
        data, size = self.data, self.size
        tags = bytearray(count)
        offsets = [0] * count
        hits: dict[bytes, list[int]] = {}
        i = 1
        while i < count:
            if pos >= size:
                self._fail(f"truncated in constant pool entry {i} of {count - 1}")
            tag = data[pos]
            tags[i] = tag
            offsets[i] = pos + 1
            if tag == _UTF8:
                pos = self._utf8_entry(i, pos, hits)
            else:
                pos = self._fixed_entry(i, pos, tag)
                if tag in (_LONG, _DOUBLE):
                    i += 1  # a long or double takes two slots
                    if i >= count:
                        self._fail(f"constant pool entry {i - 1} (long/double) takes the slot past the pool")
            i += 1
        if pos > size:
            self._fail(f"truncated in constant pool entry {count - 1}")
        self.tags, self.offsets, self.utf8_hits = tags, offsets, hits
        return pos

    def _utf8_entry(self, i: int, pos: int, hits: dict[bytes, list[int]]) -> int:
        """Read Utf8 entry i at pos, noting it when it is "Code" or a loader's name; the offset after it."""
        self._need(pos, 3, f"constant pool entry {i}")
        length = self._u2(pos + 1)
        end = pos + 3 + length
        if end > self.size:
            self._fail(f"truncated in constant pool Utf8 entry {i} ({length} bytes)")
        if length in (4, 11):  # "Code", "load", "loadLibrary"
            text = self.data[pos + 3 : end]
            if text == b"Code" or text in _LOADER_NAMES:
                hits.setdefault(text, []).append(i)
        return end

    def _fixed_entry(self, i: int, pos: int, tag: int) -> int:
        """The offset after entry i, of fixed size by its tag."""
        body = _ENTRY_SIZES.get(tag)
        if body is None:
            self._fail(f"bad constant pool tag {tag} at entry {i}")
        return pos + 1 + body

    def _entry(self, index: int, tags: tuple[int, ...], what: str) -> int:
        """Offset of the body of pool entry `index`, which must have one of `tags`."""
        if not 0 < index < len(self.tags) or self.tags[index] not in tags:
            self._fail(f"constant pool index {index} is not a {what}")
        return self.offsets[index]

    def _utf8_bytes(self, index: int) -> bytes:
        pos = self._entry(index, (_UTF8,), "Utf8")
        return self.data[pos + 2 : pos + 2 + self._u2(pos)]

    def utf8(self, index: int) -> str:
        text = self._utf8.get(index)
        if text is None:
            text = self._utf8[index] = decode_mutf8(self._utf8_bytes(index))
        return text

    def _class_name_bytes(self, index: int) -> bytes:
        return self._utf8_bytes(self._u2(self._entry(index, (_CLASS,), "Class")))

    def _name_and_type(self, index: int) -> tuple[int, int]:
        pos = self._entry(index, (_NAME_AND_TYPE,), "NameAndType")
        return self._u2(pos), self._u2(pos + 2)

    def _loader_refs(self) -> dict[int, _Loader]:
        """Pool index of each Methodref / InterfaceMethodref that names a loader method."""
        names = {i for text in _LOADER_NAMES for i in self.utf8_hits.get(text, ())}
        if not names:
            return {}
        found: dict[int, _Loader] = {}
        for i, tag in enumerate(self.tags):
            if tag not in (_METHODREF, _INTERFACE_METHODREF):
                continue
            class_index = self._u2(self.offsets[i])
            name_index, descriptor_index = self._name_and_type(self._u2(self.offsets[i] + 2))
            if name_index not in names:
                continue
            call = _LOADER_CALLS.get((self._class_name_bytes(class_index), self._utf8_bytes(name_index)))
            if call is not None:
                params, _result = _method_descriptor(self.utf8(descriptor_index))
                found[i] = _Loader(call, _string_depth(params))
        return found

    def _ref_shape(self, index: int, kind: Literal["field", "method", "dynamic"]) -> tuple[int, int]:
        """(argument slots, result slots) of a field, method or invokedynamic reference; a field has no arguments."""
        shape = self._shapes.get(index)
        if shape is None:
            if kind == "field":
                pos = self._entry(index, (_FIELDREF,), "Fieldref")
            elif kind == "method":
                pos = self._entry(index, (_METHODREF, _INTERFACE_METHODREF), "method reference")
            else:
                pos = self._entry(index, (_INVOKE_DYNAMIC,), "InvokeDynamic")
            nat = self._u2(pos + 2)  # after class_index, or after bootstrap_method_attr_index
            descriptor = self.utf8(self._name_and_type(nat)[1])
            if kind == "field":
                shape = (0, _slots(_field_descriptor(descriptor, 0)[0]))
            else:
                params, result = _method_descriptor(descriptor)
                shape = (sum(_slots(p) for p in params), _slots(result))
            self._shapes[index] = shape
        return shape

    # -- structure --------------------------------------------------------------------------------------

    def _skip_attributes(self, pos: int, what: str, code: list[tuple[int, int]] | None = None) -> int:
        """Skip an attribute table; collect (offset, length) of Code attributes into `code` when given."""
        self._need(pos, 2, f"{what} attribute count")
        count = self._u2(pos)
        pos += 2
        code_names = self.utf8_hits.get(b"Code", ())
        for a in range(count):
            self._need(pos, 6, f"{what} attribute {a}")
            name_index, length = struct.unpack_from(">HI", self.data, pos)
            pos += 6
            self._need(pos, length, f"{what} attribute {a} ({length} bytes)")
            if code is not None and name_index in code_names:
                code.append((pos, length))
            pos += length
        return pos

    def _read_members(self, pos: int, what: str, want_code: bool) -> tuple[int, list[tuple[int, int, int]]]:
        """Skip the fields or methods table; return (end, [(name index, Code offset, Code length)])."""
        self._need(pos, 2, f"{what} count")
        count = self._u2(pos)
        pos += 2
        found: list[tuple[int, int, int]] = []
        for m in range(count):
            self._need(pos, 6, f"{what} {m}")
            name_index = self._u2(pos + 2)
            code: list[tuple[int, int]] | None = [] if want_code else None
            pos = self._skip_attributes(pos + 6, f"{what} {m}", code)
            found.extend((name_index, off, length) for off, length in code or ())
        return pos, found

    def read(self) -> ClassInfo:
        if self.size < 10:
            self._fail(f"truncated header ({self.size} bytes, need 10)")
        magic, minor, major, pool_count = _HEADER.unpack_from(self.data, 0)
        if magic != _MAGIC:
            self._fail(f"not a class file (magic {magic!r})")
        if major < _MIN_MAJOR:
            self._fail(f"major version {major} < {_MIN_MAJOR} (a fat Mach-O?)")
        pos = self._read_pool(pool_count, 10)
        self._need(pos, 8, "class header")
        _access, this_index, _super, interfaces = struct.unpack_from(">4H", self.data, pos)
        class_name = decode_mutf8(self._class_name_bytes(this_index)).replace("/", ".")
        pos += 8
        self._need(pos, 2 * interfaces, f"interfaces ({interfaces})")
        pos += 2 * interfaces
        loaders = self._loader_refs()
        pos, _fields = self._read_members(pos, "field", False)
        pos, methods = self._read_members(pos, "method", bool(loaders))
        self._skip_attributes(pos, "class")
        info = ClassInfo(
            member=self.member,
            version=f"{major}.{minor}",
            class_name=class_name,
            package=class_name.rpartition(".")[0],
        )
        if loaders:
            patterns = [_U2.pack(i) for i in loaders]
            for name_index, off, length in methods:
                info.load_sites.extend(self._method_sites(class_name, name_index, off, length, loaders, patterns))
        return info

    # -- code -------------------------------------------------------------------------------------------

    def _exception_table(self, off: int, end: int, n_handlers: int, lengths: dict[int, int], code_length: int
                         ) -> list[tuple[int, int, int]]:
        """(start, end, handler pc) of each exception handler, each on an instruction boundary."""
        handlers: list[tuple[int, int, int]] = []
        for k in range(n_handlers):
            h_start, h_end, h_pc = struct.unpack_from(">3H", self.data, end + 2 + 8 * k)
            if h_start not in lengths or h_pc not in lengths or not (h_start < h_end <= code_length):
                self._fail(f"Code attribute at 0x{off:x}: bad exception table entry {k}")
            if h_end != code_length and h_end not in lengths:
                self._fail(f"Code attribute at 0x{off:x}: exception table entry {k} ends inside an instruction")
            handlers.append((h_start, h_end, h_pc))
        return handlers

    def _method_sites(
        self,
        class_name: str,
        name_index: int,
        off: int,
        length: int,
        loaders: dict[int, _Loader],
        patterns: list[bytes],
    ) -> list[LoadSite]:
        data = self.data
        max_stack, code_length = self._code_header(off, length)
        start = off + 8
        end = start + code_length
        if not any(data.find(p, start, end) >= 0 for p in patterns):
            return []  # the method does not mention a loader: no need to decode it
        code = data[start:end]
        n_handlers = self._u2(end)
        if end + 2 + 8 * n_handlers + 2 > off + length:
            self._fail(f"Code attribute at 0x{off:x}: exception table ({n_handlers} entries) does not fit")
        lengths = self._instruction_lengths(code, start)
        handlers = self._exception_table(off, end, n_handlers, lengths, code_length)
        invokes = _loader_invokes(code, lengths, loaders)
        if not invokes:
            return []
        try:
            arguments = self._arguments(code, lengths, handlers, max_stack, invokes)
        except _Unanalysable:
            arguments = {}
        method = self.utf8(name_index)
        return [
            LoadSite(
                member=self.member,
                class_name=class_name,
                method=method,
                call=loader.call,
                argument=arguments.get(pc),
                offset=start + pc,
            )
            for pc, loader in sorted(invokes.items())
        ]

    def _code_header(self, off: int, length: int) -> tuple[int, int]:
        """(max_stack, code_length) of the Code attribute at off, its code checked to fit the attribute."""
        if length < 12:
            self._fail(f"Code attribute at 0x{off:x} too short ({length} bytes)")
        max_stack, _max_locals, code_length = struct.unpack_from(">HHI", self.data, off)
        if not 0 < code_length < 0x10000 or off + 8 + code_length + 4 > off + length:
            self._fail(f"Code attribute at 0x{off:x}: code length {code_length} does not fit")
        return max_stack, code_length

    def _instruction_lengths(self, code: bytes, start: int) -> dict[int, int]:
        """pc -> length of every instruction, in order."""
        lengths: dict[int, int] = {}
        size = len(code)
        pc = 0
        while pc < size:
            op = code[pc]
            n = _LENGTHS[op]
            if n == 0:
                n = self._variable_length(code, pc, start)
            elif n < 0:
                self._fail(f"invalid opcode 0x{op:02x} at 0x{start + pc:x}")
            if pc + n > size:
                self._fail(f"instruction 0x{op:02x} at 0x{start + pc:x} runs past the end of its code")
            lengths[pc] = n
            pc += n
        return lengths

    def _variable_length(self, code: bytes, pc: int, start: int) -> int:
        op = code[pc]
        if op == _WIDE:
            if pc + 1 >= len(code):
                self._fail(f"wide at 0x{start + pc:x} runs past the end of its code")
            inner = code[pc + 1]
            if inner == _IINC:
                return 6
            if inner in _WIDENABLE:
                return 4
            self._fail(f"wide at 0x{start + pc:x} modifies opcode 0x{inner:02x}")
        pad = 3 - pc % 4  # the operands start at the next multiple of 4
        base = pc + 1 + pad
        if base + 12 > len(code):
            self._fail(f"switch at 0x{start + pc:x} runs past the end of its code")
        if op == _TABLESWITCH:
            low, high = struct.unpack_from(">ii", code, base + 4)
            if high < low:
                self._fail(f"tableswitch at 0x{start + pc:x} has high {high} < low {low}")
            return 1 + pad + 12 + 4 * (high - low + 1)
        npairs = _S4.unpack_from(code, base + 4)[0]
        if npairs < 0:
            self._fail(f"lookupswitch at 0x{start + pc:x} has {npairs} pairs")
        return 1 + pad + 8 + 8 * npairs

    def _successors(self, code: bytes, pc: int, length: int) -> list[int]:
        """Where control goes after the instruction at pc (not counting exception handlers)."""
        op = code[pc]
        if op in _BRANCH16 or op == _JSR:
            target = pc + _S2.unpack_from(code, pc + 1)[0]
            return [target] if op == _GOTO else [target, pc + length]
        if op in (_GOTO_W, _JSR_W):
            target = pc + _S4.unpack_from(code, pc + 1)[0]
            return [target] if op == _GOTO_W else [target, pc + length]
        if op in (_TABLESWITCH, _LOOKUPSWITCH):
            return _switch_targets(code, pc, op)
        if op in _ENDS or (op == _WIDE and code[pc + 1] == _RET):
            return []
        return [pc + length]

    # -- abstract interpretation ------------------------------------------------------------------------

    def _arguments(
        self,
        code: bytes,
        lengths: dict[int, int],
        handlers: list[tuple[int, int, int]],
        max_stack: int,
        invokes: dict[int, _Loader],
    ) -> dict[int, str | None]:
        """The String argument of each loader invoke (pc -> constant or None), by a worklist over the method."""
        covering = _covering_handlers(handlers, lengths)
        states: dict[int, _State] = {0: (None, 0, {})}
        work = [0]
        found: dict[int, str | None] = {}
        budget = _STEPS_PER_INSTRUCTION * len(lengths) + 1000
        while work:
            budget -= 1
            if budget < 0:
                raise _Unanalysable
            pc = work.pop()
            state = states[pc]
            loader = invokes.get(pc)
            if loader is not None:
                value = None if loader.depth is None else _peek(state[0], state[1], loader.depth)
                found[pc] = value if found.get(pc, value) == value else None
            for target, out in self._flows(code, pc, state, max_stack, lengths, covering.get(pc, ())):
                if _flow_into(states, target, out):
                    work.append(target)
        return found

    def _flows(self, code: bytes, pc: int, state: _State, max_stack: int, lengths: dict[int, int],
               handler_pcs: list[int] | tuple[()]) -> list[tuple[int, _State]]:
        """(target pc, state there) of each way control leaves the instruction at pc, exception handlers included."""
        after = self._step(code, pc, state, max_stack)
        targets = [(t, after) for t in self._successors(code, pc, lengths[pc])] if after is not None else []
        targets += [(h, ((None, None), 1, state[2])) for h in handler_pcs]
        for target, _out in targets:
            if target not in lengths:
                self._fail(f"branch at code offset {pc} to {target}, not an instruction")
        return targets

    def _step(self, code: bytes, pc: int, state: _State, max_stack: int) -> _State | None:
        """The state after the instruction at pc; None when control does not continue (return, throw)."""
        op = code[pc]
        effect = _EFFECTS.get(op)
        if effect is not None:  # an instruction that only pops and pushes values of no interest
            stack, depth = _pop(state[0], state[1], effect[0])
            stack, depth = _push(stack, depth, None, effect[1])
            after: _State | None = (stack, depth, state[2])
        else:
            after = self._special(code, pc, op, state)
        if after is not None and after[1] > max_stack:
            raise _Unanalysable
        return after

    def _special(self, code: bytes, pc: int, op: int, state: _State) -> _State | None:
        """Instructions whose effect depends on their operands: constants, locals, dups, fields and invokes."""
        if op == _WIDE:
            return _wide(code, pc, state)
        effect = _SPECIAL.get(op)
        if effect is None:
            self._fail(f"opcode 0x{op:02x} at code offset {pc} is not handled")
        return effect(self, code, pc, op, state)

    def _multianewarray(self, code: bytes, pc: int, op: int, state: _State) -> _State:
        stack, depth = _pop(state[0], state[1], code[pc + 3])
        return (*_push(stack, depth, None, 1), state[2])

    def _constant(self, code: bytes, pc: int, op: int, state: _State) -> _State:
        """ldc / ldc_w push a constant (a string is tracked), ldc2_w a long or double."""
        if op == _LDC2_W:
            self._entry(_U2.unpack_from(code, pc + 1)[0], _LDC2_TAGS, "long/double constant")
            return (*_push(state[0], state[1], None, 2), state[2])
        index = code[pc + 1] if op == _LDC else _U2.unpack_from(code, pc + 1)[0]
        pos = self._entry(index, _LDC_TAGS, "loadable constant")
        value = self.utf8(self._u2(pos)) if self.tags[index] == _STRING else None
        return (*_push(state[0], state[1], value, 1), state[2])

    def _field(self, code: bytes, pc: int, op: int, state: _State) -> _State:
        """getstatic/getfield push the field's value; putstatic/putfield pop it (and the object)."""
        _none, slots = self._ref_shape(_U2.unpack_from(code, pc + 1)[0], "field")
        receiver = 1 if op in (_GETFIELD, _PUTFIELD) else 0
        if op in (_GETSTATIC, _GETFIELD):
            stack, depth = _pop(state[0], state[1], receiver)
            return (*_push(stack, depth, None, slots), state[2])
        return (*_pop(state[0], state[1], receiver + slots), state[2])

    def _invoke(self, code: bytes, pc: int, op: int, state: _State) -> _State:
        """An invoke pops its arguments (and receiver) and pushes its result."""
        index = _U2.unpack_from(code, pc + 1)[0]
        arguments, result = self._ref_shape(index, "dynamic" if op == _INVOKEDYNAMIC else "method")
        receiver = 0 if op in (_INVOKESTATIC, _INVOKEDYNAMIC) else 1
        stack, depth = _pop(state[0], state[1], arguments + receiver)
        return (*_push(stack, depth, None, result), state[2])


def _switch_targets(code: bytes, pc: int, op: int) -> list[int]:
    """The targets of a tableswitch or lookupswitch: its default and every case, each once, in order."""
    base = pc + 4 - pc % 4  # default, then low/high or npairs
    default = _S4.unpack_from(code, base)[0]
    if op == _TABLESWITCH:
        low, high = struct.unpack_from(">ii", code, base + 4)
        offsets = struct.unpack_from(f">{high - low + 1}i", code, base + 12)
    else:
        npairs = _S4.unpack_from(code, base + 4)[0]
        offsets = struct.unpack_from(f">{2 * npairs}i", code, base + 8)[1::2]  # (match, offset) pairs
    return sorted({pc + default, *(pc + o for o in offsets)})


def _loader_invokes(code: bytes, lengths: dict[int, int], loaders: dict[int, _Loader]) -> dict[int, _Loader]:
    """pc -> loader of each invoke instruction that calls a loader method."""
    invokes: dict[int, _Loader] = {}
    for pc in lengths:
        loader = loaders.get(_U2.unpack_from(code, pc + 1)[0]) if code[pc] in _LOADER_INVOKES else None
        if loader is not None:
            invokes[pc] = loader
    return invokes


def _covering_handlers(handlers: list[tuple[int, int, int]], lengths: dict[int, int]) -> dict[int, list[int]]:
    """pc -> the handler pcs whose range covers it; unanalysable when the ranges cover too much in all."""
    covering: dict[int, list[int]] = {}
    cover = 0
    for h_start, h_end, h_pc in handlers:
        cover += h_end - h_start
        if cover > _MAX_HANDLER_COVER:
            raise _Unanalysable
        for pc in range(h_start, h_end):
            if pc in lengths:
                covering.setdefault(pc, []).append(h_pc)
    return covering


def _flow_into(states: dict[int, _State], target: int, out: _State) -> bool:
    """Merge a state flowing into target; True when the target's state changed (it needs another visit)."""
    old = states.get(target)
    merged = out if old is None else _merge(old, out)
    if merged is old:
        return False
    states[target] = merged
    return True


_Special: TypeAlias = "Callable[[_ClassReader, bytes, int, int, _State], _State | None]"


def _subroutine(reader: _ClassReader, code: bytes, pc: int, op: int, state: _State) -> NoReturn:
    raise _Unanalysable  # subroutines (class files before version 50): not worth following


def _special_effects() -> dict[int, _Special]:
    """Opcode -> effect of the instructions `_ClassReader._special` handles (wide is handled apart)."""
    table: dict[int, _Special] = {op: _ClassReader._constant for op in (_LDC, _LDC_W, _LDC2_W)}
    table.update({op: lambda _r, code, pc, _op, state: _load(code, pc, state) for op in range(0x15, 0x2E)})
    table.update({op: lambda _r, code, pc, _op, state: _store_local(code, pc, state) for op in range(0x36, 0x4F)})
    table.update({op: lambda _r, code, pc, _op, state: None for op in _ENDS})  # returns, athrow, ret
    table[_IINC] = lambda _r, code, pc, _op, state: (state[0], state[1], _store(state[2], code[pc + 1], None, False))
    table.update({op: lambda _r, _code, _pc, op, state: _dup(op, state) for op in _DUPS})
    table.update({op: _ClassReader._field for op in range(_GETSTATIC, _PUTFIELD + 1)})
    table.update({op: _ClassReader._invoke for op in range(_INVOKEVIRTUAL, _INVOKEDYNAMIC + 1)})
    table[_MULTIANEWARRAY] = _ClassReader._multianewarray
    table[_JSR] = table[_JSR_W] = _subroutine
    return table


_SPECIAL = _special_effects()


def _wide(code: bytes, pc: int, state: _State) -> _State | None:
    """wide: a load, store, ret or iinc with a two-byte local index."""
    inner = code[pc + 1]
    if 0x15 <= inner <= 0x19:
        return _load(code, pc, state)
    if 0x36 <= inner <= 0x3A:
        return _store_local(code, pc, state)
    if inner == _RET:
        return None
    return state[0], state[1], _store(state[2], _U2.unpack_from(code, pc + 2)[0], None, False)


def _load(code: bytes, pc: int, state: _State) -> _State:
    """A load pushes a local; a reference local known to hold a string pushes that string."""
    stack, depth, local_strings = state
    kind, index = _local_operand(code, pc, 0x15, 0x1A)
    value = local_strings.get(index) if kind == 4 else None
    return (*_push(stack, depth, value, 2 if kind in (1, 3) else 1), local_strings)


def _store_local(code: bytes, pc: int, state: _State) -> _State:
    """A store pops into a local, which then holds the string popped (reference stores) or nothing known."""
    stack, depth, local_strings = state
    kind, index = _local_operand(code, pc, 0x36, 0x3B)
    wide = kind in (1, 3)
    value = stack[0] if stack is not None else None
    stack, depth = _pop(stack, depth, 2 if wide else 1)
    return stack, depth, _store(local_strings, index, value if kind == 4 else None, wide)


def _dup(op: int, state: _State) -> _State:
    """dup, dup_x1, dup2, swap, ...: rearrange the top values, strings included."""
    stack, depth, local_strings = state
    count, order = _DUPS[op]
    popped: list[str | None] = []
    for _ in range(count):
        if stack is None:
            raise _Unanalysable
        popped.append(stack[0])
        stack = stack[1]
    for k in order:
        stack = (popped[k], stack)
    return stack, depth + len(order) - count, local_strings


def _local_operand(code: bytes, pc: int, explicit: int, implicit: int) -> tuple[int, int]:
    """(kind 0-4 = i, l, f, d, a; local index) of a load or store in its explicit, _n or wide form."""
    op = code[pc]
    if op == _WIDE:
        return code[pc + 1] - explicit, _U2.unpack_from(code, pc + 2)[0]
    if op < implicit:
        return op - explicit, code[pc + 1]
    return (op - implicit) // 4, (op - implicit) % 4


def _store(local_strings: dict[int, str], index: int, value: str | None, wide: bool) -> dict[int, str]:
    """A copy of the known locals after storing `value` at `index` (and index + 1 for a long or double)."""
    touched = index in local_strings or (wide and index + 1 in local_strings)
    if value is None and not touched:
        return local_strings
    updated = dict(local_strings)
    updated.pop(index, None)
    if wide:
        updated.pop(index + 1, None)
    if value is not None and len(updated) < _MAX_KNOWN_LOCALS:
        updated[index] = value
    return updated


def _pop(stack: _Stack, depth: int, count: int) -> tuple[_Stack, int]:
    if count > depth:
        raise _Unanalysable  # stack underflow: the method would not verify
    for _ in range(count):
        assert stack is not None
        stack = stack[1]
    return stack, depth - count


def _push(stack: _Stack, depth: int, value: str | None, count: int) -> tuple[_Stack, int]:
    for _ in range(count):
        stack = (value, stack)
    return stack, depth + count


def _peek(stack: _Stack, depth: int, below: int) -> str | None:
    """The slot with `below` slots above it, None when the stack is not that deep."""
    if below >= depth:
        return None
    for _ in range(below):
        assert stack is not None
        stack = stack[1]
    return stack[0] if stack is not None else None


def _merge(old: _State, new: _State) -> _State:
    """`old` itself when `new` adds nothing to it, else the state that keeps only what both agree on."""
    old_stack, depth, old_locals = old
    new_stack, new_depth, new_locals = new
    if depth != new_depth:
        raise _Unanalysable  # inconsistent stack heights: the method would not verify
    values, stack, changed = _agreed_values(old_stack, new_stack)
    locals_changed = any(new_locals.get(k) != v for k, v in old_locals.items())
    if not changed and not locals_changed:
        return old
    for value in reversed(values):
        stack = (value, stack)
    merged_locals = {k: v for k, v in old_locals.items() if new_locals.get(k) == v} if locals_changed else old_locals
    return stack, depth, merged_locals


def _agreed_values(old_stack: _Stack, new_stack: _Stack) -> tuple[list[str | None], _Stack, bool]:
    """(the old stack's top values down to the tail both share, each kept only where both agree; that shared tail;
    whether any value was dropped)."""
    values: list[str | None] = []
    changed = False
    a, b = old_stack, new_stack
    while a is not None and a is not b:
        assert b is not None
        value = a[0]
        if value is not None and value != b[0]:
            value = None
            changed = True
        values.append(value)
        a, b = a[1], b[1]
    return values, a, changed


def _field_descriptor(descriptor: str, pos: int) -> tuple[str, int]:
    """The field type starting at pos and the position after it."""
    start = pos
    while pos < len(descriptor) and descriptor[pos] == "[":
        pos += 1
    if pos >= len(descriptor):
        raise ValueError(f"bad descriptor {descriptor[:80]!r}")
    char = descriptor[pos]
    if char == "L":
        end = descriptor.find(";", pos)
        if end < 0:
            raise ValueError(f"bad descriptor {descriptor[:80]!r}")
        return descriptor[start : end + 1], end + 1
    if char not in "BCDFIJSZ":
        raise ValueError(f"bad descriptor {descriptor[:80]!r}")
    return descriptor[start : pos + 1], pos + 1


def _method_descriptor(descriptor: str) -> tuple[list[str], str]:
    """(parameter types, result type) of a method descriptor such as `(Ljava/lang/String;J)V`."""
    if not descriptor.startswith("("):
        raise ValueError(f"bad method descriptor {descriptor[:80]!r}")
    params: list[str] = []
    pos = 1
    while pos < len(descriptor) and descriptor[pos] != ")":
        param, pos = _field_descriptor(descriptor, pos)
        params.append(param)
    if descriptor[pos + 1 :] == "V":
        return params, "V"
    result, end = _field_descriptor(descriptor, pos + 1)
    if end != len(descriptor):
        raise ValueError(f"bad method descriptor {descriptor[:80]!r}")
    return params, result


def _slots(type_descriptor: str) -> int:
    if type_descriptor == "V":
        return 0
    return 2 if type_descriptor in ("J", "D") else 1


def _string_depth(params: list[str]) -> int | None:
    """Stack slots above the first String parameter at the call (long and double take two)."""
    for k, param in enumerate(params):
        if param == "Ljava/lang/String;":
            return sum(_slots(p) for p in params[k + 1 :])
    return None
