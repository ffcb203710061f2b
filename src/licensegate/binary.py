"""Native binaries: what the link graph and the signature matcher need from ELF, Mach-O and static archives.

ELF is read with `struct` directly (headers, sections, the dynamic table, symbol tables): pyelftools' construct
objects cost more than the rest of a scan on large libraries, so pyelftools serves as the oracle in the tests.
Mach-O is read the same way by macho.py (LIEF is its oracle in the tests). Every parser error becomes a
`MemberError`: a truncated or hostile binary is reported, never a traceback.
"""

from __future__ import annotations

import array
import itertools
import struct
import sys
from collections.abc import Callable, Iterable
from typing import Literal

from . import kb_index
from ._dataclasses import dataclass, field
from .errors import MemberError

BinaryFormat = Literal["elf", "macho", "ar"]
StringRegion = tuple[int, memoryview]  # (offset of the region inside the member, its bytes)

_ELF_ABI = {
    "EM_AARCH64": "arm64-v8a",
    "EM_ARM": "armeabi-v7a",
    "EM_386": "x86",
    "EM_X86_64": "x86_64",
    "EM_RISCV": "riscv64",
    "EM_MIPS": "mips",
}

# Sections whose bytes hold the text a library carries: constant strings, tables of pointers to them, initialised
# data. Executable code and symbol/relocation tables are left out.
_ELF_STRING_SECTION_PREFIXES = (".rodata", ".data", ".tdata", ".lrodata", ".ldata")
# Relocated read-only data holds pointer tables (vtables, arrays of string pointers): the strings they point to
# live in .rodata. Skipping it halves the bytes searched in large C++ libraries.
_ELF_POINTER_SECTIONS = (".data.rel.ro",)


@dataclass
class BinaryInfo:
    format: BinaryFormat
    kind: Literal["native-library", "executable", "static-archive", "object", "bundle"]
    abi: str | None
    soname: str | None = None  # DT_SONAME / LC_ID_DYLIB
    needed: list[str] = field(default_factory=list)  # DT_NEEDED / LC_LOAD_DYLIB (+weak, reexport, upward, lazy)
    weak_needed: set[str] = field(default_factory=set)
    rpaths: list[str] = field(default_factory=list)  # DT_RPATH + DT_RUNPATH / LC_RPATH
    symbols: list[str] = field(default_factory=list)  # exported (defined, global) symbol names
    strings: list[StringRegion] = field(default_factory=list)
    slices: list[str] = field(default_factory=list)  # architectures of a fat Mach-O
    interpreter: str | None = None
    encrypted: bool = False  # Mach-O with LC_ENCRYPTION_INFO cryptid != 0 (App Store FairPlay): text unreadable
    # ELF that imports dlopen: the library names its string sections hold, with their offsets (loaded at run time)
    dlopen_names: dict[str, int] = field(default_factory=dict)
    copyrights: list[str] = field(default_factory=list)  # copyright lines among the strings (set by the scanner)


# ---------------------------------------------------------------------------------------------------------------
# ELF


def read_elf(data: bytes, member: str) -> BinaryInfo:
    try:
        return _read_elf(data)
    except MemberError as exc:
        raise MemberError(f"{member}: malformed ELF ({exc})") from None
    except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise MemberError(f"{member}: malformed ELF ({_reason(exc)})") from None


_EM = {183: "EM_AARCH64", 40: "EM_ARM", 3: "EM_386", 62: "EM_X86_64", 243: "EM_RISCV", 8: "EM_MIPS"}
_SHT_PROGBITS, _SHT_SYMTAB, _SHT_DYNAMIC, _SHT_NOBITS, _SHT_DYNSYM = 1, 2, 6, 8, 11
_DT_NEEDED, _DT_SONAME, _DT_RPATH, _DT_RUNPATH, _DT_STRTAB = 1, 14, 15, 29, 5


@dataclass(frozen=True)
class _ElfHeader:
    is64: bool
    e: str  # struct byte order: "<" or ">"
    type: int  # e_type: 1 ET_REL, 2 ET_EXEC, 3 ET_DYN
    machine: str  # "EM_AARCH64", ...
    phoff: int
    phentsize: int
    phnum: int
    shoff: int
    shentsize: int
    shnum: int
    shstrndx: int


_Segment = tuple[int, int, int, int, int]  # p_type, p_flags, p_offset, p_vaddr, p_filesz
_Section = tuple[int, int, int, int, int, int]  # sh_name, sh_type, sh_flags, sh_offset, sh_size, sh_link
_Table = tuple[int, int, int]  # offset, length, sh_link (the string table's section index)


def _read_elf(data: bytes) -> BinaryInfo:
    """Header, section and program headers, the dynamic table and symbol tables, read with struct.

    Kept to what the scan needs; tests compare it with pyelftools on real binaries (test_elf_reader.py).
    """
    h = _elf_header(data)
    info = BinaryInfo(format="elf", kind="native-library", abi=_ELF_ABI.get(h.machine, h.machine))
    view = memoryview(data)
    segments, info.interpreter = _program_headers(data, h)
    sections = _section_headers(data, h)
    names = _section_names(data, sections, h.shstrndx)
    string_sections, dynsym, symtab, dynamic = _sort_sections(view, sections, names)
    dyn = _dynamic_location(dynamic, sections, segments, len(data))
    if dyn is not None:
        _read_dynamic(data, dyn, h.is64, h.e, segments, info)
    info.strings = string_sections if sections else _segment_strings(view, segments)
    info.symbols = _exported_symbols(view, sections, (dynsym, symtab), h)
    if dynsym is not None:
        dynstr = _section_bounds(sections, dynsym[2], len(data))
        if dynstr is not None and _imports_dlopen(view[dynstr[0] : dynstr[0] + dynstr[1]].tobytes(), info.symbols):
            info.dlopen_names = _library_names(info.strings)
    info.kind = _elf_kind(h.type, info)
    return info


def _elf_header(data: bytes) -> _ElfHeader:
    size = len(data)
    if size < 52:
        raise MemberError("truncated ELF header")
    ei_class, ei_data = data[4], data[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise MemberError(f"bad ELF class/data bytes {ei_class}/{ei_data}")
    is64 = ei_class == 2
    e = "<" if ei_data == 1 else ">"
    if is64 and size < 64:
        raise MemberError("truncated ELF header")
    fields = struct.unpack_from(e + ("HHIQQQIHHHHHH" if is64 else "HHIIIIIHHHHHH"), data, 16)
    e_type, e_machine, _, _, e_phoff, e_shoff, _, _, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx = fields
    return _ElfHeader(is64, e, e_type, _EM.get(e_machine, f"EM_{e_machine}"), e_phoff, e_phentsize, e_phnum,
                      e_shoff, e_shentsize, e_shnum, e_shstrndx)


def _program_headers(data: bytes, h: _ElfHeader) -> tuple[list[_Segment], str | None]:
    """The segments (for PT_LOAD / PT_DYNAMIC fallbacks in section-less files) and the PT_INTERP path."""
    size = len(data)
    segments: list[_Segment] = []
    interpreter = None
    if not (h.phoff and h.phnum):
        return segments, interpreter
    if h.phentsize < (56 if h.is64 else 32) or h.phoff + h.phnum * h.phentsize > size:
        raise MemberError("program headers run past the end of the file")
    for i in range(h.phnum):
        segment = _program_header(data, h, h.phoff + i * h.phentsize)
        segments.append(segment)
        p_type, _, p_offset, _, p_filesz = segment
        if p_type == 3 and p_offset < size:  # PT_INTERP
            interpreter = data[p_offset : min(p_offset + p_filesz, size)].rstrip(b"\0").decode("latin-1")
    return segments, interpreter


def _program_header(data: bytes, h: _ElfHeader, at: int) -> _Segment:
    """(p_type, p_flags, p_offset, p_vaddr, p_filesz) of the program header at `at` (the fields' order differs
    between ELF32 and ELF64)."""
    if h.is64:
        p_type, p_flags, p_offset, p_vaddr, _, p_filesz = struct.unpack_from(h.e + "IIQQQQ", data, at)
    else:
        p_type, p_offset, p_vaddr, _, p_filesz, _, p_flags = struct.unpack_from(h.e + "IIIIIII", data, at)
    return p_type, p_flags, p_offset, p_vaddr, p_filesz


def _section_headers(data: bytes, h: _ElfHeader) -> list[_Section]:
    if not (h.shoff and h.shnum):
        return []
    if h.shentsize < (64 if h.is64 else 40) or h.shoff + h.shnum * h.shentsize > len(data):
        raise MemberError("section headers run past the end of the file")
    fmt = h.e + ("IIQQQQI" if h.is64 else "IIIIIII")
    sections: list[_Section] = []
    for i in range(h.shnum):
        sh_name, sh_type, sh_flags, _, sh_offset, sh_size, sh_link = struct.unpack_from(fmt, data, h.shoff + i * h.shentsize)
        sections.append((sh_name, sh_type, sh_flags, sh_offset, sh_size, sh_link))
    return sections


def _section_names(data: bytes, sections: list[_Section], shstrndx: int) -> bytes:
    """The section-name string table (e_shstrndx)."""
    if not sections or shstrndx >= len(sections):
        return b""
    _, _, _, off, length, _ = sections[shstrndx]
    return data[off : off + length] if off < len(data) else b""


def _section_bounds(sections: list[_Section], index: int, size: int) -> tuple[int, int] | None:
    """(offset, length) of section `index`, clipped to the file; None when there is no such section."""
    if not 0 <= index < len(sections):
        return None
    _, _, _, off, length, _ = sections[index]
    return (off, min(length, size - off)) if off < size else None


def _sort_sections(view: memoryview, sections: list[_Section], names: bytes
                   ) -> tuple[list[StringRegion], _Table | None, _Table | None, _Table | None]:
    """The string-bearing sections, and the dynamic symbol table, symbol table and dynamic table if present."""
    size = len(view)
    string_sections: list[StringRegion] = []
    tables: dict[int, _Table] = {}  # the last section of each table type wins
    for sh_name, sh_type, sh_flags, off, length, link in sections:
        if sh_type == _SHT_NOBITS or off >= size or length <= 0:
            continue
        length = min(length, size - off)
        if sh_type == _SHT_PROGBITS and not sh_flags & 0x4:  # not SHF_EXECINSTR
            if _holds_strings(names, sh_name):
                string_sections.append((off, view[off : off + length]))
        elif sh_type in (_SHT_DYNSYM, _SHT_SYMTAB, _SHT_DYNAMIC):
            tables[sh_type] = (off, length, link)
    return string_sections, tables.get(_SHT_DYNSYM), tables.get(_SHT_SYMTAB), tables.get(_SHT_DYNAMIC)


def _holds_strings(names: bytes, sh_name: int) -> bool:
    end = names.find(b"\0", sh_name)
    name = names[sh_name : end if end >= 0 else None].decode("latin-1")
    return name.startswith(_ELF_STRING_SECTION_PREFIXES) and not name.startswith(_ELF_POINTER_SECTIONS)


def _dynamic_location(dynamic: _Table | None, sections: list[_Section], segments: list[_Segment], size: int
                      ) -> tuple[int, int, tuple[int, int] | None] | None:
    """Where the dynamic table is, with the bounds of its string table when the section headers give them.

    No section headers: PT_DYNAMIC, with DT_STRTAB mapped back to a file offset through the PT_LOADs later.
    """
    if dynamic is not None:
        return dynamic[0], dynamic[1], _section_bounds(sections, dynamic[2], size)
    found = None
    for p_type, _, p_offset, _, p_filesz in segments:
        if p_type == 2 and p_offset < size:  # PT_DYNAMIC
            found = (p_offset, min(p_filesz, size - p_offset), None)
    return found


def _segment_strings(view: memoryview, segments: list[_Segment]) -> list[StringRegion]:
    """A section-less file: the non-executable PT_LOAD segments, else the whole file."""
    size = len(view)
    regions: list[StringRegion] = [(p_offset, view[p_offset : min(p_offset + p_filesz, size)])
                                   for p_type, p_flags, p_offset, _, p_filesz in segments
                                   if p_type == 1 and not p_flags & 0x1 and p_offset < size]  # PT_LOAD without PF_X
    return regions or [(0, view)]


def _exported_symbols(view: memoryview, sections: list[_Section], tables: tuple[_Table | None, _Table | None],
                      h: _ElfHeader) -> list[str]:
    """Defined global symbols of .dynsym then .symtab, each name once."""
    entsize = 24 if h.is64 else 16
    # Field offsets inside an entry: 64-bit st_name 0, st_info 4, st_shndx 6; 32-bit st_name 0, st_info 12, st_shndx 14.
    info_at, shndx_at = (4, 6) if h.is64 else (12, 14)
    seen: dict[str, None] = {}
    names: list[str] = []
    for table in tables:
        strtab = _section_bounds(sections, table[2], len(view)) if table is not None else None
        if table is not None and strtab is not None:
            off, length, _ = table
            names += symbol_names(view[off : off + length], view[strtab[0] : strtab[0] + strtab[1]], entsize,
                                  h.e == "<", info_at, _KEEP_INFO, shndx_at, seen)
    return names


def _elf_kind(e_type: int, info: BinaryInfo) -> Literal["native-library", "executable", "object"]:
    if e_type == 2 or (e_type == 3 and info.interpreter and not info.soname):  # ET_EXEC, or a PIE executable
        return "executable"
    if e_type == 1:
        return "object"
    return "native-library"


_DLOPEN = (b"\0dlopen\0", b"\0android_dlopen_ext\0")
# Characters of a shared-object file name ("libfoo.so", "libfoo.so.1", "libc++_shared.so").
_NAME_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-")
_DIGITS_DOTS = frozenset(b"0123456789.")


def _imports_dlopen(dynstr: bytes, defined: list[str]) -> bool:
    """The binary calls dlopen (its name is in the dynamic string table and not defined here)."""
    return any(name in dynstr for name in _DLOPEN) and "dlopen" not in defined  # dynstr starts with a NUL


def _library_names(regions: list[StringRegion]) -> dict[str, int]:
    """Library file names (C strings "lib….so[.N]") in the string sections, each with its first offset."""
    names: dict[str, int] = {}
    for base, view in regions:
        for start, end in _so_spans(view):
            names.setdefault(bytes(view[start:end]).decode("ascii"), base + start)
    return names


def _so_spans(region: memoryview) -> list[tuple[int, int]]:
    """(start, end) of each library file name of a string section, in order.

    Each ".so" is found at C speed and only its neighbourhood is examined: a regex over megabytes of .rodata costs
    more than the rest of the binary's analysis. The compiled module does it over the section in place (a memchr
    for the '.'): the sections of wild-debian.apk's 5 libraries that call dlopen (8.6 MB) 9.8 -> 1.3 ms, of
    large-frameworks.ipa's 6 (21.4 MB) 21.4 -> 2.7 ms (min CPU of 9); the Python path below, `bytes.find` over a
    copy, is its reference (tests/test_accel.py)."""
    if kb_index.ACCEL is not None:
        return kb_index.ACCEL.so_spans(region)
    data = bytes(region)
    spans = []
    pos = data.find(b".so")
    while pos >= 0:
        start, end = _so_name_around(data, pos)
        if start >= 0:
            spans.append((start, end))
        pos = data.find(b".so", pos + 3)
    return spans


def _so_name_around(data: bytes, pos: int) -> tuple[int, int]:
    """(start, end) of the C string "lib….so[.N]" whose ".so" is at pos, or (-1, -1) when there is none."""
    end = pos + 3
    while end < len(data) and data[end] in _DIGITS_DOTS:
        end += 1
    if end >= len(data) or data[end] != 0:
        return -1, -1
    start = pos
    while start > 0 and data[start - 1] in _NAME_CHARS and pos - start < 120:
        start -= 1
    if data.startswith(b"lib", start) and pos - start > 3:
        return start, end
    return -1, -1


def _read_dynamic(data: bytes, dynamic: tuple[int, int, tuple[int, int] | None], is64: bool, e: str,
                  segments: list[tuple[int, int, int, int, int]], info: BinaryInfo) -> None:
    off, length, strtab = dynamic
    entries = _dynamic_entries(data, off, length, is64, e)
    if strtab is None:
        strtab = _mapped_strtab(entries, segments, len(data))
        if strtab is None:
            return
    s_off, s_len = strtab
    table = data[s_off : s_off + s_len]
    for tag, value in entries:
        if tag == _DT_NEEDED:
            info.needed.append(_dynamic_text(table, value))
        elif tag == _DT_SONAME:
            info.soname = _dynamic_text(table, value)
        elif tag in (_DT_RPATH, _DT_RUNPATH):
            info.rpaths.extend(p for p in _dynamic_text(table, value).split(":") if p)


def _dynamic_entries(data: bytes, off: int, length: int, is64: bool, e: str) -> list[tuple[int, int]]:
    """The (d_tag, d_val) entries of the dynamic section, up to DT_NULL."""
    fmt, entsize = (e + "qQ", 16) if is64 else (e + "iI", 8)
    entries = []
    for tag, value in struct.iter_unpack(fmt, data[off : off + (length // entsize) * entsize]):
        if tag == 0:
            break
        entries.append((tag, value))
    return entries


def _mapped_strtab(entries: list[tuple[int, int]], segments: list[tuple[int, int, int, int, int]],
                   size: int) -> tuple[int, int] | None:
    """DT_STRTAB is an address: the file offset of the PT_LOAD that maps it (the last such segment wins)."""
    addr = next((v for t, v in entries if t == _DT_STRTAB), None)
    found = None
    for p_type, _, p_offset, p_vaddr, p_filesz in segments:
        if addr is not None and p_type == 1 and p_vaddr <= addr < p_vaddr + p_filesz:
            start = addr - p_vaddr + p_offset
            found = (start, max(size - start, 0))
    return found


def _dynamic_text(table: bytes, v: int) -> str:
    """The NUL-terminated string at offset v of the dynamic string table."""
    if v >= len(table):
        raise MemberError(f"dynamic string offset {v} outside the string table")
    end = table.find(b"\0", v)
    return table[v : end if end >= 0 else None].decode("utf-8", "replace")


# st_info values of the symbols we keep: binding GLOBAL (1) or WEAK (2), type NOTYPE (0), OBJECT (1) or FUNC (2).
_KEEP_INFO = bytes(1 if (b >> 4) in (1, 2) and (b & 0xF) in (0, 1, 2) else 0 for b in range(256))
_NONZERO = bytes([0] + [1] * 255)


def symbol_names(table: memoryview, strtab: memoryview, entsize: int, little: bool, keep_at: int, keep: bytes,
                 defined_at: int, seen: dict[str, None] | None) -> list[str]:
    """The names of a symbol table's kept entries, in table order: every whole `entsize`-byte entry whose byte at
    `keep_at` maps to 1 in `keep` and, when `defined_at` >= 0, whose 16-bit field there (st_shndx) is not 0
    (SHN_UNDEF). A name is the latin-1 text at the entry's 32-bit offset (at 0: st_name, n_strx) up to the first NUL
    or the end of `strtab`; offset 0 and offsets past the table are skipped. With `seen`, only the names not in it,
    each once, and each is added to it. MemberError when the kept entries' names add up to more than
    `_names_most` bytes (a hostile table), found before more is read.

    The compiled module walks the table once, making each kept name's str and deduplicating it in one dict probe:
    read_elf over wild-debian.apk's 54 libraries (94,948 names) 100 -> 73 ms, CPU, min of 15; the Python path below,
    a listcomp over the decoded string table, is its reference (tests/test_accel.py) and the fallback.
    """
    most = _names_most(len(strtab))
    if kb_index.ACCEL is not None:
        found: list[str] | None = kb_index.ACCEL.symbol_names(table, strtab, entsize, little, keep_at, keep,
                                                              defined_at, seen, most)
        if found is None:
            raise _too_many_name_bytes(len(strtab), most)
        return found
    count = len(table) // entsize
    raw = table[: count * entsize]
    # Whole columns are sliced out with strides and filtered at C speed (large libraries export 100,000 symbols:
    # a Python loop over every entry cost more than the rest of their analysis).
    mask = bytes(raw[keep_at::entsize]).translate(keep)
    if defined_at >= 0:
        shndx = int.from_bytes(bytes(raw[defined_at::entsize]), "big") | int.from_bytes(bytes(raw[defined_at + 1 :: entsize]), "big")
        defined = shndx.to_bytes(count, "big").translate(_NONZERO)
        mask = (int.from_bytes(mask, "big") & int.from_bytes(defined, "big")).to_bytes(count, "big")
    names = _names_at(strtab, _column_u32(raw, entsize, little), mask, most)
    if seen is None:
        return names
    new = [name for name in dict.fromkeys(names) if name not in seen]
    seen.update(dict.fromkeys(new))
    return new


def _column_u32(raw: memoryview, entsize: int, little: bool) -> array.array[int]:
    """The unsigned 32-bit field at 0 of every `entsize`-byte entry of a table (entsize a multiple of 4)."""
    values = array.array("I")
    if values.itemsize != 4:  # pragma: no cover - every platform CPython supports has a 4-byte unsigned int
        values = array.array("L")
    values.frombytes(bytes(raw) + bytes(-len(raw) % 4))
    if little != (sys.byteorder == "little"):
        values.byteswap()
    return values[:: entsize // 4]


def _names_most(strtab_len: int) -> int:
    """The most bytes the names of one symbol table may add up to: eight times its string table, and 1 MiB.

    A real table's names share its string table's bytes once each, or a few times where the linker merged a name
    into the tail of another (the 456 ELF and Mach-O binaries of the benchmark inputs: at most 1.05 times); symbols pointing into one long run of
    a hostile string table would each make a long name, symbols x run length in time and memory."""
    return 8 * strtab_len + (1 << 20)


def _too_many_name_bytes(strtab_len: int, most: int) -> MemberError:
    return MemberError(f"symbol names add up to more than {most} bytes from a {strtab_len}-byte string table "
                       "(symbols pointing into one long string)")


def _names_at(strtab: memoryview, offsets: Iterable[int], mask: bytes, most: int) -> list[str]:
    """The NUL-terminated names at the offsets whose mask byte is 1 (offset 0 and offsets past the table skipped);
    MemberError once their lengths add up to more than `most`, before more is read."""
    text = bytes(strtab).decode("latin-1") + "\0"  # latin-1 keeps byte offsets; the NUL ends an unterminated last name
    end = len(text) - 1
    find = text.find
    names: list[str] = []
    total = 0
    for o in itertools.compress(offsets, mask):
        if 0 < o < end:
            stop = find("\0", o)
            total += stop - o
            if total > most:
                raise _too_many_name_bytes(end, most)
            names.append(text[o:stop])
    return names


# ---------------------------------------------------------------------------------------------------------------
# Mach-O


def read_macho(data: bytes, member: str) -> BinaryInfo:
    """Read a thin or fat Mach-O (or a universal static archive); a fat binary's facts are the union of its slices."""
    from .macho import read_macho as read  # macho.py builds on this module's BinaryInfo and ar reader

    return read(data, member)


# ---------------------------------------------------------------------------------------------------------------
# Static archives (ar)


def read_ar(data: bytes, member: str) -> BinaryInfo:
    """A static library: its symbol index names what it defines; all its object bytes are searched for strings."""
    try:
        return _read_ar(data)
    except MemberError as exc:
        raise MemberError(f"{member}: {exc}") from None
    except Exception as exc:
        raise MemberError(f"{member}: malformed static archive ({_reason(exc)})") from None


def _read_ar(data: bytes, start: int = 0, end: int | None = None) -> BinaryInfo:
    """The archive at data[start:end] (a slice of a universal archive), with offsets true to the member."""
    if data.startswith(b"!<thin>\n", start):
        raise MemberError("thin archive: object files live outside it and cannot be analysed")
    info = BinaryInfo(format="ar", kind="static-archive", abi=None)
    objects = members = 0  # an empty archive (glibc's libdl.a stubs) is an empty static library
    view = memoryview(data)
    pos = start + 8
    size = len(data) if end is None else end
    abis: set[str] = set()
    while pos + 60 <= size:
        name, payload_off, payload_len, next_pos = _ar_member(data, pos, size)
        index_reader = _SYMBOL_INDEXES.get(name)
        if index_reader is not None:
            info.symbols.extend(index_reader(data[payload_off : payload_off + payload_len]))
        elif name != b"//":  # "//" holds GNU long member names, not needed
            members += 1
            objects += _add_object(info, view, payload_off, payload_len, abis)
        pos = next_pos
    if members and not objects:
        raise MemberError("an ar archive without object files: not a static library")
    info.symbols = _c_names(info.symbols)
    info.abi = ",".join(sorted(abis)) or None
    return info


def _c_names(symbols: list[str]) -> list[str]:
    """C names of archive index symbols: Mach-O's leading underscore dropped (not from reserved "__" names)."""
    return [s[1:] if s.startswith("_") and not s.startswith("__") else s for s in symbols]


def _add_object(info: BinaryInfo, view: memoryview, off: int, length: int, abis: set[str]) -> int:
    """Take an archive member's bytes as strings and its ABI; 1 when it is an object file (or bitcode), else 0."""
    head = bytes(view[off : off + min(length, 20)])
    abi = _object_abi(head)
    if abi is not None:
        abis.add(abi)
    info.strings.append((off, view[off : off + length]))
    return 1 if head[:4] in _OBJECT_MAGICS else 0


def _ar_member(data: bytes, pos: int, size: int) -> tuple[bytes, int, int, int]:
    """(name, payload offset, payload length, offset of the next member) of the ar member header at `pos`."""
    hdr = data[pos : pos + 60]
    if hdr[58:60] != b"`\n":
        raise MemberError(f"bad member header at offset {pos}")
    name = hdr[0:16].rstrip(b" ")
    try:
        length = int(hdr[48:58].strip() or b"0")
    except ValueError:
        raise MemberError(f"bad member size at offset {pos}") from None
    body = pos + 60
    if length < 0 or body + length > size:
        raise MemberError(f"member at offset {pos} runs past the end of the archive (truncated)")
    payload_off, payload_len = body, length
    if name.startswith(b"#1/"):  # BSD long name stored before the payload
        n = int(name[3:])
        name = data[body : body + n].rstrip(b"\0")
        payload_off, payload_len = body + n, length - n
    return name, payload_off, payload_len, body + length + (length & 1)


def _object_abi(payload: bytes) -> str | None:
    """The ABI of an object file from its first 20 bytes: ELF e_machine, or a little-endian Mach-O's CPU type."""
    if payload.startswith(b"\x7fELF") and len(payload) >= 20:
        machine = struct.unpack_from("<H" if payload[5] == 1 else ">H", payload, 18)[0]
        return {183: "arm64-v8a", 40: "armeabi-v7a", 3: "x86", 62: "x86_64", 243: "riscv64"}.get(machine, str(machine))
    if payload[:4] in (b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe") and len(payload) >= 8:
        return _MACHO_CPU.get(struct.unpack_from("<I", payload, 4)[0], "?")
    return None


_MACHO_CPU = {7: "x86", 0x01000007: "x86_64", 12: "armv7", 0x0100000C: "arm64", 0x0200000C: "arm64_32"}
# ELF, Mach-O (both byte orders, 32/64), LLVM bitcode (bitcode-enabled iOS static libraries).
_OBJECT_MAGICS = {b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe", b"BC\xc0\xde", b"\xde\xc0\x17\x0b"}


def _gnu_ar_symbols(payload: bytes, is64: bool = False) -> list[str]:
    width = 8 if is64 else 4
    if len(payload) < width:
        return []
    count = int.from_bytes(payload[:width], "big")
    start = width + count * width
    if start > len(payload):
        raise MemberError("symbol index count exceeds its size")
    return [s.decode("latin-1") for s in payload[start:].split(b"\0")[:count] if s]


def _bsd_ar_symbols(payload: bytes) -> list[str]:
    if len(payload) < 4:
        return []
    ranlib_len = struct.unpack_from("<I", payload, 0)[0]
    str_start = 4 + ranlib_len + 4
    if str_start > len(payload):
        raise MemberError("BSD symbol index exceeds its size")
    strtab = payload[str_start:]
    names = []
    for i in range(ranlib_len // 8):
        strx = struct.unpack_from("<I", payload, 4 + i * 8)[0]
        if strx < len(strtab):
            end = strtab.find(b"\0", strx)
            names.append(strtab[strx : end if end >= 0 else None].decode("latin-1"))
    return names


# Archive symbol indexes by member name: GNU ("/", "/SYM64/" with 64-bit offsets) and BSD ("__.SYMDEF" variants).
_SYMBOL_INDEXES: dict[bytes, Callable[[bytes], list[str]]] = {
    b"/": _gnu_ar_symbols,
    b"/SYM64/": lambda payload: _gnu_ar_symbols(payload, is64=True),
    b"__.SYMDEF": _bsd_ar_symbols,
    b"__.SYMDEF SORTED": _bsd_ar_symbols,
    b"__.SYMDEF_64": _bsd_ar_symbols,
}


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
