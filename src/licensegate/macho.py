"""Mach-O read with `struct`: header, load commands, sections, LC_SYMTAB, fat slices, encryption info.

What the scan needs from an iOS or macOS binary, read straight from the bytes as the ELF reader does: LIEF's object
model costs more than the rest of a scan on a large framework (its import alone is 0.3-0.9 s), so LIEF serves only
as the oracle in the tests (test_macho_reader.py). Every offset and size a header claims is checked against the
bytes actually present; a lie is a `MemberError`, never a read past the end.

A fat (universal) file is a list of slices, each a thin Mach-O or, for a universal static library, an ar archive;
the facts of a fat file are the union of its slices, with offsets true to the member.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from ._dataclasses import dataclass, field
from .binary import _MACHO_CPU as CPU
from .binary import BinaryInfo, StringRegion, _read_ar, _reason, symbol_names
from .errors import MemberError

FAT_MAGICS = (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")
_MAGIC_64 = (b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf")
_LITTLE = (b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")
_THIN_MAGICS = (b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe")

_FILETYPE = {1: "object", 2: "executable", 6: "native-library", 8: "bundle", 9: "native-library"}
STRING_SECTIONS = frozenset({"__cstring", "__const", "__data", "__objc_methname", "__ustring", "__oslogstring", "__objc_classname"})

LC_SEGMENT, LC_SYMTAB, LC_LOAD_DYLIB, LC_ID_DYLIB, LC_SEGMENT_64 = 0x1, 0x2, 0xC, 0xD, 0x19
LC_LAZY_LOAD_DYLIB, LC_ENCRYPTION_INFO, LC_ENCRYPTION_INFO_64 = 0x20, 0x21, 0x2C
LC_LOAD_WEAK_DYLIB, LC_RPATH, LC_REEXPORT_DYLIB, LC_LOAD_UPWARD_DYLIB = 0x80000018, 0x8000001C, 0x8000001F, 0x80000023
LINKED_DYLIB = {LC_LOAD_DYLIB: "load", LC_LOAD_WEAK_DYLIB: "weak", LC_REEXPORT_DYLIB: "reexport",
                LC_LAZY_LOAD_DYLIB: "lazy", LC_LOAD_UPWARD_DYLIB: "upward"}
# Section types whose bytes are not in the file (S_ZEROFILL, S_GB_ZEROFILL, S_THREAD_LOCAL_ZEROFILL).
_ZEROFILL = frozenset({0x1, 0xC, 0x12})
_MAX_FAT_SLICES = 32


@dataclass
class Section:
    segment: str
    name: str
    offset: int  # inside the member (slice base added)
    size: int  # clamped to the bytes present
    flags: int


@dataclass
class MachOSlice:
    """One thin Mach-O: what its header and load commands say, with member offsets."""

    base: int
    cputype: int
    filetype: int
    is64: bool
    little: bool
    commands: list[tuple[int, int, int]] = field(default_factory=list)  # (cmd, member offset, cmdsize)
    sections: list[Section] = field(default_factory=list)
    install_name: str | None = None  # LC_ID_DYLIB
    dylibs: list[tuple[str, str]] = field(default_factory=list)  # (how: load/weak/reexport/lazy/upward, name)
    rpaths: list[str] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)  # defined external (N_SECT | N_EXT), names as stored
    crypt_id: int = 0  # non-zero: LC_ENCRYPTION_INFO(_64) says the text is encrypted

    @property
    def arch(self) -> str | None:
        return CPU.get(self.cputype)


def fat_slices(data: bytes) -> list[tuple[int, int, int]]:
    """(cputype, offset, size) of each slice of a fat header, each checked to lie inside the file."""
    if len(data) < 8:
        raise MemberError("truncated fat Mach-O header")
    magic, count = struct.unpack_from(">II", data, 0)
    is64 = magic == 0xCAFEBABF
    entsize = 32 if is64 else 20
    if count == 0 or count > _MAX_FAT_SLICES or 8 + count * entsize > len(data):
        raise MemberError(f"bad fat Mach-O architecture count {count}")
    out = []
    for i in range(count):
        cputype, off, length = _fat_arch(data, 8 + i * entsize, is64)
        if off + length > len(data) or length < 8 or off < 8 + count * entsize:
            raise MemberError(f"fat Mach-O slice {i} lies outside the file (offset {off}, size {length})")
        out.append((cputype & 0xFFFFFFFF, off, length))
    return out


def _fat_arch(data: bytes, at: int, is64: bool) -> tuple[int, int, int]:
    """(cputype, offset, size) of a fat_arch or fat_arch_64 entry."""
    if is64:
        cputype, _, off, length, _, _ = struct.unpack_from(">iiQQII", data, at)
    else:
        cputype, _, off, length, _ = struct.unpack_from(">iiIII", data, at)
    return cputype, off, length


def parse_slice(data: bytes, base: int = 0, length: int | None = None) -> MachOSlice:
    """Header, load commands, sections and the defined external symbols of the thin Mach-O at data[base:base+length]."""
    end = len(data) if length is None else base + length
    mo, ncmds, cmds_end = _read_header(data, base, end)
    reader = _LoadCommands(data, "<" if mo.little else ">", base, end, mo)
    pos = base + (32 if mo.is64 else 28)
    for i in range(ncmds):
        cmd, cmdsize = struct.unpack_from(reader.e + "II", data, pos)
        if cmdsize < 8 or pos + cmdsize > cmds_end:
            raise MemberError(f"load command {i} (size {cmdsize}) runs past the load commands")
        mo.commands.append((cmd, pos, cmdsize))
        reader.read(cmd, pos, cmdsize)
        pos += cmdsize
    if reader.symtab is not None:
        mo.symbols = _defined_symbols(data, base, end, reader.symtab, mo.is64, reader.e)
    return mo


def _read_header(data: bytes, base: int, end: int) -> tuple[MachOSlice, int, int]:
    """The slice's mach_header: (the slice without its load commands, ncmds, where the load commands end)."""
    magic = data[base : base + 4]
    if magic not in _THIN_MAGICS:
        raise MemberError("not a Mach-O header")
    is64 = magic in _MAGIC_64
    e = "<" if magic in _LITTLE else ">"
    header = 32 if is64 else 28
    if base + header > end:
        raise MemberError("truncated Mach-O header")
    cputype, _, filetype, ncmds, sizeofcmds = struct.unpack_from(e + "IIIII", data, base + 4)
    cmds_end = base + header + sizeofcmds
    if cmds_end > end:
        raise MemberError(f"load commands ({sizeofcmds} bytes) run past the end of the file (truncated)")
    if ncmds * 8 > sizeofcmds:
        raise MemberError(f"{ncmds} load commands cannot fit in {sizeofcmds} bytes")
    return MachOSlice(base, cputype, filetype, is64, e == "<"), ncmds, cmds_end


@dataclass
class _LoadCommands:
    """Reads the load commands the scan needs into a slice; one method per command."""

    data: bytes
    e: str  # struct byte order
    base: int
    end: int
    mo: MachOSlice
    symtab: tuple[int, int, int, int] | None = None  # (symoff, nsyms, stroff, strsize) of LC_SYMTAB

    def read(self, cmd: int, pos: int, cmdsize: int) -> None:
        if cmd in LINKED_DYLIB:
            self.mo.dylibs.append((LINKED_DYLIB[cmd], _lc_str(self.data, pos, cmdsize, self.e)))
            return
        method = _COMMAND_READERS.get(cmd)
        if method is not None:
            method(self, pos, cmdsize)

    def segment_32(self, pos: int, cmdsize: int) -> None:
        _segment(self.data, pos, cmdsize, False, self.e, self.base, self.end, self.mo)

    def segment_64(self, pos: int, cmdsize: int) -> None:
        _segment(self.data, pos, cmdsize, True, self.e, self.base, self.end, self.mo)

    def symtab_command(self, pos: int, cmdsize: int) -> None:
        if cmdsize < 24:
            raise MemberError("LC_SYMTAB too short")
        self.symtab = struct.unpack_from(self.e + "IIII", self.data, pos + 8)

    def id_dylib(self, pos: int, cmdsize: int) -> None:
        self.mo.install_name = _lc_str(self.data, pos, cmdsize, self.e)

    def rpath(self, pos: int, cmdsize: int) -> None:
        self.mo.rpaths.append(_lc_str(self.data, pos, cmdsize, self.e))

    def encryption_info(self, pos: int, cmdsize: int) -> None:
        if cmdsize < 20:
            raise MemberError("LC_ENCRYPTION_INFO too short")
        self.mo.crypt_id = self.mo.crypt_id or struct.unpack_from(self.e + "I", self.data, pos + 16)[0]


_COMMAND_READERS: dict[int, Callable[[_LoadCommands, int, int], None]] = {
    LC_SEGMENT: _LoadCommands.segment_32,
    LC_SEGMENT_64: _LoadCommands.segment_64,
    LC_SYMTAB: _LoadCommands.symtab_command,
    LC_ID_DYLIB: _LoadCommands.id_dylib,
    LC_RPATH: _LoadCommands.rpath,
    LC_ENCRYPTION_INFO: _LoadCommands.encryption_info,
    LC_ENCRYPTION_INFO_64: _LoadCommands.encryption_info,
}


def _lc_str(data: bytes, pos: int, cmdsize: int, e: str) -> str:
    """The NUL-terminated string an lc_str offset names inside its own load command."""
    if cmdsize < 12:
        raise MemberError("load command too short for its string")
    off = struct.unpack_from(e + "I", data, pos + 8)[0]
    if off < 12 or off >= cmdsize:
        raise MemberError(f"load command string offset {off} outside its command")
    raw = data[pos + off : pos + cmdsize]
    nul = raw.find(b"\0")
    return (raw[:nul] if nul >= 0 else raw).decode("utf-8", "replace")


def _segment(data: bytes, pos: int, cmdsize: int, is64: bool, e: str, base: int, end: int, mo: MachOSlice) -> None:
    head, entsize = (72, 80) if is64 else (56, 68)
    if cmdsize < head:
        raise MemberError("segment command too short")
    nsects = struct.unpack_from(e + "I", data, pos + head - 8)[0]
    if head + nsects * entsize > cmdsize:
        raise MemberError(f"segment's {nsects} sections run past its load command")
    fmt = e + ("16s16sQQIIIII" if is64 else "16s16sIIIIIII")
    for k in range(nsects):
        section = _section(struct.unpack_from(fmt, data, pos + head + k * entsize), base, end)
        if section is not None:
            mo.sections.append(section)


def _section(fields: tuple[Any, ...], base: int, end: int) -> Section | None:
    """A section header's bytes in the member, clamped to the file; None when it has none there."""
    sect, seg, _addr, size, offset, _align, _reloff, _nreloc, flags = fields
    if flags & 0xFF in _ZEROFILL or offset == 0 or size == 0:
        return None  # no bytes in the file
    start = base + offset
    if start >= end:
        return None  # a section that claims bytes the file does not have holds nothing to read
    return Section(_cname(seg), _cname(sect), start, min(size, end - start), flags)


def _cname(raw: bytes) -> str:
    nul = raw.find(b"\0")
    return (raw[:nul] if nul >= 0 else raw).decode("latin-1")


def _defined_symbols(data: bytes, base: int, end: int, symtab: tuple[int, int, int, int], is64: bool, e: str) -> list[str]:
    """Names of defined external nlist entries (N_SECT with N_EXT, no stab), as stored (duplicates kept)."""
    symoff, nsyms, stroff, strsize = symtab
    entsize = 16 if is64 else 12
    if nsyms == 0:
        return []
    if base + symoff + nsyms * entsize > end:
        raise MemberError(f"symbol table ({nsyms} entries) runs past the end of the file")
    if base + stroff + strsize > end:
        raise MemberError(f"string table ({strsize} bytes) runs past the end of the file")
    table = memoryview(data)[base + symoff : base + symoff + nsyms * entsize]
    strings = memoryview(data)[base + stroff : base + stroff + strsize]
    return symbol_names(table, strings, entsize, e == "<", 4, _KEEP, -1, None)  # n_type at 4


# n_type values kept: not a stab (N_STAB 0xe0 clear), type N_SECT (0x0e), external (N_EXT 0x01); N_PEXT allowed.
_KEEP = bytes(1 if not b & 0xE0 and b & 0x0E == 0x0E and b & 0x01 else 0 for b in range(256))


# ---------------------------------------------------------------------------------------------------------------
# What the scan takes from a Mach-O: a BinaryInfo, as the ELF and ar readers give.


def read_macho(data: bytes, member: str) -> BinaryInfo:
    """A thin or fat Mach-O, or a universal static archive; a fat file's facts are the union of its slices."""
    try:
        if data[:4] in FAT_MAGICS:
            infos = [_slice_info(data, off, length, cputype) for cputype, off, length in fat_slices(data)]
        else:
            infos = [_slice_info(data, 0, len(data), None)]
    except MemberError as exc:
        raise MemberError(f"{member}: {exc}") from None
    except (struct.error, ValueError, IndexError, OverflowError) as exc:
        raise MemberError(f"{member}: malformed Mach-O ({_reason(exc)})") from None
    return _union(infos)


def _slice_info(data: bytes, base: int, length: int, fat_cputype: int | None) -> BinaryInfo:
    if data[base : base + 8] == b"!<arch>\n":  # a slice of a universal static library
        info = _read_ar(data, base, base + length)
        if info.abi is None and fat_cputype is not None:
            info.abi = CPU.get(fat_cputype)
        return info
    mo = parse_slice(data, base, length)
    info = BinaryInfo(format="macho", kind=_FILETYPE.get(mo.filetype, "native-library"), abi=mo.arch)  # type: ignore[arg-type]
    info.soname = mo.install_name
    _linked_dylibs(info, mo.dylibs)
    info.rpaths = list(mo.rpaths)
    info.encrypted = mo.crypt_id != 0
    view = memoryview(data)
    strings: list[StringRegion] = [(s.offset, view[s.offset : s.offset + s.size]) for s in mo.sections if s.name in STRING_SECTIONS]
    info.strings = strings or [(base, view[base : base + length])]
    info.symbols = [name[1:] if name.startswith("_") else name for name in mo.symbols if name]
    return info


def _linked_dylibs(info: BinaryInfo, dylibs: list[tuple[str, str]]) -> None:
    """The dylibs a slice links, each once, in load-command order; weak ones noted."""
    for how, name in dylibs:
        if name not in info.needed:
            info.needed.append(name)
        if how == "weak":
            info.weak_needed.add(name)


def _union(infos: list[BinaryInfo]) -> BinaryInfo:
    first = infos[0]
    if len(infos) == 1:
        return first
    symbols = set(first.symbols)
    for other in infos[1:]:
        _add_slice(first, other, symbols)
    first.slices = [i.abi or "?" for i in infos]
    first.abi = ",".join(first.slices)
    return first


def _add_slice(first: BinaryInfo, other: BinaryInfo, symbols: set[str]) -> None:
    """Merge another slice's facts into the first's: names and symbols once each, in order; strings all."""
    first.needed.extend(n for n in dict.fromkeys(other.needed) if n not in first.needed)
    first.weak_needed |= other.weak_needed
    first.rpaths.extend(r for r in other.rpaths if r not in first.rpaths)
    for s in other.symbols:
        if s not in symbols:
            symbols.add(s)
            first.symbols.append(s)
    first.strings.extend(other.strings)
    first.encrypted = first.encrypted or other.encrypted
    first.soname = first.soname or other.soname
