"""Small zip members are inflated from the one read of their local header (archive._small_entry); whatever is wrong
with one (a bad CRC-32, a size that lies, a cut or damaged stream, a damaged local header) is found and reported
exactly as by the member's stream, which reads every member when the fast path is off."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licensegate import archive
from licensegate.archive import Walk
from licensegate.errors import LicenseGateError, MemberError

Outcome = tuple[str, int, str, object]


@contextmanager
def _streams_only() -> Iterator[None]:
    """Every member read through its _EntryStream, as before the fast path."""
    saved = archive._small_entry
    archive._small_entry = lambda source, info: None  # type: ignore[assignment]
    try:
        yield
    finally:
        archive._small_entry = saved


def _walk(path: Path) -> list[Outcome | tuple[str, str]]:
    """What a scan sees of each member: its head and its bytes (or the error reading them), then the problems."""
    seen: list[Outcome | tuple[str, str]] = []
    walk = Walk(path)
    try:
        for member in walk:
            try:
                data: object = member.read()
            except MemberError as exc:
                data = str(exc)
            seen.append((member.path, member.size, member.head().hex(), data))
    except LicenseGateError as exc:
        seen.append(("refused", str(exc)))
    return seen + [(p.path, p.problem + ": " + p.detail) for p in walk.problems]


def _both_ways(path: Path) -> tuple[object, object]:
    fast = _walk(path)
    with _streams_only():
        return fast, _walk(path)


def _zip(entries: list[tuple[str, bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data, method in entries:
            zf.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data, compress_type=method)
    return buf.getvalue()


_CONTENT = st.one_of(st.binary(max_size=300), st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=4),
                                                        st.integers(1, 30_000)))  # up to 120 KB: both sides of 64 KiB


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.tuples(_CONTENT, st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])),
                        min_size=1, max_size=4),
       damage=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3),
       cut=st.none() | st.integers(0, 10**6))
def test_small_members_read_as_their_streams_read_them(tmp_path: Path, entries: list[tuple[bytes, int]],
                                                       damage: list[tuple[int, int]], cut: int | None) -> None:
    raw = bytearray(_zip([(f"m{k}", data, method) for k, (data, method) in enumerate(entries)]))
    directory = int.from_bytes(raw[-6:-2], "little")  # the central directory's offset (no archive comment)
    for at, value in damage:  # anywhere in the entries' headers and data, the central directory kept readable
        raw[at % directory] = value
    if cut is not None:  # data cut out of the last entry: a stream that ends early, or a local header cut short
        keep = cut % directory
        raw = raw[:keep] + bytes(directory - keep) + raw[directory:]
    path = tmp_path / "a.zip"
    path.write_bytes(bytes(raw))
    fast, streams = _both_ways(path)
    assert fast == streams


def test_what_is_wrong_with_a_small_member_is_still_said(tmp_path: Path) -> None:
    text = b"licence text " * 100
    good = _zip([("a.txt", text, zipfile.ZIP_DEFLATED), ("b.txt", text, zipfile.ZIP_STORED)])
    bad_crc = bytearray(good)
    bad_crc[good.find(b"PK\x01\x02") + 16] ^= 1  # the central directory's CRC-32 of a.txt
    lying = bytearray(good)
    lying[good.find(b"PK\x01\x02") + 24] -= 1  # a.txt declared one byte shorter than it inflates to
    cut = bytearray(good)
    start, size = 30 + len("a.txt"), zipfile.ZipFile(io.BytesIO(good)).getinfo("a.txt").compress_size
    cut[start + size // 2 : start + size] = bytes(size - size // 2)  # the second half of a.txt's deflate stream
    expect = {bytes(bad_crc): "cannot read member: Bad CRC-32", bytes(lying): "goes on past the 1299 bytes declared",
              bytes(cut): "corrupt: the data ends after"}  # read, then refused; or not even its head inflates
    for data, words in expect.items():
        path = tmp_path / "x.zip"
        path.write_bytes(data)
        fast, streams = _both_ways(path)
        assert fast == streams
        said = [str(row[-1]) for row in fast if row[0] == "a.txt"]
        assert len(said) == 1 and words in said[0], fast
    path.write_bytes(good)
    assert [m[3] for m in _walk(path)] == [text, text]


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_a_local_header_longer_than_the_read_ahead(tmp_path: Path, method: int) -> None:
    """A local extra field past the 1 KiB read with the header: the member still reads (through its stream)."""
    info = zipfile.ZipInfo("a.txt", (2020, 1, 1, 0, 0, 0))
    info.extra = b"\xfe\xca" + (3000).to_bytes(2, "little") + bytes(3000)
    info.compress_type = method
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(info, b"hello " * 50)
    path = tmp_path / "x.zip"
    path.write_bytes(buf.getvalue())
    fast, streams = _both_ways(path)
    assert fast == streams and fast[0][3] == b"hello " * 50  # type: ignore[index]
