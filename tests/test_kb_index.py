"""The knowledge base's compiled form: an exact item index read in place, a cache that is rebuilt when damaged, and a
missing or corrupt data file as a one-line error with its own exit code."""

from __future__ import annotations

import random
import re
import zipfile
import zlib
from pathlib import Path

import pytest

from licensegate import knowledge, scan
from licensegate.cli import main
from licensegate.errors import DataError
from licensegate.kb_index import CorruptIndex, ItemIndex, NameListTable, NameTable
from test_knowledge import FOO_STRINGS, FOO_SYMBOLS, _entry, _kb, _section

# Two strings with the same CRC-32 (the classic pair).
COLLIDING = (b"plumless", b"buckeroo")


def test_lookup_is_exact_with_owners() -> None:
    items = {b"GNU Lesser General Public License": [5], b"libfoo: cannot frobnicate": [1 << 2 | 1, 7 << 2 | 2]}
    ix = ItemIndex(ItemIndex.serialise(items))
    found = ix.lookup([b"libfoo: cannot frobnicate", b"libfoo: cannot frobnicat", b"other", b"libfoo: cannot frobnicate"])
    assert found == {b"libfoo: cannot frobnicate": (1 << 2 | 1, 7 << 2 | 2)}
    assert sorted(ix.items()) == sorted(items)
    assert ix.min_len == len(b"libfoo: cannot frobnicate")
    assert ItemIndex(ItemIndex.serialise({})).lookup([b"x"]) == {}


def test_crc_collisions_are_told_apart_by_their_bytes() -> None:
    a, b = COLLIDING
    assert zlib.crc32(a) == zlib.crc32(b)
    ix = ItemIndex(ItemIndex.serialise({a: [1]}))
    assert ix.lookup([b]) == {}
    both = ItemIndex(ItemIndex.serialise({a: [1], b: [2]}))
    assert both.lookup([a, b]) == {a: (1,), b: (2,)}


def test_damaged_index_is_refused() -> None:
    buf = ItemIndex.serialise({b"some distinctive string": [4]})
    with pytest.raises(CorruptIndex):
        ItemIndex(buf[:-1])
    with pytest.raises(CorruptIndex):
        ItemIndex(b"XXXX" + buf[4:])
    with pytest.raises(CorruptIndex):
        ItemIndex(buf[:10])


def _printable_runs(data: bytes, min_len: int) -> list[bytes]:
    return re.findall(rb"[\x20-\x7e]{%d,}" % min_len, data)


def _hostile_samples() -> list[bytes]:
    """Runs at every position against the numpy pass's chunk edges: printable bytes at both ends of the range
    (0x20, 0x7e), their neighbours outside it (0x1f, 0x7f, 0xff), NUL, runs shorter and longer than an item."""
    rnd = random.Random(15)
    alphabet = b"\x00\x1f\x20Aa~\x7e\x7f\x80\xff"
    samples = [b"", b"A", b"\x00", b"ABCDEFGH", b"\xffABCDEFGH\xff", b"~" * 100]
    for _ in range(150):
        samples.append(bytes(rnd.choice(alphabet) for _ in range(rnd.randrange(1, 200))))
        samples.append(b"\x00".join(bytes(rnd.choice(b"ab ~") for _ in range(rnd.randrange(12))) for _ in range(20)))
    return samples


def test_numpy_runs_are_the_regex_runs_across_chunk_edges() -> None:
    # An item of one byte: no run-key filter; one of 300: no run is too long to be one.
    ix = ItemIndex(ItemIndex.serialise({b"a": [1], b"x" * 300: [2]}))
    for data in _hostile_samples():
        want = _printable_runs(data, 1)
        for chunk in (1, 2, 3, 7, 64, 1 << 22):
            assert ix._numpy_runs(data, chunk) == want, (data, chunk)
        assert ix._numpy_runs(memoryview(data), 5) == want


def test_numpy_runs_keep_every_item_and_drop_only_non_items() -> None:
    items = {b"libfoo: cannot frobnicate": [4], b"~~~~~~~~": [5], b"ab ab ab": [6], b"a" * 9: [7]}
    ix = ItemIndex(ItemIndex.serialise(items))
    rnd = random.Random(16)
    for data in _hostile_samples():
        pieces = [data]
        for _ in range(4):
            pieces += [rnd.choice([b"\0", b"\xff", b"\n", b"abc"]), rnd.choice(list(items))]
        data = b"".join(pieces)
        want = _printable_runs(data, ix.min_len)
        for chunk in (1, 3, 8, 1 << 22):
            got = ix._numpy_runs(data, chunk)
            assert ix.lookup(got) == ix.lookup(want), (data, chunk)
            assert set(got) <= set(want)


def test_numpy_runs_find_the_same_knowledge_base_strings_in_real_libraries(corpus: Path) -> None:
    from licensegate.binary import read_elf

    ix = knowledge.load_default().strings
    blobs = []
    for app in ("gpl-player.apk", "clean-app.apk"):
        with zipfile.ZipFile(corpus / app) as apk:
            blobs += [apk.read(n) for n in apk.namelist() if n.endswith(".so")]
    found = 0
    for blob in blobs:
        for _, region in read_elf(blob, "lib.so").strings:
            want = ix.lookup(_printable_runs(bytes(region), ix.min_len))
            assert ix.lookup(ix._numpy_runs(region)) == want
            assert ix.lookup(ix.runs_in(bytes(region))) == want
            found += len(want)
    assert found > 20


def _foo_kb() -> knowledge.KnowledgeBase:
    return _kb(_entry("foo", FOO_STRINGS, FOO_SYMBOLS, sonames=("libfoo.so.1",)))


def _ids(kb: knowledge.KnowledgeBase) -> list[tuple[str, str, str]]:
    found = kb.match(strings=_section([s for s, _ in FOO_STRINGS[:9]]), symbols=[s for s, _ in FOO_SYMBOLS[:3]],
                     soname="libfoo.so.1")
    return [(m.id, m.role, m.confidence) for m in found]


def _same_knowledge(a: knowledge.KnowledgeBase, b: knowledge.KnowledgeBase) -> None:
    """Every entry (in an order that decodes units before their packages), table, item and owner the same."""
    order = list(range(len(b.entries)))
    random.Random(15).shuffle(order)
    assert [a.entries[i] for i in order] == [b.entries[i] for i in order]
    assert list(a.entries) == list(b.entries) and a.entries[-1] == b.entries[-1] and len(a.entries) == len(b.entries)
    assert (a.suite, a.built) == (b.suite, b.built)
    for ta, tb in zip(a.tables(), b.tables(), strict=True):
        assert dict(ta) == dict(tb)
    for ia, ib in ((a.strings, b.strings), (a.symbols, b.symbols)):
        assert bytes(ia.buffer()) == bytes(ib.buffer())


def _damaged_copies(full: bytes) -> list[bytes]:
    """Truncated files, a damaged header, entry offsets, entry pickle, name table and item index."""
    magic, _, n, blob_len, meta_len, head_len = knowledge._COMPILED.unpack_from(full)
    head = knowledge._COMPILED.size
    blob = head + 4 * (n + 1)
    tables = blob + blob_len + meta_len

    def flipped(at: int) -> bytes:
        return full[:at] + bytes([full[at] ^ 0x41]) + full[at + 1 :]

    return [full[:-3], full[: len(full) // 2], full[: head + head_len], b"", b"\0" * 64,
            full[:20] + b"\xff" * 40 + full[60:], flipped(head + 8), flipped(blob + 5), flipped(blob + blob_len // 2),
            flipped(tables + 30), flipped(head + head_len + 3)]


def test_compiled_cache_round_trip_and_damage_is_rebuilt(tmp_path: Path) -> None:
    kb = _kb(_entry("foo", FOO_STRINGS, FOO_SYMBOLS, sonames=("libfoo.so.1", "libföo.so.1")),
             {**_entry("bar", FOO_STRINGS[:3], [], sonames=("libbar.so.2",)), "homepage": "https://bar.example/",
              "units": [{"binary": "bar-plugin.so", "strings": [list(s) for s in FOO_STRINGS[5:9]], "symbols": []}]})
    path = tmp_path / "kb.idx"
    knowledge._save_compiled(kb, path)
    again = knowledge._load_compiled(path, "test")
    assert again is not None
    assert _ids(again) == _ids(kb) == [("debian:foo", "primary", "high")]
    _same_knowledge(again, kb)
    assert again.entries[2].binary == "bar-plugin.so" and again.entries[2].owner == 1
    assert again.sonames["libföo.so.1"] == 0 and again.by_homepage.get("bar.example") == (1,)
    for damaged in _damaged_copies(path.read_bytes()):
        path.write_bytes(damaged)
        assert knowledge._load_compiled(path, "test") is None  # rebuilt by the caller, never a crash


def test_the_compiled_knowledge_base_is_the_data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The packaged knowledge base as a scan loads it (the compiled cache, entries decoded on first use) and as the
    data file says, compared whole; from an empty cache, as on a fresh machine."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("LICENSEGATE_NO_CACHE", raising=False)
    knowledge.load_default.cache_clear()
    try:
        compiled = knowledge.load_default()
    finally:
        knowledge.load_default.cache_clear()
    assert isinstance(compiled.entries, knowledge._CompiledEntries)
    _same_knowledge(compiled, knowledge._parse(knowledge._read_data(knowledge.DATA_FILE), "test"))


@pytest.mark.parametrize("names", [
    {"libz.so.1": (3,), "libföo.so": (0, 7), "x": (1,), "": (2,), "lib\udcffbad.so": (4,), "\u4e2d.so": (5,)},
    {},
])
def test_name_tables_are_the_dicts_they_were_built_from(names: dict[str, tuple[int, ...]]) -> None:
    many, one = NameListTable.build(names), NameTable.build(names)
    assert dict(many) == names and dict(one) == {k: v[0] for k, v in names.items()} and len(one) == len(names)
    for name, value in names.items():
        assert name in one and many[name] == value and one.get(name) == value[0]
    for absent in ("libz.so", "libz.so.1\0", "libfoo.so", "\udcff", "LIBZ.SO.1"):
        assert absent not in many and one.get(absent) is None
        with pytest.raises(KeyError):
            one[absent]


def test_default_knowledge_base_rebuilds_a_corrupt_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("LICENSEGATE_NO_CACHE", raising=False)
    saved: list[Path] = []
    monkeypatch.setattr(knowledge, "_parse", lambda raw, origin: _foo_kb())
    real_save = knowledge._save_compiled
    monkeypatch.setattr(knowledge, "_save_compiled", lambda kb, path: (saved.append(path), real_save(kb, path)))
    knowledge.load_default.cache_clear()
    try:
        first = knowledge.load_default()
        assert len(saved) == 1 and saved[0].parent == tmp_path / "licensegate"
        # An empty cache (a fresh machine): the first load already answers from the file it wrote.
        assert isinstance(first.entries, knowledge._CompiledEntries)
        expected = _ids(first)  # before the file `first` maps is damaged in place below
        assert expected == [("debian:foo", "primary", "high")]
        knowledge.load_default.cache_clear()
        assert _ids(knowledge.load_default()) == expected and len(saved) == 1  # read from the cache
        saved[0].write_bytes(saved[0].read_bytes()[:100])
        knowledge.load_default.cache_clear()
        assert _ids(knowledge.load_default()) == expected and len(saved) == 2  # rebuilt
    finally:
        knowledge.load_default.cache_clear()


def test_missing_knowledge_base_is_a_one_line_error_with_its_own_exit_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], corpus: Path) -> None:
    monkeypatch.setattr(knowledge, "DATA_FILE", "no-such-kb.json.xz")
    knowledge.load_default.cache_clear()
    try:
        with pytest.raises(DataError, match=r"native knowledge base .*no-such-kb\.json\.xz is missing") as exc:
            knowledge.load_default()
        assert exc.value.exit_code == 4 and "\n" not in str(exc.value)
        app = tmp_path / "app.apk"
        with zipfile.ZipFile(corpus / "clean-app.apk") as src, zipfile.ZipFile(app, "w") as dst:
            for name in ("AndroidManifest.xml", "lib/arm64-v8a/libapp_clean.so"):
                dst.writestr(name, src.read(name))
        assert main(["scan", str(app)]) == 4
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "no-such-kb.json.xz" in err, err
    finally:
        knowledge.load_default.cache_clear()


@pytest.mark.parametrize("data", [
    b"xxCopyright (c) 2000 Foo\0\xc2\xa9 2001 Bar Baz\nCOPYRIGHT 2002 Qux Inc.",
    b"CopyrightCopyright Copyright 1999 X" * 300,
    b"Copyright\0" * 1000 + b"Copyright (C) 2003 Late Author",
])
def test_copyright_lines_as_the_regex_finds_them(data: bytes) -> None:
    from licensegate.licence_files import copyright_lines

    texts = [m.group(0).decode("utf-8", "replace") for m in scan._COPYRIGHT_BYTES.finditer(data)][:200]
    assert scan._binary_copyrights([(0, data)]) == copyright_lines(texts)[:20]


def test_copyright_sign_is_found_where_bytes_find_finds_it() -> None:
    rnd = random.Random(17)
    sign = b"\xc2\xa9"
    samples = [b"", b"\xa9", b"\xa9\xc2", sign, b"\xa9" + sign, b"\xa9" * 300 + sign + b"\xa9" * 5 + sign,
               b"\xc2" * 3 + b"\xa9" * 600 + b"x" + sign]
    samples += [bytes(rnd.choice(b"\xc2\xa9 a") for _ in range(rnd.randrange(1, 900))) for _ in range(300)]
    for data in samples:
        for start in {0, 1, 2, len(data) // 2, len(data)}:
            assert scan._find_mark(data, sign, start) == data.find(sign, start), (data, start)
        assert list(scan._copyright_marks(data)) == [m.start() for m in re.finditer(b"(?=Copyright|COPYRIGHT|\xc2\xa9)", data)]
