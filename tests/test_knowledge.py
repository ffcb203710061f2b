"""The Debian-built knowledge base of native libraries: loading, matching rules, and the DEP-5 reader that built it."""

from __future__ import annotations

import importlib.util
import json
import lzma
from collections import Counter
from pathlib import Path

import pytest

from licensegate import knowledge
from licensegate.errors import LicenseGateError
from licensegate.knowledge import KnowledgeBase, load_path

REPO = Path(__file__).resolve().parent.parent


def _builder():
    spec = importlib.util.spec_from_file_location("build_native_kb", REPO / "scripts" / "build_native_kb.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _entry(source: str, strings: list[tuple[str, int]], symbols: list[tuple[str, int]], licence: str = "GPL-2.0-or-later",
           sonames: tuple[str, ...] = ()) -> dict:
    return dict(source=source, version="1.0", debian_version="1.0-1", homepage=None, license=licence,
                license_confidence="high", license_others=[], machine_readable=True, sonames=list(sonames),
                packages={f"lib{source}1": "1.0-1"}, exported=len(symbols), symbols=[list(s) for s in symbols],
                strings=[list(s) for s in strings])


def _kb(*entries: dict) -> KnowledgeBase:
    return KnowledgeBase({"format": knowledge.FORMAT, "suite": "bookworm", "sources": list(entries)}, "test")


FOO_STRINGS = [(f"foo: cannot frobnicate widget number {i} of the set", 1) for i in range(20)]
FOO_SYMBOLS = [(f"foo_frobnicate_{i}", 1) for i in range(10)]


def _section(strings: list[str]) -> list[tuple[int, bytes]]:
    return [(0x1000, b"\0junk\x01\x02" + b"\0".join(s.encode() for s in strings) + b"\0")]


def test_distinctive_strings_name_the_package_with_evidence() -> None:
    kb = _kb(_entry("foo", FOO_STRINGS, FOO_SYMBOLS))
    found = kb.match(strings=_section([s for s, _ in FOO_STRINGS[:9]]), member="lib/arm64-v8a/libx.so")
    assert [m.id for m in found] == ["debian:foo"]
    m = found[0]
    assert m.license == "GPL-2.0-or-later" and m.confidence == "high" and m.role == "primary"
    texts = [e.text for e in m.evidence]
    assert texts[0].startswith("9 of 20 strings distinctive to Debian source package foo")
    strings = [e for e in m.evidence if e.rule == "debian:foo/string"]
    assert strings and all("[in this package only]" in e.text for e in strings)
    # offsets point at the string's bytes in the member
    raw = _section([s for s, _ in FOO_STRINGS[:9]])[0][1]
    e = strings[0]
    text = e.text.split(" [in ")[0].encode()
    assert e.offset is not None and raw[e.offset - 0x1000 :].startswith(text)
    assert all(e.member == "lib/arm64-v8a/libx.so" for e in m.evidence)


def test_a_few_shared_strings_name_nothing() -> None:
    kb = _kb(_entry("foo", FOO_STRINGS, FOO_SYMBOLS))
    assert kb.match(strings=_section([s for s, _ in FOO_STRINGS[:3]])) == []


def test_strings_must_be_whole_strings_not_substrings() -> None:
    kb = _kb(_entry("foo", FOO_STRINGS, FOO_SYMBOLS))
    glued = ["prefix " + s for s, _ in FOO_STRINGS]
    assert kb.match(strings=_section(glued)) == []


def test_soname_alone_is_never_evidence() -> None:
    kb = _kb(_entry("foo", FOO_STRINGS, FOO_SYMBOLS, sonames=("libfoo.so.1",)))
    assert kb.match(strings=_section(["nothing to see here"]), soname="libfoo.so.1") == []


BAR_STRINGS = [(f"bar: the bar library's own message number {i}", 1) for i in range(20)]


@pytest.mark.parametrize("soname", ["libfoo.so.1", "@rpath/libfoo.3.dylib", "libfoo-5e586eb2.so.1.2.0", "libfoo.so.2.4"])
def test_the_binarys_own_soname_names_the_package_across_versions_and_platforms(soname: str) -> None:
    """Mach-O install names, other versions and auditwheel's renamed sonames compare by their versionless stem."""
    kb = _kb(_entry("foo", FOO_STRINGS, FOO_SYMBOLS, sonames=("libfoo.so.1",)), _entry("bar", BAR_STRINGS, []))
    strings = _section([s for s, _ in FOO_STRINGS[:10]] + [s for s, _ in BAR_STRINGS[:10]])
    assert {m.id: m.role for m in kb.match(strings=strings)} == {"debian:foo": "embedded", "debian:bar": "embedded"}
    found = {m.id: m for m in kb.match(strings=strings, soname=soname)}
    assert found["debian:foo"].role == "primary" and found["debian:bar"].role == "embedded"
    assert any(e.kind == "soname" for e in found["debian:foo"].evidence)


def test_a_soname_stem_two_packages_share_names_neither() -> None:
    kb = _kb(_entry("foo", FOO_STRINGS, FOO_SYMBOLS, sonames=("libfoo.so.1",)),
             _entry("foo2", BAR_STRINGS, [], sonames=("libfoo.so.2",)))
    strings = _section([s for s, _ in FOO_STRINGS[:10]] + [s for s, _ in BAR_STRINGS[:10]])
    assert all(m.role == "embedded" for m in kb.match(strings=strings, soname="@rpath/libfoo.3.dylib"))
    assert {m.id: m.role for m in kb.match(strings=strings, soname="libfoo.so.2")}["debian:foo2"] == "primary"


def test_exported_symbols_name_a_stripped_library() -> None:
    kb = _kb(_entry("foo", FOO_STRINGS, FOO_SYMBOLS))
    found = kb.match(strings=[], symbols=[s for s, _ in FOO_SYMBOLS[:6]] + ["main", "JNI_OnLoad"])
    assert [m.id for m in found] == ["debian:foo"] and found[0].confidence in ("high", "medium")


def test_strings_common_to_several_packages_weigh_less() -> None:
    shared = [(s, 3) for s, _ in FOO_STRINGS]
    kb = _kb(_entry("foo", shared, []))
    # every matched string is in 3 packages: no "unique" evidence, nothing named
    assert kb.match(strings=_section([s for s, _ in shared])) == []


def test_runtime_and_dominance_decide_the_primary() -> None:
    zlib = _entry("zlib", [(f"zlib private message {i} inflate deflate", 1) for i in range(20)], [], licence="Zlib")
    bar = _entry("bar", [(f"bar: the library's own message number {i}", 1) for i in range(20)], [], licence="MIT")
    kb = _kb(zlib, bar)
    # zlib dominates by score but is a runtime piece: embedded, never the name
    found = kb.match(strings=_section([f"zlib private message {i} inflate deflate" for i in range(20)]
                                      + [f"bar: the library's own message number {i}" for i in range(5)]))
    roles = {m.id: m.role for m in found}
    assert roles == {"debian:zlib": "embedded", "debian:bar": "embedded"}
    found = kb.match(strings=_section([f"bar: the library's own message number {i}" for i in range(20)]
                                      + [f"zlib private message {i} inflate deflate" for i in range(4)]))
    assert {m.id: m.role for m in found} == {"debian:bar": "primary", "debian:zlib": "embedded"}


def test_a_licence_read_from_free_text_never_gives_high_confidence() -> None:
    e = _entry("foo", FOO_STRINGS, FOO_SYMBOLS)
    e["license_confidence"] = "low"
    found = _kb(e).match(strings=_section([s for s, _ in FOO_STRINGS]))
    assert found and found[0].license == "GPL-2.0-or-later" and found[0].confidence == "medium"
    assert any("low confidence" in ev.text for ev in found[0].evidence)


def test_unmapped_debian_licence_names_are_shown_not_concluded() -> None:
    e = _entry("foo", FOO_STRINGS, FOO_SYMBOLS, licence="LicenseRef-debian-Hylafax")
    found = _kb(e).match(strings=_section([s for s, _ in FOO_STRINGS]))
    assert found and found[0].license is None
    assert any("LicenseRef-debian-Hylafax" in ev.text for ev in found[0].evidence)


def test_shared_vocabulary_is_not_evidence() -> None:
    names = [(f"NonAuthoritativeInformation{i}", 1) for i in range(20)]
    table = [(" #%'()+,/0234" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i:] , 1) for i in range(20)]
    kb = _kb(_entry("vocab", names + table, []))
    assert kb.match(strings=_section([s for s, _ in names + table])) == []


def test_missing_or_corrupt_knowledge_base_is_a_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "native_kb.json.xz"
    with pytest.raises(LicenseGateError, match=r"native knowledge base .*native_kb.json.xz: cannot read"):
        load_path(missing)
    missing.write_bytes(b"\xfd7zXZ\0garbage")
    with pytest.raises(LicenseGateError, match=r"native knowledge base .*native_kb.json.xz: corrupted") as exc:
        load_path(missing)
    assert "\n" not in str(exc.value)
    missing.write_bytes(lzma.compress(json.dumps({"format": "other"}).encode()))
    with pytest.raises(LicenseGateError, match="not a LicenseGate native knowledge base"):
        load_path(missing)
    missing.write_bytes(lzma.compress(json.dumps({"format": knowledge.FORMAT, "sources": [{"source": "x"}]}).encode()))
    with pytest.raises(LicenseGateError, match="malformed entry 0"):
        load_path(missing)


def test_packaged_knowledge_base_loads_and_is_covered() -> None:
    kb = knowledge.load_default()
    packages = [e for e in kb.entries if e.binary is None]
    assert len(packages) > 300
    cov = json.loads((REPO / "src/licensegate/data/native_kb/coverage.json").read_text())
    assert cov["with_shared_library"] == len(packages)
    assert cov.get("binary_units", 0) == len(kb.entries) - len(packages)
    assert all(kb.entries[e.owner].source == e.source and kb.entries[e.owner].binary is None for e in kb.entries)
    # copyleft libraries apps ship, which the hand-written signatures do not name
    by = {e.source: e for e in packages}
    for source, family in [("lzo2", "GPL-2.0-or-later"), ("libsndfile", "LGPL-2.1-or-later"), ("fftw3", "GPL-2.0-or-later")]:
        assert by[source].license == family, (source, by[source].license)


# -- binary units and C++ scopes --------------------------------------------------------------------------------

PLUGIN_STRINGS = [(f"camera driver: cannot talk to model {i} over the wire", 1) for i in range(12)]


def _with_units(entry: dict, *units: dict) -> dict:
    return {**entry, "units": list(units)}


def test_a_plugin_is_named_by_its_own_items_with_the_package_licence() -> None:
    """A plugin's strings are not among its package's best; its unit names the package, and the evidence says which
    binary of the package matched."""
    unit = dict(binary="canon.so", kind="plugin", strings=[list(s) for s in PLUGIN_STRINGS], symbols=[])
    kb = _kb(_with_units(_entry("foo", FOO_STRINGS, FOO_SYMBOLS, licence="LGPL-2.1-or-later"), unit))
    found = kb.match(strings=_section([s for s, _ in PLUGIN_STRINGS[:6]]), member="lib/arm64-v8a/libcanon.so")
    assert [(m.id, m.license) for m in found] == [("debian:foo", "LGPL-2.1-or-later")]
    texts = [e.text for e in found[0].evidence]
    assert texts[0].startswith("6 of 32 strings distinctive to Debian source package foo")
    assert "6 of 12 strings and 0 of 0 symbols or C++ scopes distinctive to canon.so of Debian foo" in texts
    # without the unit, the same binary is unknown
    assert _kb(_entry("foo", FOO_STRINGS, FOO_SYMBOLS)).match(strings=_section([s for s, _ in PLUGIN_STRINGS[:6]])) == []


def test_a_package_and_its_units_are_one_match_explained_once() -> None:
    unit = dict(binary="libfoo-extra.so.1", kind="library", strings=[list(s) for s in PLUGIN_STRINGS], symbols=[])
    kb = _kb(_with_units(_entry("foo", FOO_STRINGS, FOO_SYMBOLS), unit))
    found = kb.match(strings=_section([s for s, _ in FOO_STRINGS[:9] + PLUGIN_STRINGS[:4]]))
    assert [m.id for m in found] == ["debian:foo"] and found[0].evidence[0].text.startswith("13 of 32 strings")
    # a unit's items are not counted when a signature already named the package
    assert kb.match(strings=_section([s for s, _ in PLUGIN_STRINGS]), known={0}) == []


def test_a_few_items_of_each_of_many_units_do_not_add_up() -> None:
    """Generic strings ("frame is too short") occur in a codec's plugins one or two at a time: only a unit that alone
    carries enough of its own items counts, so many weak units never name a package."""
    units = [dict(binary=f"lib{i}_plugin.so", kind="plugin", symbols=[],
                  strings=[[f"plugin {i} says: message number {j} went wrong", 1] for j in range(6)]) for i in range(10)]
    kb = _kb(_with_units(_entry("vlc", FOO_STRINGS, FOO_SYMBOLS), *units))
    two_of_each = [f"plugin {i} says: message number {j} went wrong" for i in range(10) for j in range(2)]
    assert kb.match(strings=_section(two_of_each)) == []
    assert [m.id for m in kb.match(strings=_section(two_of_each + [f"plugin 3 says: message number {j} went wrong"
                                                                   for j in range(2, 6)]))] == ["debian:vlc"]


def test_cxx_scopes_from_mangled_names() -> None:
    assert knowledge.cxx_scopes([
        "_ZN9OpenBabel10MOL2Format10ReadMoleculeEPNS_6OBBaseEPNS_10OBConversionE",  # method
        "_ZNK9OpenBabel10MOL2Format11DescriptionEv",  # const method
        "_ZTVN9OpenBabel10MOL2FormatE",  # vtable
        "_ZN2cv6imreadERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEi",  # namespace function
        "_ZNSt6vectorIiE9push_backEv", "_Z3fooi", "_ZN12_GLOBAL__N_13fooE", "foo_init", "_ZN3fooC1Ev", "_ZN3foo99x",
        # the C++ runtime's own classes (reserved names), which every statically linked libc++ exports
        "_ZTIN10__cxxabiv116__shim_type_infoE", "_ZN10__cxxabiv119__pointer_type_infoD0Ev",
    ]) == ["OpenBabel::MOL2Format"] * 3 + ["cv::imread"]


def test_cxx_scopes_name_a_library_whose_signatures_changed() -> None:
    """Another version's mangled names differ in their argument types; the classes they belong to do not."""
    scopes = [(f"chem::Format{i}", 1) for i in range(8)]
    unit = dict(binary="formats.so", kind="plugin", strings=[], symbols=[list(s) for s in scopes])
    kb = _kb(_with_units(_entry("chem", FOO_STRINGS, FOO_SYMBOLS, licence="GPL-2.0-only"), unit))
    symbols = [f"_ZN4chem7Format{i}4readEPNS_6ObjectEi" for i in range(6)] + [f"_ZTVN4chem7Format{i}E" for i in range(6)]
    found = kb.match(strings=[], symbols=symbols)
    assert [(m.id, m.license) for m in found] == [("debian:chem", "GPL-2.0-only")]
    assert any(e.text == "chem::Format0 [in this package only]" for e in found[0].evidence)


def test_the_build_keeps_each_binarys_own_best_items() -> None:
    b = _builder()
    lib = dict(path="usr/lib/libfoo.so.1", kind="library", soname="libfoo.so.1",
               strings=[s for s, _ in FOO_STRINGS], symbols=[s for s, _ in FOO_SYMBOLS])
    plugin = dict(path="usr/lib/foo/plugins/canon.so", kind="plugin", soname=None,
                  strings=[s for s, _ in PLUGIN_STRINGS] + [FOO_STRINGS[0][0]],
                  symbols=["_ZN4chem7Format14readEv", "_ZN4chem7Format14sizeEv", "_ZN4chem7Format24readEv", "std_thing"])
    sierra = dict(path="usr/lib/foo/plugins/sierra.so", kind="plugin", soname=None,
                  strings=["sierra: the camera did not answer in time"], symbols=["_ZN4chem7Format14readEv", "sierra_init"])
    libraries = [lib, dict(plugin), dict(plugin, path="usr/lib/foo/plugins2/canon.so"), sierra]
    str_df = Counter({s: 1 for s in lib["strings"] + plugin["strings"] + sierra["strings"]})
    sym_df = Counter({s: 1 for s in lib["symbols"] + plugin["symbols"] + sierra["symbols"]})
    sym_df["std_thing"] = 5
    scope_df = Counter({"chem::Format1": 1, "chem::Format2": 2})
    units = b._binary_units([b._lib_items(x) for x in libraries], set(lib["strings"]), set(lib["symbols"]), str_df, sym_df, scope_df)
    # the library's items are all in the package's list; the plugin (built twice) is one unit, without them; an item
    # two plugins share is in the first one's unit only
    assert [u["binary"] for u in units] == ["canon.so", "sierra.so"]
    assert [s for s, _ in units[0]["strings"]] == sorted((s for s, _ in PLUGIN_STRINGS), key=lambda s: (-len(s), s))
    assert [s for s, _ in units[0]["symbols"]] == ["_ZN4chem7Format14readEv", "_ZN4chem7Format14sizeEv",
                                                   "_ZN4chem7Format24readEv", "chem::Format1", "chem::Format2"]
    assert units[1]["symbols"] == [["sierra_init", 1]]


# -- the DEP-5 reader of the build script ---------------------------------------------------------------------


DEP5 = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: flac

Files: *
Copyright: 2011-2022, Xiph.Org Foundation
License: GPL-2+ or LGPL-2.1+

Files: src/flac/* src/metaflac/*
Copyright: Josh Coalson
License: GPL-2+

Files: include/FLAC/* src/libFLAC/*
Copyright: Josh Coalson
License: BSD-3-clause

Files: debian/*
Copyright: Debian
License: GPL-3+

License: GPL-2+
 This package is free software.
"""


def test_dep5_licence_of_the_library_folder_wins_over_the_default() -> None:
    b = _builder()
    assert b.parse_copyright(DEP5, ["libFLAC.so.12"])["license"] == "BSD-3-Clause"
    r = b.parse_copyright(DEP5, ["libother.so.1"])
    assert r["license"] == "GPL-2.0-or-later OR LGPL-2.1-or-later" and r["confidence"] == "high"
    assert "GPL-3.0-or-later" not in r["others"]  # debian/* is packaging only


@pytest.mark.parametrize(("debian", "spdx"), [
    ("GPL-2", "GPL-2.0-only"), ("GPL-2+", "GPL-2.0-or-later"), ("LGPL-2.1+", "LGPL-2.1-or-later"),
    ("LGPL-3+", "LGPL-3.0-or-later"), ("AGPL-3+", "AGPL-3.0-or-later"), ("Expat", "MIT"), ("BSD-3-clause", "BSD-3-Clause"),
    ("GPL-3+ with GCC-Runtime-Library exception", "GPL-3.0-or-later WITH GCC-exception-3.1"),
    ("BSD-3-clause or GPL-2", "BSD-3-Clause OR GPL-2.0-only"), ("LGPL-2+", "LGPL-2.0-or-later"),
])
def test_debian_short_names_map_to_spdx(debian: str, spdx: str) -> None:
    assert _builder().debian_to_spdx(debian) == (spdx, True)


def test_free_text_copyright_is_low_confidence() -> None:
    r = _builder().parse_copyright("This package was debianized by X.\nIt is licensed under the GNU Lesser General "
                                   "Public License version 2.1 or later.\n", ["libx.so.1"])
    assert r == {"license": "LGPL-2.1-or-later", "confidence": "low", "machine_readable": False, "others": []}
