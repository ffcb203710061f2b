"""Hostile artifacts, round two (issue 12): gate bypass, bounded memory and time, special files, clear answers.

The hostile archives are built from real members of the fixture corpus (fixtures/build.py): the GPL x264 and the
app's own libapp.so and classes.dex from gpl-player.apk.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

import hostile_zips as hz
from licensegate.cli import main

APP_MEMBERS = ("AndroidManifest.xml", "classes.dex", "lib/arm64-v8a/libapp.so", "lib/arm64-v8a/libx264.so")


@pytest.fixture(scope="module")
def player(corpus: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(corpus / "gpl-player.apk") as zf:
        return {name: zf.read(name) for name in APP_MEMBERS}


def small_apk(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def scan_json(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> tuple[int, dict]:
    code = main(["scan", str(path), "--format", "json", "--no-progress", *extra])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return code, json.loads(out)


def one_line_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    _, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err and "internal error" not in err, (code, err)
    return lines[0]


# -- 1. gate bypass: data before the archive --------------------------------------------------------------------


@pytest.mark.parametrize("stub", ["lib/arm64-v8a/libapp.so", "classes.dex"], ids=["elf-stub", "dex-header"])
def test_prepended_data_is_found_and_the_archive_scanned(player: dict[str, bytes], stub: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "prefixed.apk"
    p.write_bytes(player[stub] + small_apk(player))
    code, report = scan_json(capsys, p)
    assert code == 1  # the GPL x264 inside fails the gate, as it does without the prefix
    assert report["artifact"]["type"] == "apk"
    paths = {c["path"]: c for c in report["components"]}
    assert paths["lib/arm64-v8a/libx264.so"]["family"] == "gpl"
    problems = {(x["path"], x["problem"]) for x in report["problems"]}
    assert ("(data before the archive)", "data-before-archive") in problems
    assert any(f["rule"] == "member-problem" and "data-before-archive" in f["message"] for f in report["findings"])
    if stub.endswith(".so"):  # the prefix is analysed as what it is
        assert paths["(data before the archive)"]["format"] == "elf"
    else:
        assert any(s["dex"] == "(data before the archive)" for s in report["load_sites"])


def test_nested_archive_with_data_before_it(player: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inner = player["lib/arm64-v8a/libapp.so"] + small_apk({"lib/arm64-v8a/libx264.so": player["lib/arm64-v8a/libx264.so"]})
    p = tmp_path / "outer.apk"
    p.write_bytes(small_apk({"AndroidManifest.xml": player["AndroidManifest.xml"], "assets/plugin.bin": inner}))
    code, report = scan_json(capsys, p)
    assert code == 1
    assert "assets/plugin.bin!/lib/arm64-v8a/libx264.so" in {c["path"] for c in report["components"]}
    assert ("assets/plugin.bin", "data-before-archive") in {(x["path"], x["problem"]) for x in report["problems"]}


def test_plain_binary_is_still_a_binary(player: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "libx264.so"
    p.write_bytes(player["lib/arm64-v8a/libx264.so"])
    _, report = scan_json(capsys, p)
    assert report["artifact"]["type"] == "file"
    assert not report["problems"]


# -- 2. decompression bounded by what is produced; peak memory measured -----------------------------------------

GiB = 1 << 30


@pytest.fixture(scope="module")
def cases(player: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def measured_scan(path: Path, *extra: str) -> tuple[hz.Measured, dict | None]:
    m = hz.run_measured("scan", str(path), "--format", "json", "--no-progress", *extra, timeout=600)
    report = json.loads(m.stdout) if m.code in (0, 1) else None
    return m, report


@pytest.mark.parametrize("case", ["lying-deflate", "lying-bzip2"])
def test_lying_header_is_refused_without_inflating(player: dict[str, bytes], cases: Path, case: str) -> None:
    p = hz.build_case(case, cases / f"{case}.apk", player)
    m, report = measured_scan(p)
    assert m.code == 1, m.stderr  # the real x264 beside it still fails the gate
    assert report is not None
    probs = {x["path"]: x for x in report["problems"]}
    assert "lying header" in probs["assets/data.bin"]["detail"]
    assert "lib/arm64-v8a/libx264.so" in {c["path"] for c in report["components"]}
    assert m.peak_kib * 1024 < 256 * 1024**2, m.peak_kib  # it inflates 1.5-2 GiB: never more than its 64 KiB is made


def test_member_just_under_the_ratio_limit_stays_in_the_memory_bound(player: dict[str, bytes], cases: Path) -> None:
    p = hz.build_case("under-ratio", cases / "under-ratio.apk", player)
    m, report = measured_scan(p)
    assert m.code == 1 and report is not None, m.stderr
    big = next(x for x in report["problems"] if x["path"] == "assets/big.bin")
    assert big["problem"] == "too-large" and "--max-memory" in big["detail"]
    assert m.peak_kib * 1024 < GiB  # the documented bound (docs/limits.md)


def test_core_ml_folders_are_released_as_the_walk_passes(player: dict[str, bytes], cases: Path) -> None:
    p = hz.build_case("coreml-folders", cases / "coreml.apk", player, folders=12)  # 720 MiB of folder files
    m, report = measured_scan(p)
    assert m.code == 1 and report is not None, m.stderr
    assert m.peak_kib * 1024 < 400 * 1024**2, m.peak_kib  # about one folder at a time, not twelve


def test_overlapping_entries_are_refused(player: dict[str, bytes], cases: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = hz.build_case("overlapping", cases / "overlap.apk", player)
    line = one_line_error(capsys, "scan", str(p))
    assert "overlapping entries" in line and "zip bomb" in line


def test_entries_whose_data_run_into_the_next_header_are_refused(player: dict[str, bytes], tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Distinct local headers, each entry's compressed size reaching over the next ones (the quoted-overlap shape)."""
    apk = small_apk(player)
    raw = bytearray(apk)
    with zipfile.ZipFile(io.BytesIO(apk)) as zf:
        first = min(zf.infolist(), key=lambda i: i.header_offset)
    assert first.header_offset == 0
    # the first entry's central record: its compressed size now reaches over every later entry
    at = raw.find(b"PK\x01\x02")
    reach = at - 30 - len(first.filename)
    raw[at + 20 : at + 24] = reach.to_bytes(4, "little")
    p = tmp_path / "quoted.apk"
    p.write_bytes(bytes(raw))
    line = one_line_error(capsys, "scan", str(p))
    assert "overlapping entries" in line


@pytest.mark.parametrize("method", [hz.DEFLATED, hz.BZIP2, hz.LZMA, hz.STORED], ids=["deflate", "bzip2", "lzma", "stored"])
def test_every_method_reads_real_members(player: dict[str, bytes], method: int, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    entries = []
    for name, data in player.items():
        packed, crc, size = hz.compress(method, [data])
        entries.append(hz.RawEntry(name, method, packed, crc, size))
    p = hz.write_zip(tmp_path / "m.apk", entries)
    code, report = scan_json(capsys, p)
    assert code == 1 and not report["problems"]
    assert next(c for c in report["components"] if c["path"] == "lib/arm64-v8a/libx264.so")["family"] == "gpl"


@pytest.mark.parametrize("method", [hz.DEFLATED, hz.BZIP2, hz.LZMA], ids=["deflate", "bzip2", "lzma"])
def test_garbage_and_lies_in_every_method_are_member_problems(player: dict[str, bytes], method: int, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    lib = player["lib/arm64-v8a/libx264.so"]
    packed, crc, size = hz.compress(method, [lib])
    garbage = bytearray(packed)
    garbage[len(garbage) // 3 : len(garbage) // 3 + 64] = bytes(range(64))
    entries = hz.app_entries({k: v for k, v in player.items() if k != "lib/arm64-v8a/libx264.so"}) + [
        hz.RawEntry("lib/arm64-v8a/libgarbage.so", method, bytes(garbage), crc, size),
        hz.RawEntry("lib/arm64-v8a/libshort.so", method, packed, crc, size - 1000),  # says less than it holds
        hz.RawEntry("lib/arm64-v8a/liblong.so", method, packed, crc, size + 1000),  # says more than it holds
        hz.RawEntry("lib/arm64-v8a/libcut.so", method, packed[: len(packed) // 2], crc, size),  # cut short
    ]
    code, report = scan_json(capsys, hz.write_zip(tmp_path / "g.apk", entries))
    probs = {x["path"]: x["problem"] for x in report["problems"]}
    for name in ("libgarbage.so", "libshort.so", "liblong.so", "libcut.so"):
        assert probs.get(f"lib/arm64-v8a/{name}") in ("unparsable", "corrupt"), (name, report["problems"])
