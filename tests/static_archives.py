"""Universal (fat) static archives and an XCFramework of static slices, built with clang, llvm-ar and llvm-lipo.

The objects carry x264's real identity string and export, taken from the Debian libx264 of the fixture corpus (as
fixtures/build.py does for its iOS frameworks), so that the scan has something real to identify in every slice.
"""

from __future__ import annotations

import glob
import plistlib
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SLICES = {  # XCFramework slice folder -> the clang targets of its archive (two targets: a universal archive)
    "ios-arm64": ["arm64-apple-ios14.0"],
    "ios-arm64_x86_64-simulator": ["arm64-apple-ios14.0-simulator", "x86_64-apple-ios14.0-simulator"],
}


def lipo() -> str | None:
    """llvm-lipo, versioned or not (Debian's llvm package installs llvm-lipo-NN)."""
    found = shutil.which("llvm-lipo")
    if found:
        return found
    versioned = sorted(glob.glob("/usr/bin/llvm-lipo-*"), key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
    return versioned[-1] if versioned else None


def have_tools() -> bool:
    return all(shutil.which(t) for t in ("clang", "llvm-ar")) and lipo() is not None


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")


def x264_identity() -> tuple[bytes, str]:
    """x264's identity format string and its versioned encoder export, read from the corpus's real libx264."""
    sys.path.insert(0, str(REPO / "tests"))
    from fixture_corpus import cache_dir, corpus_dir

    corpus_dir()  # builds the corpus (and its extracted Debian packages) when missing
    libs = sorted(cache_dir().glob("extract/libx264-*_arm64/usr/lib/*/libx264.so.*"))
    if not libs:
        raise FileNotFoundError("libx264 of the fixture corpus")
    data = libs[0].read_bytes()
    at = data.index(b"x264 - core %d%s - H.264/MPEG-4 AVC codec")
    ident = data[at : data.index(b"\0", at)]
    m = re.search(rb"x264_encoder_open_\d+", data)
    if m is None:
        raise ValueError("no x264_encoder_open_<build> in libx264")
    return ident, m.group().decode()


def _c_literal(data: bytes) -> str:
    return '"' + "".join(chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:03o}" for b in data) + '"'


def static_archive(work: Path, targets: list[str], name: str = "libx264enc.a") -> Path:
    """A static library of two objects (x264's identity, the app's own glue), one thin archive per target, lipo'd
    into a universal archive when there is more than one target."""
    ident, export = x264_identity()
    sources = {
        "encoder.c": f"static const char identity[] = {_c_literal(ident)};\n"
                     f"void *{export}(void *param) {{ return param ? (void *)identity : (void *)0; }}\n"
                     "const char *x264_identity_format(void) { return identity; }\n",
        "glue.c": f"extern void *{export}(void *param);\nint app_encode_frame(void *p) {{ return {export}(p) != 0; }}\n",
    }
    thin = []
    for target in targets:
        tdir = work / target
        tdir.mkdir(parents=True, exist_ok=True)
        objects = []
        for file, text in sources.items():
            (tdir / file).write_text(text)
            obj = tdir / file.replace(".c", ".o")
            _run(["clang", f"--target={target}", "-O1", "-c", "-o", str(obj), str(tdir / file)])
            objects.append(str(obj))
        archive = tdir / name
        archive.unlink(missing_ok=True)
        _run(["llvm-ar", "rcs", "--format=darwin", str(archive), *objects])
        thin.append(archive)
    out = work / name
    if len(thin) == 1:
        shutil.copyfile(thin[0], out)
    else:
        tool = lipo()
        if tool is None:
            raise FileNotFoundError("llvm-lipo")
        _run([tool, "-create", *map(str, thin), "-output", str(out)])
    return out


def build_static_xcframework(out: Path, work: Path | None = None) -> dict[str, bytes]:
    """Libx264enc.xcframework (a device slice: thin archive; a simulator slice: universal archive) zipped to `out`.

    Returns {member path: archive bytes}."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        base = work or Path(tmp)
        members: dict[str, bytes] = {}
        libraries = []
        for folder, targets in SLICES.items():
            archive = static_archive(base / folder, targets)
            members[f"Libx264enc.xcframework/{folder}/libx264enc.a"] = archive.read_bytes()
            libraries.append({
                "LibraryIdentifier": folder, "LibraryPath": "libx264enc.a", "HeadersPath": "Headers",
                "SupportedArchitectures": [t.split("-")[0] for t in targets], "SupportedPlatform": "ios",
                **({"SupportedPlatformVariant": "simulator"} if folder.endswith("simulator") else {}),
            })
        info = plistlib.dumps({"AvailableLibraries": libraries, "CFBundlePackageType": "XFWK", "XCFrameworkFormatVersion": "1.0"})
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("Libx264enc.xcframework/Info.plist", info)
            for path, data in members.items():
                zf.writestr(path, data)
        return members
