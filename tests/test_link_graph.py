"""The link graph on real clang-built Android (ELF) and iOS (Mach-O) binaries."""

from __future__ import annotations

import json
import plistlib
import zipfile
from pathlib import Path

import pytest

from licensegate.cli import main
from natives import ANDROID_ARM, android_lib, have_clang, ios_dylib, ios_executable

pytestmark = pytest.mark.skipif(not have_clang(), reason="clang is installed by .ci/run")


def scan(capsys: pytest.CaptureFixture[str], path: Path) -> dict:
    code = main(["scan", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return json.loads(out)


def by_path(report: dict) -> dict[str, dict]:
    return {c["path"]: c for c in report["components"]}


@pytest.fixture(scope="module")
def android_libs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("android")
    libc = android_lib(d / "libc.so", "int puts(const char *s) { return 0; }", soname="libc.so")
    libb = android_lib(d / "libb.so", "int b_value(void) { return 7; }", soname="libb.so.5")
    liba = android_lib(d / "liba.so", 'extern int b_value(void); extern int puts(const char*);\n'
                       'int a_value(void) { puts("a"); return b_value(); }', link=[libb, libc])
    libb32 = android_lib(d / "libb32.so", "int b_value(void) { return 7; }", soname="libb.so.5", target=ANDROID_ARM)
    liba32 = android_lib(d / "liba32.so", "extern int b_value(void);\nint a_value(void) { return b_value(); }", link=[libb32], target=ANDROID_ARM)
    return {"liba": liba, "libb": libb, "liba32": liba32, "libb32": libb32}


def test_dt_needed_resolves_by_soname_within_the_abi(tmp_path: Path, capsys: pytest.CaptureFixture[str], android_libs: dict[str, Path]) -> None:
    apk = tmp_path / "app.apk"
    with zipfile.ZipFile(apk, "w") as zf:
        zf.writestr("AndroidManifest.xml", b"\0" * 8)
        zf.write(android_libs["liba"], "lib/arm64-v8a/liba.so")
        # the file name differs from the soname (libb.so.5): resolution must go by soname
        zf.write(android_libs["libb"], "lib/arm64-v8a/libb.so")
        zf.write(android_libs["liba32"], "lib/armeabi-v7a/liba.so")
        zf.write(android_libs["libb32"], "lib/armeabi-v7a/libb.so")
    comps = by_path(scan(capsys, apk))
    a64, a32 = comps["lib/arm64-v8a/liba.so"], comps["lib/armeabi-v7a/liba.so"]
    assert a64["abi"] == "arm64-v8a" and a32["abi"] == "armeabi-v7a"
    assert a64["links"] == ["lib/arm64-v8a/libb.so"]
    assert a32["links"] == ["lib/armeabi-v7a/libb.so"]
    assert a64["unresolved_links"] == ["libc.so"]
    assert comps["lib/arm64-v8a/libb.so"]["loaded_by"] == ["lib/arm64-v8a/liba.so"]
    assert comps["lib/arm64-v8a/libb.so"]["soname"] == "libb.so.5"


def test_nested_archive_members_are_named_with_bang(tmp_path: Path, capsys: pytest.CaptureFixture[str], android_libs: dict[str, Path]) -> None:
    import io

    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.write(android_libs["liba"], "lib/arm64-v8a/liba.so")
        zf.write(android_libs["libb"], "lib/arm64-v8a/libb.so")
    apk = tmp_path / "nested.apk"
    with zipfile.ZipFile(apk, "w") as zf:
        zf.writestr("AndroidManifest.xml", b"\0" * 8)
        zf.writestr("assets/plugin.zip", inner.getvalue())
    comps = by_path(scan(capsys, apk))
    a = comps["assets/plugin.zip!/lib/arm64-v8a/liba.so"]
    assert a["links"] == ["assets/plugin.zip!/lib/arm64-v8a/libb.so"]


def test_unpacked_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str], android_libs: dict[str, Path]) -> None:
    root = tmp_path / "unpacked"
    (root / "lib/arm64-v8a").mkdir(parents=True)
    (root / "lib/arm64-v8a/liba.so").write_bytes(android_libs["liba"].read_bytes())
    (root / "lib/arm64-v8a/libb.so").write_bytes(android_libs["libb"].read_bytes())
    report = scan(capsys, root)
    assert report["artifact"]["type"] == "folder"
    assert by_path(report)["lib/arm64-v8a/liba.so"]["links"] == ["lib/arm64-v8a/libb.so"]


@pytest.fixture(scope="module")
def ipa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("ios")
    fw = ios_dylib(d / "B", "int b_value(void) { return 7; }", install_name="@rpath/B.framework/B")
    helper = ios_dylib(d / "libhelper.dylib", "int h(void) { return 1; }", install_name="@executable_path/Frameworks/libhelper.dylib")
    exe = ios_executable(d / "App", "extern int b_value(void); extern int h(void);\nint main(void) { return b_value() + h(); }",
                         link=[fw, helper], rpaths=["@executable_path/Frameworks"])
    ext = ios_executable(d / "Ext", "extern int b_value(void);\nint main(void) { return b_value(); }",
                         link=[fw], rpaths=["@executable_path/../../Frameworks"])
    out = d / "App.ipa"
    app = "Payload/App.app/"
    with zipfile.ZipFile(out, "w") as zf:
        zf.write(exe, app + "App")
        zf.writestr(app + "Info.plist", plistlib.dumps({"CFBundleIdentifier": "com.example.app", "CFBundleExecutable": "App",
                                                         "CFBundleShortVersionString": "2.1", "CFBundleVersion": "210",
                                                         "MinimumOSVersion": "14.0"}, fmt=plistlib.FMT_BINARY))
        zf.write(fw, app + "Frameworks/B.framework/B")
        zf.write(helper, app + "Frameworks/libhelper.dylib")
        zf.write(ext, app + "PlugIns/Ext.appex/Ext")
        zf.writestr(app + "PlugIns/Ext.appex/Info.plist", plistlib.dumps({"CFBundleIdentifier": "com.example.app.ext", "CFBundleExecutable": "Ext"}))
    return out


def test_ipa_rpath_and_executable_path_resolution(capsys: pytest.CaptureFixture[str], ipa: Path) -> None:
    report = scan(capsys, ipa)
    art = report["artifact"]
    assert (art["type"], art["platform"], art["app_id"], art["version"], art["version_code"], art["min_sdk"]) == (
        "ipa", "ios", "com.example.app", "2.1", "210", "14.0")
    assert art["executable"] == "Payload/App.app/App"
    comps = by_path(report)
    app, ext = comps["Payload/App.app/App"], comps["Payload/App.app/PlugIns/Ext.appex/Ext"]
    assert app["kind"] == "executable" and app["abi"] == "arm64"
    assert app["links"] == ["Payload/App.app/Frameworks/B.framework/B", "Payload/App.app/Frameworks/libhelper.dylib"]
    # the extension resolves @rpath through its own LC_RPATH (@executable_path/../../Frameworks)
    assert ext["links"] == ["Payload/App.app/Frameworks/B.framework/B"]
    b = comps["Payload/App.app/Frameworks/B.framework/B"]
    assert b["soname"] == "@rpath/B.framework/B"
    assert b["loaded_by"] == ["Payload/App.app/App", "Payload/App.app/PlugIns/Ext.appex/Ext"]


def test_fat_macho(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import struct

    thin = ios_dylib(tmp_path / "T", "int t(void) { return 1; }", install_name="@rpath/T.framework/T")
    data = thin.read_bytes()
    # A universal binary holding the same arm64 slice twice (cpu types arm64 and arm64e-like subtype), aligned at 16K.
    align = 1 << 14
    header = struct.pack(">II", 0xCAFEBABE, 2)
    off1 = align
    off2 = off1 + ((len(data) + align - 1) // align) * align
    header += struct.pack(">iiIII", 0x0100000C, 0, off1, len(data), 14)
    header += struct.pack(">iiIII", 0x0100000C, 2, off2, len(data), 14)
    fat = header.ljust(off1, b"\0") + data.ljust(off2 - off1, b"\0") + data
    fw = tmp_path / "fat.zip"
    with zipfile.ZipFile(fw, "w") as zf:
        zf.writestr("T.framework/T", fat)
    c = by_path(scan(capsys, fw))["T.framework/T"]
    assert c["format"] == "macho" and c["details"]["slices"] == ["arm64", "arm64"]
    assert c["soname"] == "@rpath/T.framework/T"


def test_split_apk_set(tmp_path: Path, capsys: pytest.CaptureFixture[str], android_libs: dict[str, Path], corpus: Path) -> None:
    """An .apks split set: the base APK's manifest names the app; libraries in config splits are walked."""
    manifest = zipfile.ZipFile(corpus / "clean-app.apk").read("AndroidManifest.xml")
    import io

    def apk(entries: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for k, v in entries.items():
                zf.writestr(k, v)
        return buf.getvalue()

    apks = tmp_path / "app.apks"
    with zipfile.ZipFile(apks, "w") as zf:
        zf.writestr("toc.pb", b"\x0a\x00")
        zf.writestr("splits/base-master.apk", apk({"AndroidManifest.xml": manifest}))
        zf.writestr("splits/base-arm64_v8a.apk", apk({"AndroidManifest.xml": manifest,
                                                       "lib/arm64-v8a/liba.so": android_libs["liba"].read_bytes(),
                                                       "lib/arm64-v8a/libb.so": android_libs["libb"].read_bytes()}))
    report = scan(capsys, apks)
    assert report["artifact"]["type"] == "apks" and report["artifact"]["app_id"] == "com.example.clean"
    a = by_path(report)["splits/base-arm64_v8a.apk!/lib/arm64-v8a/liba.so"]
    assert a["links"] == ["splits/base-arm64_v8a.apk!/lib/arm64-v8a/libb.so"]


def test_core_ml_linkage_marks_an_ml_runtime(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    coreml = ios_dylib(tmp_path / "CoreML", "int ml(void) { return 0; }", install_name="/System/Library/Frameworks/CoreML.framework/CoreML")
    exe = ios_executable(tmp_path / "App", "extern int ml(void);\nint main(void) { return ml(); }", link=[coreml])
    ipa = tmp_path / "ml.ipa"
    with zipfile.ZipFile(ipa, "w") as zf:
        zf.write(exe, "Payload/App.app/App")
        zf.writestr("Payload/App.app/Info.plist", plistlib.dumps({"CFBundleIdentifier": "com.example.ml", "CFBundleExecutable": "App"}))
    app = by_path(scan(capsys, ipa))["Payload/App.app/App"]
    assert app["unresolved_links"] == ["/System/Library/Frameworks/CoreML.framework/CoreML"]
    assert app["details"]["system_ml_frameworks"] == ["Core ML"]


def test_lgpl_static_archive_fails_lgpl_shared_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str], corpus: Path) -> None:
    """The same LGPL code (LAME's identity strings, copied from Debian's real libmp3lame.so) passes as its own shared
    library and fails inside a static archive (.a in an AAR), where users cannot relink it."""
    import re
    import subprocess

    from fixture_corpus import cache_dir

    real = next((cache_dir() / "extract").glob("libmp3lame0_arm64/usr/lib/aarch64-linux-gnu/libmp3lame.so.0*"))
    rodata = real.read_bytes()
    idents = sorted({m.group().decode() for m in re.finditer(rb"LAME[ -~]{4,60}", rodata) if b'"' not in m.group() and b"\\" not in m.group()})[:20]
    assert idents, "LAME identity strings not found in the real library"
    src = tmp_path / "lame_part.c"
    src.write_text("".join(f'const char *s{i} = "{s}";\n' for i, s in enumerate(idents)) + "int lame_get_version(void) { return 3; }\n")
    obj = tmp_path / "lame_part.o"
    subprocess.run(["clang", "--target=aarch64-linux-android24", "-c", "-O1", "-o", str(obj), str(src)], check=True)
    archive = tmp_path / "libmp3lame.a"
    subprocess.run(["llvm-ar", "rcs", str(archive), str(obj)], check=True)
    aar = tmp_path / "lame.aar"
    with zipfile.ZipFile(aar, "w") as zf:
        zf.writestr("AndroidManifest.xml", '<manifest package="com.example.lame"/>')
        zf.writestr("classes.jar", b"")
        zf.write(archive, "jni/arm64-v8a/libmp3lame.a")
        zf.write(real, "jni/arm64-v8a/libmp3lame.so")
    code = main(["scan", str(aar), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    comps = by_path(report)
    static, shared = comps["jni/arm64-v8a/libmp3lame.a"], comps["jni/arm64-v8a/libmp3lame.so"]
    assert static["kind"] == "static-archive" and static["family"] == "lgpl" and static["abi"] == "arm64-v8a"
    assert shared["family"] == "lgpl"
    rules = {(f["component"], f["rule"], f["severity"]) for f in report["findings"]}
    assert ("jni/arm64-v8a/libmp3lame.a", "lgpl-static", "error") in rules
    assert ("jni/arm64-v8a/libmp3lame.so", "lgpl-shared", "info") in rules
    assert code == 1


def test_dlopen_with_a_constant_name_is_a_link(tmp_path: Path, capsys: pytest.CaptureFixture[str], corpus: Path) -> None:
    """App code that dlopen()s a shipped GPL library by name reaches it as surely as DT_NEEDED does."""
    from fixture_corpus import cache_dir

    libdl = android_lib(tmp_path / "libdl.so", "void *dlopen(const char *f, int m) { return 0; }", soname="libdl.so")
    loader = android_lib(tmp_path / "libloader.so", 'extern void *dlopen(const char *, int);\n'
                         'void *open_encoder(void) { return dlopen("libx264.so", 2); }\n'
                         'const char *unrelated = "see libnothere.so.3 for details";', link=[libdl])
    x264 = next((cache_dir() / "extract").glob("libx264-164_arm64/usr/lib/aarch64-linux-gnu/libx264.so.164"))
    apk = tmp_path / "dl.apk"
    with zipfile.ZipFile(apk, "w") as zf:
        zf.writestr("AndroidManifest.xml", b"\0" * 8)
        zf.write(loader, "lib/arm64-v8a/libloader.so")
        zf.write(x264, "lib/arm64-v8a/libx264.so")
    report = scan(capsys, apk)
    comps = by_path(report)
    ld = comps["lib/arm64-v8a/libloader.so"]
    assert ld["links"] == ["lib/arm64-v8a/libx264.so"] and ld["details"]["dlopen_links"] == ["lib/arm64-v8a/libx264.so"]
    assert ld["unresolved_links"] == ["libdl.so"]  # DT_NEEDED only; unresolvable dlopen names are not listed
    assert comps["lib/arm64-v8a/libx264.so"]["loaded_by"] == ["lib/arm64-v8a/libloader.so"]
    chains = [f["chain"] for f in report["findings"] if f["rule"] == "app-links-copyleft"]
    assert ["lib/arm64-v8a/libloader.so", "lib/arm64-v8a/libx264.so"] in chains


def test_plain_jar_is_one_java_library(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A JAR scanned directly: its packages belong to the artifact, so a library spread over sub-packages is one
    component."""
    import shutil
    import subprocess

    if shutil.which("javac") is None:
        pytest.fail("javac is needed (.ci/run installs default-jdk-headless)")
    src = tmp_path / "src"
    for pkg in ("de/blinkt/openvpn/core", "de/blinkt/openvpn/api"):
        (src / pkg).mkdir(parents=True)
        (src / pkg / "A.java").write_text(f"package {pkg.replace('/', '.')};\npublic class A {{ static {{ System.loadLibrary(\"opvpnutil\"); }} }}\n")
    out = tmp_path / "classes"
    subprocess.run(["javac", "--release", "11", "-d", str(out), *map(str, src.rglob("*.java"))], check=True)
    jar = tmp_path / "vpn.jar"
    with zipfile.ZipFile(jar, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        for f in out.rglob("*.class"):
            zf.write(f, f.relative_to(out).as_posix())
    report = scan(capsys, jar)
    assert report["artifact"]["type"] == "jar"
    libs = [c for c in report["components"] if c["kind"] == "java-library"]
    assert [(c["path"], c["family"]) for c in libs] == [("de/blinkt/openvpn/", "gpl")]
    assert {(s["class"], s["argument"]) for s in report["load_sites"]} == {
        ("de.blinkt.openvpn.core.A", "opvpnutil"), ("de.blinkt.openvpn.api.A", "opvpnutil")}
