"""A compact, memory-mappable index of a knowledge base's items (distinctive strings or exported symbols).

The native knowledge base holds about 230,000 strings and 330,000 symbols. As Python dicts they cost 0.4-0.5 CPU-s
to unpickle on every scan that meets native code (measured 2026-12-02), more than the rest of a small scan. This
index is flat arrays instead, read in place from the user cache with ``mmap``, so loading it costs nothing but the
pages a lookup touches:

- ``hashes``: the CRC-32 of every item, sorted (items are stored in this order, so a position is an item id);
- ``offsets`` (n + 1) into ``blob``, which holds the items' bytes back to back;
- ``owner_offsets`` (n + 1) into ``owners``: the packed ``entry << 2 | df`` values of the entries holding the item;
- ``bytemap``: about 64 bytes per item (2^23 for the strings), non-zero where some item's CRC-32 has those low bits.

A lookup runs at C speed over the candidates (``map(crc32)``, an ``itemgetter`` gather from the bytemap and
``itertools.compress``): about 1.5% of a binary's strings pass the bytemap without being items; each candidate is
then confirmed by binary search in ``hashes`` and byte equality with the stored item, so the answer is exact.
"""

from __future__ import annotations

import struct
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import compress, repeat
from operator import and_, itemgetter
from typing import Any

__all__ = ["ItemIndex", "CorruptIndex"]

_MAGIC = b"LGIX"
_HEADER = struct.Struct("=4sIIIII")  # magic, items, blob bytes, owner values, shortest item, bytemap bits
_MIN_BITS, _MAX_BITS = 10, 28


class CorruptIndex(ValueError):
    """A serialised index whose sizes do not add up (a truncated or damaged cache file)."""


class ItemIndex:
    """Exact membership of byte strings in a fixed set, each with its owners, over a buffer (bytes or mmap).

    Arrays are in the machine's byte order: the index lives in this machine's cache, rebuilt from the data file.
    """

    __slots__ = ("n", "min_len", "end", "_view", "_mask", "_hashes", "_offsets", "_owner_offsets", "_owners", "_bytemap", "_blob")

    def __init__(self, buf: Any, pos: int = 0) -> None:
        view = memoryview(buf)
        if len(view) < pos + _HEADER.size:
            raise CorruptIndex("truncated index header")
        magic, n, blob_len, n_owners, min_len, bits = _HEADER.unpack_from(view, pos)
        if magic != _MAGIC or not _MIN_BITS <= bits <= _MAX_BITS:
            raise CorruptIndex("not an item index")
        self.n, self.min_len, self._mask = n, min_len, (1 << bits) - 1
        at = pos + _HEADER.size
        sizes = (4 * n, 4 * (n + 1), 4 * (n + 1), 4 * n_owners, 1 << bits, blob_len)
        if len(view) < at + sum(sizes):
            raise CorruptIndex("truncated index")
        parts = []
        for size in sizes:
            parts.append(view[at : at + size])
            at += size
        self.end = at
        self._view = view[pos:at]
        self._hashes, self._offsets, self._owner_offsets, self._owners = (p.cast("I") for p in parts[:4])
        self._bytemap, self._blob = parts[4], parts[5]
        if self._offsets[n] != blob_len or self._owner_offsets[n] != n_owners:
            raise CorruptIndex("inconsistent index")

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
        # 32 to 64 slots per item: 2-3% of the strings that are not items pass the bytemap.
        bits = min(max((32 * len(order)).bit_length(), _MIN_BITS), _MAX_BITS)
        bytemap = bytearray(1 << bits)
        for h in hashes:
            bytemap[h & ((1 << bits) - 1)] = 1
        min_len = min((len(s) for s in order), default=0)
        header = _HEADER.pack(_MAGIC, len(order), offsets[-1], len(owners), min_len, bits)
        return b"".join((header, hashes.tobytes(), offsets.tobytes(), owner_offsets.tobytes(), owners.tobytes(),
                         bytes(bytemap), *order))

    def lookup(self, candidates: Iterable[bytes]) -> dict[bytes, tuple[int, ...]]:
        """The candidates that are items, each with its owners' packed values."""
        uniq = list(set(candidates))
        if not uniq or not self.n:
            return {}
        slots = list(map(and_, map(zlib.crc32, uniq), repeat(self._mask)))
        marks = itemgetter(*slots)(self._bytemap) if len(slots) > 1 else (self._bytemap[slots[0]],)
        found: dict[bytes, tuple[int, ...]] = {}
        for s in compress(uniq, marks):
            i = self._position(s)
            if i >= 0:
                found[s] = tuple(self._owners[self._owner_offsets[i] : self._owner_offsets[i + 1]])
        return found

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
