"""Build hostile zip archives byte by byte: headers that lie, shared data, methods zipfile would not write so.

`RawEntry` is what goes into one local header and its central-directory record; `write_zip` lays them out, and
`run_measured` runs the CLI in a fresh process under a small wrapper that reports the child's peak RSS
(resource.getrusage of children): a bound to assert, never a timing.
"""

from __future__ import annotations

import bz2
import lzma
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

STORED, DEFLATED, BZIP2, LZMA = 0, 8, 12, 14


@dataclass
class RawEntry:
    name: str
    method: int
    compressed: bytes
    crc: int
    file_size: int  # what the headers declare, true or not
    offset: int | None = None  # point the central record at another entry's local header (shared data)


def compress(method: int, chunks: Iterable[bytes]) -> tuple[bytes, int, int]:
    """(compressed bytes, crc32, true size) of the concatenated chunks, compressed with the zip method."""
    crc, size, out = 0, 0, []
    if method == DEFLATED:
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
    elif method == BZIP2:
        c = bz2.BZ2Compressor(9)
    elif method == LZMA:
        filters = [{"id": lzma.FILTER_LZMA1}]
        c = lzma.LZMACompressor(lzma.FORMAT_RAW, filters=filters)
        props = lzma._encode_filter_properties(filters[0])  # type: ignore[attr-defined]
        out.append(struct.pack("<BBH", 9, 4, len(props)) + props)
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        out.append(chunk if method == STORED else c.compress(chunk))
    if method != STORED:
        out.append(c.flush())
    return b"".join(out), crc, size


def zeros(total: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    block = bytes(chunk)
    while total > 0:
        yield block[: min(chunk, total)]
        total -= chunk


def write_zip(path: Path, entries: list[RawEntry], prefix: bytes = b"") -> Path:
    with path.open("wb") as fh:
        fh.write(prefix)
        offsets = []
        for e in entries:
            if e.offset is not None:
                offsets.append(len(prefix) + e.offset)
                continue
            offsets.append(fh.tell())
            name = e.name.encode("utf-8")
            fh.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0x800, e.method, 0, 0x21, e.crc,
                                 len(e.compressed), e.file_size, len(name), 0) + name)
            fh.write(e.compressed)
        cd_start = fh.tell()
        for e, off in zip(entries, offsets, strict=True):
            name = e.name.encode("utf-8")
            fh.write(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 0x314, 20, 0x800, e.method, 0, 0x21, e.crc,
                                 len(e.compressed), e.file_size, len(name), 0, 0, 0, 0, 0o100644 << 16,
                                 off - len(prefix)) + name)
        cd_size = fh.tell() - cd_start
        n = len(entries)
        fh.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, n, n, cd_size, cd_start - len(prefix), 0))
    return path


_WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.monotonic()\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True, errors='replace')\n"
    "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, round(time.monotonic() - t, 2))\n"
    "sys.stderr.write(p.stderr)\n"
    "sys.stdout.write(p.stdout)\n"
)


@dataclass
class Measured:
    code: int
    peak_kib: int
    seconds: float
    stdout: str
    stderr: str


def run_measured(*args: str, timeout: float = 120) -> Measured:
    """`licensegate ARGS` in a fresh process; its exit code, peak RSS (KiB) and time (reported, never asserted)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    p = subprocess.run([sys.executable, "-c", _WRAPPER, sys.executable, "-m", "licensegate", *args],
                       capture_output=True, text=True, timeout=timeout, env=env)
    first, _, rest = p.stdout.partition("\n")
    code, peak, secs = first.split()
    return Measured(int(code), int(peak), float(secs), rest, p.stderr)


# -- the hostile cases of issue 12, beside real members of an app ------------------------------------------------

MiB = 1 << 20


def repeated_deflate(chunk: bytes, times: int) -> tuple[bytes, int]:
    """A deflate stream of `chunk` repeated `times` times, from one compressed copy (each copy ends in a full flush,
    so it stands alone): gigabytes of output from a few megabytes, built in milliseconds. Returns (data, crc32)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    return block * times + b"\x03\x00", crc


def chunk_with_ratio(ratio: float, size: int = MiB) -> bytes:
    """`size` bytes that deflate about `ratio`:1 (random bytes, then zeros)."""
    import random

    noise = int(size / ratio) - 300
    return random.Random(12).randbytes(noise) + bytes(size - noise)


def app_entries(members: dict[str, bytes]) -> list[RawEntry]:
    out = []
    for name, data in members.items():
        packed, crc, size = compress(DEFLATED, [data])
        out.append(RawEntry(name, DEFLATED, packed, crc, size))
    return out


BZIP2_ZEROS = Path(__file__).parent / "data" / "hostile" / "zeros-2g.bz2"


def build_case(case: str, dest: Path, members: dict[str, bytes], folders: int = 24) -> Path:
    """One hostile case as an APK holding the real `members` too."""
    app = app_entries(members)
    if case == "lying-deflate":  # declares 64 KiB, inflates to 1.5 GiB
        data, crc = repeated_deflate(bytes(MiB), 1536)
        return write_zip(dest, app + [RawEntry("assets/data.bin", DEFLATED, data, crc, 64 * 1024)])
    if case == "lying-bzip2":  # declares 64 KiB, inflates to 2 GiB (a 100-byte bzip2 stream, tests/data/hostile)
        return write_zip(dest, app + [RawEntry("assets/data.bin", BZIP2, BZIP2_ZEROS.read_bytes(), 0, 64 * 1024)])
    if case == "under-ratio":  # an honest 1.9 GB member at 195:1, just under --max-ratio 200 and --max-member-size 2g
        data, crc = repeated_deflate(chunk_with_ratio(195), 1812)
        return write_zip(dest, app + [RawEntry("assets/big.bin", DEFLATED, data, crc, 1812 * MiB)])
    if case == "coreml-folders":  # compiled Core ML folders of 60 MiB each (24: 1.4 GiB)
        data, crc = repeated_deflate(chunk_with_ratio(100), 60)
        meta, mcrc, msize = compress(DEFLATED, [b'[{"shortDescription": "hostile"}]'])
        files = []
        for i in range(folders):
            files.append(RawEntry(f"assets/m{i}.mlmodelc/coremldata.bin", DEFLATED, data, crc, 60 * MiB))
            files.append(RawEntry(f"assets/m{i}.mlmodelc/metadata.json", DEFLATED, meta, mcrc, msize))
        return write_zip(dest, app + files)
    if case == "overlapping":  # 15,000 central records sharing one 1 MiB kernel that inflates to 150 MiB; each
        # declares 1 MiB, so neither the ratio nor the total-size limit sees anything
        data, crc = repeated_deflate(chunk_with_ratio(150), 150)
        kernel = RawEntry("assets/k0.bin", DEFLATED, data, crc, MiB)
        shared = [RawEntry(f"assets/k{i}.bin", DEFLATED, data, crc, MiB, offset=0) for i in range(1, 15_000)]
        return write_zip(dest, [kernel] + app + shared)
    raise ValueError(case)


CASES = ("lying-deflate", "lying-bzip2", "under-ratio", "coreml-folders", "overlapping")
