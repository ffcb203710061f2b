"""Signature database and matcher: data validity, synthetic traps, and real Debian bookworm binaries.

The real binaries come from the fixture corpus (fixtures/build.py extracts the pinned Debian packages under
``<cache>/extract/<package>_<arch>/``). ``LICENSEGATE_DEBIAN_EXTRACT`` may point at another directory laid out
the same way (``<package>_<arch>/`` or ``<package>/``), e.g. a larger hand-made set.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import pickle
import random
import re
import zipfile
from functools import cache
from pathlib import Path

import ahocorasick_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from licensegate import signatures, spdx
from licensegate.errors import LicenseGateError
from licensegate.signatures import CONTENT_KINDS, SignatureDB, _leading_group, _required_literals, _top_level_branches

DB = SignatureDB.load_default()


def _strings(*chunks: bytes, base: int = 0x1000) -> list[tuple[int, bytes]]:
    """One synthetic .rodata: NUL-terminated strings padded with binary noise."""
    return [(base, b"\x01\x02\x00" + b"\x00".join(chunks) + b"\x00\xff\xfe")]


def _ids(matches) -> set[str]:  # type: ignore[no-untyped-def]
    return {m.id for m in matches}


# -- the data -----------------------------------------------------------------------------------------


def test_database_size() -> None:
    assert len(DB.libraries) >= 65


def test_every_entry_has_sources_valid_spdx_and_content_rule() -> None:
    for lib in DB.libraries.values():
        assert lib.sources, lib.id
        assert spdx.is_valid(lib.license), lib.id
        assert any(r.kind in CONTENT_KINDS and not r.supporting for r in lib.rules), lib.id
        for rule in lib.rules:
            if rule.license:
                assert spdx.is_valid(rule.license), rule.qualified_id
        exprs = [lib.license, *(r.license for r in lib.rules if r.license)]
        for expr in exprs:
            for token in re.findall(r"[A-Za-z0-9.\-]+", expr):
                assert not spdx.is_deprecated(token), f"{lib.id}: deprecated SPDX id {token}"


def test_copyleft_tells_are_covered() -> None:
    expected = {
        "ffmpeg-libavcodec": "LGPL-2.1-or-later", "ffmpeg-libavformat": "LGPL-2.1-or-later",
        "ffmpeg-libavutil": "LGPL-2.1-or-later", "ffmpeg-libswscale": "LGPL-2.1-or-later",
        "ffmpeg-libswresample": "LGPL-2.1-or-later", "ffmpeg-libavfilter": "LGPL-2.1-or-later",
        "ffmpeg-libavdevice": "LGPL-2.1-or-later", "ffmpeg-libpostproc": "GPL-2.0-or-later",
        "x264": "GPL-2.0-or-later", "x265": "GPL-2.0-or-later", "lame": "LGPL-2.0-or-later",
        "openvpn": "GPL-2.0-only WITH openvpn-openssl-exception", "busybox": "GPL-2.0-only",
        "ghostscript": "AGPL-3.0-or-later", "mupdf": "AGPL-3.0-or-later", "poppler": "GPL-2.0-only OR GPL-3.0-only",
        "readline": "GPL-3.0-or-later", "gmp": "LGPL-3.0-or-later OR GPL-2.0-or-later", "gnutls": "LGPL-2.1-or-later",
        "nettle": "LGPL-3.0-or-later OR GPL-2.0-or-later", "libiconv": "LGPL-2.1-or-later", "glib": "LGPL-2.1-or-later",
        "libvlc": "LGPL-2.1-or-later", "libvlccore": "LGPL-2.1-or-later",
        "javascriptcore": "LGPL-2.0-or-later AND BSD-2-Clause", "espeak-ng": "GPL-3.0-or-later",
        "libstdcxx": "GPL-3.0-or-later WITH GCC-exception-3.1", "libcxx": "Apache-2.0 WITH LLVM-exception",
        "zstd": "BSD-3-Clause OR GPL-2.0-only", "freetype": "FTL OR GPL-2.0-or-later",
    }
    for lib_id, licence in expected.items():
        assert DB.libraries[lib_id].license == licence, lib_id
    ffmpeg = [lib for lib in DB.libraries.values() if lib.project == "FFmpeg"]
    assert len(ffmpeg) == 8
    for lib in ffmpeg:
        prio = {r.license: r.priority for r in lib.rules if r.kind == "licence-string" and not r.supporting}
        assert prio["LicenseRef-FFmpeg-nonfree"] > prio["GPL-3.0-or-later"] > prio["LGPL-3.0-or-later"]
        assert prio["LGPL-3.0-or-later"] > prio["GPL-2.0-or-later"] > prio["LGPL-2.1-or-later"]


def test_common_permissive_and_ml_libraries_present() -> None:
    for lib_id in [
        "openssl-libcrypto", "openssl-libssl", "boringssl", "sqlite", "sqlcipher", "zlib", "libpng", "libjpeg-turbo",
        "libwebp", "libvpx", "dav1d", "opus", "libogg", "libvorbis", "harfbuzz", "icu", "curl", "nghttp2", "c-ares",
        "protobuf", "flatbuffers", "nodejs", "hermes", "v8", "flutter-engine", "dart-aot", "tflite", "onnxruntime",
        "ncnn", "mnn", "paddle-lite", "pytorch-mobile", "executorch", "llama-cpp", "ggml", "mediapipe", "opencv",
        "realm", "mono", "unity", "react-native", "skia", "libuv", "lz4", "brotli", "xz-liblzma", "libxml2", "expat",
        "libsodium", "mbedtls", "webrtc", "grpc",
    ]:
        assert lib_id in DB.libraries, lib_id
    assert DB.libraries["tflite"].ml_runtime and not DB.libraries["zlib"].ml_runtime


def test_generic_licences_valid() -> None:
    assert DB.generic
    for g in DB.generic:
        assert g.sources and spdx.is_valid(g.spdx)
        assert g.literal.strip().upper() != "GPL"


# -- loader validation --------------------------------------------------------------------------------

_GOOD = """
[[library]]
id = "demo"
name = "Demo"
project = "Demo"
license = "MIT"
sources = ["https://example.org/demo.c"]
[[library.rule]]
id = "identity"
kind = "identity-string"
literal = "demo library v1"
"""


def _load(tmp_path: Path, text: str) -> SignatureDB:
    path = tmp_path / "demo.toml"
    path.write_text(text)
    return SignatureDB.from_files([path])


def test_loader_accepts_minimal(tmp_path: Path) -> None:
    db = _load(tmp_path, _GOOD)
    assert db.match(strings=_strings(b"demo library v1.2"))[0].license == "MIT"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('license = "MIT"', 'license = "MIT-ish"'), "unknown licence id"),
        (lambda t: t.replace('name = "Demo"', 'name = "Demo"\ncolour = "red"'), "unknown keys"),
        (lambda t: t + 'strenght = "weak"\n', "unknown keys"),
        (lambda t: t.replace('kind = "identity-string"', 'kind = "guess"'), "kind must be"),
        (lambda t: t.replace('literal = "demo library v1"', 'literal = "GPL"'), "literal"),
        (lambda t: t.replace('sources = ["https://example.org/demo.c"]', "sources = []"), "sources"),
        (lambda t: t.replace('kind = "identity-string"\nliteral = "demo library v1"', 'kind = "filename"\nregex = "demo"'),
         "content rule"),
        (lambda t: t + 'version = "no group"\n', "one group"),
        (lambda t: t + "[[library]\n", "TOML error"),
    ],
)
def test_loader_rejects(tmp_path: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LicenseGateError) as info:
        _load(tmp_path, edit(_GOOD))
    assert message in str(info.value)
    assert "demo.toml" in str(info.value)


def test_loader_names_the_entry(tmp_path: Path) -> None:
    with pytest.raises(LicenseGateError, match=r"demo\.toml: library 'demo'"):
        _load(tmp_path, _GOOD.replace('license = "MIT"', 'license = "Nope"'))


def test_load_default_is_cached() -> None:
    assert SignatureDB.load_default() is DB


def test_the_prefilters_of_the_database_patterns_are_those_it_was_compiled_with() -> None:
    """Every name and version pattern's literal prefilter as main c7c5a1e computed it (tests/data), and as the
    compiled database stores it for the patterns still in the data files."""
    recorded = json.loads((Path(__file__).parent / "data" / "signature_prefilters.json").read_text("utf-8"))
    want = {p: tuple((anchored, lit) for anchored, lit in needs) for p, needs in recorded["prefilters"].items()}
    assert len(want) > 300
    assert {p: _required_literals(p) for p in want} == want
    stored = {lazy.pattern: lazy._needs for lib in DB.libraries.values() for rule in lib.rules
              for lazy in (rule.regex, rule.version) if lazy is not None}
    assert {p: n for p, n in stored.items() if p in want} == {p: n for p, n in want.items() if p in stored}


@pytest.mark.parametrize(("pattern", "branches", "groups"), [
    # (pattern, top-level branches, the index after each branch's leading group: _leading_group(branch, 0))
    (r"a|b", ["a", "b"], [0, 0]),
    (r"(a|b)|c", ["(a|b)", "c"], [0, 0]),  # a | in a group splits nothing
    (r"[|(]x|y", ["[|(]x", "y"], [0, 0]),  # nor in a class, where ( opens no group
    (r"\|a|b", [r"\|a", "b"], [0, 0]),  # nor escaped
    (r"[\]|]|z", [r"[\]|]", "z"], [0, 0]),  # an escaped ] does not close the class
    (r"\\|q", [r"\\", "q"], [0, 0]),  # an escaped backslash escapes nothing after it
    (r"((a)|b)?c|d", ["((a)|b)?c", "d"], [8, 0]),  # an optional group, nested
    (r"(a[)]b)?c", ["(a[)]b)?c"], [8]),  # a ) in a class closes no group
    (r"(^|/)lib|x", ["(^|/)lib", "x"], [5, 0]),
    (r"(?:a|b)c|d", ["(?:a|b)c", "d"], [0, 0]),  # an extension group is no leading group
    (r"(a)b", ["(a)b"], [0]),  # a group that must match is none either
    (r"a||b", ["a", "", "b"], [0, 0, 0]),
    (r"(unclosed|x", ["(unclosed|x"], [0]),
])
def test_top_level_branches_and_leading_groups(pattern: str, branches: list[str], groups: list[int]) -> None:
    assert _top_level_branches(pattern) == branches
    assert [_leading_group(b, 0) for b in branches] == groups


# -- synthetic traps ----------------------------------------------------------------------------------

X264_BANNER = (b"x264 - core %d%s - H.264/MPEG-4 AVC codec - Copy%s 2003-2022 - http://www.videolan.org/x264.html"
               b" - options: %s")


def test_decoder_sei_string_is_not_x264() -> None:
    assert "x264" not in _ids(DB.match(strings=_strings(b"x264 - core %d", b"libx264 H.264 encoder")))


def test_x264_banner_is_x264() -> None:
    (m,) = [m for m in DB.match(strings=_strings(X264_BANNER), symbols=["x264_encoder_open_164"]) if m.id == "x264"]
    assert m.license == "GPL-2.0-or-later" and m.confidence == "high" and m.version == "164"
    assert m.role == "primary"


def test_ffmpeg_lgpl_build() -> None:
    (m,) = DB.match(strings=_strings(b"libavcodec license: LGPL version 2.1 or later", b"FFmpeg video codec #1"))
    assert m.id == "ffmpeg-libavcodec" and m.license == "LGPL-2.1-or-later" and m.confidence == "high"


def test_ffmpeg_priority_nonfree_beats_gpl() -> None:
    (m,) = DB.match(strings=_strings(b"libavutil license: GPL version 3 or later",
                                     b"libavutil license: nonfree and unredistributable"))
    assert m.license == "LicenseRef-FFmpeg-nonfree" and spdx.family(m.license) == "nonfree"
    assert m.evidence[0].rule == "ffmpeg-libavutil/licence-nonfree"


def test_ffmpeg_without_licence_string_becomes_gpl_with_embedded_x264() -> None:
    matches = {m.id: m for m in DB.match(strings=_strings(b"FFmpeg video codec #1", X264_BANNER))}
    av = matches["ffmpeg-libavcodec"]
    assert av.license == "GPL-2.0-or-later"
    assert any(e.kind == "embedded-component" and e.rule.endswith("gpl-if-embedded:x264") for e in av.evidence)
    alone = DB.match(strings=_strings(b"FFmpeg video codec #1"))[0]
    assert alone.license == "LGPL-2.1-or-later"


def test_configure_line_alone_identifies_nothing() -> None:
    assert DB.match(strings=_strings(b"--prefix=/usr --enable-gpl --enable-nonfree")) == []


def test_configure_line_sets_licence_when_ffmpeg_is_there() -> None:
    (m,) = DB.match(strings=_strings(b"--prefix=/x --enable-gpl --enable-libx264", b"Huffyuv FFmpeg variant"))
    assert m.license == "GPL-2.0-or-later"


def test_lone_gpl_is_not_evidence() -> None:
    strings = _strings(b"GPL", b"LGPL", b"license=GPL", b"GPL v2", b"GPLv2")
    assert DB.match_generic(strings) == []
    assert DB.match(strings=strings) == []


def test_generic_texts() -> None:
    found = dict(DB.match_generic(_strings(b"see https://www.gnu.org/licenses/old-licenses/lgpl-2.1.html",
                                           b"This is free software under the GNU General Public License")))
    assert set(found) == {"LGPL-2.1-or-later", "GPL-2.0-or-later"}
    ev = found["LGPL-2.1-or-later"]
    assert ev.kind == "licence-string" and ev.rule == "generic/url-old-lgpl-2.1"


def test_generic_spdx_ids_need_word_boundaries() -> None:
    assert DB.match_generic(_strings(b"SPDX-License-Identifier: LGPL-2.0-only")) == []
    (hit,) = DB.match_generic(_strings(b"LGPL-2.0-only", b"License: GPL-2.0-only."))
    assert hit[0] == "GPL-2.0-only"


def test_evidence_offset_and_text_are_member_based() -> None:
    prefix = b"\x00" * 37 + b"junk\x00"
    data = prefix + b"BusyBox is copyrighted by many authors between 1998-2015.\nLicensed under GPLv2. See source distribution for detailed\x00"
    (m,) = DB.match(strings=[(4096, data)], member="lib/arm64-v8a/libbusybox.so", filename="libbusybox.so")
    assert m.id == "busybox" and m.license == "GPL-2.0-only"
    lic = next(e for e in m.evidence if e.kind == "licence-string")
    assert lic.member == "lib/arm64-v8a/libbusybox.so"
    assert lic.text.startswith("BusyBox is copyrighted") and "\\n" in lic.text
    assert data[lic.offset - 4096:].startswith(b"Licensed under GPLv2")  # offset of the hit itself


def test_long_string_is_trimmed() -> None:
    long = b"A" * 500 + b" GLib version too new (major mismatch) " + b"B" * 500
    (m,) = DB.match(strings=_strings(long))
    assert len(m.evidence[0].text) <= 210 and "GLib version too new" in m.evidence[0].text


def test_false_join_across_binary_bytes_is_discarded() -> None:
    # "GLib version too new" split by a non-printable byte must not match.
    assert DB.match(strings=_strings(b"GLib version too\x01 new (major mismatch)")) == []


def test_filename_only_is_low_and_weak_content_plus_name_is_medium() -> None:
    (m,) = DB.match(strings=[], filename="libavcodec.so")
    assert m.confidence == "low" and m.role == "primary"
    (m,) = DB.match(strings=_strings(b"basic_string::_M_create"))
    assert m.id == "libstdcxx" and m.confidence == "low" and spdx.family(m.license) == "permissive"
    (m,) = DB.match(strings=_strings(b"dav1d-worker"), names=["libdav1d.so.6"])
    assert m.confidence == "medium" and m.role == "primary"


def test_roles_primary_and_embedded() -> None:
    matches = {m.id: m for m in DB.match(
        strings=_strings(b" deflate 1.2.13 Copyright 1995-2022 Jean-loup Gailly and Mark Adler ", b"SQLite format 3"),
        names=["libsqlite3.so"], filename="libsqlite3.so")}
    assert matches["sqlite"].role == "primary" and matches["zlib"].role == "embedded"
    assert matches["zlib"].version == "1.2.13"


def test_symbols_exact_and_prefix() -> None:
    matches = _ids(DB.match(strings=[], symbols=["_ZN4ncnn3Net10load_paramEPKc", "OrtGetApiBase", "unrelated"]))
    assert {"ncnn", "onnxruntime"} <= matches


_SYMBOL_RULES = """
[[library]]
id = "demo"
name = "Demo"
project = "Demo"
license = "MIT"
sources = ["https://example.org/demo.c"]
[[library.rule]]
id = "open"
kind = "symbol"
exact = "demo_open"
version = 'demo_open(\\d*)'
[[library.rule]]
id = "cxx"
kind = "symbol"
prefix = "_ZN4demo"
version = '_ZN4demo(\\d+)'
[[library.rule]]
id = "cxx-core"
kind = "symbol"
prefix = "_ZN4demo4core"
version = '_ZN4demo4core(\\d+)'
[[library.rule]]
id = "so"
kind = "soname"
regex = '^libdemo\\.so'
[[library.rule]]
id = "file"
kind = "filename"
regex = 'demo'
"""


def _reference_symbol_hits(db: SignatureDB, symbols: list[str]) -> list[tuple[str, str, str | None]]:
    """What the symbol rules hit, by their definition: each rule's first accepting symbol, in symbol order."""
    found: dict[str, tuple[str, str, str | None]] = {}
    for sym in symbols:
        rules = [*db._symbol_exact.get(sym, ()), *(r for p, rs in db._symbol_prefix.items() if sym.startswith(p) for r in rs)]
        for r in rules:
            if r.qualified_id not in found:
                m = r.version.search(sym) if r.version else None
                found[r.qualified_id] = (r.qualified_id, sym, m.group(1) if m else None)
    return list(found.values())


def test_symbol_rules_take_each_rules_first_symbol(tmp_path: Path) -> None:
    """The first symbol a rule accepts is its evidence and gives its version, whatever the symbols around it,
    names holding a NUL or a prefix that is the start of another included."""
    db = _load(tmp_path, _SYMBOL_RULES)
    (m,) = db.match(strings=[], symbols=["x", "_ZN4demo4core7", "demo_open", "_ZN4demo12", "demo_open"])
    assert [(e.rule, e.text) for e in m.evidence] == [
        ("demo/cxx", "_ZN4demo4core7"), ("demo/cxx-core", "_ZN4demo4core7"), ("demo/open", "demo_open")]
    assert m.version == "4"  # the first hit with a version: cxx on _ZN4demo4core7 ("4" from "4core")
    pool = ["demo_open", "demo_open2", "_ZN4demo", "_ZN4demo4core", "_ZN4demo9x", "_ZN4dem", "a\0_ZN4demo1",
            "_ZN4demo4core1\0", "", "demo_ope", "_ZN4demo4core22", "zzz", "\0demo_open"]
    rng = random.Random(15)
    for _ in range(3000):
        symbols = rng.choices(pool, k=rng.randint(0, 12))
        got = [(h.rule.qualified_id, h.evidence.text, h.version) for h in db._symbol_hits(symbols).values()]
        assert got == _reference_symbol_hits(db, symbols), symbols


def test_name_rules_on_soname_and_file_name(tmp_path: Path) -> None:
    db = _load(tmp_path, _SYMBOL_RULES)
    (m,) = db.match(strings=[], symbols=["demo_open"], names=["libdemo.so.1"], filename="lib/arm64-v8a/libdemo.so")
    assert [(e.rule, e.text) for e in m.evidence] == [
        ("demo/open", "demo_open"), ("demo/so", "libdemo.so.1"), ("demo/file", "libdemo.so")]
    (m,) = db.match(strings=[], symbols=["demo_open"], names=["libdem.so", "libdemo.so"], filename="x/ademo")
    assert [(e.rule, e.text) for e in m.evidence] == [
        ("demo/open", "demo_open"), ("demo/so", "libdemo.so"), ("demo/file", "ademo")]
    (m,) = db.match(strings=[], symbols=["demo_open"], names=["libdemox.so"], filename="libx.so")
    assert [e.rule for e in m.evidence] == ["demo/open"]


def test_memoryview_input() -> None:
    data = bytearray(b"\x00libpostproc license: GPL version 2 or later\x00")
    (m,) = DB.match(strings=[(0, memoryview(data))])
    assert m.id == "ffmpeg-libpostproc" and m.evidence[0].offset == 1


# -- real Debian bookworm binaries --------------------------------------------------------------------


def _load_fixture_corpus():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("fixture_corpus", Path(__file__).with_name("fixture_corpus.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def _extract_root() -> Path:
    env = os.environ.get("LICENSEGATE_DEBIAN_EXTRACT")
    if env:
        return Path(env)
    fc = _load_fixture_corpus()
    fc.corpus_dir()  # builds (downloads and extracts) the pinned packages; a failed build fails the test
    return Path(fc.cache_dir()) / "extract"


def _binary(package: str, pattern: str, arch: str = "arm64") -> Path:
    root = _extract_root()
    for d in (root / f"{package}_{arch}", root / package):
        if d.is_dir():
            for p in sorted(d.rglob(pattern)):
                if p.is_file() and not p.is_symlink() and p.read_bytes()[:4] == b"\x7fELF":
                    return p
    pytest.fail(f"{package}: no {pattern} under {root}")


def _elf_inputs(path: Path) -> tuple[list[tuple[int, bytes]], list[str], list[str]]:
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    strings: list[tuple[int, bytes]] = []
    symbols: list[str] = []
    names: list[str] = []
    with path.open("rb") as fh:
        elf = ELFFile(fh)
        for sec in elf.iter_sections():
            if sec["sh_type"] == "SHT_NOBITS":
                continue
            if sec.name.startswith(".rodata") or sec.name in (".data.rel.ro", ".data"):
                strings.append((sec["sh_offset"], sec.data()))
            if sec.name == ".dynsym":
                symbols += [s.name for s in sec.iter_symbols() if s.name and s["st_shndx"] != "SHN_UNDEF"]
            if isinstance(sec, DynamicSection):
                names += [t.soname for t in sec.iter_tags() if t.entry.d_tag == "DT_SONAME"]
    return strings, symbols, names


REAL = [
    # package, file pattern, library id, licence, arch
    ("libx264-164", "libx264.so.*", "x264", "GPL-2.0-or-later", "arm64"),
    ("libx264-164", "libx264.so.*", "x264", "GPL-2.0-or-later", "armhf"),
    ("libx265-199", "libx265.so.*", "x265", "GPL-2.0-or-later", "arm64"),
    ("libavcodec59", "libavcodec.so.*", "ffmpeg-libavcodec", "GPL-2.0-or-later", "arm64"),
    ("libavformat59", "libavformat.so.*", "ffmpeg-libavformat", "GPL-2.0-or-later", "arm64"),
    ("libavutil57", "libavutil.so.*", "ffmpeg-libavutil", "GPL-2.0-or-later", "arm64"),
    ("libswscale6", "libswscale.so.*", "ffmpeg-libswscale", "GPL-2.0-or-later", "arm64"),
    ("libswresample4", "libswresample.so.*", "ffmpeg-libswresample", "GPL-2.0-or-later", "arm64"),
    ("libpostproc56", "libpostproc.so.*", "ffmpeg-libpostproc", "GPL-2.0-or-later", "arm64"),
    ("busybox", "busybox", "busybox", "GPL-2.0-only", "arm64"),
    ("openvpn", "openvpn", "openvpn", "GPL-2.0-only WITH openvpn-openssl-exception", "arm64"),
    ("libgs10", "libgs.so.*", "ghostscript", "AGPL-3.0-or-later", "arm64"),
    ("libpoppler126", "libpoppler.so.*", "poppler", "GPL-2.0-only OR GPL-3.0-only", "arm64"),
    ("libreadline8", "libreadline.so.*", "readline", "GPL-3.0-or-later", "arm64"),
    ("libgmp10", "libgmp.so.*", "gmp", "LGPL-3.0-or-later OR GPL-2.0-or-later", "arm64"),
    ("libnettle8", "libnettle.so.*", "nettle", "LGPL-3.0-or-later OR GPL-2.0-or-later", "arm64"),
    ("libgnutls30", "libgnutls.so.*", "gnutls", "LGPL-2.1-or-later", "arm64"),
    ("libglib2.0-0", "libglib-2.0.so.*", "glib", "LGPL-2.1-or-later", "arm64"),
    ("libvlc5", "libvlc.so.*", "libvlc", "LGPL-2.1-or-later", "arm64"),
    ("libvlccore9", "libvlccore.so.*", "libvlccore", "LGPL-2.1-or-later", "arm64"),
    ("libmp3lame0", "libmp3lame.so.*", "lame", "LGPL-2.0-or-later", "arm64"),
    ("libespeak-ng1", "libespeak-ng.so.*", "espeak-ng", "GPL-3.0-or-later", "arm64"),
    ("libstdc++6", "libstdc++.so.6.*", "libstdcxx", "GPL-3.0-or-later WITH GCC-exception-3.1", "arm64"),
    ("libzstd1", "libzstd.so.*", "zstd", "BSD-3-Clause OR GPL-2.0-only", "arm64"),
    ("libzstd1", "libzstd.so.*", "zstd", "BSD-3-Clause OR GPL-2.0-only", "armhf"),
    ("zlib1g", "libz.so.*", "zlib", "Zlib", "arm64"),
    ("zlib1g", "libz.so.*", "zlib", "Zlib", "armhf"),
    ("libsqlite3-0", "libsqlite3.so.*", "sqlite", "blessing", "arm64"),
    ("libpng16-16", "libpng16.so.*", "libpng", "Libpng", "arm64"),
    ("libjpeg62-turbo", "libjpeg.so.*", "libjpeg-turbo", "IJG AND BSD-3-Clause AND Zlib", "arm64"),
    ("libwebp7", "libwebp.so.*", "libwebp", "BSD-3-Clause", "arm64"),
    ("libssl3", "libcrypto.so.*", "openssl-libcrypto", "Apache-2.0", "arm64"),
    ("libssl3", "libssl.so.*", "openssl-libssl", "Apache-2.0", "arm64"),
    ("libvpx7", "libvpx.so.*", "libvpx", "BSD-3-Clause", "arm64"),
    ("libdav1d6", "libdav1d.so.*", "dav1d", "BSD-2-Clause", "arm64"),
    ("libopus0", "libopus.so.*", "opus", "BSD-3-Clause", "arm64"),
]


@pytest.mark.parametrize(("package", "pattern", "lib_id", "licence", "arch"), REAL,
                         ids=[f"{r[2]}-{r[4]}" for r in REAL])
def test_real_debian_binary(package: str, pattern: str, lib_id: str, licence: str, arch: str) -> None:
    path = _binary(package, pattern, arch)
    strings, symbols, names = _elf_inputs(path)
    matches = {m.id: m for m in DB.match(strings=strings, symbols=symbols, names=names, filename=path.name,
                                         member=path.name)}
    assert lib_id in matches, f"{path}: found {sorted(matches)}"
    m = matches[lib_id]
    assert m.license == licence
    assert m.confidence == "high"
    assert m.role == "primary"
    assert any(e.kind in ("identity-string", "licence-string", "symbol") for e in m.evidence)
    for e in m.evidence:
        assert e.member == path.name
        if e.offset is not None:  # offsets are file offsets of real bytes
            with path.open("rb") as fh:
                fh.seek(e.offset)
                assert fh.read(4) in e.text.encode("latin-1", "replace")


def test_real_ffmpeg_libavcodec_is_not_x264() -> None:
    # libavcodec carries "x264 - core %d" (SEI parsing) and imports x264_encoder_open_164: neither is x264.
    path = _binary("libavcodec59", "libavcodec.so.*")
    strings, symbols, names = _elf_inputs(path)
    ids = _ids(DB.match(strings=strings, symbols=symbols, names=names, filename=path.name))
    assert "x264" not in ids and "x265" not in ids
    assert any(b"x264 - core %d\x00" in bytes(d) for _, d in strings)


def test_real_x264_version_and_ffmpeg_versions() -> None:
    path = _binary("libx264-164", "libx264.so.*")
    strings, symbols, names = _elf_inputs(path)
    (m,) = [m for m in DB.match(strings=strings, symbols=symbols, names=names) if m.id == "x264"]
    assert m.version == "164"
    path = _binary("libavutil57", "libavutil.so.*")
    strings, symbols, names = _elf_inputs(path)
    (m,) = DB.match(strings=strings, symbols=symbols, names=names)
    assert m.version and m.version.startswith("5.1")


def _fresh_db() -> SignatureDB:
    """A copy of the packaged database as a new process loads it: no automaton built yet, nothing scanned."""
    return pickle.loads(pickle.dumps(DB))


def test_the_nfa_and_the_dfa_give_the_same_answers_on_real_libraries(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process scans its first 2 MiB with the NFA and the rest with the DFA: the same automaton reports, and the
    same libraries, evidence and generic licence texts, whichever one a section meets."""
    from licensegate.binary import read_elf
    from test_wild import wild_dir

    sections = []
    for app in ("wild-av.apk", "wild-debian.apk"):
        with zipfile.ZipFile(wild_dir() / app) as apk:
            for name in sorted(n for n in apk.namelist() if n.endswith(".so")):
                info = read_elf(apk.read(name), name)
                sections.append((name, [(base, bytes(region[: 2 << 20])) for base, region in info.strings]))
    answers = []
    for after in (1 << 62, 0):
        monkeypatch.setattr(signatures, "_DFA_AFTER", after)
        db = _fresh_db()
        answers.append([(db._matcher(0).find_matches_as_indexes(region, overlapping=True),
                         db.match_all(strings=[(base, region)], member=name))
                        for name, strings in sections for base, region in strings])
        assert ("_dfa" in db.__dict__, "_nfa" in db.__dict__) == (after == 0, after != 0)
    nfa, dfa = answers
    assert nfa == dfa
    assert sum(len(reports) for reports, _ in nfa) > 1000 and sum(len(found) for _, (found, _) in nfa) > 40


@settings(max_examples=300, deadline=None)
@given(data=st.lists(st.sampled_from([lit.encode() for lit, _, _ in DB._literals[:40]] + [b"\0", b"x", b"\xff", b"GPL"]),
                     max_size=40).map(b"".join))
def test_the_nfa_and_the_dfa_report_the_same_matches(data: bytes) -> None:
    nfa, dfa = (ahocorasick_rs.BytesAhoCorasick([lit.encode() for lit, _, _ in DB._literals], implementation=impl)
                for impl in (ahocorasick_rs.Implementation.ContiguousNFA, ahocorasick_rs.Implementation.DFA))
    assert nfa.find_matches_as_indexes(data, overlapping=True) == dfa.find_matches_as_indexes(data, overlapping=True)


def test_a_new_cache_format_is_compiled_again_though_the_digest_is_remembered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("LICENSEGATE_NO_CACHE", raising=False)
    monkeypatch.setattr(signatures, "_default_db", functools.cache(signatures._default_db.__wrapped__))
    first = signatures._default_db()
    monkeypatch.setattr(signatures, "_CACHE_FORMAT", signatures._CACHE_FORMAT + 1000)
    signatures._default_db.cache_clear()
    again = signatures._default_db()
    assert again.fingerprint != first.fingerprint
    assert len(list((tmp_path / "licensegate").glob("signatures-*.pickle"))) == 2
