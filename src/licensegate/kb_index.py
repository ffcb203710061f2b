"""A compact, memory-mappable index of a knowledge base's items (distinctive strings or exported symbols).

The native knowledge base holds about 230,000 strings and 330,000 symbols. As Python dicts they cost 0.4-0.5 CPU-s
to unpickle on every scan that meets native code (measured 2026-12-02), more than the rest of a small scan. This
index is flat arrays instead, read in place from the user cache with ``mmap``, so loading it costs nothing but the
pages a lookup touches:

- ``hashes``: the CRC-32 of every item, sorted (items are stored in this order, so a position is an item id);
- ``offsets`` (n + 1) into ``blob``, which holds the items' bytes back to back;
- ``owner_offsets`` (n + 1) into ``owners``: the packed ``entry << 2 | df`` values of the entries holding the item;
- ``bitmap``: 32 to 64 bits per item (2^23 for the strings: 1 MiB), set where some item's CRC-32 has those low bits;
  bits, not bytes, because every lookup-heavy scan touches all of its pages (as bytes the two maps were 24 MiB of
  the resident set).

A lookup runs at C speed over the candidates (``map(crc32)``, an ``itemgetter`` gather from the bitmap, shifts and
``itertools.compress``): about 1.5% of a binary's strings pass the bitmap without being items; each candidate is
then confirmed by binary search in ``hashes`` and byte equality with the stored item, so the answer is exact.

The candidates themselves (a binary's maximal printable runs, ``runs_in``) are found by numpy in sections of 8 MiB
or more (in all of them once the process has read 32 MiB by the regex or has numpy loaded: an audit worker keeps
its index across scans), and filtered there by a second bitmap before any Python object is made: on libLLVM-15.so
(117 MB, 341,635 runs of at least 8 bytes) 0.10 CPU-s against re.findall's 1.17 s (measured 2026-12-02, see
docs/performance.md). numpy's import is paid only where it repays itself.

With the compiled module (``_accel.c``, ``ACCEL``), ``items_in`` and ``lookup`` run in C instead, with the same
answers and without numpy (wild-debian.apk's 14.5 MB of string sections: 0.48 -> 0.08 CPU-s); the Python path above
stays the fallback and the reference tests/test_accel.py compares the C functions with.
"""

from __future__ import annotations

import os
import re
import struct
import sys
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import compress, repeat
from operator import and_, itemgetter, rshift
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["ItemIndex", "NameTable", "NameListTable", "CorruptIndex", "ACCEL"]


# The interface version of _accel.c (its ACCEL_API): a compiled module of another version is not used.
ACCEL_API = 3


def _load_accel() -> ModuleType | None:
    """The compiled passes (``_accel.c``), or None: not built (no C compiler at install time), built from other
    sources (an editable install not rebuilt since _accel.c changed), or turned off by LICENSEGATE_NO_ACCEL=1 to
    compare with the pure-Python path, which gives the same answers."""
    if os.environ.get("LICENSEGATE_NO_ACCEL"):
        return None
    try:
        from . import _accel
    except ImportError:
        return None
    if getattr(_accel, "API", None) != ACCEL_API:
        return None
    return _accel


ACCEL = _load_accel()

_MAGIC = b"LGI2"
_HEADER = struct.Struct("=4sIIIII")  # magic, items, blob bytes, owner values, shortest item, bitmap bits
_MIN_BITS, _MAX_BITS = 10, 28
# numpy's fixed cost in a scan (import, run-key bitmap: 0.11 CPU-s measured on wild-av.apk) is what the regex
# spends on about 8 MiB (13 ms/MiB). So numpy reads a section of 8 MiB or more (it repays the import by itself),
# and every section once the regex has read 32 MiB (what the import can then waste is a quarter of that) or once
# numpy is loaded anyway. Switching at a running total of 4 or 8 MiB made wild-av.apk (68 sections, 8.4 MiB) 0.04
# and 0.11 CPU-s slower than the regex alone.
NUMPY_SECTION = 8 << 20
NUMPY_TOTAL = 32 << 20
# Bytes per numpy pass, measured on libLLVM-15.so: 1 MiB 0.098 CPU-s and +9.6 MiB peak, 4 MiB 0.126 s and +55 MiB.
_CHUNK = 1 << 20
_RUN_BITS = 22  # the run-key bitmap: 512 KiB, 5-8% of it set by the knowledge base's 230,000-320,000 strings


class CorruptIndex(ValueError):
    """A serialised index whose sizes do not add up (a truncated or damaged cache file)."""


class ItemIndex:
    """Exact membership of byte strings in a fixed set, each with its owners, over a buffer (bytes or mmap).

    Arrays are in the machine's byte order: the index lives in this machine's cache, rebuilt from the data file.
    """

    __slots__ = ("n", "min_len", "end", "_view", "_mask", "_hashes", "_offsets", "_owner_offsets", "_owners", "_bitmap",
                 "_blob", "_regex_runs", "_regex_bytes", "_run_filter")

    def __init__(self, buf: Any, pos: int = 0) -> None:
        view = memoryview(buf)
        if len(view) < pos + _HEADER.size:
            raise CorruptIndex("truncated index header")
        magic, n, blob_len, n_owners, min_len, bits = _HEADER.unpack_from(view, pos)
        if magic != _MAGIC or not _MIN_BITS <= bits <= _MAX_BITS:
            raise CorruptIndex("not an item index")
        self.n, self.min_len, self._mask = n, min_len, (1 << bits) - 1
        at = pos + _HEADER.size
        sizes = (4 * n, 4 * (n + 1), 4 * (n + 1), 4 * n_owners, 1 << (bits - 3), blob_len)
        if len(view) < at + sum(sizes):
            raise CorruptIndex("truncated index")
        parts = []
        for size in sizes:
            parts.append(view[at : at + size])
            at += size
        self.end = at
        self._view = view[pos:at]
        self._hashes, self._offsets, self._owner_offsets, self._owners = (p.cast("I") for p in parts[:4])
        self._bitmap, self._blob = parts[4], parts[5]
        if self._offsets[n] != blob_len or self._owner_offsets[n] != n_owners:
            raise CorruptIndex("inconsistent index")
        # compiled on first use: a scan with the compiled module never needs it, and the knowledge base's seven
        # indexes compiled five patterns at every load (0.5-0.8 ms)
        self._regex_runs: Callable[[bytes | memoryview], list[bytes]] | None = None
        self._regex_bytes = 0  # read by the regex so far
        self._run_filter: tuple[int, npt.NDArray[np.uint8] | None] | None = None  # (longest item, run-key bitmap)

    def __len__(self) -> int:
        return self.n

    def buffer(self) -> memoryview:
        """The serialised index (what ``serialise`` returned), to write into a cache file."""
        return self._view

    @staticmethod
    def serialise(items: Mapping[bytes, Sequence[int]]) -> bytes:
        """The index of `items` (item -> packed owner values), as bytes that ``ItemIndex(buf)`` reads in place."""
        order = sorted(items, key=lambda s: (zlib.crc32(s), s))
        hashes = array("I", map(zlib.crc32, order))
        offsets, owner_offsets, owners = array("I", [0]), array("I", [0]), array("I")
        for s in order:
            offsets.append(offsets[-1] + len(s))
            owners.extend(items[s])
            owner_offsets.append(len(owners))
        # 32 to 64 slots per item: 2-3% of the strings that are not items pass the bitmap.
        bits = min(max((32 * len(order)).bit_length(), _MIN_BITS), _MAX_BITS)
        bitmap = bytearray(1 << (bits - 3))
        for h in hashes:
            slot = h & ((1 << bits) - 1)
            bitmap[slot >> 3] |= 1 << (slot & 7)
        min_len = min((len(s) for s in order), default=0)
        header = _HEADER.pack(_MAGIC, len(order), offsets[-1], len(owners), min_len, bits)
        return b"".join((header, hashes.tobytes(), offsets.tobytes(), owner_offsets.tobytes(), owners.tobytes(),
                         bytes(bitmap), *order))

    def items_in(self, region: bytes | memoryview) -> dict[bytes, tuple[int, ...]]:
        """The items that are maximal printable runs of `region`, each with its owners: ``lookup(runs_in(region))``,
        which is also the path without the compiled module. Compiled, one pass finds the runs, their CRC-32s and
        their items, without numpy (wild-debian.apk: see docs/performance.md)."""
        if ACCEL is None:
            return self.lookup(self.runs_in(region))
        hits = ACCEL.run_items(region, self._hashes, self._offsets, self._bitmap, self._blob, self._mask, self.min_len)
        return {s: self._owners_of(i) for s, i in hits}

    def lookup(self, candidates: Iterable[bytes]) -> dict[bytes, tuple[int, ...]]:
        """The candidates that are items, each with its owners' packed values."""
        if ACCEL is not None:
            hits = ACCEL.lookup(list(candidates), self._hashes, self._offsets, self._bitmap, self._blob, self._mask)
            return {s: self._owners_of(i) for s, i in hits}
        uniq = list(set(candidates))
        if not uniq or not self.n:
            return {}
        slots = list(map(and_, map(zlib.crc32, uniq), repeat(self._mask)))
        cells = list(map(rshift, slots, repeat(3)))
        words = itemgetter(*cells)(self._bitmap) if len(cells) > 1 else (self._bitmap[cells[0]],)
        marks = map(and_, map(rshift, words, map(and_, slots, repeat(7))), repeat(1))
        found: dict[bytes, tuple[int, ...]] = {}
        for s in compress(uniq, marks):
            i = self._position(s)
            if i >= 0:
                found[s] = self._owners_of(i)
        return found

    def lookup_latin1(self, names: Iterable[str]) -> dict[str, tuple[int, ...]]:
        """The names whose latin-1 bytes are items (a name outside latin-1 is none), each with its owners. Compiled,
        the names are looked up as they are, without encoding each (wild-debian.apk: see docs/performance.md)."""
        if ACCEL is not None:
            hits = ACCEL.lookup(list(names), self._hashes, self._offsets, self._bitmap, self._blob, self._mask)
            return {s: self._owners_of(i) for s, i in hits}
        latin = _latin1_names(names)
        return {latin[s]: owners for s, owners in self.lookup(latin).items()}

    def _owners_of(self, i: int) -> tuple[int, ...]:
        return tuple(self._owners[self._owner_offsets[i] : self._owner_offsets[i + 1]])

    def runs_in(self, region: bytes | memoryview) -> list[bytes]:
        """The maximal runs of printable ASCII (0x20-0x7e) in `region`, as long as an item at least: every item the
        region holds as such a run is among them (numpy's pass drops, exactly, runs no item can be)."""
        if len(region) < NUMPY_SECTION and self._regex_bytes < NUMPY_TOTAL and "numpy" not in sys.modules:
            self._regex_bytes += len(region)
            if self._regex_runs is None:
                self._regex_runs = re.compile(rb"[\x20-\x7e]{%d,}" % max(self.min_len, 1)).findall
            return self._regex_runs(region)
        return self._numpy_runs(region)

    def _numpy_runs(self, region: bytes | memoryview, chunk: int = _CHUNK) -> list[bytes]:
        """Runs found 1 MiB at a time from the edges of a printable mask; a run that crosses a chunk's end stays
        open into the next. Runs longer than every item, and runs whose (length, first 4, last 4 bytes) key no
        item has, are dropped before their bytes are copied out."""
        _import_numpy()
        import numpy as np

        longest, bitmap = self._run_keys()
        data = np.frombuffer(region, dtype=np.uint8)
        n, low = len(data), max(self.min_len, 1)
        size = min(chunk, n)
        shifted = np.empty(size, dtype=np.uint8)
        mask = np.empty(size + 1, dtype=np.bool_)  # mask[0]: is the byte before the chunk inside a run
        edge = np.empty(size, dtype=np.bool_)
        starts: list[npt.NDArray[np.intp]] = []
        ends: list[npt.NDArray[np.intp]] = []

        def keep(s: npt.NDArray[np.intp], e: npt.NDArray[np.intp]) -> None:
            length = e - s
            fits = (length >= low) & (length <= longest)
            s, e = s[fits], e[fits]
            if bitmap is not None:
                key = _run_key(data, s, e)
                hit = ((bitmap[key >> 3] >> (key & 7).astype(np.uint8)) & 1).astype(np.bool_)
                s, e = s[hit], e[hit]
            starts.append(s)
            ends.append(e)

        open_at = -1
        for at in range(0, n, chunk):
            m = min(chunk, n - at)
            np.subtract(data[at : at + m], 0x20, out=shifted[:m])  # wraps: printable bytes become 0..0x5e
            mask[0] = open_at >= 0
            np.less(shifted[:m], 0x5F, out=mask[1 : m + 1])
            np.not_equal(mask[1 : m + 1], mask[:m], out=edge[:m])
            edges = np.flatnonzero(edge[:m])  # alternately starts and ends, the open run's end first
            edges += at
            if open_at >= 0 and len(edges):
                keep(np.array([open_at], dtype=np.intp), edges[:1])
                edges, open_at = edges[1:], -1
            if len(edges) % 2:
                open_at, edges = int(edges[-1]), edges[:-1]
            keep(edges[0::2], edges[1::2])
        if open_at >= 0:
            keep(np.array([open_at], dtype=np.intp), np.array([n], dtype=np.intp))
        if not starts:
            return []
        s, e = np.concatenate(starts), np.concatenate(ends)
        bounds = map(slice, s.tolist(), e.tolist())
        if isinstance(region, bytes):
            return list(map(region.__getitem__, bounds))
        return [bytes(region[b]) for b in bounds]

    def _run_keys(self) -> tuple[int, npt.NDArray[np.uint8] | None]:
        """The longest item and the bitmap of the items' run keys (None when items are shorter than a key reads),
        built at the first large section (25-30 ms)."""
        if self._run_filter is None:
            import numpy as np

            offsets = np.frombuffer(self._offsets, dtype=np.uint32).astype(np.intp)
            lengths = np.diff(offsets)
            longest = int(lengths.max()) if self.n else 0
            bitmap = None
            if self.min_len >= 4:
                bitmap = np.zeros(1 << (_RUN_BITS - 3), dtype=np.uint8)
                key = _run_key(np.frombuffer(self._blob, dtype=np.uint8), offsets[:-1], offsets[1:])
                np.bitwise_or.at(bitmap, key >> 3, np.left_shift(1, key & 7).astype(np.uint8))
            self._run_filter = (longest, bitmap)
        return self._run_filter

    def owners(self, item: bytes) -> tuple[int, ...] | None:
        """The owners of one item, or None when it is not an item."""
        i = self._position(item)
        return self._owners_of(i) if i >= 0 else None

    def _position(self, s: bytes) -> int:
        """The item id of `s`, or -1 (CRC-32 collisions are resolved by comparing the bytes)."""
        h = zlib.crc32(s)
        i = bisect_left(self._hashes, h)
        while i < self.n and self._hashes[i] == h:
            if self._blob[self._offsets[i] : self._offsets[i + 1]] == s:
                return i
            i += 1
        return -1

    def items(self) -> Iterator[bytes]:
        """Every item, in stored order (for tests and maintenance, not the hot path)."""
        for i in range(self.n):
            yield bytes(self._blob[self._offsets[i] : self._offsets[i + 1]])


V = TypeVar("V")
_Table = TypeVar("_Table", bound="_Names[Any]")


class _Names(Mapping[str, V], Generic[V]):
    """A read-only table from names (sonames, package names, homepages) to knowledge-base entries, kept as an
    ItemIndex of the names' UTF-8 bytes (surrogates passed, so that every str has its own key): a compiled
    knowledge base reads its tables in place. As five pickled dicts of 95,000 names they cost 5.9 ms to unpickle,
    2 ms before a scan's first soname lookup (measured 2026-12-02)."""

    __slots__ = ("index",)

    def __init__(self, index: ItemIndex) -> None:
        self.index = index

    @classmethod
    def build(cls: type[_Table], table: Mapping[str, Sequence[int]]) -> _Table:
        """The table of `table` (name -> entry indexes, in order), in a fresh ItemIndex."""
        return cls(ItemIndex(ItemIndex.serialise({_name_key(k): v for k, v in table.items()})))

    def _value(self, owners: tuple[int, ...]) -> V:
        raise NotImplementedError

    def __getitem__(self, name: str) -> V:
        owners = self.index.owners(_name_key(name)) if isinstance(name, str) else None
        if owners is None:
            raise KeyError(name)
        return self._value(owners)

    def __iter__(self) -> Iterator[str]:
        return (item.decode("utf-8", "surrogatepass") for item in self.index.items())

    def __len__(self) -> int:
        return len(self.index)


class NameTable(_Names[int]):
    """Name -> the one entry it names."""

    __slots__ = ()

    def _value(self, owners: tuple[int, ...]) -> int:
        return owners[0]


class NameListTable(_Names[tuple[int, ...]]):
    """Name -> every entry it names, in order."""

    __slots__ = ()

    def _value(self, owners: tuple[int, ...]) -> tuple[int, ...]:
        return owners


def _name_key(name: str) -> bytes:
    return name.encode("utf-8", "surrogatepass")


def _latin1_names(symbols: Iterable[str]) -> dict[bytes, str]:
    """Symbol names as the index stores them; a name outside latin-1 equals no knowledge-base symbol."""
    names = list(symbols)
    try:
        return dict(zip(map(str.encode, names, repeat("latin-1")), names, strict=True))
    except UnicodeEncodeError:
        pass
    out: dict[bytes, str] = {}
    for name in names:
        try:
            out[name.encode("latin-1")] = name
        except UnicodeEncodeError:
            continue
    return out


def _import_numpy() -> None:
    """Import numpy without starting OpenBLAS's thread pool (20 ms of CPU; nothing here is linear algebra). The
    variable is set for the import only, unless the user set it, so a host program's own BLAS work is untouched."""
    if "numpy" not in sys.modules and "OPENBLAS_NUM_THREADS" not in os.environ:
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        try:
            import numpy  # noqa: F401 - the pool starts at this import, never later
        finally:
            del os.environ["OPENBLAS_NUM_THREADS"]


def _run_key(data: npt.NDArray[np.uint8], starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp]) -> npt.NDArray[np.uint32]:
    """A hash of each run's length, first four and last four bytes (runs of 4 bytes or more), in _RUN_BITS bits."""
    import numpy as np

    def word(at: npt.NDArray[np.intp]) -> npt.NDArray[np.uint32]:
        w = data[at].astype(np.uint32)
        for k in (1, 2, 3):
            w |= data[at + k].astype(np.uint32) << np.uint32(8 * k)
        return w

    h = word(starts) * np.uint32(0x9E3779B1)
    h ^= word(ends - 4) * np.uint32(0x85EBCA77)
    h ^= (ends - starts).astype(np.uint32) * np.uint32(0xC2B2AE3D)
    h ^= h >> np.uint32(15)
    return h & np.uint32((1 << _RUN_BITS) - 1)
