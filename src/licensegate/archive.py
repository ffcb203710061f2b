"""Open an artifact and stream its members, recursing into nested archives.

Nothing is ever written to disk: members are inflated into memory one at a time, so peak memory is bounded by the
largest member (plus the nested archive holding it). Archives are treated as hostile: sizes, ratios, entry counts and
nesting depth are capped, names are never used as file-system paths, and anything odd about a member is recorded as a
`MemberProblem` so the scan can go on and report it.
"""

from __future__ import annotations

import bz2
import functools
import io
import lzma
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, cast

from ._dataclasses import dataclass, field
from .errors import InputError, MemberError

_MEMORY_SHARE = 3
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# Members up to this size are inflated whole at once: every member is read anyway unless its head shows an image,
# audio or compressed stream, and for small ones the second open costs more than the bytes (5,000-member APKs).
_SMALL_MEMBER = 64 * 1024
HEAD_SIZE = 64
NEST_SEPARATOR = "!/"
PREFIX_MEMBER = "(data before the archive)"  # the display path of bytes found before a zip's first entry


@dataclass(frozen=True)
class Limits:
    """Caps against hostile archives; every one is a documented CLI flag (docs/limits.md)."""

    max_member_size: int = 2 * 1024**3  # uncompressed bytes of one member
    max_total_size: int = 16 * 1024**3  # uncompressed bytes of the whole walk
    max_ratio: float = 200.0  # uncompressed / compressed, for members above ratio_floor
    ratio_floor: int = 1024 * 1024  # small members may compress well (text, zeros): no ratio check below this
    max_depth: int = 5  # archives inside archives
    max_entries: int = 500_000  # members in one walk
    max_memory: int = 1024**3  # peak memory of a scan, whatever the archive claims (docs/limits.md)

    @property
    def member_budget(self) -> int:
        """Bytes one member may hold in memory together with the nested archives holding it: a third of
        `max_memory`, leaving room for the analysers' working copies (measured: tests/test_hostile_round2.py)."""
        return self.max_memory // _MEMORY_SHARE


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
    # A zip entry's stream that leaves the CRC-32 to the caller (read_unchecked), and the CRC its headers declare.
    _unchecked: Callable[[], IO[bytes]] | None = field(default=None, repr=False)
    _crc: int | None = field(default=None, repr=False)
    _pending: int | None = field(default=None, repr=False)  # the CRC _data must still be checked against

    @property
    def name(self) -> str:
        """The member's file name (last path component)."""
        return self.path.rsplit("/", 1)[-1]

    def head(self) -> bytes:
        """The first bytes, enough to sniff the content (a short-lived stream: cheap even when deflated)."""
        if self._data is not None:
            return self._data[:HEAD_SIZE]
        if self._head is None and 0 < self.size <= _SMALL_MEMBER:
            try:  # one inflate instead of a stream for the head and a second one for the bytes
                return self.read()[:HEAD_SIZE]
            except MemberError:
                pass  # the stream below reports it as it always has
        if self._head is None:
            with self._opener() as stream:
                self._head = _read_exact(stream, HEAD_SIZE)
        return self._head

    def read(self) -> bytes:
        """The whole content, inflated once in one piece and kept until `release`; MemberError when unreadable.

        Never more than the declared size is produced: a member whose data goes on past it (a header that lies)
        is refused as soon as the first byte too many comes out, whatever the compression method."""
        if self._data is None:
            self._data = self._read_with(self._opener)
            self._head = None
        elif self._pending is not None:
            self.check_crc(zlib.crc32(self._data))
        return self._data

    def read_unchecked(self) -> tuple[bytes, int | None]:
        """The whole content as `read` gives it, but for a zip entry with its CRC-32 not yet checked: (data, the
        CRC the headers declare), and the caller must call `check_crc` with the data's CRC-32 (computed on the
        other core while this one analyses it) before anything it concluded from the data counts. (data, None)
        when the data is already checked or the member has no CRC to check."""
        if self._data is not None or self._unchecked is None or self._crc is None:
            return self.read(), None
        self._data = self._read_with(self._unchecked)
        self._head = None
        self._pending = self._crc
        return self._data, self._crc

    def check_crc(self, crc: int) -> None:
        """Settle `read_unchecked`: MemberError (the message `read` gives) and the bytes released when `crc` is not
        the declared CRC-32."""
        if self._pending is None:
            return
        if crc != self._pending:
            self.release()
            raise MemberError(f"cannot read member: {_BAD_CRC}")
        self._pending = None

    def _read_with(self, opener: Callable[[], IO[bytes]]) -> bytes:
        try:
            with opener() as stream:
                data = _read_exact(stream, self.size + 1)
        except _CORRUPT as exc:
            self.release()
            raise MemberError(f"cannot read member: {_reason(exc)}") from None
        if len(data) > self.size:
            self.release()
            raise MemberError(f"cannot read member: its data goes on past the {self.size} bytes declared for it "
                              "(a lying header, or a file that grew during the scan); not analysed")
        return data

    def release(self) -> None:
        self._data = None
        self._head = None
        self._pending = None


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    """Up to `n` bytes; fewer only at the end of the stream.

    Each read asks for all that is left: a member's stream never produces more than asked (its decompressor is
    given the bound, and takes its input 1 MiB at a time), and a stored member comes out of one pread instead of
    1 MiB pieces joined, a copy of every stored native library (wild-debian.apk: 14 joins, 0.08 s of 2.0 s)."""
    chunks = []
    while n > 0:
        chunk = stream.read(n)
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


_CHUNK = 1 << 20


class _EntryStream:
    """One zip entry's data, inflated from its raw bytes by a decompressor asked for bounded output.

    zipfile's own reader asks bzip2 and LZMA for everything a block of input holds (a few KiB of bzip2 can hold
    gigabytes of zeros) and reads a deflated member whole before cutting it to size; this one never produces more
    than `read(n)` asked for, checks the CRC at the end, and reads the raw bytes from where the local header says
    they start (checked against the central directory's name)."""

    def __init__(self, source: _Source, info: zipfile.ZipInfo, check_crc: bool = True) -> None:
        self._source = source
        self._check_crc = check_crc  # False: the caller checks the CRC-32 (Member.read_unchecked)
        self._pos, self._left, self._prefetched = _data_range(source, info)
        self._crc = 0
        self._expected_crc = info.CRC
        self._produced = 0
        self._declared = info.file_size
        self._pending = b""
        method = info.compress_type
        self._method = method
        if method == zipfile.ZIP_DEFLATED:
            self._dec: Any = zlib.decompressobj(-15)
        elif method == zipfile.ZIP_BZIP2:
            self._dec = bz2.BZ2Decompressor()
        elif method == zipfile.ZIP_LZMA:
            head = self._raw(4)
            if len(head) < 4:
                raise zipfile.BadZipFile("truncated LZMA properties")
            props = self._raw(int.from_bytes(head[2:4], "little"))
            try:
                filters = [lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)]  # type: ignore[attr-defined]
            except lzma.LZMAError as exc:
                raise zipfile.BadZipFile(f"bad LZMA properties ({exc})") from None
            self._dec = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters)
        elif method == zipfile.ZIP_STORED:
            self._dec = None
        else:
            raise NotImplementedError(f"compression method {method}")

    def __enter__(self) -> _EntryStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self._dec = None
        self._pending = b""

    def _raw(self, n: int) -> bytes:
        n = min(n, self._left)
        if self._prefetched is not None:  # the entry's raw bytes from _pos on, read with its local header
            data, self._prefetched = self._prefetched[:n], self._prefetched[n:]
        else:
            data = self._source.read_at(self._pos, n) if n > 0 else b""
        self._pos += len(data)
        self._left -= len(data)
        return data

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self._declared + 1 - self._produced
        out = self._produce(max(n, 0))
        self._produced += len(out)
        if self._check_crc:
            self._crc = zlib.crc32(out, self._crc)
        if not out and n > 0:
            if self._produced < self._declared:
                raise EOFError(f"the data ends after {self._produced} of the {self._declared} bytes declared")
            if self._check_crc and self._crc != self._expected_crc:
                raise zipfile.BadZipFile(_BAD_CRC)
        return out

    def _produce(self, n: int) -> bytes:
        if n == 0:
            return b""
        if self._dec is None:
            return self._raw(n)
        step = self._inflate if self._method == zipfile.ZIP_DEFLATED else self._decompress
        while True:
            out = step(n)
            if out is not None:
                return out

    def _inflate(self, n: int) -> bytes | None:
        """One deflate step of up to n bytes; None when it produced nothing yet and more input is to come."""
        assert self._dec is not None
        if self._dec.eof:
            return b""  # the stream has ended: what raw bytes remain would only go to unused_data
        data = self._pending or self._raw(_CHUNK)
        out: bytes = self._dec.decompress(data, n)
        self._pending = self._dec.unconsumed_tail
        if out or self._dec.eof:
            return out
        if not data:
            raise EOFError("compressed data ends early")
        return None

    def _decompress(self, n: int) -> bytes | None:
        """One bzip2 or LZMA step of up to n bytes; None when it produced nothing yet."""
        dec = self._dec
        assert dec is not None
        if dec.eof:
            return b""
        data = self._raw(_CHUNK) if dec.needs_input else b""
        if dec.needs_input and not data:
            raise EOFError("compressed data ends early")
        out: bytes = dec.decompress(data, n)
        return out or None


class _Source:
    """Random access to an archive's bytes: a file (read with pread) or bytes already in memory."""

    def __init__(self, path: Path | None = None, data: bytes | None = None) -> None:
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0)) if path is not None else -1
        self._view = memoryview(data) if data is not None else None
        self.size = os.fstat(self._fd).st_size if self._fd >= 0 else len(data or b"")

    def read_at(self, offset: int, n: int) -> bytes:
        if self._view is not None:
            return bytes(self._view[offset : offset + n])
        out = os.pread(self._fd, n, offset)
        while len(out) < n:
            more = os.pread(self._fd, n - len(out), offset + len(out))
            if not more:
                break
            out += more
        return out

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._view is not None:
            self._view.release()
            self._view = None


def _data_range(source: _Source, info: zipfile.ZipInfo) -> tuple[int, int, bytes | None]:
    """Where an entry's raw data starts (from its local header), how long it is (from the central directory) and,
    for a small entry, its raw bytes: read with the header, one read instead of two, when the local header's name
    and extra field fit in the _LOCAL_SLACK bytes read beyond its fixed part."""
    small = info.compress_size <= _PREFETCH
    header = source.read_at(info.header_offset, 30 + (_LOCAL_SLACK + info.compress_size if small else 0))
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile("bad local file header")
    name_len, extra_len = int.from_bytes(header[26:28], "little"), int.from_bytes(header[28:30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    if start + info.compress_size > source.size:
        raise zipfile.BadZipFile("the member's data runs past the end of the archive")
    skip = 30 + name_len + extra_len
    if small and skip + info.compress_size <= len(header):
        return start, info.compress_size, header[skip : skip + info.compress_size]
    return start, info.compress_size, None


def _small_entry(source: _Source, info: zipfile.ZipInfo) -> bytes | None:
    """A small entry's bytes, inflated from the one read of its local header, when they are exactly what the central
    directory declares (size and CRC-32); None when the entry is not small or anything about it is not as declared.

    Member.head() reads a small member whole anyway; an _EntryStream per member costs more than its inflate on a
    5,000-member APK (entries-5000.apk: see docs/performance.md). Where this answers None the member reads through
    the stream as before, which reports what is wrong in its own words."""
    if not 0 < info.file_size <= _SMALL_MEMBER or info.compress_size > _PREFETCH:
        return None
    method = info.compress_type
    if method != zipfile.ZIP_DEFLATED and method != zipfile.ZIP_STORED:
        return None
    try:
        raw = _data_range(source, info)[2]
    except zipfile.BadZipFile:
        return None
    if raw is None:
        return None
    if method == zipfile.ZIP_DEFLATED:
        dec = zlib.decompressobj(-15)
        try:
            data: bytes = dec.decompress(raw, info.file_size + 1)
        except zlib.error:
            return None
        if not dec.eof:
            return None
    else:
        data = raw
    return data if len(data) == info.file_size and zlib.crc32(data) == info.CRC else None


_PREFETCH = 64 * 1024  # compressed size up to which an entry's data is read with its local header
_LOCAL_SLACK = 1024  # bytes read for the local header's name and extra field


class Walk:
    """Iterates the members of an artifact (zip family or folder), recursing into nested zips.

    Usage: `for member in walk: ...`; afterwards `walk.problems` holds what was wrong with members and
    `walk.names` the member paths seen (for layout detection).
    """

    def __init__(self, root: Path, limits: Limits | None = None, entries: Sequence[zipfile.ZipInfo] = ()) -> None:
        self.root = root
        self._central = list(entries)  # the central directory, when the caller has read it already
        self.limits = limits or Limits()
        self.problems: list[MemberProblem] = []
        self.total_size = 0
        self.held = 0  # bytes of the nested archives open right now (in memory while their members are walked)
        self.entries = 0

    # -- entry points --------------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Member]:
        if self.root.is_dir():
            yield from self._walk_folder(self.root)
        else:
            infos = self._central or self._central_directory()
            try:
                source = _Source(path=self.root)
            except OSError as exc:
                raise InputError(f"{self.root}: cannot read ({exc.strerror or exc})") from None
            try:
                yield from self._prefix(infos)
                yield from self._walk_zip(infos, source, prefix="", depth=0)
            finally:
                source.close()

    def _central_directory(self) -> list[zipfile.ZipInfo]:
        try:
            with zipfile.ZipFile(self.root) as zf:
                return zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise InputError(f"{self.root}: not a readable zip archive ({_reason(exc)})") from None

    def _prefix(self, infos: list[zipfile.ZipInfo]) -> Iterator[Member]:
        """Bytes before the first entry: reported, and scanned as a member of their own (an ELF stub, a DEX file)."""
        start = min((i.header_offset for i in infos), default=0)
        if start <= 0:
            return
        self._problem(PREFIX_MEMBER, "data-before-archive",
                      f"{start} bytes precede the archive's first entry; zip readers and Android's installer open the "
                      "archive from its end, so it installs as the app scanned here (the prefix is scanned too)")
        if not self._admit(PREFIX_MEMBER, start, None):
            return
        yield from self._expand(Member(PREFIX_MEMBER, start, 0, _opener=functools.partial(_range_opener, self.root, 0, start)))

    # -- folders -------------------------------------------------------------------------------------------

    def _walk_folder(self, root: Path) -> Iterator[Member]:
        """Every regular file under `root`. Links are followed only to files inside the folder; FIFOs, devices and
        sockets are reported and never opened; what cannot be read (a dangling link, a loop, a file deleted or made
        unreadable during the scan) is reported as such and the walk goes on."""
        root_real = root.resolve()

        def unreadable_folder(exc: OSError) -> None:
            where = Path(exc.filename).relative_to(root).as_posix() if exc.filename else "."
            self._problem(where, "unreadable", f"folder cannot be listed: {_reason(exc)}")

        for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable_folder):
            dirnames.sort()
            rel_dir = Path(dirpath).relative_to(root).as_posix()
            for d in list(dirnames):
                full = Path(dirpath, d)
                if full.is_symlink():
                    self._problem(_join(rel_dir, d), "symlink", f"symbolic link to {_link_target(full)} not followed")
                    dirnames.remove(d)
            for fname in sorted(filenames):
                member = self._folder_member(root_real, Path(dirpath, fname), _join(rel_dir, fname))
                if member is not None:
                    yield from self._expand(member)

    def _folder_member(self, root_real: Path, full: Path, rel: str) -> Member | None:
        try:
            st = full.lstat()
        except OSError as exc:
            self._problem(rel, "unreadable", _reason(exc))
            return None
        path = full
        if stat.S_ISLNK(st.st_mode):
            target = _link_target(full)
            try:
                path = full.resolve(strict=True)
                st = path.stat()
            except (OSError, RuntimeError) as exc:  # dangling, a loop (RuntimeError before Python 3.13)
                self._problem(rel, "symlink", f"symbolic link to {target} leads nowhere ({_reason(exc)}); not followed")
                return None
            if not str(path).startswith(str(root_real) + os.sep):
                self._problem(rel, "symlink", f"symbolic link to {target} points outside the artifact; not followed")
                return None
            self._problem(rel, "symlink", f"symbolic link to {target}; read through the link")
        if not stat.S_ISREG(st.st_mode):
            if not stat.S_ISDIR(st.st_mode):
                from .fsutil import kind_of

                self._problem(rel, "special-file", f"{kind_of(st.st_mode)}, not a regular file; not opened")
            return None
        if not self._admit(rel, st.st_size, None):
            return None
        return Member(rel, st.st_size, 0, _opener=functools.partial(_open_regular, path))

    # -- zips ----------------------------------------------------------------------------------------------

    def _walk_zip(self, infos: list[zipfile.ZipInfo], source: _Source, prefix: str, depth: int) -> Iterator[Member]:
        seen: set[str] = set()
        self._refuse_overlaps(infos, prefix)
        for info in infos:
            name = info.orig_filename  # zipfile cuts names at a NUL: the entry's true name is shown
            path = prefix + name
            if name.endswith("/"):
                continue
            self._check_name(name, path, seen)
            seen.add(name)
            if not self._readable_entry(info, path) or not self._admit(path, info.file_size, info.compress_size):
                continue
            member = Member(path, info.file_size, depth, _opener=_entry_opener(source, info), _data=_small_entry(source, info),
                            _unchecked=_entry_opener(source, info, check_crc=False), _crc=info.CRC)
            yield from self._expand(member)

    def _check_name(self, name: str, path: str, seen: set[str]) -> None:
        """Report names that tools read differently (empty, NUL, duplicate, absolute or '..'); the content is still
        scanned."""
        if not name.strip("\0"):
            self._problem(path, "unsafe-name", "empty member name (content still scanned)")
        elif "\0" in name:
            self._problem(path, "unsafe-name", "NUL character in the member name; tools that cut names there see another name (content still scanned)")
        if name in seen:
            self._problem(path, "duplicate-name",
                          "the archive holds several entries with this name; installers and scanners may see different bytes (each is scanned)")
        if _unsafe_name(name):
            self._problem(path, "unsafe-name", "absolute path or '..' in the member name (never written to disk; content still scanned)")

    def _readable_entry(self, info: zipfile.ZipInfo, path: str) -> bool:
        """False (with the problem reported) for entries never opened: symbolic links, encrypted entries, unsupported
        compression methods."""
        mode = (info.external_attr >> 16) & 0o170000
        if info.create_system == 3 and mode == stat.S_IFLNK:
            self._problem(path, "symlink", "symbolic-link entry; not followed")
            return False
        if info.flag_bits & 0x1:
            self._problem(path, "encrypted", "encrypted entry; its content cannot be analysed")
            return False
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA):
            self._problem(path, "unsupported-compression", f"compression method {info.compress_type} is not supported")
            return False
        return True

    def _refuse_overlaps(self, infos: list[zipfile.ZipInfo], prefix: str) -> None:
        """Entries whose data ranges overlap are a zip bomb (thousands of entries inflating one shared kernel):
        refused. An entry's data ends at least 30 header bytes plus its compressed size after its offset."""
        previous_end, previous = -1, None
        for info in sorted(infos, key=lambda i: i.header_offset):
            if info.header_offset < previous_end and previous is not None:
                where = f" in {prefix.removesuffix(NEST_SEPARATOR)}" if prefix else ""
                raise InputError(f"{self.root}: overlapping entries{where} ({_clip(info.orig_filename)} starts inside the data of "
                                 f"{_clip(previous.orig_filename)}): an overlapping-entry zip bomb or a tampered archive; refusing")
            end = info.header_offset + 30 + info.compress_size
            if end > previous_end:
                previous_end, previous = end, info

    def _expand(self, member: Member) -> Iterator[Member]:
        """Yield the member; if it is itself a zip, walk it too (bounded depth)."""
        try:
            head = member.head()
        except _CORRUPT as exc:
            # a file of a folder deleted or made unreadable meanwhile is not corrupt; bz2's bad data has no errno
            unreadable = isinstance(exc, OSError) and exc.errno is not None
            self._problem(member.path, "unreadable" if unreadable else "corrupt", _reason(exc))
            member.release()
            return
        yield member
        if not head.startswith(ZIP_MAGICS) and not self._zip_at_end(member):
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
        source = _Source(data=data)
        self.held += len(data)
        try:
            with inner:
                yield from self._walk_zip(inner.infolist(), source, prefix=member.path + NEST_SEPARATOR, depth=member.depth + 1)
        finally:
            self.held -= len(data)
            source.close()
            member.release()

    def _zip_at_end(self, member: Member) -> bool:
        """A nested zip with data before it (opened from its end, as class loaders and installers do)?

        Checked on bytes already inflated for the analysers, and on members named like archives."""
        data = _inflated_or_archive_named(member)
        if data is None or b"PK\x05\x06" not in data[-(0xFFFF + 22):]:
            return False
        start = _first_entry_offset(data)
        if start <= 0:
            return False
        if data[4:8] == b"TFL3":
            return True  # TFLite metadata appends its associated files (labels, vocabularies) as a zip: expected
        self._problem(member.path, "data-before-archive",
                      f"a zip archive follows {start} bytes of other data in this member; zip readers open it from its "
                      "end, so its entries are scanned too")
        return True

    # -- limits --------------------------------------------------------------------------------------------

    def _admit(self, path: str, size: int, compressed: int | None) -> bool:
        lim = self.limits
        self.entries += 1
        if self.entries > lim.max_entries:
            raise InputError(f"{self.root}: more than {lim.max_entries} members (limit --max-entries); refusing to continue")
        if size > lim.max_member_size:
            self._problem(path, "too-large", f"{size} bytes uncompressed exceeds the member limit of {lim.max_member_size} (--max-member-size)")
            return False
        if size + self.held > lim.member_budget:
            held = f" with the {self.held} bytes of the archives holding it" if self.held else ""
            self._problem(path, "too-large", f"{size} bytes uncompressed{held} would pass the {lim.member_budget} bytes a member may "
                                             f"hold in memory (a third of --max-memory {lim.max_memory}); not analysed")
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


def _inflated_or_archive_named(member: Member) -> bytes | None:
    """The member's bytes when already inflated, or when its name is an archive's; None otherwise or unreadable."""
    if member._pending is not None:  # read_unchecked's bytes, not settled: read checks them now
        try:
            member.read()
        except MemberError:
            return None
    data = member._data
    if data is None and member.name.lower().endswith(_ARCHIVE_SUFFIXES):
        try:
            data = member.read()
        except MemberError:
            return None
    return data


def _first_entry_offset(data: bytes) -> int:
    """The offset of the first entry of the zip a reader finds from the end of `data`; -1 when none is."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return min((i.header_offset for i in zf.infolist()), default=-1)
    except _CORRUPT:
        return -1


_ARCHIVE_SUFFIXES = (".apk", ".zip", ".jar", ".aar", ".ipa", ".aab", ".apks", ".xapk", ".dex", ".so", ".bin")
_CORRUPT = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError, ValueError, NotImplementedError, RuntimeError)


def _open_regular(path: Path) -> IO[bytes]:
    from .fsutil import open_regular

    return open_regular(path)


def _link_target(link: Path) -> str:
    try:
        return os.readlink(link)
    except OSError:
        return "?"


def _range_opener(path: Path, start: int, length: int) -> IO[bytes]:
    with path.open("rb") as fh:
        fh.seek(start)
        return io.BytesIO(fh.read(length))


def _entry_opener(source: _Source, info: zipfile.ZipInfo, check_crc: bool = True) -> Callable[[], IO[bytes]]:
    return lambda: cast(IO[bytes], _EntryStream(source, info, check_crc))


_BAD_CRC = "Bad CRC-32 for the member's data"


def _clip(name: str, n: int = 80) -> str:
    return repr(name if len(name) <= n else name[:n] + "…")


def _join(a: str, b: str) -> str:
    return b if a in ("", ".") else f"{a}/{b}"


def _unsafe_name(name: str) -> bool:
    n = name.replace("\\", "/")
    return n.startswith("/") or (len(n) > 1 and n[1] == ":") or ".." in n.split("/")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
