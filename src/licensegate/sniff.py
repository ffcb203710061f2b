"""Identify a member by its content (magic bytes and headers), never by its name."""

from __future__ import annotations

import struct
from collections.abc import Callable
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
    return next((kind for test, kind in _TESTS if test(head)), MemberKind.OTHER)


def _cafebabe(head: bytes) -> MemberKind:
    """Java class files share CAFEBABE; a fat Mach-O has a small architecture count where a class file has its
    version (>= 45) in the same place."""
    if len(head) >= 8 and struct.unpack(">I", head[4:8])[0] < 30:
        return MemberKind.MACHO_FAT
    if len(head) >= 8 and struct.unpack(">H", head[6:8])[0] >= 45:
        return MemberKind.JAVA_CLASS
    return MemberKind.OTHER


def _is_plist(head: bytes) -> bool:
    return head.startswith(b"bplist0") or (head.lstrip().startswith(b"<?xml") and b"plist" in head.lower())


# The other kinds by their magic, in the order they are tested.
_TESTS: tuple[tuple[Callable[[bytes], bool], MemberKind], ...] = (
    (lambda head: head.startswith(b"\x7fELF"), MemberKind.ELF),
    (lambda head: head[:4] in _MACHO_MAGICS, MemberKind.MACHO),
    (lambda head: head.startswith((b"!<arch>\n", b"!<thin>\n")), MemberKind.STATIC_ARCHIVE),
    (lambda head: head.startswith(b"dex\n") and head[7:8] == b"\x00", MemberKind.DEX),
    (lambda head: head.startswith((b"PK\x03\x04", b"PK\x05\x06")), MemberKind.ZIP),
    (_is_plist, MemberKind.PLIST),
    (lambda head: head.startswith(b"\x03\x00\x08\x00"), MemberKind.AXML),
)
