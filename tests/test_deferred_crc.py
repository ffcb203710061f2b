"""A large native library's CRC-32 is computed on the other core while it is analysed (Member.read_unchecked,
scan._native_component): whatever its bytes, the report is the one of the checked read, where a bad CRC-32 stops
the member before any analysis. Each case is scanned both ways: deferred, and with every read checked at once
(_HASH_ASIDE set past every member, which is how a small member is read)."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from licensegate import scan as scan_module
from licensegate.archive import Member, Walk
from licensegate.cli import main
from licensegate.errors import MemberError
from natives import android_lib, have_clang

pytestmark = pytest.mark.skipif(not have_clang(), reason="clang is installed by .ci/run")

LIB = "lib/arm64-v8a/libbig.so"
PAD = 300_000  # bytes of .rodata: the library is past _HASH_ASIDE (256 KiB), so its CRC-32 is deferred


@pytest.fixture(scope="module")
def big_elf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    d = tmp_path_factory.mktemp("big")
    source = ('const char *s = "This library is free software; you can redistribute it and/or modify it under the terms '
              f'of the GNU Lesser General Public License";\nconst char pad[{PAD}] = {{1}};\n'
              'int big(void) { return pad[7] + s[0]; }')
    data = android_lib(d / "libbig.so", source, soname="libbig.so").read_bytes()
    assert len(data) > scan_module._HASH_ASIDE
    return data


@pytest.fixture(scope="module")
def big_encrypted_macho(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A dylib past _HASH_ASIDE with LC_ENCRYPTION_INFO_64 cryptid 1: its analysis reports a problem."""
    d = tmp_path_factory.mktemp("enc")
    src = d / "E.c"
    src.write_text(f'const char pad[{PAD}] = {{1}};\nint e(void) {{ return pad[3]; }}')
    out = d / "E"
    subprocess.run(["clang", "--target=arm64-apple-ios14.0", "-nostdlib", "-fuse-ld=lld", "-shared", "-o", str(out),
                    str(src), "-Wl,-install_name,@rpath/E.framework/E", "-Wl,-U,dyld_stub_binder",
                    "-Wl,-headerpad,0x100"], check=True)
    data = bytearray(out.read_bytes())
    ncmds, sizeofcmds = struct.unpack_from("<II", data, 16)
    at = 32 + sizeofcmds
    assert data[at : at + 24] == bytes(24)
    data[at : at + 24] = struct.pack("<IIIIII", 0x2C, 24, 0x4000, 0x1000, 1, 0)
    struct.pack_into("<II", data, 16, ncmds + 1, sizeofcmds + 24)
    assert len(data) > scan_module._HASH_ASIDE
    return bytes(data)


def _archive(tmp_path: Path, name: str, entries: list[tuple[str, bytes, int]], bad_crc: str | None = None) -> Path:
    """A zip of `entries`; with `bad_crc`, that entry's CRC-32 in the central directory off by one bit (its data
    inflates as it should, to other bytes than the CRC says)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for member, data, method in entries:
            zf.writestr(zipfile.ZipInfo(member, (2020, 1, 1, 0, 0, 0)), data, compress_type=method)
    raw = bytearray(buf.getvalue())
    if bad_crc is not None:
        record = next(i for i in _central_records(raw) if _record_name(raw, i) == bad_crc)
        raw[record + 16] ^= 1
    path = tmp_path / name
    path.write_bytes(bytes(raw))
    return path


def _central_records(raw: bytearray) -> list[int]:
    out, at = [], raw.find(b"PK\x01\x02")
    while at >= 0:
        out.append(at)
        at = raw.find(b"PK\x01\x02", at + 46 + _name_length(raw, at))
    return out


def _name_length(raw: bytearray, record: int) -> int:
    return int(struct.unpack_from("<H", raw, record + 28)[0])


def _record_name(raw: bytearray, record: int) -> str:
    return bytes(raw[record + 46 : record + 46 + _name_length(raw, record)]).decode()


def _report(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["scan", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    report = json.loads(out)
    for part in (report, report.get("summary", {})):
        for key in ("generated", "duration_s"):  # when, and how long it took
            part.pop(key, None)
    return code, report


def _both(path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The report with the CRC-32 deferred; asserted equal to the one with every read checked at once."""
    deferred = _report(path, capsys)
    with monkeypatch.context() as m:
        m.setattr(scan_module, "_HASH_ASIDE", 1 << 62)
        checked = _report(path, capsys)
    assert deferred == checked
    return deferred[1]


def _problems(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(p["path"], p["problem"], p["detail"]) for p in report["problems"]]


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_large_library_with_a_bad_crc_is_refused_as_when_read_whole(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, big_elf: bytes,
        method: int) -> None:
    apk = _archive(tmp_path, "bad.apk", [("AndroidManifest.xml", b"\0" * 8, zipfile.ZIP_STORED), (LIB, big_elf, method)],
                   bad_crc=LIB)
    report = _both(apk, capsys, monkeypatch)
    assert LIB not in {c["path"] for c in report["components"]}
    assert [(p, kind) for p, kind, detail in _problems(report) if "Bad CRC-32" in detail] == [(LIB, "unparsable")]


def test_a_large_library_with_a_good_crc_is_analysed_and_hashed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, big_elf: bytes) -> None:
    apk = _archive(tmp_path, "good.apk", [("AndroidManifest.xml", b"\0" * 8, zipfile.ZIP_STORED),
                                          (LIB, big_elf, zipfile.ZIP_DEFLATED)])
    deferred: list[str] = []
    unchecked = Member.read_unchecked

    def spy(member: Member) -> tuple[bytes, int | None]:
        data, crc = unchecked(member)
        if crc is not None:
            deferred.append(member.path)
        return data, crc

    monkeypatch.setattr(Member, "read_unchecked", spy)
    report = _both(apk, capsys, monkeypatch)
    assert deferred == [LIB]  # the scan did defer it (and the checked scan did not)
    (lib,) = [c for c in report["components"] if c["path"] == LIB]
    assert lib["sha256"] == hashlib.sha256(big_elf).hexdigest() and lib["size"] == len(big_elf)
    assert not [p for p in _problems(report) if p[0] == LIB]


def test_problems_found_before_a_bad_crc_is_known_are_withdrawn(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        big_encrypted_macho: bytes) -> None:
    name = "Payload/App.app/Frameworks/E.framework/E"
    good = _archive(tmp_path, "good.ipa", [(name, big_encrypted_macho, zipfile.ZIP_STORED)])
    assert [(p, kind) for p, kind, _ in _problems(_both(good, capsys, monkeypatch))] == [(name, "encrypted-binary")]
    bad = _archive(tmp_path, "bad.ipa", [(name, big_encrypted_macho, zipfile.ZIP_STORED)], bad_crc=name)
    problems = _problems(_both(bad, capsys, monkeypatch))
    assert [(p, kind) for p, kind, _ in problems] == [(name, "unparsable")] and "Bad CRC-32" in problems[0][2]


def test_a_bad_crc_is_said_rather_than_what_the_analysis_of_the_bytes_found(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, big_elf: bytes) -> None:
    broken = bytearray(big_elf)
    struct.pack_into("<Q", broken, 0x28, len(broken) + 4096)  # e_shoff past the end: the ELF reader refuses it
    entries = [("AndroidManifest.xml", b"\0" * 8, zipfile.ZIP_STORED), (LIB, bytes(broken), zipfile.ZIP_STORED)]
    unreadable = _problems(_both(_archive(tmp_path, "broken.apk", entries), capsys, monkeypatch))
    assert [(p, kind) for p, kind, detail in unreadable if p == LIB and "CRC" not in detail] == [(LIB, "unparsable")]
    both = _problems(_both(_archive(tmp_path, "both.apk", entries, bad_crc=LIB), capsys, monkeypatch))
    assert [(p, kind, "Bad CRC-32" in detail) for p, kind, detail in both if p == LIB] == [(LIB, "unparsable", True)]


def test_unchecked_bytes_are_checked_before_they_are_given_again(tmp_path: Path, big_elf: bytes) -> None:
    for bad in (False, True):
        path = _archive(tmp_path, f"m{bad}.zip", [(LIB, big_elf, zipfile.ZIP_DEFLATED)], bad_crc=LIB if bad else None)
        walk = iter(Walk(path))
        member = next(walk)  # as a scan sees it, before the walk goes on
        data, crc = member.read_unchecked()
        assert data == big_elf and crc is not None
        if bad:
            with pytest.raises(MemberError, match="Bad CRC-32"):
                member.read()  # read never hands out bytes whose CRC-32 is pending without checking it
            with pytest.raises(MemberError, match="Bad CRC-32"):
                member.read()  # released, read again, refused again
        else:
            assert member.read() is data
            member.check_crc(crc ^ 1)  # settled already: nothing left to check


def test_check_crc_refuses_and_releases_bytes_that_differ_from_the_declared_crc(tmp_path: Path, big_elf: bytes) -> None:
    path = _archive(tmp_path, "m.zip", [(LIB, big_elf, zipfile.ZIP_STORED)])
    walk = iter(Walk(path))
    member = next(walk)
    data, crc = member.read_unchecked()
    assert crc is not None
    with pytest.raises(MemberError, match="cannot read member: Bad CRC-32"):
        member.check_crc(crc ^ 1)
    assert member._data is None and member._pending is None
    assert member.read() == data  # a checked read of the same (good) bytes
