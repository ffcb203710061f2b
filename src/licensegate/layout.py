"""What kind of build an artifact is, from the names of its members (the central directory or the folder tree).

The type decides where the manifest, the main executable and the native libraries live; the content of each member
is still identified by its bytes.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

from ._dataclasses import dataclass, field
from .errors import InputError
from .fsutil import NotARegularFile, open_regular

ArtifactType = Literal["apk", "aab", "apks", "xapk", "ipa", "aar", "jar", "framework", "xcframework", "app", "zip", "folder", "file"]

_IPA_APP = re.compile(r"^Payload/[^/]+\.app/")


Platform = Literal["android", "ios", "unknown"]


@dataclass(frozen=True)
class Layout:
    type: ArtifactType
    platform: Platform
    names: tuple[str, ...] = ()  # member names of the artifact itself (not of nested archives)
    prefix: int = 0  # bytes before the zip's first entry (an ELF stub, a DEX header): scanned and reported too
    # The zip's central directory, read once here and walked by archive.Walk (5,000 entries: 30 ms to parse).
    entries: tuple[zipfile.ZipInfo, ...] = field(default=(), compare=False, repr=False)


def detect(path: Path) -> Layout:
    """Classify the artifact at `path`; InputError when it is neither a zip nor a folder nor a single binary."""
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        names = _folder_names(path)
        return _with_names(classify(names, folder=path), names)
    head = _head(path)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_layout(_zip_entries(path), 0)
    if not head:
        raise InputError(f"{path}: empty file")
    found = zip_after_prefix(path)
    if found is not None:
        # Android's installer, like every zip reader, opens an archive from its end: data prepended to an APK (an
        # ELF stub, a DEX header as in the Janus attack) leaves it installable. Scanned as the archive it is.
        return _zip_layout(*found)
    return _single_binary(path, head)


def _zip_layout(entries: list[zipfile.ZipInfo], prefix: int) -> Layout:
    """A zip's layout, with its entries handed on so that the walk does not read the central directory again."""
    names = tuple(i.filename for i in entries)
    lay = classify(names)
    return Layout(lay.type, lay.platform, names, prefix, tuple(entries))


def _head(path: Path) -> bytes:
    """The first 8 bytes of a regular file; a FIFO, device or socket is refused before anything reads from it."""
    try:
        with open_regular(path) as fh:
            return fh.read(8)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})" if not isinstance(exc, NotARegularFile) else f"{path}: {exc}") from None


def _zip_entries(path: Path) -> list[zipfile.ZipInfo]:
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: corrupt or truncated zip archive ({reason})") from None


def _single_binary(path: Path, head: bytes) -> Layout:
    """A lone native binary or DEX file; a Debian package or anything else is refused."""
    if head.startswith(b"!<arch>\n"):
        with path.open("rb") as fh:
            if fh.read(24)[8:21] == b"debian-binary":
                raise InputError(f"{path}: a Debian package, not a mobile build (extract it with dpkg-deb -x and scan the folder)")
    from .sniff import MemberKind, sniff

    if sniff(head.ljust(8, b"\0")) in (MemberKind.ELF, MemberKind.MACHO, MemberKind.MACHO_FAT, MemberKind.STATIC_ARCHIVE, MemberKind.DEX):
        return Layout("file", "unknown")
    raise InputError(f"{path}: not an APK, AAB, IPA, AAR, zip, folder or native binary (unrecognised content)")


def zip_after_prefix(path: Path) -> tuple[list[zipfile.ZipInfo], int] | None:
    """The entries of a zip archive that a reader opening `path` from its end finds, with the bytes before its
    first entry; None when there is none (or it has no entries)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None
    if not infos:
        return None
    return infos, max(0, min(i.header_offset for i in infos))


def _with_names(lay: Layout, names: list[str]) -> Layout:
    return Layout(lay.type, lay.platform, tuple(names))


class _Names:
    """The member names of an artifact (and its folder, when it is one), asked the questions `_KINDS` asks."""

    def __init__(self, names: list[str], folder: Path | None) -> None:
        self.names = names
        self.set = set(names)
        self.top = {n.split("/", 1)[0] for n in names}
        self.folder = folder.name if folder is not None else ""

    def any_endswith(self, suffix: str) -> bool:
        return any(n.endswith(suffix) for n in self.names)

    def only_apks(self) -> bool:
        """A bare split set: .apk files, nothing else but top-level files."""
        return self.any_endswith(".apk") and all(n.endswith(".apk") or "/" not in n for n in self.names)


# (type, platform, test) in order: the first test that holds names the artifact's kind.
_KINDS: tuple[tuple[ArtifactType, Platform, Callable[[_Names], bool]], ...] = (
    ("ipa", "ios", lambda n: any(_IPA_APP.match(x) for x in n.names)),
    ("aab", "android", lambda n: "BundleConfig.pb" in n.set or "base/manifest/AndroidManifest.xml" in n.set),
    ("apks", "android", lambda n: "toc.pb" in n.set and n.any_endswith(".apk")),
    ("xapk", "android", lambda n: "manifest.json" in n.set and n.any_endswith(".apk")),
    ("aar", "android", lambda n: "AndroidManifest.xml" in n.set and "classes.jar" in n.set),
    ("apk", "android", lambda n: "AndroidManifest.xml" in n.set),
    ("xcframework", "ios", lambda n: any(x.endswith(".xcframework") for x in n.top) or n.folder.endswith(".xcframework")),
    ("framework", "ios", lambda n: n.folder.endswith(".framework")),
    ("app", "ios", lambda n: n.folder.endswith(".app")),
    ("apks", "android", _Names.only_apks),
    ("jar", "android", lambda n: "META-INF/MANIFEST.MF" in n.set),
)


def classify(names: Iterable[str], folder: Path | None = None) -> Layout:
    """The kind of build from its member names (the first of `_KINDS` that applies); a plain zip or folder else."""
    n = _Names(list(names), folder)
    for type_, platform, applies in _KINDS:
        if applies(n):
            return Layout(type_, platform)
    return Layout("folder" if folder is not None else "zip", "unknown")


def _folder_names(root: Path) -> list[str]:
    out = []
    for dirpath, _dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root).as_posix()
        for name in filenames:
            out.append(name if rel == "." else f"{rel}/{name}")
        if len(out) > 200_000:
            break
    return out
