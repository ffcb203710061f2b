"""Bounded fuzzing of every parser entry point: only MemberError (or a clean result) may come out.

CI runs a bounded number of examples (LICENSEGATE_FUZZ_EXAMPLES, default 150 per target); run longer by hand with
LICENSEGATE_FUZZ_EXAMPLES=20000. Inputs are real seeds mutated: byte flips, truncations and splices, so the
parsers get past their magic checks. A crash found here becomes a regression case in REGRESSIONS below.
"""

from __future__ import annotations

import io
import os
import plistlib
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licensegate.archive import Limits
from licensegate.binary import read_ar, read_elf, read_macho
from licensegate.errors import LicenseGateError, MemberError
from natives import android_lib, have_clang, ios_dylib

EXAMPLES = int(os.environ.get("LICENSEGATE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)


def _mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    flips = st.lists(st.tuples(st.integers(0, max(len(seed) - 1, 0)), st.integers(0, 255)), max_size=24)
    cut = st.integers(0, len(seed))

    def apply(args: tuple[list[tuple[int, int]], int, bytes]) -> bytes:
        edits, end, junk = args
        data = bytearray(seed)
        for pos, val in edits:
            if pos < len(data):
                data[pos] = val
        return bytes(data[:end]) + junk

    return st.tuples(flips, cut, st.binary(max_size=64)).map(apply)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    if not have_clang():
        pytest.fail("clang is needed for the fuzz seeds (.ci/run installs it)")
    d = tmp_path_factory.mktemp("seeds")
    libb = android_lib(d / "libb.so", 'const char *id = "seed library 1.0";\nint b(void) { return 1; }', soname="libb.so.1")
    liba = android_lib(d / "liba.so", "extern int b(void);\nint a(void) { return b(); }", link=[libb])
    dylib = ios_dylib(d / "M", 'const char *s = "seed dylib";\nint m(void) { return 2; }', install_name="@rpath/M.framework/M", rpaths=["@loader_path/Frameworks"])
    ar = b"!<arch>\n" + b"/               0           0     0     0       8         `\n" + b"\x00\x00\x00\x00\x00\x00\x00\x00"
    ar += b"obj.o/          0           0     0     644     %-10d`\n" % len(liba.read_bytes()) + liba.read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("AndroidManifest.xml", b"\x03\x00\x08\x00" + bytes(28))
        zf.writestr("lib/arm64-v8a/liba.so", liba.read_bytes())
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w") as z2:
            z2.writestr("x.txt", b"hello" * 20)
        zf.writestr("assets/in.zip", inner.getvalue())
    return {
        "elf": liba.read_bytes(),
        "macho": dylib.read_bytes(),
        "ar": ar,
        "zip": buf.getvalue(),
        "plist": plistlib.dumps({"CFBundleIdentifier": "com.example", "CFBundleExecutable": "App"}, fmt=plistlib.FMT_BINARY),
    }


def _only_member_errors(fn: Callable[[bytes], object], data: bytes) -> None:
    try:
        fn(data)
    except MemberError:
        pass


@pytest.mark.parametrize("target", ["elf", "macho", "ar"])
def test_fuzz_binary_readers(seeds: dict[str, bytes], target: str) -> None:
    reader = {"elf": read_elf, "macho": read_macho, "ar": read_ar}[target]

    @FUZZ
    @given(_mutations(seeds[target]))
    def run(data: bytes) -> None:
        _only_member_errors(lambda d: reader(d, "fuzz"), data)

    run()


def test_fuzz_dex_reader() -> None:
    from licensegate.android.dex import read_dex

    seed = _dex_seed()

    @FUZZ
    @given(_mutations(seed))
    def run(data: bytes) -> None:
        _only_member_errors(lambda d: read_dex(d, "fuzz.dex"), data)

    run()


def test_fuzz_manifest_readers() -> None:
    from licensegate.android.manifest import read_bundle_config, read_proto_manifest, read_text_manifest

    @FUZZ
    @given(st.binary(max_size=512))
    def run(data: bytes) -> None:
        for fn in (read_proto_manifest, read_bundle_config, read_text_manifest):
            _only_member_errors(lambda d, f=fn: f(d), data)  # type: ignore[misc]

    run()


def test_fuzz_model_sniffer(seeds: dict[str, bytes]) -> None:
    from licensegate.ml import sniff_model

    gguf = b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little") + (1).to_bytes(8, "little")
    gguf += (12).to_bytes(8, "little") + b"general.name" + (8).to_bytes(4, "little") + (4).to_bytes(8, "little") + b"demo"
    tflite = bytes(4) + b"TFL3" + bytes(56)

    @FUZZ
    @given(st.sampled_from([gguf, tflite, seeds["zip"], b"\x08\x07\x12\x04test"]).flatmap(_mutations))
    def run(data: bytes) -> None:
        _only_member_errors(lambda d: sniff_model(d, "fuzz.bin"), data)

    run()



def _fuzz_apk_scan(seed: bytes, path: Path) -> None:
    """Mutations of `seed` written to `path` either scan or are refused with an InputError (exit 2); nothing else."""
    from licensegate.scan import scan

    @settings(max_examples=max(EXAMPLES // 3, 20), deadline=None, suppress_health_check=list(HealthCheck))
    @given(_mutations(seed))
    def run(data: bytes) -> None:
        path.write_bytes(data)
        try:
            scan(path, Limits(max_total_size=64 * 1024 * 1024))
        except LicenseGateError as exc:
            assert exc.exit_code == 2, exc

    run()


def test_fuzz_archive_walk(seeds: dict[str, bytes], tmp_path: Path) -> None:
    """A mutated APK either opens (bad members reported) or is refused with an InputError; nothing else."""
    _fuzz_apk_scan(seeds["zip"], tmp_path / "fuzz.apk")


def _dex_seed() -> bytes:
    import shutil
    import subprocess
    import tempfile

    if shutil.which("smali") is None:
        pytest.fail("smali is needed for the DEX seed (.ci/run installs it)")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "A.smali")
        src.write_text(
            ".class public Lcom/example/A;\n.super Ljava/lang/Object;\n"
            ".method static constructor <clinit>()V\n    .registers 1\n    const-string v0, \"seed\"\n"
            "    invoke-static {v0}, Ljava/lang/System;->loadLibrary(Ljava/lang/String;)V\n    return-void\n.end method\n"
        )
        out = Path(tmp, "classes.dex")
        subprocess.run(["smali", "assemble", "-o", str(out), str(src)], check=True, capture_output=True)
        return out.read_bytes()


# Crashes the fuzzers found, kept as regression cases: (reader, bytes).
REGRESSIONS: list[tuple[str, bytes]] = []


@pytest.mark.parametrize(("reader", "data"), REGRESSIONS or [pytest.param("elf", b"\x7fELF", id="bare-elf-magic")])
def test_regressions(reader: str, data: bytes) -> None:
    fn = {"elf": read_elf, "macho": read_macho, "ar": read_ar}[reader]
    with pytest.raises(MemberError):
        fn(data, "regression")


def _policy_seed() -> bytes:
    """The documented example policy (docs/policy.md): every table and key a real policy has."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "policy.md").read_text(encoding="utf-8")
    start = doc.index("```toml\nversion = 1") + len("```toml\n")
    return doc[start : doc.index("```", start)].encode("utf-8")


def test_fuzz_policy_loader(tmp_path: Path) -> None:
    """A mutated policy loads or is refused with a UsageError (exit 2); never another exception."""
    from licensegate.errors import UsageError
    from licensegate.policy import load

    seed = _policy_seed()
    path = tmp_path / "licensegate.toml"
    # type swaps at the value level reach the loader's checks, byte flips reach the TOML parser and the line scan
    swaps = st.sampled_from([b'[["x"]]', b'{a = "b"}', b"true", b"1", b"2020-01-01", b"[]", b'"' + b"x" * 300 + b'"', b"[" * 200])

    def swap_values(args: tuple[bytes, list[int]]) -> bytes:
        value, picks = args
        lines = seed.split(b"\n")
        for pick in picks:
            i = pick % len(lines)
            if b" = " in lines[i]:
                lines[i] = lines[i].split(b" = ", 1)[0] + b" = " + value
        return b"\n".join(lines)

    @FUZZ
    @given(st.one_of(_mutations(seed), st.tuples(swaps, st.lists(st.integers(0, 10_000), min_size=1, max_size=3)).map(swap_values)))
    def run(data: bytes) -> None:
        path.write_bytes(data)
        try:
            load(path)
        except UsageError:
            pass

    run()


def test_fuzz_archive_walk_every_method(tmp_path: Path, seeds: dict[str, bytes]) -> None:
    """Members stored, deflated, bzip2- and LZMA-compressed, mutated: the bounded reader gives data or a member
    problem; the scan ends with a report or an InputError."""
    import hostile_zips as hz

    entries = [hz.RawEntry("AndroidManifest.xml", hz.STORED, b"\x03\x00\x08\x00" + bytes(28), 0, 32)]
    for method, name in ((hz.DEFLATED, "liba.so"), (hz.BZIP2, "libb.so"), (hz.LZMA, "libc.so"), (hz.STORED, "libd.so")):
        packed, crc, size = hz.compress(method, [seeds["elf"]])
        entries.append(hz.RawEntry(f"lib/arm64-v8a/{name}", method, packed, crc, size))
    seed = hz.write_zip(tmp_path / "seed.apk", entries).read_bytes()
    _fuzz_apk_scan(seed, tmp_path / "fuzz.apk")
