"""Hostile binaries: bogus section and load-command sizes, huge tables, lying fat headers.

Each ends in a clean result or a MemberError naming the member; through the CLI, the member is listed under
`problems` and the rest of the scan goes on.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pytest

from licensegate.binary import read_elf, read_macho
from licensegate.cli import main
from licensegate.errors import MemberError
from natives import android_lib, have_clang, ios_dylib

pytestmark = pytest.mark.skipif(not have_clang(), reason="clang is installed by .ci/run")


@pytest.fixture(scope="module")
def elf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    d = tmp_path_factory.mktemp("elf")
    lib = android_lib(d / "libv.so", 'const char *s = "victim library 1.0";\nint v(void) { return 1; }', soname="libv.so")
    return lib.read_bytes()


@pytest.fixture(scope="module")
def macho(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    d = tmp_path_factory.mktemp("macho")
    return ios_dylib(d / "V", 'const char *s = "victim dylib";\nint v(void) { return 1; }', install_name="@rpath/V.framework/V").read_bytes()


def _patch(data: bytes, at: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, at, value)
    return bytes(out)


def _section_headers(data: bytes) -> tuple[int, int, int]:
    e_shoff, = struct.unpack_from("<Q", data, 0x28)
    e_shentsize, e_shnum = struct.unpack_from("<HH", data, 0x3A)
    return e_shoff, e_shentsize, e_shnum


def test_section_count_past_the_end(elf: bytes) -> None:
    bad = _patch(elf, 0x3C, "<H", 0xFFFF)  # e_shnum
    with pytest.raises(MemberError, match="section headers run past"):
        read_elf(bad, "lib/x.so")


def test_huge_section_sizes_are_clamped(elf: bytes) -> None:
    shoff, entsize, shnum = _section_headers(elf)
    bad = elf
    for i in range(1, shnum):
        bad = _patch(bad, shoff + i * entsize + 0x20, "<Q", 0x7FFF_FFFF_FFFF)  # sh_size of every section
    info = read_elf(bad, "lib/x.so")
    assert all(len(view) <= len(bad) for _, view in info.strings)
    assert info.soname == "libv.so"


def test_dynamic_string_offsets_out_of_range(elf: bytes) -> None:
    shoff, entsize, shnum = _section_headers(elf)
    bad = elf
    for i in range(1, shnum):
        sh_type, = struct.unpack_from("<I", elf, shoff + i * entsize + 4)
        if sh_type == 6:  # SHT_DYNAMIC: make every d_val point far outside the string table
            off, size = struct.unpack_from("<QQ", elf, shoff + i * entsize + 0x18)
            for j in range(size // 16):
                bad = _patch(bad, off + j * 16 + 8, "<Q", 0x7FFF_FFFF)
    try:
        read_elf(bad, "lib/x.so")
    except MemberError as exc:
        assert "lib/x.so" in str(exc)


def test_macho_load_command_sizes(macho: bytes) -> None:
    for at, value in ((16, 0xFFFF), (20, 0xFFFF_FFF0)):  # ncmds, sizeofcmds
        try:
            read_macho(_patch(macho, at, "<I", value), "V")
        except MemberError as exc:
            assert str(exc).startswith("V: ")


def test_fat_header_lies(macho: bytes) -> None:
    for count in (0, 1000):
        fat = struct.pack(">II", 0xCAFEBABE, count) + struct.pack(">iiIII", 0x0100000C, 0, 4096, len(macho), 12)
        with pytest.raises(MemberError):
            read_macho(fat.ljust(4096, b"\0") + macho, "F")
    lying = struct.pack(">II", 0xCAFEBABE, 1) + struct.pack(">iiIII", 0x0100000C, 0, 4096, len(macho) * 10, 12)
    with pytest.raises(MemberError, match="outside the file"):
        read_macho(lying.ljust(4096, b"\0") + macho, "F")


def test_hostile_members_do_not_stop_the_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str], elf: bytes, macho: bytes) -> None:
    apk = tmp_path / "hostile.apk"
    with zipfile.ZipFile(apk, "w") as zf:
        zf.writestr("AndroidManifest.xml", b"\0" * 8)
        zf.writestr("lib/arm64-v8a/libshnum.so", _patch(elf, 0x3C, "<H", 0xFFFF))
        zf.writestr("lib/arm64-v8a/libcut.so", elf[:100])
        zf.writestr("lib/arm64-v8a/libok.so", elf)
        zf.writestr("Frameworks/V.framework/V", macho[:40])
    code = main(["scan", str(apk), "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 1) and "Traceback" not in err
    report = json.loads(out)
    problems = {p["path"] for p in report["problems"]}
    assert {"lib/arm64-v8a/libshnum.so", "lib/arm64-v8a/libcut.so", "Frameworks/V.framework/V"} <= problems
    assert "lib/arm64-v8a/libok.so" in {c["path"] for c in report["components"]}


def test_app_store_encrypted_macho_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str], macho: bytes) -> None:
    """An IPA downloaded from the App Store has FairPlay-encrypted code: say so instead of silently finding nothing."""
    import subprocess

    # Build a dylib and append an LC_ENCRYPTION_INFO_64 command with cryptid 1 in the header padding.
    src = tmp_path / "E.c"
    src.write_text('const char *s = "encrypted";\nint e(void) { return 1; }')
    out = tmp_path / "E"
    subprocess.run(["clang", "--target=arm64-apple-ios14.0", "-nostdlib", "-fuse-ld=lld", "-shared", "-o", str(out), str(src),
                    "-Wl,-install_name,@rpath/E.framework/E", "-Wl,-U,dyld_stub_binder", "-Wl,-headerpad,0x100"], check=True)
    data = bytearray(out.read_bytes())
    ncmds, sizeofcmds = struct.unpack_from("<II", data, 16)
    cmd = struct.pack("<IIIIII", 0x2C, 24, 0x4000, 0x1000, 1, 0)  # LC_ENCRYPTION_INFO_64, cryptoff, cryptsize, cryptid=1, pad
    at = 32 + sizeofcmds
    assert data[at : at + 24] == bytes(24)  # header padding is free
    data[at : at + 24] = cmd
    struct.pack_into("<II", data, 16, ncmds + 1, sizeofcmds + 24)
    assert read_macho(bytes(data), "E").encrypted
    ipa = tmp_path / "store.ipa"
    with zipfile.ZipFile(ipa, "w") as zf:
        zf.writestr("Payload/App.app/Frameworks/E.framework/E", bytes(data))
    main(["scan", str(ipa), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert [(p["path"], p["problem"]) for p in report["problems"]] == [("Payload/App.app/Frameworks/E.framework/E", "encrypted-binary")]
