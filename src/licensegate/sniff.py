"""Identify a member by its content (magic bytes and headers), never by its name."""

from __future__ import annotations

import struct
from enum import Enum


class MemberKind(str, Enum):
    ELF = "elf"
    MACHO = "macho"
    MACHO_FAT = "macho-fat"
    STATIC_ARCHIVE = "static-archive"
    DEX = "dex"
    JAVA_CLASS = "java-class"
    ZIP = "zip"
    PLIST = "plist"
    AXML = "axml"
    OTHER = "other"


_MACHO_MAGICS = {b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe"}


def sniff(head: bytes) -> MemberKind:
    """Classify from the first bytes of a member (64 are enough)."""
    if head[:4] == b"\xca\xfe\xba\xbe" or head[:4] == b"\xca\xfe\xba\xbf":
        return _cafebabe(head)
    if head.startswith(_PREFIXES):  # one C call for the many members no magic starts
        kind = next(kind for prefix, kind in _BY_PREFIX.items() if head.startswith(prefix))
        return kind if kind is not MemberKind.DEX or head[7:8] == b"\x00" else MemberKind.OTHER
    return MemberKind.PLIST if _is_xml_plist(head) else MemberKind.OTHER


def _cafebabe(head: bytes) -> MemberKind:
    """Java class files share CAFEBABE; a fat Mach-O has a small architecture count where a class file has its
    version (>= 45) in the same place."""
    if len(head) >= 8 and struct.unpack(">I", head[4:8])[0] < 30:
        return MemberKind.MACHO_FAT
    if len(head) >= 8 and struct.unpack(">H", head[6:8])[0] >= 45:
        return MemberKind.JAVA_CLASS
    return MemberKind.OTHER


def _is_xml_plist(head: bytes) -> bool:
    return head.lstrip().startswith(b"<?xml") and b"plist" in head.lower()


# The kinds by their magic (no two share a first byte; an XML property list has none: it is tested last).
_MAGICS: tuple[tuple[tuple[bytes, ...], MemberKind], ...] = (
    ((b"\x7fELF",), MemberKind.ELF),
    (tuple(sorted(_MACHO_MAGICS)), MemberKind.MACHO),
    ((b"!<arch>\n", b"!<thin>\n"), MemberKind.STATIC_ARCHIVE),
    ((b"dex\n",), MemberKind.DEX),  # and a NUL after the version
    ((b"PK\x03\x04", b"PK\x05\x06"), MemberKind.ZIP),
    ((b"bplist0",), MemberKind.PLIST),
    ((b"\x03\x00\x08\x00",), MemberKind.AXML),
)
_BY_PREFIX = {prefix: kind for prefixes, kind in _MAGICS for prefix in prefixes}
_PREFIXES = tuple(_BY_PREFIX)
