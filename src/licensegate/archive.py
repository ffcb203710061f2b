"""Open an artifact and stream its members, recursing into nested archives.

Nothing is ever written to disk: members are inflated into memory one at a time, so peak memory is bounded by the
largest member (plus the nested archive holding it). Archives are treated as hostile: sizes, ratios, entry counts and
nesting depth are capped, names are never used as file-system paths, and anything odd about a member is recorded as a
`MemberProblem` so the scan can go on and report it.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .errors import InputError, MemberError

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
HEAD_SIZE = 64
NEST_SEPARATOR = "!/"


@dataclass(frozen=True)
class Limits:
    """Caps against hostile archives; every one is a documented CLI flag (docs/limits.md)."""

    max_member_size: int = 2 * 1024**3  # uncompressed bytes of one member
    max_total_size: int = 16 * 1024**3  # uncompressed bytes of the whole walk
    max_ratio: float = 200.0  # uncompressed / compressed, for members above ratio_floor
    ratio_floor: int = 1024 * 1024  # small members may compress well (text, zeros): no ratio check below this
    max_depth: int = 5  # archives inside archives
    max_entries: int = 500_000  # members in one walk


@dataclass(frozen=True)
class MemberProblem:
    """Something wrong with one member: the member is skipped or flagged, the scan goes on."""

    path: str
    problem: str  # short id: "unsafe-name", "duplicate-name", "encrypted", "symlink", "corrupt", "too-large", ...
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "problem": self.problem, "detail": self.detail}


@dataclass
class Member:
    """One file inside the artifact, possibly inside nested archives."""

    path: str  # display path, nested parts joined with "!/"
    size: int  # uncompressed size as declared by the container
    depth: int  # 0 for members of the artifact itself
    _opener: Callable[[], IO[bytes]] = field(repr=False)
    _head: bytes | None = field(default=None, repr=False)
    _data: bytes | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The member's file name (last path component)."""
        return self.path.rsplit("/", 1)[-1]

    def head(self) -> bytes:
        """The first bytes, enough to sniff the content (a short-lived stream: cheap even when deflated)."""
        if self._data is not None:
            return self._data[:HEAD_SIZE]
        if self._head is None:
            with self._opener() as stream:
                self._head = _read_exact(stream, HEAD_SIZE)
        return self._head

    def read(self) -> bytes:
        """The whole content, inflated once in one piece and kept until `release`; MemberError when unreadable."""
        if self._data is None:
            try:
                with self._opener() as stream:
                    self._data = stream.read()
            except _CORRUPT as exc:
                self.release()
                raise MemberError(f"cannot read member: {_reason(exc)}") from None
            self._head = None
        return self._data

    def release(self) -> None:
        self._data = None
        self._head = None


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    chunks = []
    while n > 0:
        chunk = stream.read(n)
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class Walk:
    """Iterates the members of an artifact (zip family or folder), recursing into nested zips.

    Usage: `for member in walk: ...`; afterwards `walk.problems` holds what was wrong with members and
    `walk.names` the member paths seen (for layout detection).
    """

    def __init__(self, root: Path, limits: Limits | None = None) -> None:
        self.root = root
        self.limits = limits or Limits()
        self.problems: list[MemberProblem] = []
        self.total_size = 0
        self.entries = 0

    # -- entry points --------------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Member]:
        if self.root.is_dir():
            yield from self._walk_folder(self.root)
        else:
            try:
                zf = zipfile.ZipFile(self.root)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
                raise InputError(f"{self.root}: not a readable zip archive ({_reason(exc)})") from None
            with zf:
                yield from self._walk_zip(zf, prefix="", depth=0)

    # -- folders -------------------------------------------------------------------------------------------

    def _walk_folder(self, root: Path) -> Iterator[Member]:
        root_real = root.resolve()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames.sort()
            rel_dir = Path(dirpath).relative_to(root).as_posix()
            for d in list(dirnames):
                full = Path(dirpath, d)
                if full.is_symlink():
                    self._problem(_join(rel_dir, d), "symlink", f"symbolic link to {os.readlink(full)} not followed")
                    dirnames.remove(d)
            for fname in sorted(filenames):
                full = Path(dirpath, fname)
                rel = _join(rel_dir, fname)
                try:
                    st = full.lstat()
                except OSError as exc:
                    self._problem(rel, "unreadable", _reason(exc))
                    continue
                if stat.S_ISLNK(st.st_mode):
                    target = os.readlink(full)
                    resolved = full.resolve()
                    if not str(resolved).startswith(str(root_real) + os.sep):
                        self._problem(rel, "symlink", f"symbolic link to {target} points outside the artifact; not followed")
                        continue
                    self._problem(rel, "symlink", f"symbolic link to {target}; read through the link")
                    st = resolved.stat()
                if not stat.S_ISREG(st.st_mode):
                    continue
                if not self._admit(rel, st.st_size, None):
                    continue
                member = Member(rel, st.st_size, 0, _opener=lambda p=full: open(p, "rb"))  # type: ignore[misc]
                yield from self._expand(member)

    # -- zips ----------------------------------------------------------------------------------------------

    def _walk_zip(self, zf: zipfile.ZipFile, prefix: str, depth: int) -> Iterator[Member]:
        seen: set[str] = set()
        for info in zf.infolist():
            name = info.filename
            path = prefix + name
            if info.is_dir():
                continue
            if name in seen:
                self._problem(path, "duplicate-name",
                              "the archive holds several entries with this name; installers and scanners may see different bytes (each is scanned)")
            seen.add(name)
            if _unsafe_name(name):
                self._problem(path, "unsafe-name", "absolute path or '..' in the member name (never written to disk; content still scanned)")
            mode = (info.external_attr >> 16) & 0o170000
            if info.create_system == 3 and mode == stat.S_IFLNK:
                self._problem(path, "symlink", "symbolic-link entry; not followed")
                continue
            if info.flag_bits & 0x1:
                self._problem(path, "encrypted", "encrypted entry; its content cannot be analysed")
                continue
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
                self._problem(path, "unsupported-compression", f"compression method {info.compress_type} is not supported")
                continue
            if not self._admit(path, info.file_size, info.compress_size):
                continue
            member = Member(path, info.file_size, depth, _opener=_zip_opener(zf, info))
            yield from self._expand(member)

    def _expand(self, member: Member) -> Iterator[Member]:
        """Yield the member; if it is itself a zip, walk it too (bounded depth)."""
        try:
            head = member.head()
        except _CORRUPT as exc:
            self._problem(member.path, "corrupt", _reason(exc))
            member.release()
            return
        yield member
        if not head.startswith(ZIP_MAGICS):
            member.release()
            return
        if member.depth + 1 > self.limits.max_depth:
            self._problem(member.path, "too-deep", f"nested archive deeper than {self.limits.max_depth} levels; not opened")
            member.release()
            return
        try:
            data = member.read()
            inner = zipfile.ZipFile(io.BytesIO(data))
        except (*_CORRUPT, MemberError) as exc:
            self._problem(member.path, "corrupt", f"nested archive unreadable: {_reason(exc)}")
            member.release()
            return
        with inner:
            yield from self._walk_zip(inner, prefix=member.path + NEST_SEPARATOR, depth=member.depth + 1)
        member.release()

    # -- limits --------------------------------------------------------------------------------------------

    def _admit(self, path: str, size: int, compressed: int | None) -> bool:
        lim = self.limits
        self.entries += 1
        if self.entries > lim.max_entries:
            raise InputError(f"{self.root}: more than {lim.max_entries} members (limit --max-entries); refusing to continue")
        if size > lim.max_member_size:
            self._problem(path, "too-large", f"{size} bytes uncompressed exceeds the member limit of {lim.max_member_size} (--max-member-size)")
            return False
        if compressed is not None and size > lim.ratio_floor and size > lim.max_ratio * max(compressed, 1):
            ratio = size / max(compressed, 1)
            raise InputError(f"{self.root}: {path} looks like a zip bomb (compression ratio {ratio:.0f}:1 exceeds {lim.max_ratio:.0f}:1, --max-ratio)")
        self.total_size += size
        if self.total_size > lim.max_total_size:
            raise InputError(f"{self.root}: more than {lim.max_total_size} bytes uncompressed in total (limit --max-total-size); possible zip bomb")
        return True

    def _problem(self, path: str, problem: str, detail: str) -> None:
        self.problems.append(MemberProblem(path, problem, detail))


_CORRUPT = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, NotImplementedError, RuntimeError)


def _zip_opener(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
    return lambda: zf.open(info)


def _join(a: str, b: str) -> str:
    return b if a in ("", ".") else f"{a}/{b}"


def _unsafe_name(name: str) -> bool:
    n = name.replace("\\", "/")
    return n.startswith("/") or (len(n) > 1 and n[1] == ":") or ".." in n.split("/")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
