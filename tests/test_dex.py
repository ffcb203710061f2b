"""DEX reader tests on real dex files assembled by `smali` from sources written here."""

from __future__ import annotations

import random
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from licensegate.android.dex import (
    JavaPackageEntry,
    is_dex,
    load_java_packages,
    match_java_packages,
    read_dex,
)
from licensegate.errors import MemberError
from licensegate.model import LoadSite

needs_smali = pytest.mark.skipif(shutil.which("smali") is None, reason="smali (Debian libsmali-java) not installed")

SOURCES: dict[str, str] = {
    # System.loadLibrary with a constant, after every payload kind so that the linear walk must size them.
    "com/example/Player.smali": """
.class public Lcom/example/Player;
.super Ljava/lang/Object;

.method static constructor <clinit>()V
    .registers 3
    const/4 v1, 1
    packed-switch v1, :ps
    sparse-switch v1, :ss
    const/4 v2, 3
    new-array v2, v2, [I
    fill-array-data v2, :arr
    const-wide v1, 0x123456789abcdefL
    const-string v0, "player"
    invoke-static {v0}, Ljava/lang/System;->loadLibrary(Ljava/lang/String;)V
    return-void
    :ps
    .packed-switch 0x1
        :done
        :done
    .end packed-switch
    :ss
    .sparse-switch
        0x5 -> :done
        0x500 -> :done
    .end sparse-switch
    :arr
    .array-data 4
        0x1
        0x2
        0x3
    .end array-data
    :done
    return-void
.end method

.method public static loadByPath(Ljava/lang/String;)V
    .registers 1
    invoke-static {p0}, Ljava/lang/System;->load(Ljava/lang/String;)V
    return-void
.end method

.method public static overwritten()V
    .registers 2
    const-string v0, "stale"
    invoke-static {}, Lcom/example/Player;->name()Ljava/lang/String;
    move-result-object v0
    invoke-static {v0}, Ljava/lang/System;->loadLibrary(Ljava/lang/String;)V
    return-void
.end method

.method public static name()Ljava/lang/String;
    .registers 1
    const-string v0, "dynamic"
    return-object v0
.end method

.method public static absolute()V
    .registers 1
    const-string/jumbo v0, "/data/local/tmp/libabs.so"
    invoke-static {v0}, Ljava/lang/System;->load(Ljava/lang/String;)V
    return-void
.end method
""",
    # Runtime.getRuntime().loadLibrary(x): invoke-virtual, the String is the second register.
    "com/example/media/Codec.smali": """
.class public Lcom/example/media/Codec;
.super Ljava/lang/Object;

.method public init()V
    .registers 4
    invoke-static {}, Ljava/lang/Runtime;->getRuntime()Ljava/lang/Runtime;
    move-result-object v0
    const-string v1, "avcodec"
    move-object v2, v1
    invoke-virtual {v0, v2}, Ljava/lang/Runtime;->loadLibrary(Ljava/lang/String;)V
    return-void
.end method

.method public ranged()V
    .registers 20
    const-string v17, "ranged"
    invoke-static/range {v17 .. v17}, Ljava/lang/System;->loadLibrary(Ljava/lang/String;)V
    return-void
.end method

.method public relinker(Landroid/content/Context;)V
    .registers 4
    const-string v0, "crypto"
    invoke-static {p1, v0}, Lcom/getkeepsafe/relinker/ReLinker;->loadLibrary(Landroid/content/Context;Ljava/lang/String;)V
    return-void
.end method
""",
    # A class in a GPL Java package (ics-openvpn).
    "de/blinkt/openvpn/core/NativeUtils.smali": """
.class public Lde/blinkt/openvpn/core/NativeUtils;
.super Ljava/lang/Object;

.method static constructor <clinit>()V
    .registers 1
    const-string v0, "opvpnutil"
    invoke-static {v0}, Ljava/lang/System;->loadLibrary(Ljava/lang/String;)V
    return-void
.end method
""",
    "okhttp3/OkHttpClient.smali": """
.class public Lokhttp3/OkHttpClient;
.super Ljava/lang/Object;
""",
}

EXPECTED = {
    ("com.example.Player", "<clinit>", "loadLibrary", "player"),
    ("com.example.Player", "loadByPath", "load", None),
    ("com.example.Player", "overwritten", "loadLibrary", None),
    ("com.example.Player", "absolute", "load", "/data/local/tmp/libabs.so"),
    ("com.example.media.Codec", "init", "loadLibrary", "avcodec"),
    ("com.example.media.Codec", "ranged", "loadLibrary", "ranged"),
    ("com.example.media.Codec", "relinker", "loadLibrary", "crypto"),
    ("de.blinkt.openvpn.core.NativeUtils", "<clinit>", "loadLibrary", "opvpnutil"),
}


def assemble(directory: Path, sources: dict[str, str], api: int | None = None) -> bytes:
    src = directory / "smali"
    for name, text in sources.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip(), encoding="utf-8")
    out = directory / "classes.dex"
    command = ["smali", "assemble", "-o", str(out), str(src)]
    if api is not None:
        command[2:2] = ["--api", str(api)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return out.read_bytes()


@pytest.fixture(scope="module")
def dex_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    if shutil.which("smali") is None:
        pytest.skip("smali (Debian libsmali-java) not installed")
    return assemble(tmp_path_factory.mktemp("dex"), SOURCES)


def site_key(site: LoadSite) -> tuple[str, str, str, str | None]:
    return (site.class_name, site.method, site.call, site.argument)


@needs_smali
def test_load_sites(dex_bytes: bytes) -> None:
    info = read_dex(dex_bytes, "classes.dex")
    assert {site_key(s) for s in info.load_sites} == EXPECTED
    assert len(info.load_sites) == len(EXPECTED)
    assert all(s.member == "classes.dex" for s in info.load_sites)
    offsets = [s.offset or 0 for s in info.load_sites]
    assert offsets == sorted(offsets)


@needs_smali
def test_offsets_point_at_the_invoke(dex_bytes: bytes) -> None:
    for site in read_dex(dex_bytes, "classes.dex").load_sites:
        assert site.offset is not None
        assert dex_bytes[site.offset] in (0x6E, 0x71, 0x74, 0x77)


@needs_smali
def test_header_facts_and_packages(dex_bytes: bytes) -> None:
    info = read_dex(memoryview(dex_bytes), "classes.dex")
    assert info.version == "035"
    assert info.classes_count == 4
    assert info.strings_count > 10
    assert info.packages == {"com.example", "com.example.media", "de.blinkt.openvpn.core", "okhttp3"}
    assert is_dex(dex_bytes)


@needs_smali
def test_newer_dex_version(tmp_path: Path) -> None:
    data = assemble(tmp_path, {"a/B.smali": SOURCES["de/blinkt/openvpn/core/NativeUtils.smali"]}, api=28)
    info = read_dex(data, "classes2.dex")
    assert info.version == "039"
    assert [site_key(s) for s in info.load_sites] == [
        ("de.blinkt.openvpn.core.NativeUtils", "<clinit>", "loadLibrary", "opvpnutil")
    ]


@needs_smali
def test_no_loader_referenced(tmp_path: Path) -> None:
    data = assemble(tmp_path, {"okhttp3/OkHttpClient.smali": SOURCES["okhttp3/OkHttpClient.smali"]})
    info = read_dex(data, "c.dex")
    assert info.load_sites == []
    assert info.packages == {"okhttp3"}


@needs_smali
def test_agrees_with_androguard(dex_bytes: bytes) -> None:
    """Differential check: androguard's full disassembly finds the same invokes at the same offsets."""
    dex_module = pytest.importorskip("androguard.core.dex")
    from loguru import logger

    logger.disable("androguard")
    dvm = dex_module.DEX(dex_bytes)
    expected: set[tuple[str, str, int]] = set()
    for method in dvm.get_encoded_methods():
        code = method.get_code()
        if code is None:
            continue
        base = code.get_off() + 16
        pc = 0
        for ins in code.get_bc().get_instructions():
            output = ins.get_output()
            if ins.get_name().startswith("invoke") and ("->loadLibrary(" in output or "->load(" in output):
                expected.add((method.get_class_name(), method.get_name(), base + pc))
            pc += ins.get_length()
    ours = {
        ("L" + s.class_name.replace(".", "/") + ";", s.method, s.offset or -1)
        for s in read_dex(dex_bytes, "classes.dex").load_sites
    }
    assert ours == expected


def test_java_package_table_is_well_formed() -> None:
    entries = load_java_packages()
    assert len(entries) >= 15
    prefixes = [e.prefix for e in entries]
    assert len(prefixes) == len(set(prefixes))
    for entry in entries:
        if "/" not in entry.id:  # the hand-checked table; generated entries (maven/, debian/, npm/) cite their source
            assert entry.source.startswith("https://"), entry.prefix
        assert entry.license and entry.name and entry.source
        assert all(part.isidentifier() for part in entry.prefix.split(".")), entry.prefix


def test_match_java_packages() -> None:
    matches = match_java_packages({"de.blinkt.openvpn.core", "de.blinkt.openvpn", "okhttp3.internal", "com.example"})
    found = {entry.prefix: package for entry, package in matches}
    assert found == {"de.blinkt.openvpn": "de.blinkt.openvpn", "okhttp3": "okhttp3.internal"}
    licences = {entry.prefix: entry.license for entry, _ in matches}
    assert licences["de.blinkt.openvpn"] == "GPL-2.0-or-later"


def test_match_whole_segments_and_longest_prefix() -> None:
    table = (
        JavaPackageEntry(prefix="org.example", name="Example", license="MIT", source="https://example.org"),
        JavaPackageEntry(prefix="org.example.gpl", name="Example GPL", license="GPL-3.0-only", source="https://x"),
    )
    matches = match_java_packages({"org.examples", "org.example.gpl.core", "org.example.util"}, table)
    assert [(e.prefix, p) for e, p in matches] == [
        ("org.example", "org.example.util"),
        ("org.example.gpl", "org.example.gpl.core"),
    ]


# -- hostile input ---------------------------------------------------------------------------------------


def test_not_a_dex() -> None:
    with pytest.raises(MemberError, match="not a dex"):
        read_dex(b"PK\x03\x04" + b"\0" * 200, "x.dex")
    assert not is_dex(b"dex\n")


def test_truncated_header() -> None:
    with pytest.raises(MemberError, match="truncated header"):
        read_dex(b"dex\n035\0" + b"\0" * 20, "x.dex")


@needs_smali
def test_truncated_file(dex_bytes: bytes) -> None:
    with pytest.raises(MemberError, match="truncated"):
        read_dex(dex_bytes[: len(dex_bytes) // 2], "x.dex")


def patched(data: bytes, offset: int, value: int) -> bytes:
    buf = bytearray(data)
    struct.pack_into("<I", buf, offset, value)
    return bytes(buf)


@needs_smali
@pytest.mark.parametrize(
    ("offset", "value", "message"),
    [
        (0x28, 0x78563412, "big-endian"),
        (0x28, 0xDEADBEEF, "endian tag"),
        (0x38, 0x7FFFFFFF, "string_ids"),  # huge string count
        (0x3C, 0xFFFFFF00, "string_ids"),  # string table offset past the end
        (0x58, 0x10000000, "method_ids"),
        (0x60, 0x00FFFFFF, "class_defs"),
    ],
)
def test_bad_header_fields(dex_bytes: bytes, offset: int, value: int, message: str) -> None:
    with pytest.raises(MemberError, match=message):
        read_dex(patched(dex_bytes, offset, value), "x.dex")


@needs_smali
def test_bad_class_data_offset(dex_bytes: bytes) -> None:
    class_defs_off = struct.unpack_from("<I", dex_bytes, 0x64)[0]
    data = patched(dex_bytes, class_defs_off + 24, len(dex_bytes) + 100)  # class_data_off of class 0
    with pytest.raises(MemberError, match="class data"):
        read_dex(data, "x.dex")


@needs_smali
def test_random_corruption_raises_only_member_error(dex_bytes: bytes) -> None:
    rng = random.Random(1234)
    for _ in range(300):
        buf = bytearray(dex_bytes)
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(8, len(buf))] = rng.randrange(256)
        try:
            read_dex(bytes(buf), "fuzz.dex")
        except MemberError:
            pass
    for cut in range(0, len(dex_bytes), 97):
        try:
            read_dex(dex_bytes[:cut], "cut.dex")
        except MemberError:
            pass
