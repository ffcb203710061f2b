"""What kind of build an artifact is, from the names of its members (the central directory or the folder tree).

The type decides where the manifest, the main executable and the native libraries live; the content of each member
is still identified by its bytes.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import InputError
from .fsutil import NotARegularFile, open_regular

ArtifactType = Literal["apk", "aab", "apks", "xapk", "ipa", "aar", "jar", "framework", "xcframework", "app", "zip", "folder", "file"]

_IPA_APP = re.compile(r"^Payload/[^/]+\.app/")


@dataclass(frozen=True)
class Layout:
    type: ArtifactType
    platform: Literal["android", "ios", "unknown"]
    names: tuple[str, ...] = ()  # member names of the artifact itself (not of nested archives)
    prefix: int = 0  # bytes before the zip's first entry (an ELF stub, a DEX header): scanned and reported too


def detect(path: Path) -> Layout:
    """Classify the artifact at `path`; InputError when it is neither a zip nor a folder nor a single binary."""
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir():
        names = _folder_names(path)
        return _with_names(classify(names, folder=path), names)
    try:
        with open_regular(path) as fh:  # a FIFO, device or socket is refused before anything reads from it
            head = fh.read(8)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})" if not isinstance(exc, NotARegularFile) else f"{path}: {exc}") from None
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"{path}: corrupt or truncated zip archive ({reason})") from None
        return _with_names(classify(names), names)
    if not head:
        raise InputError(f"{path}: empty file")
    found = zip_after_prefix(path)
    if found is not None:
        # Android's installer, like every zip reader, opens an archive from its end: data prepended to an APK (an
        # ELF stub, a DEX header as in the Janus attack) leaves it installable. Scanned as the archive it is.
        names, prefix = found
        lay = classify(names)
        return Layout(lay.type, lay.platform, tuple(names), prefix)
    if head.startswith(b"!<arch>\n"):
        with path.open("rb") as fh:
            if fh.read(24)[8:21] == b"debian-binary":
                raise InputError(f"{path}: a Debian package, not a mobile build (extract it with dpkg-deb -x and scan the folder)")
    from .sniff import MemberKind, sniff

    if sniff(head.ljust(8, b"\0")) in (MemberKind.ELF, MemberKind.MACHO, MemberKind.MACHO_FAT, MemberKind.STATIC_ARCHIVE, MemberKind.DEX):
        return Layout("file", "unknown")
    raise InputError(f"{path}: not an APK, AAB, IPA, AAR, zip, folder or native binary (unrecognised content)")


def zip_after_prefix(path: Path) -> tuple[list[str], int] | None:
    """A zip archive that a reader opening `path` from its end finds, with the bytes before its first entry;
    None when there is none (or it has no entries)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None
    if not infos:
        return None
    return [i.filename for i in infos], max(0, min(i.header_offset for i in infos))


def _with_names(lay: Layout, names: list[str]) -> Layout:
    return Layout(lay.type, lay.platform, tuple(names))


def classify(names: Iterable[str], folder: Path | None = None) -> Layout:
    names = list(names)
    top = {n.split("/", 1)[0] for n in names}
    nameset = set(names)
    if any(_IPA_APP.match(n) for n in names):
        return Layout("ipa", "ios")
    if "BundleConfig.pb" in nameset or "base/manifest/AndroidManifest.xml" in nameset:
        return Layout("aab", "android")
    if "toc.pb" in nameset and any(n.endswith(".apk") for n in names):
        return Layout("apks", "android")
    if "manifest.json" in nameset and any(n.endswith(".apk") for n in names):
        return Layout("xapk", "android")
    if "AndroidManifest.xml" in nameset and "classes.jar" in nameset:
        return Layout("aar", "android")
    if "AndroidManifest.xml" in nameset:
        return Layout("apk", "android")
    if any(n.endswith(".xcframework") for n in top) or (folder is not None and folder.name.endswith(".xcframework")):
        return Layout("xcframework", "ios")
    if folder is not None and folder.name.endswith(".framework"):
        return Layout("framework", "ios")
    if folder is not None and folder.name.endswith(".app"):
        return Layout("app", "ios")
    if any(n.endswith(".apk") for n in names) and all(n.endswith(".apk") or "/" not in n for n in names):
        return Layout("apks", "android")
    if "META-INF/MANIFEST.MF" in nameset:
        return Layout("jar", "android")
    if folder is not None:
        return Layout("folder", "unknown")
    return Layout("zip", "unknown")


def _folder_names(root: Path) -> list[str]:
    out = []
    for dirpath, _dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root).as_posix()
        for name in filenames:
            out.append(name if rel == "." else f"{rel}/{name}")
        if len(out) > 200_000:
            break
    return out
