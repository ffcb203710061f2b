"""Hostile artifacts, round two (issue 12): gate bypass, bounded memory and time, special files, clear answers.

The hostile archives are built from real members of the fixture corpus (fixtures/build.py): the GPL x264 and the
app's own libapp.so and classes.dex from gpl-player.apk.
"""

from __future__ import annotations

import io
import json
import os
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


# -- 3. special files and folder inputs ------------------------------------------------------------------------


def test_fifo_as_artifact_or_policy_is_refused_without_reading(player: dict[str, bytes], tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "app.apk"
    os.mkfifo(fifo)  # nobody ever writes: a read would block forever
    assert "fifo" in one_line_error(capsys, "scan", str(fifo)).lower()
    apk = tmp_path / "real.apk"
    apk.write_bytes(small_apk(player))
    policy = tmp_path / "policy.toml"
    os.mkfifo(policy)
    assert "fifo" in one_line_error(capsys, "scan", str(apk), "--policy", str(policy)).lower()
    assert "fifo" in one_line_error(capsys, "policy", "check", str(policy)).lower()


def test_device_as_artifact_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert "character device" in one_line_error(capsys, "scan", "/dev/zero")  # would never end


def test_hostile_folder(player: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A FIFO, a socket, a link loop, a dangling link, a non-UTF-8 name: each reported, the real app still judged."""
    import socket

    app = tmp_path / "app"
    (app / "lib" / "arm64-v8a").mkdir(parents=True)
    for name, data in player.items():
        (app / name).write_bytes(data)
    os.mkfifo(app / "lib" / "arm64-v8a" / "libpipe.so")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(app / "lib" / "arm64-v8a" / "libsock.so"))
    (app / "loop_a").symlink_to("loop_b")
    (app / "loop_b").symlink_to("loop_a")
    (app / "dangling.so").symlink_to("nowhere.so")
    os.symlink(b"lib/arm64-v8a/libx264.so", os.fsencode(app) + b"/lib\xff\xfe.so")  # a name that is not UTF-8
    try:
        code, report = scan_json(capsys, app)
        _, out, err = (main(["scan", str(app), "--no-progress"]), *capsys.readouterr())
    finally:
        sock.close()
    assert code == 1  # x264 found, through the folder and through the link with the odd name
    probs = {x["path"]: x["problem"] for x in report["problems"]}
    assert probs["lib/arm64-v8a/libpipe.so"] == "special-file"
    assert probs["lib/arm64-v8a/libsock.so"] == "special-file"
    assert probs["loop_a"] == probs["loop_b"] == probs["dangling.so"] == "symlink"
    assert any("\\udcff" in p or "\udcff" in p for p in probs)
    assert "\\udcff" in out and "Traceback" not in err


def test_file_deleted_during_the_scan(player: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from licensegate import archive

    app = tmp_path / "app"
    (app / "lib" / "arm64-v8a").mkdir(parents=True)
    for name, data in player.items():
        (app / name).write_bytes(data)
    (app / "lib" / "arm64-v8a" / "libgone.so").write_bytes(player["lib/arm64-v8a/libapp.so"])
    real = archive.Walk._folder_member

    def vanish(self: archive.Walk, root_real: Path, full: Path, rel: str) -> archive.Member | None:
        member = real(self, root_real, full, rel)
        if rel.endswith("libgone.so"):
            full.unlink()  # listed and stat'ed, then gone before it is read
        return member

    monkeypatch.setattr(archive.Walk, "_folder_member", vanish)
    code, report = scan_json(capsys, app)
    assert code == 1
    assert ("lib/arm64-v8a/libgone.so", "unreadable") in {(x["path"], x["problem"]) for x in report["problems"]}


# -- 5. clear answers, not exit 3 ------------------------------------------------------------------------------


def test_empty_and_nul_member_names(player: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lib = player["lib/arm64-v8a/libx264.so"]
    packed, crc, size = hz.compress(hz.DEFLATED, [lib])
    entries = hz.app_entries({k: v for k, v in player.items() if k != "lib/arm64-v8a/libx264.so"}) + [
        hz.RawEntry("", hz.DEFLATED, packed, crc, size),
        hz.RawEntry("lib/arm64-v8a/libok.so\0.txt", hz.DEFLATED, packed, crc, size),
    ]
    code, report = scan_json(capsys, hz.write_zip(tmp_path / "names.apk", entries))
    assert code == 1  # x264 under both names is still found
    probs = {(x["path"], x["problem"]) for x in report["problems"]}
    assert ("", "unsafe-name") in probs and ("lib/arm64-v8a/libok.so\0.txt", "unsafe-name") in probs
    assert sum(c["family"] == "gpl" for c in report["components"]) == 2


@pytest.mark.parametrize("entry", [
    [], {"info": []}, {"info": {"format": "elf"}}, {"info": {"format": "elf", "kind": "native-library", "abi": None,
                                                             "weak_needed": [], "needed": 5}, "matches": [], "generic": []},
    {"info": {"format": "elf", "kind": "native-library", "abi": None, "weak_needed": []}, "matches": [{"id": 1}], "generic": []},
    {"info": {"format": "elf", "kind": "native-library", "abi": None, "weak_needed": []}, "matches": [], "generic": [["MIT", 1]]},
], ids=["list", "info-list", "missing-keys", "needed-int", "match-id-int", "generic-evidence-int"])
def test_cache_entry_of_the_wrong_shape_is_a_miss(player: dict[str, bytes], tmp_path: Path, entry: object,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    apk = tmp_path / "a.apk"
    apk.write_bytes(small_apk(player))
    cache = tmp_path / "cache"
    first_code, first = scan_json(capsys, apk, "--cache", str(cache))
    files = sorted(cache.rglob("*.json"))
    assert files
    for f in files:
        f.write_text(json.dumps(entry))
    code, report = scan_json(capsys, apk, "--cache", str(cache))
    assert code == first_code
    assert [c["license"] for c in report["components"]] == [c["license"] for c in first["components"]]


def test_diff_of_reports_of_the_wrong_shape(player: dict[str, bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apk = tmp_path / "a.apk"
    apk.write_bytes(small_apk(player))
    main(["scan", str(apk), "--format", "json", "--output", str(tmp_path / "good.json"), "--no-progress"])
    capsys.readouterr()
    good = json.loads((tmp_path / "good.json").read_text())
    bad = {
        "components-dict": {**good, "components": {"a": 1}},
        "component-path-int": {**good, "components": [{"path": 1, "name": "x", "kind": "y"}]},
        "finding-chain-dict": {**good, "findings": [{"rule": "r", "severity": "error", "message": "m", "chain": [{}]}]},
        "artifact-missing": {k: v for k, v in good.items() if k != "artifact"},
    }
    for name, data in bad.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
        assert "not a licensegate report" in one_line_error(capsys, "diff", str(tmp_path / "good.json"), str(tmp_path / f"{name}.json")).lower()
    (tmp_path / "deep.json").write_text('{"schema": "x", "a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert "report" in one_line_error(capsys, "diff", str(tmp_path / "good.json"), str(tmp_path / "deep.json")).lower()


# -- 4 and 6. the policy loader: linear line numbers, every type checked, nesting and length bounded ---------------


POLICY_CASES = {
    "override-rule-array": ('[[override]]\nname = "x"\nrule = [["x"]]\nseverity = "info"\n', ":3:", "is not a rule"),
    "waiver-rule-array": ('[[waiver]]\nname = "x"\nreason = "r"\nrule = [["x"]]\n', ":4:", "rule id"),
    "licence-table": ('[app]\nlicense = {a = "b"}\n', ":2:", "spdx"),
    "version-true": ("version = true\n", ":1:", "version"),
    "waiver-reason-int": ('[[waiver]]\nname = "x"\nreason = 5\n', ":3:", "reason"),
    "override-reason-table": ('[[override]]\nname = "x"\nrule = "nonfree"\nseverity = "info"\nreason = {a = 1}\n', ":5:", "reason"),
    "model-licence-not-spdx": ('[[models.declare]]\npath = "*.tflite"\nlicence = "not a licence (("\n', ":1:", "spdx"),
    "nested-100000": ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "line 1", "nested deeper"),
    "long-value": ('[app]\nlicense = "' + "x" * 500_000 + '"\n', ":2:", "500,002 characters"),
    "huge-file": ('[app]\nlicense = "' + "x" * 50_000_000 + '"\n', "", "larger than"),
}


@pytest.mark.parametrize("case", POLICY_CASES)
def test_policy_values_of_the_wrong_type(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, where, words = POLICY_CASES[case]
    p = tmp_path / "licensegate.toml"
    p.write_text(text)
    code = main(["policy", "check", str(p)])
    _, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err and "internal error" not in err, err
    assert where in err and words in err.lower(), err
    assert len(err) < 2000  # long values are cut, not repeated


def test_policy_line_numbers_are_linear(tmp_path: Path) -> None:
    """A line of `[` and spaces inside a multi-line string once backtracked cubically; now it is one pass (run in a
    subprocess so a regression fails on the timeout instead of hanging the suite)."""
    import subprocess
    import sys

    p = tmp_path / "licensegate.toml"
    p.write_text('version = 1\n[app]\nnote = """\n[' + " " * 200_000 + '\n"""\n[' + " " * 200_000 + "x\n")
    proc = subprocess.run([sys.executable, "-m", "licensegate", "policy", "check", str(p)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
