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
    if head.startswith(b"\x7fELF"):
        return MemberKind.ELF
    if head[:4] in _MACHO_MAGICS:
        return MemberKind.MACHO
    if head[:4] == b"\xca\xfe\xba\xbe" or head[:4] == b"\xca\xfe\xba\xbf":
        # Java class files share CAFEBABE; a fat Mach-O has a small architecture count where a class file
        # has its version (>= 45) in the same place.
        if len(head) >= 8 and struct.unpack(">I", head[4:8])[0] < 30:
            return MemberKind.MACHO_FAT
        if len(head) >= 8 and struct.unpack(">H", head[6:8])[0] >= 45:
            return MemberKind.JAVA_CLASS
        return MemberKind.OTHER
    if head.startswith(b"!<arch>\n") or head.startswith(b"!<thin>\n"):
        return MemberKind.STATIC_ARCHIVE
    if head.startswith(b"dex\n") and head[7:8] == b"\x00":
        return MemberKind.DEX
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return MemberKind.ZIP
    if head.startswith(b"bplist0") or (head.lstrip().startswith(b"<?xml") and b"plist" in head.lower()):
        return MemberKind.PLIST
    if head.startswith(b"\x03\x00\x08\x00"):
        return MemberKind.AXML
    return MemberKind.OTHER
