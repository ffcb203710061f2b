"""The compiled passes (licensegate._accel) give exactly the answers of the pure-Python path they replace, on
generated hostile input and on the real knowledge base over real libraries; a damaged index never makes them read
out of bounds. LICENSEGATE_EXPECT_ACCEL=1 (set by .ci/run) makes a missing extension a failure, not a skip."""

from __future__ import annotations

import contextlib
import os
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licensegate import binary, kb_index, knowledge, macho
from licensegate.kb_index import ItemIndex

T = TypeVar("T")
COLLIDING = (b"plumless", b"buckeroo")  # the same CRC-32
EXPECT = os.environ.get("LICENSEGATE_EXPECT_ACCEL") == "1"


def test_the_extension_is_built_where_it_is_expected() -> None:
    if not EXPECT:
        pytest.skip("LICENSEGATE_EXPECT_ACCEL is not 1: a build without a C compiler runs the Python path")
    assert kb_index.ACCEL is not None, "licensegate._accel did not build (or LICENSEGATE_NO_ACCEL is set)"


# Tests of the pure-Python path alone, which run without the extension too.
_PYTHON_ONLY = {"test_the_extension_is_built_where_it_is_expected", "test_a_namespace_of_digits_only_is_no_scope"}


@pytest.fixture(autouse=True)
def _needs_accel(request: pytest.FixtureRequest) -> None:
    if request.node.name not in _PYTHON_ONLY and kb_index.ACCEL is None:
        pytest.skip("licensegate._accel is not built (set LICENSEGATE_EXPECT_ACCEL=1 to make this a failure)")


@contextmanager
def _python_path() -> Iterator[None]:
    """The pure-Python path, as without the extension (LICENSEGATE_NO_ACCEL=1)."""
    saved = kb_index.ACCEL
    kb_index.ACCEL = None
    try:
        yield
    finally:
        kb_index.ACCEL = saved


def _both(fn: Callable[[], T]) -> tuple[T, T]:
    compiled = fn()
    with _python_path():
        return compiled, fn()


# -- printable runs and their items ----------------------------------------------------------------------------

ITEMS = [b"libfoo: cannot frobnicate", b"~~~~~~~~", b"ab ab ab", b"a" * 9, *COLLIDING, b"x" * 40, b" " * 8]
_PIECE = st.one_of(
    st.sampled_from(ITEMS),
    st.binary(max_size=12),
    st.sampled_from([b"\0", b"\x1f", b"\x7f", b"\x80", b"\xff", b"\n", b" ", b"~"]),
    st.builds(lambda item, cut: item[:cut], st.sampled_from(ITEMS), st.integers(0, 40)),  # an item's prefix
)


def _index(items: list[bytes]) -> ItemIndex:
    return ItemIndex(ItemIndex.serialise({s: [k << 2 | 1, 7] for k, s in enumerate(items)}))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(_PIECE, max_size=30), items=st.lists(st.sampled_from(ITEMS), min_size=0, max_size=8),
       skip=st.integers(0, 5))
def test_items_in_a_region_are_those_of_the_python_path(pieces: list[bytes], items: list[bytes], skip: int) -> None:
    ix = _index(items)
    data = b"".join(pieces)
    for region in (data, memoryview(data)[skip:], bytearray(data)):
        compiled, python = _both(lambda r=region: ix.items_in(r))  # type: ignore[misc]
        assert compiled == python, (data, items)
        assert all(type(s) is bytes for s in compiled)


def test_runs_at_the_buffer_edges_of_exactly_the_shortest_and_longest_item() -> None:
    ix = _index([b"12345678", b"y" * 30])
    for data in (b"12345678", b"12345678\0" + b"y" * 30, b"y" * 30 + b"\x7f12345678", b"y" * 31, b"1234567",
                 b"\x80" + b"y" * 30 + b"\x80", b"\x1f12345678\x7f"):
        compiled, python = _both(lambda d=data: ix.items_in(d))  # type: ignore[misc]
        assert compiled == python == ix.lookup(kb_index.re.findall(rb"[\x20-\x7e]{8,}", data)), data
    assert ix.items_in(b"\x0012345678\xff" + b"y" * 30) == {b"12345678": (1, 7), b"y" * 30: (5, 7)}


def test_every_run_is_found_wherever_it_lies_against_the_8_byte_words() -> None:
    # The compiled pass skips 8-byte words with no 4 printable bytes at offsets 0-3 or 4-7: a run of every length
    # at every offset, before and after other runs and at both ends of the buffer, with the shortest item either
    # side of 7 (below it, every byte is looked at).
    for shortest in (6, 7, 8, 9):
        filler = b"F" * shortest
        for length in range(1, 20):
            run = bytes(0x21 + (k * 7) % 0x5d for k in range(length))  # printable, unlike any other run here
            ix = _index([filler, run])
            for offset in range(16):
                for data in (b"\x80" * offset + run,
                             b"\x01" * offset + run + b"\xff" * (offset % 5),
                             filler + b"\0" * (offset + 1) + run + b"\x7f" + filler,
                             b"ab\x1f" * offset + run + b"\n" + b"c" * (offset % 9)):
                    compiled, python = _both(lambda d=data, x=ix: x.items_in(d))  # type: ignore[misc]
                    assert compiled == python, (shortest, length, offset, data)
                    assert run in compiled, (shortest, length, offset, data)


_MIXED = st.lists(st.one_of(st.binary(max_size=24), st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e),
                                                            max_size=40).map(str.encode)), max_size=24)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=_MIXED, shortest=st.integers(1, 12), pick=st.integers(0, 2**16))
def test_the_runs_of_mixed_data_are_those_of_the_python_path(pieces: list[bytes], shortest: int, pick: int) -> None:
    data = b"".join(pieces)
    runs = kb_index.re.findall(rb"[\x20-\x7e]+", data)
    items = [r for k, r in enumerate(runs) if len(r) >= shortest and (pick >> (k % 16)) & 1] + [b"~" * shortest]
    ix = _index(items)
    compiled, python = _both(lambda: ix.items_in(data))
    assert compiled == python, (data, items)
    assert set(compiled) == {r for r in runs if r in items}


def test_crc_collisions_are_told_apart_by_their_bytes() -> None:
    a, b = COLLIDING
    assert zlib.crc32(a) == zlib.crc32(b)
    only_a = _index([a])
    assert only_a.items_in(b"\0" + b + b"\0") == {} and only_a.lookup([b]) == {}
    both = _index([a, b])
    assert both.items_in(a + b"\0" + b) == {a: (1, 7), b: (5, 7)}
    assert both.lookup([b, a, b"plumles"]) == {a: (1, 7), b: (5, 7)}


@settings(max_examples=300, deadline=None)
@given(candidates=st.lists(st.one_of(st.sampled_from(ITEMS), st.binary(max_size=30)), max_size=40),
       items=st.lists(st.sampled_from(ITEMS), max_size=8))
def test_lookup_is_that_of_the_python_path(candidates: list[bytes], items: list[bytes]) -> None:
    ix = _index(items)
    compiled, python = _both(lambda: ix.lookup(candidates))
    assert compiled == python
    compiled, python = _both(lambda: ix.lookup(iter(candidates)))  # any iterable, as before
    assert compiled == python


NAMES = ["foo_init", "caf\xe9_init", "caf\u0113_init", "\u20ac", "\xff" * 9, "", "plumless", "buckeroo"]


@settings(max_examples=300, deadline=None)
@given(names=st.lists(st.one_of(st.sampled_from(NAMES), st.text(max_size=10)), max_size=30),
       items=st.lists(st.sampled_from(NAMES[:2] + NAMES[4:]), max_size=6))
def test_names_are_looked_up_by_their_latin1_bytes(names: list[str], items: list[str]) -> None:
    """Symbol names as str: a name outside latin-1 ("caf\u0113_init", "\u20ac") equals no item."""
    ix = _index([s.encode("latin-1") for s in items])
    compiled, python = _both(lambda: ix.lookup_latin1(names))
    assert compiled == python
    assert set(compiled) == set(names) & set(items)
    assert all(type(s) is str for s in compiled)


def _arrays(ix: ItemIndex) -> list[Any]:
    return [ix._hashes, ix._offsets, ix._bitmap, ix._blob, ix._mask]


def test_a_damaged_index_never_reads_out_of_bounds() -> None:
    accel = kb_index.ACCEL
    ix = _index(ITEMS)
    hashes, offsets, bitmap, blob, mask = _arrays(ix)
    region = b"\0".join(ITEMS)
    assert len(accel.run_items(region, hashes, offsets, bitmap, blob, mask, 8)) == len(ITEMS)
    with pytest.raises(ValueError):
        accel.run_items(region, hashes, offsets[:-1], bitmap, blob, mask, 8)  # offsets not n + 1
    with pytest.raises(ValueError):
        accel.lookup(ITEMS, hashes[1:], offsets, bitmap, blob, mask)
    with pytest.raises(ValueError):
        accel.run_items(region, hashes, offsets, bitmap[:-1], blob, mask, 8)  # the mask reaches past the bitmap
    with pytest.raises(ValueError):
        accel.lookup(ITEMS, hashes, offsets, bitmap, blob, 1 << 62)
    with pytest.raises(TypeError):
        accel.lookup([1], hashes, offsets, bitmap, blob, mask)
    # Offsets past the blob, decreasing or huge: those items equal nothing, the others are still found.
    bad = bytearray(offsets.tobytes())
    bad[4:8] = (0xFFFFFFF0).to_bytes(4, "little" if kb_index.sys.byteorder == "little" else "big")
    found = accel.run_items(region, hashes, bytes(bad), bitmap, blob, mask, 8)
    assert 0 < len(found) < len(ITEMS)
    assert accel.run_items(region, hashes, offsets, bitmap, blob[:5], mask, 8) == []
    assert accel.run_items(b"", hashes, offsets, bitmap, blob, mask, -5) == []


def test_the_real_knowledge_base_over_real_libraries() -> None:
    """Every string section of a few of the wild corpus's libraries (the first 4 MB of each), and the raw first 2 MB
    of each file: the same items and owners both ways, and the same symbols."""
    from licensegate.binary import read_elf
    from test_wild import wild_dir

    kb = knowledge.load_default()
    blobs = []
    for app in ("wild-debian.apk", "wild-av.apk", "wild-pyext.apk"):
        with zipfile.ZipFile(wild_dir() / app) as apk:
            names = sorted(n for n in apk.namelist() if n.endswith(".so"))
            blobs += [apk.read(n) for n in names[:: max(1, len(names) // 6)]]
    found = symbols = 0
    for blob in blobs:
        info = read_elf(blob, "lib.so")
        regions = [region[: 4 << 20] for _, region in info.strings] + [blob[: 2 << 20]]
        for region in regions:
            compiled, python = _both(lambda r=region: kb.strings.items_in(r))  # type: ignore[misc]
            assert compiled == python
            found += len(compiled)
        compiled_symbols, python_symbols = _both(lambda n=info.symbols: kb.symbols.lookup_latin1(n))  # type: ignore[misc]
        assert compiled_symbols == python_symbols
        symbols += len(compiled_symbols)
    assert len(blobs) >= 12 and found > 1000 and symbols > 1000


# -- C++ scopes --------------------------------------------------------------------------------------------------

_MANGLED = st.one_of(
    st.sampled_from(["_Z", "_ZN", "_ZNK", "_ZNrVKO", "_ZTV", "_ZTVN", "_ZTIN", "_ZTSN", "_ZTN", "_ZNSt", "N", "E",
                     "\n", "\r", "\0", "_", "__", "_A", "_a", "A", "x", " "]),
    st.integers(0, 120).map(str),  # lengths, with leading zeros ("0", "05") and past 99
    st.text(alphabet="abcXYZ_09.\n", max_size=12),
    st.text(max_size=3),  # anything, non-ASCII included (the regex path then)
)
_SYMBOL = st.lists(_MANGLED, max_size=12).map("".join)


@settings(max_examples=1500, deadline=None)
@given(symbols=st.lists(_SYMBOL, max_size=8))
def test_cxx_scopes_are_those_of_the_regex(symbols: list[str]) -> None:
    compiled, python = _both(lambda: knowledge.cxx_scopes(symbols))
    assert compiled == python, symbols


def test_cxx_scopes_at_the_edges_of_a_source_name() -> None:
    symbols = ["_ZN9OpenBabel10MOL2Format10ReadMoleculeEv", "_ZTVN2cv3MatE", "_ZN1a1b", "_ZN1a1", "_ZN99" + "n" * 99 + "1x",
               "_ZN99" + "n" * 98, "_ZN3foo12012345678901", "_ZN10abcdefghij1x\n_ZN2ab2cd", "_ZN3a\nb1x", "_ZN03foo3bar",
               "_ZN100" + "n" * 100 + "1x", "_ZN_ZN3foo3bar", "\n\n", "", "_ZNKRO3foo3bar", "_ZTSN3foo3bar", "_ZN2_A1x",
               "_ZN2_a1x", "_ZN1_1x", "_ZN3foo", "_ZN1a9bc"]
    compiled, python = _both(lambda: knowledge.cxx_scopes(symbols))
    assert compiled == python
    assert compiled == ["OpenBabel::MOL2Format", "cv::Mat", "a::b", "n" * 99 + "::x", "foo::", "abcdefghij::x",
                        "ab::cd", "foo::bar", "foo::bar", "_a::x", "_::x"]


def test_a_namespace_of_digits_only_is_no_scope(corpus: Path, tmp_path: Path) -> None:
    """A hostile binary's export "_ZN12" + 12 digits + "1a": its namespace has no name once its digits are gone (the
    scan used to stop with an internal error, IndexError, exit code 3)."""
    from licensegate.binary import read_elf
    from licensegate.cli import main

    hostile = "_ZN12" + "3" * 12 + "1a"
    symbols = [hostile, "_ZN3foo3bar"]
    with _python_path():
        assert knowledge.cxx_scopes(symbols) == ["foo::bar"]
    if kb_index.ACCEL is not None:
        assert knowledge.cxx_scopes(symbols) == ["foo::bar"]
    # The same name exported by a real library (another export of the same length renamed in its string table).
    name = "lib/arm64-v8a/libavcodec.so"
    with zipfile.ZipFile(corpus / "gpl-player.apk") as apk:
        manifest, data = apk.read("AndroidManifest.xml"), apk.read(name)
    old = next(s for s in read_elf(data, name).symbols if len(s) == len(hostile)).encode()
    data = data.replace(b"\0" + old + b"\0", b"\0" + hostile.encode() + b"\0", 1)
    assert hostile in read_elf(data, name).symbols
    app = tmp_path / "app.apk"
    with zipfile.ZipFile(app, "w") as out:
        out.writestr("AndroidManifest.xml", manifest)
        out.writestr(name, data)
    for path in (_python_path, contextlib.nullcontext):
        with path():
            assert main(["scan", str(app), "--format", "json", "--output", str(tmp_path / "r.json")]) == 1  # GPL


def test_cxx_scopes_of_real_libraries() -> None:
    from licensegate.binary import read_elf
    from test_wild import wild_dir

    total = 0
    for app in ("wild-debian.apk", "wild-opencv.apk"):
        with zipfile.ZipFile(wild_dir() / app) as apk:
            for name in sorted(n for n in apk.namelist() if n.endswith(".so")):
                symbols = list(read_elf(apk.read(name), name).symbols)
                compiled, python = _both(lambda s=symbols: knowledge.cxx_scopes(s))  # type: ignore[misc]
                assert compiled == python, name
                total += len(compiled)
    assert total > 10000


# -- DEX class data ----------------------------------------------------------------------------------------------


def _uleb(value: int, width: int = 0) -> bytes:
    """value as ULEB128 in at least `width` bytes (padded with continuation bytes, as some dexers write)."""
    out = bytearray()
    while True:
        out.append(value & 0x7F)
        value >>= 7
        if not value and len(out) >= width:
            return bytes(out)
        out[-1] |= 0x80


# (value, width): mostly minimal encodings, some padded, a few of 6 bytes (past the limit of a value read)
_WIDE = st.tuples(st.integers(0, 300) | st.integers(0, 2**35 - 1), st.sampled_from([0] * 12 + [2, 5, 6]))


@st.composite
def _class_data(draw: st.DrawFn) -> bytes:
    """A class_data_item whose counts match what follows, or, often, one that lies: a cut, a changed byte."""
    fields = [draw(st.lists(_WIDE, max_size=3)) for _ in range(2)]
    methods = [draw(st.lists(st.tuples(_WIDE, _WIDE, _WIDE), max_size=4)) for _ in range(2)]
    counts = [len(fields[0]), len(fields[1]), len(methods[0]), len(methods[1])]
    if draw(st.integers(0, 7)) == 0:
        counts[draw(st.integers(0, 3))] = draw(st.integers(0, 2**35 - 1))
    data = b"".join(_uleb(c, draw(_WIDE)[1]) for c in counts)
    data += b"".join(_uleb(v, w) for group in fields for item in group for v, w in (item, (0, 1)))
    data += b"".join(_uleb(v, w) for group in methods for method in group for v, w in method)
    if data and draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
    return data[: draw(st.integers(0, len(data)))] if draw(st.integers(0, 5)) == 0 else data


def _dex(class_data: list[bytes], offsets: list[int | None]) -> bytes:
    """A dex of class defs only: class i's data at the offset given (an absolute one; None: its class data, laid
    out after the table), the class data blobs back to back at the end."""
    from licensegate.android.dex import _ENDIAN_CONSTANT, _HEADER, _HEADER_SIZE

    defs_off = _HEADER_SIZE
    at = defs_off + 32 * len(offsets)
    starts = []
    for blob in class_data:
        starts.append(at)
        at += len(blob)
    table = b"".join(bytes(24) + (starts[k % len(starts)] if off is None and starts else off or 0).to_bytes(4, "little")
                     + bytes(4) for k, off in enumerate(offsets))
    body = table + b"".join(class_data)
    sizes = [0] * 20
    sizes[16], sizes[17] = len(offsets), defs_off  # class_defs_size, class_defs_off
    sizes[0], sizes[1], sizes[2] = _HEADER_SIZE + len(body), _HEADER_SIZE, _ENDIAN_CONSTANT
    return _HEADER.pack(b"dex\n035\0", 0, bytes(20), *sizes) + body


def _code_items_both_ways(data: bytes) -> tuple[object, object, object]:
    """(the compiled answer or None, what code_items gives with it, what the Python path gives or raises)."""
    from licensegate.android.dex import _DexReader
    from licensegate.errors import MemberError

    def answer(fn: Callable[[], object]) -> object:
        try:
            return fn()
        except (MemberError, IndexError, ValueError) as exc:  # read_dex turns the last two into a MemberError
            return (type(exc).__name__, str(exc))

    reader = _DexReader(data, "classes.dex")
    raw = kb_index.ACCEL.dex_code_items(reader.data, reader.class_defs_off, reader.class_defs_size)
    compiled, python = _both(lambda: answer(reader.code_items))
    return raw, compiled, python


# A class def's class data offset: mostly its own blob (None), sometimes none (0), sometimes anywhere in the file.
_CLASS_DATA_OFF = st.builds(lambda k, at: at if k == 0 else 0 if k == 1 else None, st.integers(0, 9), st.integers(0, 400))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(class_data=st.lists(_class_data(), min_size=1, max_size=4),
       offsets=st.lists(_CLASS_DATA_OFF, min_size=1, max_size=6))
def test_dex_class_data_is_walked_as_the_python_path_walks_it(class_data: list[bytes], offsets: list[int | None]) -> None:
    raw, compiled, python = _code_items_both_ways(_dex(class_data, offsets))
    assert compiled == python
    assert (raw is None) == isinstance(python, tuple)  # None exactly where the Python walk raises


def test_dex_class_data_at_the_limits() -> None:
    five = _uleb(2**35 - 1)  # the largest value 5 bytes hold
    method = _uleb(2**35 - 1) + _uleb(1, 6) + five  # access flags have no length limit
    for blob, expect in (
        (_uleb(0) * 2 + _uleb(1) + _uleb(0) + method, {2**35 - 1: [(0, 2**35 - 1)]}),
        (_uleb(0) * 2 + _uleb(2) + _uleb(0) + method + method, {2**35 - 1: [(0, 2**35 - 1), (0, 2**36 - 2)]}),
        (_uleb(0) * 2 + _uleb(1) + _uleb(0) + method[:-1], "IndexError"),  # code_off cut short
        (_uleb(0) * 2 + _uleb(1) + _uleb(0) + _uleb(1, 6) + _uleb(1) + five, "ValueError"),  # a 6-byte value
        (_uleb(1) + _uleb(0) * 3 + _uleb(5, 6) + _uleb(1, 6), {}),  # fields skipped whatever their length
        (_uleb(2**35 - 1) + _uleb(0) * 3, "MemberError"),  # counts claim more than the bytes hold
        (_uleb(0, 6) + _uleb(0) * 3, "ValueError"),
    ):
        raw, compiled, python = _code_items_both_ways(_dex([blob], [None]))
        assert compiled == python
        assert raw == expect if isinstance(expect, dict) else raw is None and python[0] == expect  # type: ignore[index]
    assert _code_items_both_ways(_dex([], [10**6]))[0] is None  # class data offset past the end
    assert _code_items_both_ways(_dex([], [0, 0]))[0] == {}


def test_class_defs_sharing_one_class_data_item_are_refused_not_walked_again_and_again() -> None:
    """20,000 class defs pointing at one 1,000-method class data item would be a 20-million-entry walk (each class
    def 32 bytes, the item 3 KB): the class data claims more than the file holds, and both paths stop."""
    method = _uleb(1) + _uleb(1) + _uleb(4096)
    blob = _uleb(0) * 2 + _uleb(1000) + _uleb(0) + method * 1000
    raw, compiled, python = _code_items_both_ways(_dex([blob], [None] * 20_000))
    assert raw is None and compiled == python
    assert python[0] == "MemberError" and "shared between classes" in python[1]  # type: ignore[index]
    # a few classes sharing a small item still fit in the file, and are read as before
    small = _uleb(0) * 2 + _uleb(10) + _uleb(0) + method * 10
    raw, compiled, python = _code_items_both_ways(_dex([small], [None] * 3))
    assert compiled == python == raw and len(raw[4096]) == 3 * 10  # type: ignore[index, arg-type]


def test_the_compiled_module_is_used_only_at_the_interface_version_of_the_python_side(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A module built from older sources (an editable install not rebuilt) is not called: the Python path runs."""
    import re
    import sys
    import types

    import licensegate

    source = (Path(kb_index.__file__).parent / "_accel.c").read_text("utf-8")
    declared = re.search(r"^#define ACCEL_API (\d+)$", source, re.M)
    assert declared is not None and int(declared.group(1)) == kb_index.ACCEL_API == kb_index.ACCEL.API
    stale = types.ModuleType("licensegate._accel")
    stale.run_items = kb_index.ACCEL.run_items  # type: ignore[attr-defined]  # no API: before this check existed
    monkeypatch.setitem(sys.modules, "licensegate._accel", stale)
    monkeypatch.setattr(licensegate, "_accel", stale)
    assert kb_index._load_accel() is None
    stale.API = kb_index.ACCEL_API - 1  # type: ignore[attr-defined]
    assert kb_index._load_accel() is None
    stale.API = kb_index.ACCEL_API  # type: ignore[attr-defined]
    assert kb_index._load_accel() is stale


def test_dex_class_data_of_real_apps(corpus: Path) -> None:
    """Every dex of the fixture apps and of the Appium APKs (5 to 16 dex each): the same code items both ways."""
    from licensegate.android.dex import _DexReader
    from test_java_inventory import apk_dir

    apps = [corpus / name for name in ("gpl-player.apk", "traps.apk", "clean-app.apk", "player.aab")]
    apps += sorted(apk_dir().glob("*.apk"))
    methods = 0
    for app in apps:
        with zipfile.ZipFile(app) as zf:
            for name in (n for n in zf.namelist() if n.endswith(".dex")):
                reader = _DexReader(zf.read(name), name)
                compiled, python = _both(reader.code_items)
                assert compiled == python and compiled is not None, (app.name, name)
                methods += sum(map(len, compiled.values()))
    assert methods > 50_000


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096), st.integers(min_value=0, max_value=7))
def test_byte_counts_are_those_of_counter(data: bytes, skip: int) -> None:
    """Every length modulo the four counting lanes, and a memoryview that starts inside the buffer."""
    from licensegate.ml import sniff

    view = memoryview(data)[skip:]
    compiled, python = _both(lambda: (sniff.byte_counts(view), sniff.entropy(view)))
    assert compiled == python
    assert sum(compiled[0]) == len(view)


def test_entropy_of_real_members_is_that_of_the_python_path() -> None:
    """The samples a scan measures: a real library's bytes, all 256 values, and one value only."""
    from licensegate.ml import sniff

    blobs = [Path(sys.executable).resolve().read_bytes(), bytes(range(256)) * 1024, b"\x00" * 70_000]
    for blob in blobs:
        sample = sniff.entropy_sample(blob)
        compiled, python = _both(lambda s=sample: sniff.entropy(s))  # type: ignore[misc]
        assert compiled == python
    assert sniff.entropy(blobs[1]) == 8.0 and sniff.entropy(blobs[2]) == 0.0


# -- symbol names (binary.symbol_names: ELF .dynsym/.symtab, Mach-O nlist) ---------------------------------------

_STRTAB = st.lists(st.one_of(st.sampled_from([b"\0", b"foo", b"caf\xe9", b"\xff\x80", b"_ZN3foo3barEv", b"dlopen"]),
                             st.binary(max_size=8)), max_size=12).map(b"".join)
_KEEPS = st.one_of(st.sampled_from([binary._KEEP_INFO, macho._KEEP, bytes(256), bytes([1]) * 256]),
                   st.lists(st.integers(0, 1), min_size=256, max_size=256).map(bytes))


@st.composite
def _symbol_tables(draw: st.DrawFn) -> tuple[bytes, bytes, int, bool, int, bytes, int, dict[str, None] | None]:
    """A symbol table of whole entries (and a partial one), its string table, and the fields that select names."""
    strtab = draw(_STRTAB)
    entsize = draw(st.sampled_from([12, 16, 24]))
    little = draw(st.booleans())
    offset = st.one_of(st.integers(0, len(strtab) + 2), st.sampled_from([0, len(strtab), 0xFFFFFFFF]),
                       st.integers(0, 0xFFFFFFFF))
    entries = draw(st.lists(st.tuples(offset, st.binary(min_size=entsize - 4, max_size=entsize - 4)), max_size=20))
    table = b"".join(o.to_bytes(4, "little" if little else "big") + rest for o, rest in entries)
    table += draw(st.binary(max_size=entsize - 1))  # a partial last entry is no entry
    keep_at = draw(st.integers(0, entsize - 1))
    defined_at = draw(st.one_of(st.just(-1), st.integers(0, entsize - 2)))
    seen = draw(st.one_of(st.none(), st.lists(st.sampled_from(["", "foo", "caf\xe9", "dlopen"])).map(dict.fromkeys)))
    return table, strtab, entsize, little, keep_at, draw(_KEEPS), defined_at, seen


@settings(max_examples=1500, deadline=None)
@given(case=_symbol_tables(), skip=st.integers(0, 3))
def test_symbol_names_are_those_of_the_python_path(
        case: tuple[bytes, bytes, int, bool, int, bytes, int, dict[str, None] | None], skip: int) -> None:
    table, strtab, entsize, little, keep_at, keep, defined_at, seen = case

    def names() -> tuple[list[str], dict[str, None] | None]:
        mine = None if seen is None else dict(seen)
        got = binary.symbol_names(memoryview(table), memoryview(b"\0" * skip + strtab)[skip:], entsize, little,
                                  keep_at, keep, defined_at, mine)
        return got, mine

    compiled, python = _both(names)
    assert compiled == python
    assert list(map(type, compiled[0])) == [str] * len(compiled[0])
    if seen is not None:  # the names returned are the ones seen gained, in order, each once
        assert compiled[1] is not None and list(compiled[1]) == list(seen) + compiled[0]


def test_symbol_names_at_the_string_table_edges() -> None:
    """Offset 0 and offsets at or past the table name nothing; an unterminated last name runs to the table's end;
    a kept entry at an empty name gives ""; latin-1 keeps every byte."""
    strtab = b"\0foo\0caf\xe9\0\0last"
    offsets = [0, 1, 2, 5, 10, 11, len(strtab) - 1, len(strtab), len(strtab) + 1, 0xFFFFFFFF, 1]
    table = b"".join(o.to_bytes(4, "little") + b"\1" * 12 for o in offsets)
    keep_all = bytes([1]) * 256
    expected = ["foo", "oo", "caf\xe9", "", "last", "t", "foo"]
    compiled, python = _both(lambda: binary.symbol_names(memoryview(table), memoryview(strtab), 16, True, 4,
                                                         keep_all, 6, None))
    assert compiled == python == expected
    compiled, python = _both(lambda: binary.symbol_names(memoryview(table), memoryview(strtab), 16, True, 4,
                                                         keep_all, 6, {"oo": None}))
    assert compiled == python == ["foo", "caf\xe9", "", "last", "t"]
    undefined = b"".join(o.to_bytes(4, "little") + b"\1\1\0\0" + b"\1" * 8 for o in offsets)  # field at 6 is 0
    assert binary.symbol_names(memoryview(undefined), memoryview(strtab), 16, True, 4, keep_all, 6, None) == []


def test_symbols_pointing_into_one_long_string_are_refused_not_made_again_and_again() -> None:
    """20,000 symbols at the successive offsets of one 200,000-byte run would be 4 GB of names (and as many bytes
    read): both paths stop once the names pass eight times the string table, with the same error."""
    from licensegate.errors import MemberError

    strtab = b"\0" + b"A" * 200_000 + b"\0"
    table = b"".join(o.to_bytes(4, "little") + b"\1" * 12 for o in range(1, 20_001))
    keep_all = bytes([1]) * 256
    messages = []
    for path in (contextlib.nullcontext, _python_path):
        with path(), pytest.raises(MemberError) as exc:
            binary.symbol_names(memoryview(table), memoryview(strtab), 16, True, 4, keep_all, 6, None)
        messages.append(str(exc.value))
    assert messages[0] == messages[1] and "more than 2648592 bytes from a 200002-byte string table" in messages[0]
    # a few such symbols stay within the bound and are read as before
    few = table[: 16 * 3]
    compiled, python = _both(lambda: binary.symbol_names(memoryview(few), memoryview(strtab), 16, True, 4, keep_all,
                                                         6, None))
    assert compiled == python == ["A" * 200_000, "A" * 199_999, "A" * 199_998]


def test_symbol_names_refuse_fields_outside_the_entry() -> None:
    accel = kb_index.ACCEL
    keep = bytes(256)
    for entsize, keep_at, defined_at in ((3, 0, -1), (16, 16, -1), (16, -1, -1), (16, 4, 15), (16, 4, -2)):
        with pytest.raises(ValueError):
            accel.symbol_names(b"", b"", entsize, True, keep_at, keep, defined_at, None, 0)
    for bad in (keep[:-1], keep + b"\0", b"\2" + keep[1:]):  # 256 bytes of 0 or 1
        with pytest.raises(ValueError):
            accel.symbol_names(b"", b"", 16, True, 4, bad, 6, None, 0)
    with pytest.raises(TypeError):
        accel.symbol_names(b"", b"", 16, True, 4, keep, 6, [], 0)


def test_symbols_of_real_binaries_are_those_of_the_python_path(real_binaries: list[tuple[str, bytes]]) -> None:
    """Every ELF library of four wild-corpus APKs and every Mach-O of the corpora: the same exported symbols, in the
    same order, both ways."""
    total = 0
    for name, data in real_binaries:
        read = binary.read_elf if data[:4] == b"\x7fELF" else macho.read_macho
        compiled, python = _both(lambda d=data, n=name, r=read: r(d, n).symbols)  # type: ignore[misc]
        assert compiled == python, name
        total += len(compiled)
    assert sum(d[:4] != b"\x7fELF" for _, d in real_binaries) >= 10 and total > 150_000


@pytest.fixture(scope="module")
def real_binaries(corpus: Path) -> list[tuple[str, bytes]]:
    from test_macho_reader import _machos
    from test_wild import wild_dir

    found = []
    for app in ("wild-debian.apk", "wild-av.apk", "wild-pyext.apk", "wild-opencv.apk"):
        with zipfile.ZipFile(wild_dir() / app) as apk:
            found += [(f"{app}!/{n}", apk.read(n)) for n in sorted(apk.namelist()) if n.endswith(".so")]
    found = [(n, d) for n, d in found if d[:4] == b"\x7fELF"]
    return found + list(_machos(corpus)) + list(_machos(wild_dir()))



# -- copyright lines (scan._copyright_texts) ----------------------------------------------------------------------

_TEXT_PIECE = st.one_of(
    st.sampled_from([b"Copyright", b"COPYRIGHT", b"\xc2\xa9", b"\xc2", b"\xa9", b"Copyrigh", b"COPYRIGHt", b"C",
                     b"\0", b"\n", b"\r", b" (c) 2024 Foo", b"abcde", b"\xc3\xa9"]),
    st.binary(max_size=6),
    st.integers(0, 230).map(lambda k: b"x" * k),  # lines at the 6- and 200-byte edges
)


@settings(max_examples=1500, deadline=None)
@given(pieces=st.lists(_TEXT_PIECE, max_size=25), tries=st.integers(0, 12), most=st.integers(0, 6),
       skip=st.integers(0, 3))
def test_copyright_texts_are_those_of_the_python_path(pieces: list[bytes], tries: int, most: int, skip: int) -> None:
    from licensegate import scan

    data = b"".join(pieces)
    for region in (data, memoryview(b"C" * skip + data)[skip:], bytearray(data)):
        compiled, python = _both(lambda r=region: scan._copyright_texts(r, most, tries))  # type: ignore[misc]
        assert compiled == python, (data, tries, most)
    full, _ = _both(lambda: scan._copyright_texts(data, 10**6, 10**6))
    assert full == [m.group(0).decode("utf-8", "replace") for m in scan._COPYRIGHT_BYTES.finditer(data)]


def test_copyright_texts_of_real_binaries(real_binaries: list[tuple[str, bytes]]) -> None:
    """The copyright lines of every string section of the real binaries, and of their first 4 MB as raw bytes (code,
    tables: markers in any context), both ways."""
    from licensegate import scan

    lines = 0
    for name, data in real_binaries:
        info = binary.read_elf(data, name) if data[:4] == b"\x7fELF" else macho.read_macho(data, name)
        for region in [r for _, r in info.strings] + [memoryview(data)[: 4 << 20]]:
            compiled, python = _both(lambda r=region: scan._copyright_texts(r, 200))  # type: ignore[misc]
            assert compiled == python, name
            lines += len(compiled)
        compiled, python = _both(lambda i=info: scan._binary_copyrights(i.strings))  # type: ignore[misc]
        assert compiled == python, name
    assert lines > 500


# -- library file names (binary._so_spans) ---------------------------------------------------------------------------

_SO_PIECE = st.one_of(
    st.sampled_from([b"lib", b"libfoo", b".so", b".so.1", b".so.", b"\0", b".", b"s", b"o", b"c++_shared", b"-", b"+",
                     b" ", b"/", b"\xff", b"9"]),
    st.binary(max_size=4),
    st.integers(110, 125).map(lambda k: b"lib" + b"a" * k),  # names at the 120-character reach
)


@settings(max_examples=1500, deadline=None)
@given(pieces=st.lists(_SO_PIECE, max_size=25), skip=st.integers(0, 3))
def test_library_names_are_those_of_the_python_path(pieces: list[bytes], skip: int) -> None:
    data = b"".join(pieces)
    for region in (memoryview(data), memoryview(b"b" * skip + data)[skip:]):
        compiled, python = _both(lambda r=region: binary._so_spans(r))  # type: ignore[misc]
        assert compiled == python, data
        compiled, python = _both(lambda r=region: binary._library_names([(7, r)]))  # type: ignore[misc]
        assert compiled == python, data


def test_library_names_of_real_binaries(real_binaries: list[tuple[str, bytes]]) -> None:
    """The dlopen names of every real ELF library that calls dlopen, and the spans over their raw first 4 MB."""
    spans = names = 0
    for name, data in real_binaries:
        if data[:4] != b"\x7fELF":
            continue
        regions = binary.read_elf(data, name).strings
        compiled, python = _both(lambda r=regions: binary._library_names(r))  # type: ignore[misc]
        assert compiled == python, name
        names += len(compiled)
        compiled_spans, python_spans = _both(lambda d=data: binary._so_spans(memoryview(d)[: 4 << 20]))  # type: ignore[misc]
        assert compiled_spans == python_spans, name
        spans += len(compiled_spans)
    assert names > 20 and spans > 200
