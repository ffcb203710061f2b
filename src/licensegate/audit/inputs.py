"""INPUT arguments of `licensegate audit`: artifacts, folders walked for artifacts, `@list.txt` and `-`.

A list has one path a line (relative paths are relative to the list), `#` comments, and may be `sha256sum` output
(`<64 hex>  <path>`): then the coordinator trusts that digest instead of reading the file to hash it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import UsageError
from .runner import InputSpec

ARTIFACT_SUFFIXES = (".apk", ".aab", ".apks", ".xapk", ".ipa", ".aar")
BUNDLE_DIR_SUFFIXES = (".xcframework", ".framework", ".app")  # folders that are one artifact
_SHA_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


def expand(args: Iterable[str], stdin: Iterable[str] | None = None) -> list[InputSpec]:
    """Every input once, in the order given; folders are walked (symlinks not followed) in sorted order."""
    seen: dict[str, InputSpec] = {}
    for arg in args:
        if arg == "-":
            specs: Iterable[InputSpec] = _lines(stdin if stdin is not None else sys.stdin, Path.cwd(), "stdin")
        elif arg.startswith("@"):
            specs = _list_file(Path(arg[1:]))
        else:
            specs = _path(Path(arg))
        for s in specs:
            seen.setdefault(s.path, s)
    return list(seen.values())


def _list_file(path: Path) -> Iterator[InputSpec]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"@{path}: cannot read the input list ({getattr(exc, 'strerror', None) or exc})") from None
    return _lines(text.splitlines(), path.resolve().parent, f"@{path}")


def _lines(lines: Iterable[str], base: Path, where: str) -> Iterator[InputSpec]:
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _SHA_LINE.match(line)
        sha, name = (m.group(1).lower(), m.group(2)) if m else (None, line.strip())
        p = Path(name)
        p = p if p.is_absolute() else base / p
        if p.is_dir() and not _is_bundle_dir(p):
            yield from _path(p)
        else:
            yield InputSpec(os.path.abspath(p), sha)


def _path(p: Path) -> Iterator[InputSpec]:
    if p.is_dir() and not _is_bundle_dir(p):
        yield from _walk(p)
    else:  # a file, a bundle folder, or a missing path (recorded as an input that could not be scanned)
        yield InputSpec(os.path.abspath(p))


def _is_bundle_dir(p: Path) -> bool:
    """An unpacked APK or an Apple bundle is one artifact, not a folder of artifacts."""
    return p.name.endswith(BUNDLE_DIR_SUFFIXES) or (p / "AndroidManifest.xml").is_file() or (p / "Payload").is_dir()


def _walk(root: Path) -> Iterator[InputSpec]:
    for dirpath, dirnames, filenames in os.walk(root):  # followlinks=False: never follow a link we did not make
        here = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            sub = here / d
            if sub.is_symlink():
                continue
            if _is_bundle_dir(sub):
                yield InputSpec(os.path.abspath(sub))
            else:
                keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            fp = here / f
            if f.lower().endswith(ARTIFACT_SUFFIXES) and not fp.is_symlink() and fp.is_file():
                yield InputSpec(os.path.abspath(fp))
