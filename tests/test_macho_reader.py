"""The struct-level Mach-O reader (macho.py) against LIEF, the oracle, on every real Mach-O of both fixture corpora.

Every slice of every thin or fat Mach-O found in the corpus artifacts (clang-built iOS frameworks and executables)
and in the wild corpus (npm's fat NativeScript and Node.js Mobile frameworks, every slice of the whisper.rn
xcframework) must give the same load commands, install name, linked dylibs, rpaths, encryption id, sections and
defined external symbols as LIEF. Universal static archives (llvm-ar + llvm-lipo) are read slice by slice, and an
XCFramework of them yields a component per slice with the identity of the code inside.
"""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from licensegate.binary import read_ar
from licensegate.cli import main
from licensegate.errors import MemberError
from licensegate.macho import FAT_MAGICS, LINKED_DYLIB, fat_slices, parse_slice, read_macho
from static_archives import build_static_xcframework, have_tools, static_archive
from test_wild import wild_dir

_THIN = (b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe")


def _is_macho(head: bytes) -> bool:
    if head[:4] in _THIN:
        return True
    return head[:4] in FAT_MAGICS and len(head) >= 8 and 0 < struct.unpack(">I", head[4:8])[0] < 30


def _machos(folder: Path) -> Iterator[tuple[str, bytes]]:
    for art in sorted(folder.iterdir()):
        if art.is_file() and zipfile.is_zipfile(art):
            with zipfile.ZipFile(art) as zf:
                for info in zf.infolist():
                    if info.is_dir():
                        continue
                    with zf.open(info) as fh:
                        head = fh.read(8)
                    if _is_macho(head):
                        yield f"{art.name}!/{info.filename}", zf.read(info)


@pytest.fixture(scope="module")
def real_machos(corpus: Path) -> dict[str, bytes]:
    found = dict(_machos(corpus)) | dict(_machos(wild_dir()))
    assert any("NativeScript" in k for k in found) and any("rnwhisper" in k for k in found) and any("ios-app.ipa" in k for k in found)
    return found


def _lief_slices(data: bytes) -> list[object]:
    import lief

    lief.logging.disable()
    fat = lief.MachO.parse(data, lief.MachO.ParserConfig.quick)
    assert fat is not None
    return [fat.at(i) for i in range(fat.size)]


def _oracle(binary: object) -> dict[str, object]:
    """What LIEF reads from one slice, in the reader's terms."""
    b: object = binary
    commands, dylibs, rpaths, install, crypt = [], [], [], None, 0
    for cmd in b.commands:  # type: ignore[attr-defined]
        commands.append((int(cmd.command), cmd.command_offset, cmd.size))
        if int(cmd.command) == 0xD:
            install = cmd.name
        elif int(cmd.command) in LINKED_DYLIB:
            dylibs.append((LINKED_DYLIB[int(cmd.command)], cmd.name))
        elif int(cmd.command) == 0x8000001C:
            rpaths.append(cmd.path)
        elif int(cmd.command) in (0x21, 0x2C):
            crypt = crypt or cmd.crypt_id
    sections = sorted((s.segment_name, s.name, s.offset, s.size) for s in b.sections  # type: ignore[attr-defined]
                      if s.offset and s.size and s.type.value not in (0x1, 0xC, 0x12))
    # the test the scan applied to LIEF's symbols before this reader: N_SECT and N_EXT, a name
    symbols = sorted(str(s.name) for s in b.symbols if (s.raw_type & 0x0E) == 0x0E and s.raw_type & 0x01 and str(s.name))  # type: ignore[attr-defined]
    return dict(commands=commands, install=install, dylibs=dylibs, rpaths=rpaths, crypt=crypt, sections=sections, symbols=symbols)


def _mine(data: bytes, base: int, length: int) -> dict[str, object]:
    mo = parse_slice(data, base, length)
    return dict(
        commands=[(c, off - base, size) for c, off, size in mo.commands],
        install=mo.install_name,
        dylibs=mo.dylibs,
        rpaths=mo.rpaths,
        crypt=mo.crypt_id,
        sections=sorted((s.segment, s.name, s.offset - base, s.size) for s in mo.sections),
        symbols=sorted(mo.symbols),
    )


def test_reader_matches_lief_on_every_real_macho(real_machos: dict[str, bytes]) -> None:
    slices_checked = 0
    for path, data in real_machos.items():
        spans = [(off, length) for _, off, length in fat_slices(data)] if data[:4] in FAT_MAGICS else [(0, len(data))]
        oracle = _lief_slices(data)
        assert len(oracle) == len(spans), path
        for (off, length), binary in zip(spans, oracle, strict=True):
            mine, theirs = _mine(data, off, length), _oracle(binary)
            for key in theirs:
                assert mine[key] == theirs[key], f"{path} slice at {off}: {key} differs from LIEF"
            slices_checked += 1
    assert slices_checked >= 10  # NativeScript alone has four slices


def test_scan_facts_of_the_largest_framework(real_machos: dict[str, bytes]) -> None:
    """What the scan gets from the 49 MB NativeScript framework: every slice's architecture, links and symbols."""
    path, data = next((k, v) for k, v in real_machos.items() if k.endswith("NativeScript.framework/NativeScript"))
    info = read_macho(data, path)
    assert sorted(info.slices) == ["arm64", "armv7", "x86", "x86_64"]
    assert info.soname == "@rpath/NativeScript.framework/NativeScript"
    assert any(n.startswith("/System/Library/Frameworks/") for n in info.needed)
    assert "JSGlobalContextCreate" in info.symbols  # its JavaScriptCore C API, exported
    assert all(len(view) > 0 for _, view in info.strings)
    assert all(off + len(view) <= len(data) for off, view in info.strings)


def test_lief_is_not_imported_by_a_scan(tmp_path: Path, real_machos: dict[str, bytes]) -> None:
    import subprocess
    import sys

    ipa = tmp_path / "a.ipa"
    with zipfile.ZipFile(ipa, "w") as zf:
        for path, data in real_machos.items():
            if path.startswith("ios-app.ipa!/"):
                zf.writestr(path.split("!/", 1)[1], data)
    code = ("import sys; from licensegate.cli import main; rc = main(['scan', sys.argv[1], '--format', 'json', '--output', sys.argv[2]]);"
            " sys.exit(10 if 'lief' in sys.modules else rc)")
    proc = subprocess.run([sys.executable, "-c", code, str(ipa), str(tmp_path / "r.json")], capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads((tmp_path / "r.json").read_text())["components"]


# -- hostile sizes ------------------------------------------------------------------------------------------------


def _dylib(real_machos: dict[str, bytes]) -> bytes:
    return next(v for k, v in real_machos.items() if k.startswith("ios-app.ipa!/") and v[:4] == b"\xcf\xfa\xed\xfe"
                and parse_slice(v).filetype == 6 and parse_slice(v).symbols)


def test_symbol_table_past_the_end_is_refused(real_machos: dict[str, bytes]) -> None:
    data = bytearray(_dylib(real_machos))
    mo = parse_slice(bytes(data))
    _, at, _ = next(c for c in mo.commands if c[0] == 0x2)
    struct.pack_into("<I", data, at + 12, 0x0FFF_FFFF)  # nsyms
    with pytest.raises(MemberError, match="symbol table"):
        read_macho(bytes(data), "X")


def test_lc_str_outside_its_command_is_refused(real_machos: dict[str, bytes]) -> None:
    data = bytearray(_dylib(real_machos))
    mo = parse_slice(bytes(data))
    _, at, _ = next(c for c in mo.commands if c[0] == 0xD)
    struct.pack_into("<I", data, at + 8, 0xFFFF)
    with pytest.raises(MemberError, match="X: load command string offset"):
        read_macho(bytes(data), "X")


def test_section_sizes_are_clamped_to_the_file(real_machos: dict[str, bytes]) -> None:
    data = bytearray(_dylib(real_machos))
    mo = parse_slice(bytes(data))
    for cmd, at, _ in mo.commands:
        if cmd == 0x19:
            nsects = struct.unpack_from("<I", data, at + 64)[0]
            for k in range(nsects):
                struct.pack_into("<Q", data, at + 72 + k * 80 + 40, 0x7FFF_FFFF_FFFF)  # section size
    info = read_macho(bytes(data), "X")
    assert all(off + len(view) <= len(data) for off, view in info.strings)


# -- universal static archives and XCFrameworks of static slices -------------------------------------------------

needs_tools = pytest.mark.skipif(not have_tools(), reason="clang, llvm-ar and llvm-lipo are installed by .ci/run")


@needs_tools
def test_universal_static_archive_is_read_slice_by_slice(tmp_path: Path) -> None:
    fat = static_archive(tmp_path, ["arm64-apple-ios14.0-simulator", "x86_64-apple-ios14.0-simulator"]).read_bytes()
    assert fat[:4] == b"\xca\xfe\xba\xbe"
    info = read_macho(fat, "libx264enc.a")
    assert (info.format, info.kind) == ("ar", "static-archive")
    assert sorted(info.slices) == ["arm64", "x86_64"]
    assert {"app_encode_frame", "x264_identity_format"} <= set(info.symbols)
    # every slice's objects are searched, at offsets true to the universal file
    spans = [(off, off + length) for _, off, length in fat_slices(fat)]
    hits = [off for off, view in info.strings if b"H.264/MPEG-4 AVC codec" in bytes(view)]
    assert len(hits) == 2 and all(any(a <= h < b for a, b in spans) for h in hits)
    for off, view in info.strings:
        assert fat[off : off + len(view)] == bytes(view)
    # a thin slice alone reads as the thin archive it is
    for cputype, off, length in fat_slices(fat):
        thin = read_ar(fat[off : off + length], "slice.a")
        assert thin.abi == {0x0100000C: "arm64", 0x01000007: "x86_64"}[cputype] and set(thin.symbols) == set(info.symbols)


@needs_tools
def test_xcframework_of_static_slices_yields_a_component_per_slice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xcf = tmp_path / "Libx264enc.xcframework.zip"
    members = build_static_xcframework(xcf, tmp_path / "work")
    code = main(["scan", str(xcf), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert report["problems"] == []
    comps = {c["path"]: c for c in report["components"]}
    assert set(members) <= set(comps)
    for path in members:
        c = comps[path]
        assert c["kind"] == "static-archive" and c["family"] == "gpl" and c["name"] == "x264", c
        strings = [e for e in c["evidence"] if e["kind"] == "identity-string"]
        # each offset points into the bytes its evidence quotes
        assert strings and all(members[path][e["offset"] : e["offset"] + 8].decode("latin-1") in e["text"] for e in strings)
        assert "x264_encoder_open_164" in {e["text"] for e in c["evidence"] if e["kind"] == "symbol"}
    assert sorted(comps["Libx264enc.xcframework/ios-arm64_x86_64-simulator/libx264enc.a"]["details"]["slices"]) == ["arm64", "x86_64"]
    assert code == 1  # GPL code in an app build fails the default policy


def test_truncated_universal_archive_slice_is_a_member_error(tmp_path: Path) -> None:
    header = struct.pack(">II", 0xCAFEBABE, 1) + struct.pack(">iiIII", 0x0100000C, 0, 64, 80, 3)
    body = b"!<arch>\n" + b"x.o/            0           0     0     644     9999      `\n"
    with pytest.raises(MemberError, match="^U: .*runs past the end"):
        read_macho(header.ljust(64, b"\0") + body.ljust(80, b"\0"), "U")
