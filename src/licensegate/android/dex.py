"""A minimal DEX reader: native-library load sites and the Java packages a dex defines.

Only the tables needed are read (string ids, type ids, proto ids, method ids, class defs, the class data of
classes, and the code items that hold a call to a loader). Building androguard's full object model costs
seconds for a large dex (docs/REFERENCES section 6); this reader finds call sites with one regular-expression
pass over the code section and decodes only the methods that matched.

Format: https://source.android.com/docs/core/runtime/dex-format and
https://source.android.com/docs/core/runtime/instruction-formats (Dalvik bytecode formats).
"""

from __future__ import annotations

import bisect
import re
import struct
import sys
from array import array
from functools import cache
from typing import Literal

from licensegate import _toml
from licensegate._files import package_file
from licensegate.errors import MemberError
from licensegate.model import LoadSite

from .._dataclasses import dataclass, field

__all__ = [
    "DexInfo",
    "JavaPackageEntry",
    "is_dex",
    "java_owner",
    "load_java_packages",
    "match_java_packages",
    "read_dex",
]

_MAGIC_PREFIX = b"dex\n"
_HEADER_SIZE = 0x70
_ENDIAN_CONSTANT = 0x12345678
_REVERSE_ENDIAN_CONSTANT = 0x78563412
_HEADER = struct.Struct("<8sI20s20I")
_MAP_ITEM = struct.Struct("<HHII")
_CODE_ITEM = struct.Struct("<HHHHII")
_TYPE_CODE_ITEM = 0x2001
_NO_INDEX = 0xFFFFFFFF
_U32 = "I" if array("I").itemsize == 4 else "L"  # the array type code of 32-bit values

# The Dalvik methods that load a native library, with the call kind they report. The String argument's
# register is found from the prototype, so overloads such as ReLinker.loadLibrary(Context, String, String)
# work too. Runtime.getRuntime().loadLibrary(x) is an invoke-virtual whose first register is the Runtime.
# ReLinker and SoLoader are the two loaders apps use most instead of System.loadLibrary.
_LOADERS: tuple[tuple[str, str, Literal["loadLibrary", "load"]], ...] = (
    ("Ljava/lang/System;", "loadLibrary", "loadLibrary"),
    ("Ljava/lang/System;", "load", "load"),
    ("Ljava/lang/Runtime;", "loadLibrary", "loadLibrary"),
    ("Ljava/lang/Runtime;", "load", "load"),
    ("Lcom/getkeepsafe/relinker/ReLinker;", "loadLibrary", "loadLibrary"),
    ("Lcom/getkeepsafe/relinker/ReLinkerInstance;", "loadLibrary", "loadLibrary"),
    ("Lcom/facebook/soloader/SoLoader;", "loadLibrary", "loadLibrary"),
    ("Lcom/facebook/soloader/nativeloader/NativeLoader;", "loadLibrary", "loadLibrary"),
)

# invoke-virtual/super/direct/static/interface (35c) and their /range forms (3rc).
_INVOKE_35C = frozenset((0x6E, 0x6F, 0x70, 0x71, 0x72))
_INVOKE_3RC = frozenset((0x74, 0x75, 0x76, 0x77, 0x78))
_INVOKE_STATIC = frozenset((0x71, 0x77))
_INVOKE_OPCODES = _INVOKE_35C | _INVOKE_3RC


def _build_widths() -> tuple[int, ...]:
    """Instruction width in 16-bit code units for each opcode (payload pseudo-instructions aside)."""
    widths = [1] * 256
    two = [0x02, 0x05, 0x08, 0x13, 0x15, 0x16, 0x19, 0x1A, 0x1C, 0x1F, 0x20, 0x22, 0x23, 0x29, 0xFE, 0xFF]
    two += list(range(0x2D, 0x3E)) + list(range(0x44, 0x6E)) + list(range(0x90, 0xB0)) + list(range(0xD0, 0xE3))
    three = [0x03, 0x06, 0x09, 0x14, 0x17, 0x1B, 0x24, 0x25, 0x26, 0x2A, 0x2B, 0x2C, 0xFC, 0xFD]
    three += list(range(0x6E, 0x73)) + list(range(0x74, 0x79))
    for op in two:
        widths[op] = 2
    for op in three:
        widths[op] = 3
    widths[0xFA] = widths[0xFB] = 4  # invoke-polymorphic(/range), formats 45cc / 4rcc
    widths[0x18] = 5  # const-wide, format 51l
    return tuple(widths)


_WIDTHS = _build_widths()

# Where an instruction that writes a register keeps that register: "a4" = low nibble of the first byte
# after the opcode (formats 12x, 11n, 22c, 22s), "aa" = that whole byte, "a16" = the first operand unit (32x).
# Stores, branches, returns and invokes write no register and are absent.
_Dest = tuple[Literal["a4", "aa", "a16"], bool]  # (where, wide: also writes the next register)


def _build_destinations() -> dict[int, _Dest]:
    dest: dict[int, _Dest] = {
        0x01: ("a4", False), 0x02: ("aa", False), 0x03: ("a16", False),
        0x04: ("a4", True), 0x05: ("aa", True), 0x06: ("a16", True),
        0x0A: ("aa", False), 0x0B: ("aa", True), 0x0C: ("aa", False), 0x0D: ("aa", False),
        0x12: ("a4", False), 0x13: ("aa", False), 0x14: ("aa", False), 0x15: ("aa", False),
        0x16: ("aa", True), 0x17: ("aa", True), 0x18: ("aa", True), 0x19: ("aa", True),
        0x1C: ("aa", False), 0x20: ("a4", False), 0x21: ("a4", False), 0x22: ("aa", False),
        0x23: ("a4", False), 0xFE: ("aa", False), 0xFF: ("aa", False),
    }  # fmt: skip
    for op in range(0x2D, 0x32):  # cmp*
        dest[op] = ("aa", False)
    for op in range(0x44, 0x4B):  # aget*
        dest[op] = ("aa", op == 0x45)
    for op in range(0x52, 0x59):  # iget*
        dest[op] = ("a4", op == 0x53)
    for op in range(0x60, 0x67):  # sget*
        dest[op] = ("aa", op == 0x61)
    wide_unops = {0x7D, 0x7E, 0x80, 0x81, 0x83, 0x86, 0x88, 0x89, 0x8B}
    for op in range(0x7B, 0x90):
        dest[op] = ("a4", op in wide_unops)
    for op in range(0x90, 0xB0):
        dest[op] = ("aa", 0x9B <= op <= 0xA5 or 0xAB <= op <= 0xAF)
    for op in range(0xB0, 0xD0):
        dest[op] = ("a4", 0xBB <= op <= 0xC5 or 0xCB <= op <= 0xCF)
    for op in range(0xD0, 0xD8):
        dest[op] = ("a4", False)
    for op in range(0xD8, 0xE3):
        dest[op] = ("aa", False)
    return dest


_DESTINATIONS = _build_destinations()


@dataclass
class DexInfo:
    """What a scan needs from one dex file."""

    member: str
    version: str  # "035", "039", ...
    strings_count: int
    classes_count: int
    methods_count: int
    packages: set[str] = field(default_factory=set)  # dotted package names of classes defined here
    class_counts: dict[str, int] = field(default_factory=dict)  # package ("" = default package) -> classes defined
    load_sites: list[LoadSite] = field(default_factory=list)


@dataclass(frozen=True)
class _Loader:
    call: Literal["loadLibrary", "load"]
    string_register: int | None  # register index of the String argument, not counting `this`


def is_dex(data: bytes | memoryview) -> bool:
    """True when the bytes start with a DEX magic (`dex\\n0NN\\0`)."""
    head = bytes(data[:8])
    return len(head) == 8 and head[:4] == _MAGIC_PREFIX and head[4:7].isdigit() and head[7] == 0


def read_dex(data: bytes | memoryview, member: str) -> DexInfo:
    """Read `data` (a whole dex file) and return its load sites and defined packages.

    Raises MemberError when the file is not a dex or is truncated, inconsistent or hostile.
    """
    raw = bytes(data)
    try:
        return _DexReader(raw, member).read()
    except MemberError:
        raise
    except (IndexError, struct.error, ValueError, OverflowError) as exc:
        # A bounds check missed something: still an input error, not a crash.
        raise MemberError(f"{member}: malformed dex ({type(exc).__name__}: {exc})") from exc


class _DexReader:
    def __init__(self, data: bytes, member: str) -> None:
        self.member = member
        if len(data) < _HEADER_SIZE:
            self._fail(f"truncated header ({len(data)} bytes, need {_HEADER_SIZE})")
        if not is_dex(data):
            self._fail(f"not a dex file (magic {data[:8]!r})")
        fields = _HEADER.unpack_from(data, 0)
        (_magic, _checksum, _signature, file_size, header_size, endian_tag, _link_size, _link_off, map_off,
         string_ids_size, string_ids_off, type_ids_size, type_ids_off, proto_ids_size, proto_ids_off,
         _field_ids_size, _field_ids_off, method_ids_size, method_ids_off, class_defs_size, class_defs_off,
         _data_size, _data_off) = fields  # fmt: skip
        if endian_tag == _REVERSE_ENDIAN_CONSTANT:
            self._fail("big-endian dex is not supported")
        if endian_tag != _ENDIAN_CONSTANT:
            self._fail(f"bad endian tag 0x{endian_tag:08x}")
        if header_size < _HEADER_SIZE:
            self._fail(f"header size {header_size} < {_HEADER_SIZE}")
        if file_size > len(data):
            self._fail(f"truncated: header says {file_size} bytes, have {len(data)}")
        self.data = data[:file_size] if file_size < len(data) else data
        self.size = len(self.data)
        self.version = data[4:7].decode("ascii")
        self.map_off = map_off
        self.string_ids = self._table("string_ids", string_ids_off, string_ids_size)
        self.type_ids = self._table("type_ids", type_ids_off, type_ids_size)
        self.proto_ids_off = self._check_table("proto_ids", proto_ids_off, proto_ids_size, 12)
        self.proto_ids_size = proto_ids_size
        self.method_ids_off = self._check_table("method_ids", method_ids_off, method_ids_size, 8)
        self.method_ids_size = method_ids_size
        self.class_defs_off = self._check_table("class_defs", class_defs_off, class_defs_size, 32)
        self.class_defs_size = class_defs_size
        self._strings: dict[int, str] = {}

    # -- checks -----------------------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        raise MemberError(f"{self.member}: {message}")

    def _check_table(self, name: str, off: int, count: int, item: int) -> int:
        # Counts are capped by the file size, so a hostile count cannot make us allocate or loop for long.
        if count and (off < _HEADER_SIZE or off + count * item > self.size):
            self._fail(f"{name} table ({count} x {item} bytes at 0x{off:x}) runs outside the file")
        return off

    def _table(self, name: str, off: int, count: int) -> array[int]:
        """A table of little-endian 32-bit values, as an array: one copy of its bytes, where a tuple made an int
        object per entry (entries-5000.apk's four dex, 58,825 string ids each: 9.1 -> 0.1 ms)."""
        self._check_table(name, off, count, 4)
        table = array(_U32, self.data[off : off + 4 * count])
        if sys.byteorder == "big":
            table.byteswap()
        return table

    # -- strings and types ------------------------------------------------------------------------------

    def _string_start(self, idx: int) -> int:
        if idx >= len(self.string_ids):
            self._fail(f"string index {idx} out of range ({len(self.string_ids)} strings)")
        pos = self.string_ids[idx]
        if pos >= self.size:
            self._fail(f"string {idx} data offset 0x{pos:x} outside the file")
        # Skip the ULEB128 utf16_size.
        end = min(pos + 5, self.size)
        while pos < end and self.data[pos] & 0x80:
            pos += 1
        return pos + 1

    def string(self, idx: int) -> str:
        cached = self._strings.get(idx)
        if cached is not None:
            return cached
        start = self._string_start(idx)
        end = self.data.find(b"\0", start)
        if end < 0:
            self._fail(f"string {idx} is not terminated")
        text = decode_mutf8(self.data[start:end])
        self._strings[idx] = text
        return text

    def find_string(self, text: str) -> int | None:
        """Binary search of the sorted string table; exact only for ASCII `text` (all we look for)."""
        target = text.encode("ascii") + b"\0"
        width = len(target)
        lo, hi = 0, len(self.string_ids)
        while lo < hi:
            mid = (lo + hi) // 2
            start = self._string_start(mid)
            probe = self.data[start : start + width]
            if probe == target:
                return mid
            if probe < target:
                lo = mid + 1
            else:
                hi = mid
        return None

    def find_type(self, descriptor: str) -> int | None:
        string_idx = self.find_string(descriptor)
        if string_idx is None:
            return None
        i = bisect.bisect_left(self.type_ids, string_idx)
        return i if i < len(self.type_ids) and self.type_ids[i] == string_idx else None

    def type_name(self, type_idx: int) -> str:
        if type_idx >= len(self.type_ids):
            self._fail(f"type index {type_idx} out of range ({len(self.type_ids)} types)")
        return self.string(self.type_ids[type_idx])

    def method_id(self, idx: int) -> tuple[int, int, int]:
        """(class_idx, proto_idx, name_idx) of a method id."""
        if idx >= self.method_ids_size:
            self._fail(f"method index {idx} out of range ({self.method_ids_size} methods)")
        return struct.unpack_from("<HHI", self.data, self.method_ids_off + 8 * idx)

    def parameters(self, proto_idx: int) -> list[str]:
        if proto_idx >= self.proto_ids_size:
            self._fail(f"proto index {proto_idx} out of range ({self.proto_ids_size} protos)")
        (params_off,) = struct.unpack_from("<I", self.data, self.proto_ids_off + 12 * proto_idx + 8)
        if params_off == 0:
            return []
        if params_off + 4 > self.size:
            self._fail(f"proto {proto_idx} parameter list outside the file")
        (count,) = struct.unpack_from("<I", self.data, params_off)
        if params_off + 4 + 2 * count > self.size:
            self._fail(f"proto {proto_idx} parameter list ({count} entries) runs outside the file")
        return [self.type_name(t) for t in struct.unpack_from(f"<{count}H", self.data, params_off + 4)]

    # -- loaders ----------------------------------------------------------------------------------------

    def loader_methods(self) -> dict[int, _Loader]:
        """method_id index -> loader, for the loader methods this dex references."""
        found: dict[int, _Loader] = {}
        by_class: dict[str, list[tuple[str, Literal["loadLibrary", "load"]]]] = {}
        for descriptor, name, call in _LOADERS:
            by_class.setdefault(descriptor, []).append((name, call))
        for descriptor, wanted in by_class.items():
            class_idx = self.find_type(descriptor)
            if class_idx is None:
                continue
            names = {idx: call for name, call in wanted if (idx := self.find_string(name)) is not None}
            if not names:
                continue
            for idx in range(self._first_method_of(class_idx), self.method_ids_size):
                m_class, m_proto, m_name = self.method_id(idx)
                if m_class != class_idx:
                    break
                kind = names.get(m_name)
                if kind is not None:
                    found[idx] = _Loader(kind, _string_register(self.parameters(m_proto)))
        return found

    def _first_method_of(self, class_idx: int) -> int:
        """The first method_id of a class (method_ids are sorted by class, then name, then prototype)."""
        lo, hi = 0, self.method_ids_size
        while lo < hi:
            mid = (lo + hi) // 2
            if self.method_id(mid)[0] < class_idx:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def code_region(self) -> tuple[int, int]:
        """Byte range holding the code items, from the map list; the whole file when there is no usable map."""
        if not self.map_off or self.map_off + 4 > self.size:
            return 0, self.size
        (count,) = struct.unpack_from("<I", self.data, self.map_off)
        if self.map_off + 4 + 12 * count > self.size:
            self._fail(f"map list ({count} items) runs outside the file")
        items = sorted({_MAP_ITEM.unpack_from(self.data, self.map_off + 4 + 12 * i)[::-1] for i in range(count)})
        return _code_items_range(items, self.size)

    # -- classes ----------------------------------------------------------------------------------------

    def class_def(self, i: int) -> tuple[int, int]:
        """(class_idx, class_data_off) of class_def i."""
        base = self.class_defs_off + 32 * i
        class_idx, class_data_off = struct.unpack_from("<I20xI", self.data, base)
        return class_idx, class_data_off

    def class_counts(self) -> dict[str, int]:
        """Classes defined per dotted package; "" is the default package (R8 puts renamed classes there)."""
        counts: dict[str, int] = {}
        table = self.data[self.class_defs_off : self.class_defs_off + 32 * self.class_defs_size]
        for (class_idx,) in struct.iter_unpack("<I28x", table):  # one call for the table, not one per class
            descriptor = self.type_name(class_idx)
            if not descriptor.startswith("L"):
                continue
            slash = descriptor.rfind("/")
            package = descriptor[1:slash].replace("/", ".") if slash > 1 else ""
            counts[package] = counts.get(package, 0) + 1
        return counts

    def code_items(self) -> dict[int, list[tuple[int, int]]]:
        """code_off -> [(class_def index, method_idx)], from every class's class_data_item.

        The compiled module walks every class in one call (entries-5000.apk's four dex, 4,800 classes, 28,800
        methods: see docs/performance.md); it answers None where the class data is malformed, and the Python walk
        below, its reference, then raises its own error."""
        from licensegate.kb_index import ACCEL

        if ACCEL is not None:
            found: dict[int, list[tuple[int, int]]] | None = ACCEL.dex_code_items(
                self.data, self.class_defs_off, self.class_defs_size)
            if found is not None:
                return found
        return self._code_items_python()

    def _code_items_python(self) -> dict[int, list[tuple[int, int]]]:
        """code_items without the compiled module, and the reference tests/test_accel.py compares it with."""
        result: dict[int, list[tuple[int, int]]] = {}
        left = self.size  # bytes the class data items can still claim between them
        for i in range(self.class_defs_size):
            pos = self.class_def(i)[1]
            if pos == 0:
                continue
            if pos >= self.size:
                self._fail(f"class_def {i}: class data offset 0x{pos:x} outside the file")
            left = self._class_data_methods(i, pos, result, left)
        return result

    def _class_data_methods(self, i: int, pos: int, result: dict[int, list[tuple[int, int]]], left: int) -> int:
        """Add the code items of class_def i's class_data_item at pos (fields skipped, methods read); what `left`
        is once this item's least size is taken from it."""
        data, size = self.data, self.size
        counts = []
        for _ in range(4):
            value, pos = _uleb128(data, pos)
            counts.append(value)
        n_fields = counts[0] + counts[1]
        n_methods = counts[2] + counts[3]
        # Each encoded field takes at least 2 bytes, each method 3: caps hostile counts by the file size.
        need = 2 * n_fields + 3 * n_methods
        if need > size - pos:
            self._fail(f"class_def {i}: class data counts ({n_fields} fields, {n_methods} methods) too large")
        # Every class has its own class data (ART rejects a method listed under another class), so together they
        # fit in the file: class defs sharing one large item would make the walk classes x methods long.
        if need > left:
            self._fail(f"class_def {i}: the class data of the class defs claims more than the file's {size} bytes "
                       "(class data shared between classes)")
        for _ in range(2 * n_fields):
            while data[pos] & 0x80:
                pos += 1
            pos += 1
        for count in (counts[2], counts[3]):
            method_idx = 0
            for _ in range(count):
                diff, pos = _uleb128(data, pos)
                while data[pos] & 0x80:  # access_flags
                    pos += 1
                code_off, pos = _uleb128(data, pos + 1)
                method_idx += diff
                if code_off:
                    result.setdefault(code_off, []).append((i, method_idx))
        return left - need

    # -- the scan ---------------------------------------------------------------------------------------

    def read(self) -> DexInfo:
        info = DexInfo(
            member=self.member,
            version=self.version,
            strings_count=len(self.string_ids),
            classes_count=self.class_defs_size,
            methods_count=self.method_ids_size,
        )
        info.class_counts = self.class_counts()
        info.packages = {p for p in info.class_counts if p}
        loaders = self.loader_methods()
        if loaders:
            info.load_sites = self.load_sites(loaders)
        return info

    def load_sites(self, loaders: dict[int, _Loader]) -> list[LoadSite]:
        hits = self._invoke_candidates(loaders)
        if not hits:
            return []
        methods = self.code_items()
        code_offs = sorted(methods)
        decoded: set[int] = set()
        sites: list[LoadSite] = []
        for hit in hits:
            code = self._code_holding(hit, code_offs)
            if code is None or code[0] in decoded:
                continue
            code_off, insns_off, insns_size = code
            decoded.add(code_off)
            for class_def_idx, method_idx in methods[code_off]:
                sites.extend(self.method_sites(class_def_idx, method_idx, insns_off, insns_size, loaders))
        sites.sort(key=lambda s: (s.offset or 0, s.class_name, s.method))
        return sites

    def _invoke_candidates(self, loaders: dict[int, _Loader]) -> list[int]:
        """Offsets in the code region that look like an invoke of a loader method (opcode, then its index)."""
        start, end = self.code_region()
        if start >= end:
            return []
        # A plain alternation of the 16-bit method indices is fast (the regex engine scans for literals); each
        # hit is then checked for an invoke opcode two bytes before it, at an even offset. search() from
        # start + 1 so that overlapping candidates are all seen.
        pattern = re.compile(b"|".join(re.escape(struct.pack("<H", idx)) for idx in loaders if idx <= 0xFFFF))
        data = self.data
        hits: list[int] = []
        pos = start + 2
        while (match := pattern.search(data, pos, end)) is not None:
            at = match.start()
            pos = at + 1
            if not at & 1 and data[at - 2] in _INVOKE_OPCODES:
                hits.append(at - 2)
        return hits

    def _code_holding(self, hit: int, code_offs: list[int]) -> tuple[int, int, int] | None:
        """(code_off, insns_off, insns_size) of the code item whose instructions hold offset `hit`, or None."""
        k = bisect.bisect_right(code_offs, hit - _CODE_ITEM.size) - 1
        if k < 0:
            return None
        code_off = code_offs[k]
        if code_off + _CODE_ITEM.size > self.size:
            self._fail(f"code item at 0x{code_off:x} outside the file")
        insns_size = _CODE_ITEM.unpack_from(self.data, code_off)[5]
        insns_off = code_off + _CODE_ITEM.size
        if hit >= insns_off + 2 * insns_size:
            return None  # the bytes lie in a try table or between code items: not an instruction
        return code_off, insns_off, insns_size

    def method_sites(
        self, class_def_idx: int, method_idx: int, insns_off: int, insns_size: int, loaders: dict[int, _Loader]
    ) -> list[LoadSite]:
        if insns_off + 2 * insns_size > self.size:
            self._fail(f"code of method {method_idx} runs outside the file")
        units = struct.unpack_from(f"<{insns_size}H", self.data, insns_off)
        found: list[tuple[int, _Loader, int | None]] = []  # (pc, loader, string index)
        consts: dict[int, int] = {}  # register -> string index last loaded into it by const-string
        pc = 0
        while pc < insns_size:
            unit = units[pc]
            op = unit & 0xFF
            width = _payload_width(units, pc, insns_size) if op == 0 and unit else _WIDTHS[op]
            if pc + width > insns_size:
                self._fail(f"method {method_idx}: instruction 0x{op:02x} at unit {pc} runs past the code")
            if op in _INVOKE_OPCODES:
                loader = loaders.get(units[pc + 1])
                if loader is not None:
                    register = _argument_register(op, unit, units[pc + 2], loader)
                    found.append((pc, loader, None if register is None else consts.get(register)))
            else:
                _track_strings(op, unit, units, pc, consts)
            pc += width
        return self._sites(class_def_idx, method_idx, insns_off, found) if found else []

    def _sites(self, class_def_idx: int, method_idx: int, insns_off: int,
               found: list[tuple[int, _Loader, int | None]]) -> list[LoadSite]:
        class_name = _dotted(self.type_name(self.class_def(class_def_idx)[0]))
        method_name = self.string(self.method_id(method_idx)[2])
        return [
            LoadSite(
                member=self.member,
                class_name=class_name,
                method=method_name,
                call=loader.call,
                argument=None if string_idx is None else self.string(string_idx),
                offset=insns_off + 2 * pc,
            )
            for pc, loader, string_idx in found
        ]


def _track_strings(op: int, unit: int, units: tuple[int, ...], pc: int, consts: dict[int, int]) -> None:
    """Follow string constants through registers: const-string loads one, move-object copies it, any other write
    forgets it."""
    if op == 0x1A:  # const-string vAA, string@BBBB
        consts[unit >> 8] = units[pc + 1]
    elif op == 0x1B:  # const-string/jumbo vAA, string@BBBBBBBB
        consts[unit >> 8] = units[pc + 1] | units[pc + 2] << 16
    elif op in (0x07, 0x08, 0x09):  # move-object: the constant travels with the reference
        _move_object(op, unit, units, pc, consts)
    elif consts and op in _DESTINATIONS:
        _overwrite(op, unit, units, pc, consts)


def _code_items_range(items: list[tuple[int, int, int, int]], size: int) -> tuple[int, int]:
    """From the sorted map items (offset, size, unused, type): the code items' offset up to the next item's (or the
    end of the file); (0, 0) when there are none."""
    starts = sorted(off for off, _size, _unused, _type in items)
    for off, _size, _unused, type_ in items:
        if type_ == _TYPE_CODE_ITEM:
            later = [s for s in starts if s > off]
            return off, (later[0] if later else size)
    return 0, 0  # no code at all


def _move_object(op: int, unit: int, units: tuple[int, ...], pc: int, consts: dict[int, int]) -> None:
    """move-object, /from16, /16: the destination register holds what the source held."""
    if op == 0x07:
        dst, src = (unit >> 8) & 0xF, unit >> 12
    elif op == 0x08:
        dst, src = unit >> 8, units[pc + 1]
    else:
        dst, src = units[pc + 1], units[pc + 2]
    if src in consts:
        consts[dst] = consts[src]
    else:
        consts.pop(dst, None)


def _overwrite(op: int, unit: int, units: tuple[int, ...], pc: int, consts: dict[int, int]) -> None:
    """Any other instruction writing a register (a pair for wide values) forgets the string it held."""
    where, wide = _DESTINATIONS[op]
    reg = (unit >> 8) & 0xF if where == "a4" else unit >> 8 if where == "aa" else units[pc + 1]
    consts.pop(reg, None)
    if wide:
        consts.pop(reg + 1, None)


def _payload_width(units: tuple[int, ...], pc: int, limit: int) -> int:
    """Width in code units of a payload pseudo-instruction (or of a nop carrying a stray high byte)."""
    ident = units[pc]
    if ident == 0x0100:  # packed-switch-payload: ident, size, first_key (2 units), targets (2 units each)
        return units[pc + 1] * 2 + 4 if pc + 1 < limit else 1
    if ident == 0x0200:  # sparse-switch-payload: ident, size, keys and targets (2 units each)
        return units[pc + 1] * 4 + 2 if pc + 1 < limit else 1
    if ident == 0x0300:  # fill-array-data-payload: ident, element_width, size (2 units), data
        if pc + 3 >= limit:
            return 1
        element_width = units[pc + 1]
        count = units[pc + 2] | units[pc + 3] << 16
        return (element_width * count + 1) // 2 + 4
    return 1


def _argument_register(op: int, unit: int, operand: int, loader: _Loader) -> int | None:
    """The register holding the loader's String argument at an invoke instruction."""
    if loader.string_register is None:
        return None
    position = loader.string_register + (0 if op in _INVOKE_STATIC else 1)
    if op in _INVOKE_3RC:  # AA|op BBBB CCCC: registers CCCC .. CCCC+AA-1
        return operand + position if position < unit >> 8 else None
    count = unit >> 12  # A|G|op BBBB F|E|D|C: registers C, D, E, F, G
    if position >= count:
        return None
    if position < 4:
        return (operand >> (4 * position)) & 0xF
    return (unit >> 8) & 0xF


def _string_register(params: list[str]) -> int | None:
    """Register position (long and double take two) of the first String parameter."""
    position = 0
    for descriptor in params:
        if descriptor == "Ljava/lang/String;":
            return position
        position += 2 if descriptor in ("J", "D") else 1
    return None


def _uleb128(data: bytes, pos: int) -> tuple[int, int]:
    result = data[pos]
    if result < 0x80:
        return result, pos + 1
    result &= 0x7F
    shift = 7
    for _ in range(4):
        pos += 1
        byte = data[pos]
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos + 1
        shift += 7
    raise ValueError(f"ULEB128 longer than 5 bytes at 0x{pos:x}")


def decode_mutf8(raw: bytes) -> str:
    """Modified UTF-8: NUL as C0 80, supplementary characters as two 3-byte surrogates."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    raw = raw.replace(b"\xc0\x80", b"\x00")
    try:
        text = raw.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _dotted(descriptor: str) -> str:
    if descriptor.startswith("L") and descriptor.endswith(";"):
        return descriptor[1:-1].replace("/", ".")
    return descriptor


# -- known Java packages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class JavaPackageEntry:
    """A Java library recognised by its package prefix (data/java_packages.toml)."""

    prefix: str  # dotted package prefix, matched on whole segments
    name: str
    license: str  # SPDX expression
    source: str  # where the licence was read (upstream URL)
    homepage: str | None = None
    note: str | None = None
    id: str = ""  # rule id part; the prefix unless the table names one
    # "strong": the package name alone identifies the library; "weak": names that other code also uses.
    strength: Literal["strong", "weak"] = "strong"


@cache
def load_java_packages() -> tuple[JavaPackageEntry, ...]:
    """The hand-checked table (data/java_packages.toml) first, then the generated knowledge base (data/java_kb.tsv).

    For the same prefix the hand-checked entry wins; otherwise the longest prefix covering a package wins.
    """
    text = package_file("data", "java_packages.toml").read_text(encoding="utf-8")
    table = _toml.loads(text)
    curated = tuple(
        JavaPackageEntry(
            prefix=entry["prefix"],
            name=entry["name"],
            license=entry["license"],
            source=entry["source"],
            homepage=entry.get("homepage"),
            note=entry.get("note"),
            id=entry.get("id", entry["prefix"]),
            strength="weak" if entry.get("strength") == "weak" else "strong",
        )
        for entry in table["package"]
    )
    return curated + _load_kb({e.prefix for e in curated})


def _load_kb(skip: set[str]) -> tuple[JavaPackageEntry, ...]:
    kb = package_file("data", "java_kb.tsv")
    if not kb.is_file():
        return ()
    out: list[JavaPackageEntry] = []
    for line in kb.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            out += _kb_entries(line, skip)
    return tuple(out)


def _kb_entries(line: str, skip: set[str]) -> list[JavaPackageEntry]:
    """The entries of one knowledge-base line (id, name, licence, source, homepage, package prefixes), one per
    valid prefix not curated already."""
    ident, name, licence, source, homepage, prefixes = (line.split("\t") + [""] * 6)[:6]
    return [JavaPackageEntry(prefix=prefix, name=name, license=licence, source=source, homepage=homepage or None, id=ident)
            for prefix in prefixes.split()
            if prefix not in skip and all(part.isidentifier() for part in prefix.split("."))]


@cache
def _java_index(entries: tuple[JavaPackageEntry, ...]) -> dict[str, JavaPackageEntry]:
    index: dict[str, JavaPackageEntry] = {}
    for entry in entries:
        index.setdefault(entry.prefix, entry)
    return index


def java_owner(package: str, entries: tuple[JavaPackageEntry, ...] | None = None) -> JavaPackageEntry | None:
    """The entry with the longest prefix covering `package` (whole segments), or None."""
    index = _java_index(load_java_packages() if entries is None else entries)
    probe = package
    while probe:
        entry = index.get(probe)
        if entry is not None:
            return entry
        probe = probe.rpartition(".")[0]
    return None


def match_java_packages(
    packages: set[str], entries: tuple[JavaPackageEntry, ...] | None = None
) -> list[tuple[JavaPackageEntry, str]]:
    """(entry, matched package) for each entry whose prefix covers a package, longest prefix first.

    Each entry is reported once, with the shortest (outermost) matching package as evidence.
    """
    table = load_java_packages() if entries is None else entries
    ordered = sorted(table, key=lambda e: len(e.prefix), reverse=True)
    best: dict[JavaPackageEntry, str] = {}
    for package in packages:
        for entry in ordered:
            if package == entry.prefix or package.startswith(entry.prefix + "."):
                current = best.get(entry)
                if current is None or (len(package), package) < (len(current), current):
                    best[entry] = package
                break  # the longest prefix wins, e.g. a sub-package listed with its own licence
    return sorted(best.items(), key=lambda item: item[0].prefix)
