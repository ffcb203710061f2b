"""Hostile and broken inputs: a one-line error with exit 2, or the bad member reported while the scan goes on."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from licensegate.cli import main

MANIFEST_ONLY = {"AndroidManifest.xml": b"\x00" * 8}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["scan", *args])
    out, err = capsys.readouterr()
    return code, out, err


def scan_json(capsys: pytest.CaptureFixture[str], path: Path, *extra: str) -> tuple[int, dict]:
    code, out, err = run(capsys, str(path), "--format", "json", *extra)
    assert code in (0, 1), err
    return code, json.loads(out)


def make_zip(path: Path, entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0].lower(), lines[0]


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(tmp_path / "nope.apk"))
    assert_one_line_error(code, err, "no such file")


def test_not_an_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "notes.apk"
    p.write_text("this is a text file, not an app\n")
    code, _, err = run(capsys, str(p))
    assert_one_line_error(code, err, "not an apk")


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "empty.apk"
    p.write_bytes(b"")
    code, _, err = run(capsys, str(p))
    assert_one_line_error(code, err, "empty")


def test_truncated_zip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = make_zip(tmp_path / "whole.apk", {**MANIFEST_ONLY, "assets/a.bin": bytes(range(256)) * 400})
    cut = tmp_path / "cut.apk"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    code, _, err = run(capsys, str(cut))
    assert_one_line_error(code, err, "zip")


def test_zip_bomb_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = make_zip(tmp_path / "bomb.apk", {**MANIFEST_ONLY, "assets/zeros.bin": b"\0" * (64 * 1024 * 1024)})
    assert bomb.stat().st_size < 1024 * 1024
    code, _, err = run(capsys, str(bomb))
    assert_one_line_error(code, err, "zip bomb", "ratio")


def test_ratio_limit_is_a_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = make_zip(tmp_path / "zeros.apk", {**MANIFEST_ONLY, "assets/zeros.bin": b"\0" * (8 * 1024 * 1024)})
    code, report = scan_json(capsys, bomb, "--max-ratio", "100000")
    assert code == 0
    assert report["problems"] == []


def test_total_size_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = make_zip(tmp_path / "big.apk", {**MANIFEST_ONLY, "a.bin": bytes(range(256)) * 8192, "b.bin": bytes(range(256)) * 8192}, zipfile.ZIP_STORED)
    code, _, err = run(capsys, str(p), "--max-total-size", "3m")
    assert_one_line_error(code, err, "total")


def test_member_size_limit_skips_member(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = make_zip(tmp_path / "big.apk", {**MANIFEST_ONLY, "a.bin": bytes(range(256)) * 8192}, zipfile.ZIP_STORED)
    code, report = scan_json(capsys, p, "--max-member-size", "1m")
    assert [(x["path"], x["problem"]) for x in report["problems"]] == [("a.bin", "too-large")]


def test_traversal_and_absolute_names_are_flagged_not_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = make_zip(tmp_path / "evil.apk", {**MANIFEST_ONLY, "../../../tmp/evil.so": b"x", "/etc/passwd": b"y", "lib/ok.txt": b"z"})
    before = sorted(tmp_path.rglob("*"))
    code, report = scan_json(capsys, p)
    problems = {(x["path"], x["problem"]) for x in report["problems"]}
    assert ("../../../tmp/evil.so", "unsafe-name") in problems
    assert ("/etc/passwd", "unsafe-name") in problems
    assert sorted(tmp_path.rglob("*")) == before  # nothing extracted anywhere
    assert any(f["rule"] == "member-problem" and f["severity"] == "warning" for f in report["findings"])
    assert code == 0  # warnings do not fail by default
    code, _ = scan_json(capsys, p, "--fail-on", "warning")
    assert code == 1


def test_duplicate_names_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "dup.apk"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("AndroidManifest.xml", b"\0" * 8)
        zf.writestr("lib/arm64-v8a/libx.so", b"first")
        with pytest.warns(UserWarning):
            zf.writestr("lib/arm64-v8a/libx.so", b"second")
    _, report = scan_json(capsys, p)
    assert ("lib/arm64-v8a/libx.so", "duplicate-name") in {(x["path"], x["problem"]) for x in report["problems"]}


def test_symlink_entry_not_followed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "link.apk"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("AndroidManifest.xml", b"\0" * 8)
        info = zipfile.ZipInfo("lib/arm64-v8a/libevil.so")
        info.create_system = 3
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/shadow")
    _, report = scan_json(capsys, p)
    assert ("lib/arm64-v8a/libevil.so", "symlink") in {(x["path"], x["problem"]) for x in report["problems"]}


def test_encrypted_entry_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = make_zip(tmp_path / "enc.apk", {**MANIFEST_ONLY, "lib/arm64-v8a/libsecret.so": b"\x7fELF" + b"\0" * 60})
    raw = bytearray(p.read_bytes())
    # Set the "encrypted" general-purpose flag in the local header and the central directory entry of the member.
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        start = 0
        while (i := raw.find(sig, start)) >= 0:
            flag_at = i + (6 if sig == b"PK\x03\x04" else 8)
            name_len_at = i + (26 if sig == b"PK\x03\x04" else 28)
            name_at = i + (30 if sig == b"PK\x03\x04" else 46)
            n = int.from_bytes(raw[name_len_at : name_len_at + 2], "little")
            if raw[name_at : name_at + n].endswith(b"libsecret.so"):
                raw[flag_at] |= 1
            start = i + 4
    p.write_bytes(bytes(raw))
    _, report = scan_json(capsys, p)
    assert ("lib/arm64-v8a/libsecret.so", "encrypted") in {(x["path"], x["problem"]) for x in report["problems"]}


def test_nesting_depth_capped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = b"innermost"
    for level in range(8):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(f"level{level}.zip" if level else "leaf.txt", data)
        data = buf.getvalue()
    p = make_zip(tmp_path / "deep.apk", {**MANIFEST_ONLY, "assets/nest.zip": data})
    _, report = scan_json(capsys, p, "--max-depth", "3")
    too_deep = [x for x in report["problems"] if x["problem"] == "too-deep"]
    assert len(too_deep) == 1
    assert too_deep[0]["path"].count("!/") == 3


def test_corrupt_member_does_not_stop_the_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payload = b"\x7fELF" + bytes(range(256)) * 64  # looks like ELF, so the whole member is inflated
    p = make_zip(tmp_path / "crc.apk", {"lib/arm64-v8a/liba.so": payload, **MANIFEST_ONLY, "assets/nested.zip": _nested_zip({"x.txt": b"hello"})},
                 zipfile.ZIP_STORED)
    raw = bytearray(p.read_bytes())
    # Damage the stored bytes of liba.so after its head, keeping the archive structure intact: the CRC check fails.
    i = raw.find(b"lib/arm64-v8a/liba.so") + len("lib/arm64-v8a/liba.so") + 200
    raw[i : i + 16] = b"\xff" * 16
    p.write_bytes(bytes(raw))
    _, report = scan_json(capsys, p)
    bad = [x for x in report["problems"] if x["path"] == "lib/arm64-v8a/liba.so"]
    assert bad and bad[0]["problem"] == "unparsable" and "crc" in bad[0]["detail"].lower()
    assert report["summary"]["members"] == 4  # the rest was still walked, nested member included


def test_truncated_nested_archive_is_a_member_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nested = _nested_zip({"lib/libfoo.so": b"\x7fELF" + bytes(200)})
    p = make_zip(tmp_path / "n.apk", {**MANIFEST_ONLY, "assets/bundle.zip": nested[: len(nested) // 2]})
    code, report = scan_json(capsys, p)
    assert ("assets/bundle.zip", "corrupt") in {(x["path"], x["problem"]) for x in report["problems"]}


def test_truncated_elf_member_is_unparsable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    elf_head = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x03\x00\xb7\x00" + b"\x01\0\0\0" + b"\0" * 8 + b"\x40" + b"\0" * 7 + b"\xff\xff\xff\x7f" + b"\0" * 4
    p = make_zip(tmp_path / "t.apk", {**MANIFEST_ONLY, "lib/arm64-v8a/libcut.so": elf_head})
    code, report = scan_json(capsys, p)
    probs = {(x["path"], x["problem"]) for x in report["problems"]}
    assert ("lib/arm64-v8a/libcut.so", "unparsable") in probs


def test_max_entries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = make_zip(tmp_path / "many.apk", {**MANIFEST_ONLY, **{f"res/{i}.txt": b"x" for i in range(50)}})
    code, _, err = run(capsys, str(p), "--max-entries", "20")
    assert_one_line_error(code, err, "members")


def test_bad_flag_value_is_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = make_zip(tmp_path / "a.apk", MANIFEST_ONLY)
    code, _, err = run(capsys, str(p), "--max-member-size", "lots")
    assert_one_line_error(code, err, "not a size")


def _nested_zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for k, v in entries.items():
            zf.writestr(k, v)
    return buf.getvalue()


class _Unseekable(io.RawIOBase):
    """A write-only stream without seek: zipfile then writes data descriptors after each member."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[no-untyped-def,override]
        self.buf += b
        return len(b)


def test_data_descriptors_and_zip64(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from natives import android_lib, have_clang

    if not have_clang():
        pytest.fail("clang is needed (.ci/run installs it)")
    lib = android_lib(tmp_path / "libz64.so", 'const char *s = "GNU General Public License version 2";\nint f(void){return 1;}')
    sink = _Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("AndroidManifest.xml", b"\0" * 8)
        with zf.open("lib/arm64-v8a/libz64.so", "w", force_zip64=True) as fh:
            fh.write(lib.read_bytes())
    p = tmp_path / "dd.apk"
    p.write_bytes(bytes(sink.buf))
    with zipfile.ZipFile(p) as zf:
        info = zf.getinfo("lib/arm64-v8a/libz64.so")
        assert info.flag_bits & 0x08  # data descriptor
    _, report = scan_json(capsys, p)
    comp = next(c for c in report["components"] if c["path"] == "lib/arm64-v8a/libz64.so")
    assert comp["family"] == "gpl" and comp["confidence"] == "medium"  # generic licence text, no signature
    assert report["problems"] == []


def test_debian_package_is_refused_with_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deb = tmp_path / "tool.deb"
    deb.write_bytes(b"!<arch>\ndebian-binary   1700000000  0     0     100644  4         `\n2.0\n")
    code, _, err = run(capsys, str(deb))
    assert_one_line_error(code, err, "debian package", "dpkg-deb")


def test_ar_archive_without_objects_is_not_a_static_library(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = b"just some notes\n"
    ar = b"!<arch>\n" + b"notes.txt/      0           0     0     644     %-10d`\n" % len(body) + body
    p = make_zip(tmp_path / "a.apk", {**MANIFEST_ONLY, "lib/arm64-v8a/libnotes.a": ar})
    _, report = scan_json(capsys, p)
    assert not report["components"]
    assert [(x["path"], x["problem"]) for x in report["problems"]] == [("lib/arm64-v8a/libnotes.a", "unparsable")]
    assert "without object files" in report["problems"][0]["detail"]
