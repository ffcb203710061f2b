"""Whole-process scan time against a floor measured in the same run.

    python benchmarks/run.py [--repeat N] [--only NAME]

Inputs are built from the fixture corpus (real Debian arm64/armhf libraries; `python fixtures/build.py` first, or
let this script run it) into benchmarks/.work/ and reused:

- `native-100mb.apk`: about 100 MB, of which about 80 MB are real native libraries (stored, as AGP packs them
  for extractNativeLibs=false) and the rest compressed resources;
- `entries-5000.apk`: 5,000 members and about 10 MB of DEX (four classes*.dex assembled by smali from generated
  classes) plus a few native libraries;
- `large-frameworks.ipa`: an IPA whose frameworks hold real code (the Debian libraries stored as framework binaries);
- `many-libs.apk`: every distinct real ELF library of both corpora (hundreds, all ABIs), compressed as AGP packs
  them for extractNativeLibs=true: an app with many libraries;
- `ios-frameworks.ipa`: real vendor iOS frameworks from npm (fat NativeScript and Node.js Mobile, every slice of the
  whisper.rn xcframework) with the wild corpus's main executable: an IPA with large Mach-O frameworks;
- `static-xcframework.zip`: an XCFramework of universal static archives (the corpus's iOS objects, llvm-ar +
  llvm-lipo) when the LLVM tools are installed;
- the wild corpus's own artifacts (fixtures/wild.py): `wild-ios.ipa` (two fat frameworks, 84 MB), the largest APKs
  and the whisper.rn xcframework, unchanged.

Reports go to stdout, which the harness discards: never `--output /dev/null`, which a CLI writing through a
temporary file and a rename would replace with a regular file. Start-up is timed the same way: `licensegate --version` and a scan of a tiny APK (a manifest, a 700-byte DEX, one
5 KB library), against `python -c pass` (the interpreter alone) in the same run.

The floor is one Python process that opens the artifact, inflates every member once and sha256-hashes it: the least
any scanner that looks at every byte must do. Each measurement is the whole process (interpreter start included),
the minimum of N runs; peak memory is the child's maximum resident set size. The ratio scan/floor is what matters:
both run on the same machine in the same minute. Targets (issue 15): every ratio within 2.5x, peak RSS under
the largest member plus 150 MB, start-up under 0.25 s.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"

FLOOR = r"""
import hashlib, sys, zipfile, os
p = sys.argv[1]
if os.path.isdir(p):
    for root, _, files in os.walk(p):
        for f in files:
            with open(os.path.join(root, f), 'rb') as fh:
                hashlib.sha256(fh.read()).hexdigest()
else:
    with zipfile.ZipFile(p) as zf:
        for info in zf.infolist():
            if not info.is_dir():
                hashlib.sha256(zf.read(info)).hexdigest()
"""


def corpus_natives() -> list[Path]:
    """Real ELF shared libraries and executables from the fixture corpus cache, largest first."""
    sys.path.insert(0, str(REPO / "tests"))
    from fixture_corpus import corpus_dir  # builds the corpus when missing

    corpus = corpus_dir()
    roots = {corpus, corpus.parent}
    env_cache = os.environ.get("LICENSEGATE_FIXTURE_CACHE")
    if env_cache:
        roots.add(Path(env_cache))
    seen: set[str] = set()
    out = []
    for root in roots:
        for p in root.rglob("*"):
            try:
                if not p.is_file() or p.is_symlink() or p.stat().st_size < 64 * 1024:
                    continue
                with p.open("rb") as fh:
                    if fh.read(4) != b"\x7fELF":
                        continue
            except OSError:
                continue
            digest = hashlib.sha256(p.read_bytes()).hexdigest()
            if digest not in seen:
                seen.add(digest)
                out.append(p)
    out.sort(key=lambda p: -p.stat().st_size)
    return out


def wild_dir() -> Path | None:
    """The wild corpus's artifacts (fixtures/wild.py builds it when missing; None when it cannot)."""
    sys.path.insert(0, str(REPO / "tests"))
    from fixture_corpus import cache_dir

    proc = subprocess.run([sys.executable, str(REPO / "fixtures" / "wild.py")], capture_output=True, text=True, cwd=REPO)
    out = cache_dir() / "wild" / "out"
    if proc.returncode != 0 or not (out / "manifest.json").is_file():
        print(f"wild corpus unavailable (fixtures/wild.py exit {proc.returncode}); its cases are skipped", file=sys.stderr)
        return None
    return out


def wild_natives() -> list[Path]:
    """Distinct real ELF libraries in the wild corpus's artifacts, written out once into benchmarks/.work."""
    wild = wild_dir()
    if wild is None:
        return []
    folder = WORK / "wild-natives"
    if not folder.is_dir():
        tmp = WORK / "wild-natives.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        seen: set[str] = set()
        for art in sorted(wild.glob("*.apk")) + sorted(wild.glob("*.aar")):
            with zipfile.ZipFile(art) as zf:
                for info in zf.infolist():
                    if info.is_dir() or info.file_size < 16 * 1024:
                        continue
                    with zf.open(info) as fh:
                        if fh.read(4) != b"\x7fELF":
                            continue
                    data = zf.read(info)
                    digest = hashlib.sha256(data).hexdigest()
                    if digest not in seen:
                        seen.add(digest)
                        Path(tmp, f"{digest[:12]}-{Path(info.filename).name}").write_bytes(data)
        tmp.replace(folder)
    return sorted(folder.iterdir(), key=lambda p: -p.stat().st_size)


_ELF_ABI = {183: "arm64-v8a", 40: "armeabi-v7a", 62: "x86_64", 3: "x86"}


def build_many_libs_apk(natives: list[Path], out: Path) -> None:
    """Every distinct real library of both corpora, deflated into lib/<abi>/ by its ELF machine."""
    libs = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in natives + wild_natives()}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("AndroidManifest.xml", real_manifest())
        used: set[str] = set()
        for i, (_, lib) in enumerate(sorted(libs.items())):
            data = lib.read_bytes()
            abi = _ELF_ABI.get(int.from_bytes(data[18:20], "little"), "arm64-v8a")
            stem = lib.name.split(".so")[0].split("-", 1)[-1]
            name = f"lib/{abi}/{stem}.so"
            if name in used:
                name = f"lib/{abi}/{stem}_{i}.so"
            used.add(name)
            zf.writestr(name, data)


def build_ios_frameworks_ipa(natives: list[Path], out: Path) -> None:
    """Real vendor frameworks: the wild IPA's app (NativeScript, NodeMobile) plus every whisper.rn slice."""
    wild = wild_dir()
    if wild is None:
        raise FileNotFoundError("wild corpus")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        with zipfile.ZipFile(wild / "wild-ios.ipa") as src:
            for info in src.infolist():
                dst.writestr(info.filename, src.read(info))
        with zipfile.ZipFile(wild / "wild-rnwhisper.xcframework.zip") as src:
            for info in src.infolist():
                parts = info.filename.split("/")
                if len(parts) >= 4 and parts[2] == "rnwhisper.framework" and not info.is_dir():
                    slice_name = parts[1].replace("-", "_")
                    rest = "/".join(parts[3:]).replace("rnwhisper", f"rnwhisper_{slice_name}", 1) if parts[3] == "rnwhisper" else "/".join(parts[3:])
                    dst.writestr(f"Payload/WildApp.app/Frameworks/rnwhisper_{slice_name}.framework/{rest}", src.read(info))


def build_tiny_apk(out: Path) -> None:
    """A manifest, a 700-byte DEX and one 5 KB library from the corpus's clean app: start-up plus very little."""
    sys.path.insert(0, str(REPO / "tests"))
    from fixture_corpus import corpus_dir

    with zipfile.ZipFile(corpus_dir() / "clean-app.apk") as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in ("AndroidManifest.xml", "classes.dex", "lib/arm64-v8a/libapp_clean.so"):
            dst.writestr(name, src.read(name))


def build_static_xcframework(natives: list[Path], out: Path) -> None:
    """An XCFramework of universal static archives, built from C sources with clang, llvm-ar and llvm-lipo."""
    sys.path.insert(0, str(REPO / "tests"))
    from static_archives import build_static_xcframework as build

    build(out)


def real_manifest() -> bytes:
    """A real binary AXML manifest (the corpus's), so the scan does the work it does on a real APK."""
    sys.path.insert(0, str(REPO / "tests"))
    from fixture_corpus import corpus_dir

    with zipfile.ZipFile(corpus_dir() / "gpl-player.apk") as zf:
        return zf.read("AndroidManifest.xml")


def build_native_apk(natives: list[Path], out: Path, native_bytes: int = 80 * 1024**2, total: int = 100 * 1024**2) -> None:
    rnd = random.Random(1)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("AndroidManifest.xml", real_manifest())
        size = 0
        i = 0
        abis = ["arm64-v8a", "armeabi-v7a", "x86_64", "x86"]
        pool = [n for n in natives if n.stat().st_size <= native_bytes // 4] or natives
        while size < native_bytes:
            lib = pool[i % len(pool)]
            abi = abis[(i // len(pool)) % len(abis)]
            data = lib.read_bytes()
            zf.writestr(zipfile.ZipInfo(f"lib/{abi}/{lib.name.split('.so')[0]}_{i}.so"), data, zipfile.ZIP_STORED)
            size += len(data)
            i += 1
        n = 0
        # Resources: half compressible text, half incompressible media, up to the total size.
        while size < total:
            blob = rnd.randbytes(256 * 1024) if n % 2 else (b"<resource>%d</resource>\n" % n) * 10000
            zf.writestr(f"res/raw/r{n}.bin", blob)
            size += len(blob) if n % 2 else len(blob) // 20
            n += 1


def build_entries_apk(natives: list[Path], out: Path) -> None:
    rnd = random.Random(2)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("AndroidManifest.xml", real_manifest())
        for d in range(4):
            zf.writestr("classes.dex" if d == 0 else f"classes{d + 1}.dex", make_dex(classes=1200, seed=d))
        for lib in natives[-6:]:
            zf.writestr(zipfile.ZipInfo(f"lib/arm64-v8a/{lib.name.split('.so')[0]}.so"), lib.read_bytes(), zipfile.ZIP_STORED)
        i = 0
        while len(zf.infolist()) < 5000:
            kind = i % 3
            if kind == 0:
                zf.writestr(f"res/drawable-xhdpi/icon_{i}.png", b"\x89PNG\r\n\x1a\n" + rnd.randbytes(rnd.randint(200, 4000)))
            elif kind == 1:
                zf.writestr(f"res/layout/layout_{i}.xml", b"\x03\x00\x08\x00" + (b"<LinearLayout/>" * rnd.randint(10, 200)))
            else:
                zf.writestr(f"assets/data/item_{i}.json", b'{"id": %d, "name": "item"}' % i * rnd.randint(5, 100))
            i += 1


def make_dex(classes: int, seed: int) -> bytes:
    """A real DEX assembled by smali from generated classes (string-heavy methods, a few loadLibrary calls)."""
    import tempfile

    rnd = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "src")
        src.mkdir()
        for c in range(classes):
            lines = [f".class public Lcom/example/gen{seed}/C{c};", ".super Ljava/lang/Object;", ""]
            for m in range(6):
                lines += [f".method public static m{m}()Ljava/lang/String;", "    .registers 2"]
                for k in range(8):
                    word = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(8, 40)))
                    lines.append(f'    const-string v0, "{word}_{c}_{m}_{k}"')
                if m == 0 and c % 100 == 0:
                    lines += [f'    const-string v1, "native{c}"', "    invoke-static {v1}, Ljava/lang/System;->loadLibrary(Ljava/lang/String;)V"]
                lines += ["    return-object v0", ".end method", ""]
            Path(src, f"C{c}.smali").write_text("\n".join(lines))
        out = Path(tmp, "classes.dex")
        subprocess.run(["smali", "assemble", "-o", str(out), str(src)], check=True, capture_output=True)
        return out.read_bytes()


def build_ipa(natives: list[Path], out: Path) -> None:
    import plistlib

    app = "Payload/Big.app/"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(app + "Info.plist", plistlib.dumps({"CFBundleIdentifier": "com.example.big", "CFBundleExecutable": "Big"}, fmt=plistlib.FMT_BINARY))
        for lib in natives[:12]:
            name = lib.name.split(".so")[0].removeprefix("lib").capitalize()
            zf.write(lib, f"{app}Frameworks/{name}.framework/{name}")


_PEAK = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code)\n"
)


@dataclass
class Measure:
    wall: float  # min seconds over the runs
    cpu: float  # min user+system CPU seconds of the child over the runs
    peak_kb: int  # peak RSS in KiB
    code: int


def measure(cmd: list[str], repeat: int) -> Measure:
    """Min wall time, min CPU time, peak RSS and exit code over `repeat` runs of a whole process.

    Time is taken on the command itself. CPU time (user + system, from the child's rusage) is reported beside the
    wall time because this machine is shared: other processes stretch wall time, not CPU time. Peak memory comes
    from one extra run under a small wrapper process: a child forked from this (large) benchmark process would
    count this process's pages in its own maximum.
    """
    best = best_cpu = float("inf")
    code = 0
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed with {proc.returncode}: {proc.stderr.decode().strip()}")
        code = proc.returncode
        best = min(best, elapsed)
        best_cpu = min(best_cpu, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    wrapped = subprocess.run([sys.executable, "-c", _PEAK, *cmd], capture_output=True, text=True)
    peak = int(wrapped.stdout.strip().splitlines()[-1])
    return Measure(best, best_cpu, peak, code)


def compare_scancode(scancode: str, licensegate: str) -> None:
    """Speed and findings of ScanCode and LicenseGate on the same unpacked APK (real Debian libraries)."""
    import json
    import tempfile

    sys.path.insert(0, str(REPO / "tests"))
    from fixture_corpus import corpus_dir

    folder = corpus_dir() / "unpacked-apk"
    with tempfile.TemporaryDirectory() as tmp:
        sc_out, lg_out = Path(tmp, "sc.json"), Path(tmp, "lg.json")
        t0 = time.perf_counter()
        subprocess.run([scancode, "--license", "--copyright", "-n", "2", "--json", str(sc_out), str(folder)],
                       check=True, capture_output=True)
        sc_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        subprocess.run([licensegate, "scan", str(folder), "--format", "json", "--output", str(lg_out)], capture_output=True)
        lg_s = time.perf_counter() - t0
        sc = {f["path"].split("unpacked-apk/", 1)[-1]: f.get("detected_license_expression_spdx")
              for f in json.loads(sc_out.read_text())["files"] if f["type"] == "file"}
        lg = {c["path"]: c["license"] for c in json.loads(lg_out.read_text())["components"]}
    print(f"\nScanCode vs LicenseGate on {folder.name}/ ({len(sc)} files): ScanCode {sc_s:.1f} s, LicenseGate {lg_s:.2f} s")
    print("| member | ScanCode | LicenseGate |")
    print("|---|---|---|")
    for path in sorted(set(lg) | {p for p in sc if p.endswith((".so", ".dex"))}):
        print(f"| {path} | {sc.get(path) or '-'} | {lg.get(path) or '-'} |")


def _copy(src: Path, natives: list[Path], out: Path) -> None:
    shutil.copyfile(src, out)


def byte_compile(exe: str) -> None:
    """Byte-compile the licensegate package that the console script `exe` runs (its shebang's Python), so that no
    measured run compiles modules; a note on stderr when that cannot be found out."""
    path = shutil.which(exe) or exe
    try:
        with open(path, "rb") as fh:
            first = fh.readline(4096)
    except OSError:
        first = b""
    words = first[2:].decode("utf-8", "replace").split() if first.startswith(b"#!") else []
    python = words[1] if len(words) > 1 and os.path.basename(words[0]) == "env" else words[0] if words else ""
    python = shutil.which(python) or python if python else ""
    if not os.path.basename(python).startswith("python") or not os.path.isfile(python):
        print(f"{exe}: not a console script with a Python shebang; its modules are not byte-compiled here",
              file=sys.stderr)
        return
    found = subprocess.run([python, "-c", "import licensegate, os; print(os.path.dirname(licensegate.__file__))"],
                           capture_output=True, text=True, check=False)
    if found.returncode == 0 and found.stdout.strip():
        subprocess.run([python, "-m", "compileall", "-q", found.stdout.strip()], stdout=subprocess.DEVNULL, check=False)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", help="run only these inputs (comma-separated names)")
    ap.add_argument("--baseline", metavar="EXE", help="also time another licensegate (an earlier version) in the same run, "
                    "interleaved with this one, for a before/after table on a busy machine")
    beside = Path(sys.executable).with_name("licensegate")  # the one installed with this Python (the README's venv)
    ap.add_argument("--licensegate", default=str(beside) if beside.is_file() else shutil.which("licensegate") or "licensegate")
    ap.add_argument("--scaling", action="store_true", help="also time 10 MB, 100 MB and 1 GB native APKs (linear growth)")
    ap.add_argument("--scancode", metavar="EXE", help="also run ScanCode Toolkit (installed in its own venv) on the unpacked corpus APK and compare")
    args = ap.parse_args()
    WORK.mkdir(exist_ok=True)
    # An installed wheel is byte-compiled by pip; an editable checkout under PYTHONDONTWRITEBYTECODE is not, and
    # would pay the compilation of every module on every run: this checkout's, and the baseline's (an uncompiled
    # baseline made every "before" figure up to 0.05 s slower than it is).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")], stdout=subprocess.DEVNULL, check=False)
    for exe in filter(None, (args.licensegate, args.baseline)):
        byte_compile(exe)
    natives = corpus_natives()
    if not natives:
        raise SystemExit("no native libraries found in the fixture corpus")
    inputs = {
        "native-100mb.apk": build_native_apk,
        "entries-5000.apk": build_entries_apk,
        "large-frameworks.ipa": build_ipa,
        "many-libs.apk": build_many_libs_apk,
        "ios-frameworks.ipa": build_ios_frameworks_ipa,
        "static-xcframework.zip": build_static_xcframework,
    }
    wild = wild_dir()
    if wild is not None:
        for real in ("wild-ios.ipa", "wild-rnwhisper.xcframework.zip", "wild-debian.apk", "wild-pyext.apk", "wild-opencv.apk", "wild-av.apk"):
            if (wild / real).is_file():
                inputs[real] = functools.partial(_copy, wild / real)
    if args.scaling:
        inputs["native-10mb.apk"] = lambda n, out: build_native_apk(n, out, 8 * 1024**2, 10 * 1024**2)
        inputs["native-1gb.apk"] = lambda n, out: build_native_apk(n, out, 820 * 1024**2, 1024**3)
    rows = []
    baseline: dict[str, Measure] = {}
    for name, builder in inputs.items():
        if args.only and name not in args.only.split(","):
            continue
        path = WORK / name
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            try:
                builder(natives, tmp)
            except (FileNotFoundError, subprocess.CalledProcessError, ImportError) as exc:
                print(f"{name}: not built ({exc}); skipped", file=sys.stderr)
                tmp.unlink(missing_ok=True)
                continue
            tmp.replace(path)
        floor = measure([sys.executable, "-c", FLOOR, str(path)], args.repeat)
        scanned = measure([args.licensegate, "scan", str(path), "--format", "json"], args.repeat)
        if args.baseline:
            baseline[name] = measure([args.baseline, "scan", str(path), "--format", "json"], args.repeat)
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
        largest = max(i.file_size for i in infos)
        rows.append((name, path.stat().st_size, len(infos), largest, floor, scanned))

    tiny = WORK / "tiny.apk"
    if not tiny.exists():
        build_tiny_apk(tiny)
    repeat = max(args.repeat, 5)
    python = measure([sys.executable, "-c", "pass"], repeat)
    version = measure([args.licensegate, "--version"], repeat)
    tiny_scan = measure([args.licensegate, "scan", str(tiny), "--format", "json"], repeat)

    print(f"# {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; min of {args.repeat} runs")
    print("| input | size | members | largest member | floor | scan | ratio | CPU floor | CPU scan | CPU ratio | floor peak RSS | scan peak RSS | RSS - largest |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    misses = []
    for name, size, members, largest, floor, scanned in rows:
        ratio, over = scanned.wall / floor.wall, scanned.peak_kb * 1024 - largest
        print(f"| {name} | {size / 1e6:.1f} MB | {members} | {largest / 1e6:.1f} MB | {floor.wall:.2f} s | {scanned.wall:.2f} s | **{ratio:.2f}x** "
              f"| {floor.cpu:.2f} s | {scanned.cpu:.2f} s | {scanned.cpu / floor.cpu:.2f}x "
              f"| {floor.peak_kb / 1024:.0f} MiB | {scanned.peak_kb / 1024:.0f} MiB | {over / 2**20:.0f} MiB |")
        if ratio > 2.5 and floor.wall >= 0.1:  # below 0.1 s the floor is the interpreter: judged by start-up instead
            misses.append(f"{name}: {ratio:.2f}x the floor (target 2.5x)")
        if over > 150 * 2**20:
            misses.append(f"{name}: peak RSS {over / 2**20:.0f} MiB over its largest member (target 150 MiB)")
    print(f"\nStart-up, min of {repeat} (wall / CPU): `python -c pass` {python.wall:.3f} s / {python.cpu:.3f} s "
          f"({python.peak_kb / 1024:.0f} MiB); `licensegate --version` {version.wall:.3f} s / {version.cpu:.3f} s; "
          f"`licensegate scan tiny.apk` {tiny_scan.wall:.3f} s / {tiny_scan.cpu:.3f} s ({tiny_scan.peak_kb / 1024:.0f} MiB)")
    for label, m in (("--version", version), ("scan tiny.apk", tiny_scan)):
        if m.wall > 0.25:
            misses.append(f"start-up {label}: {m.wall:.3f} s (target 0.25 s)")
    print("\nTargets: " + ("all met" if not misses else "MISSED: " + "; ".join(misses)))
    if args.baseline:
        b_version = measure([args.baseline, "--version"], repeat)
        b_tiny = measure([args.baseline, "scan", str(tiny), "--format", "json"], repeat)
        print(f"\nBaseline `{args.baseline}` in the same run (ratio to the same floor):\n")
        print("| input | floor | baseline scan | baseline ratio | this scan | this ratio | baseline CPU | this CPU | baseline peak RSS | this peak RSS |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name, _, _, _, floor, scanned in rows:
            b = baseline[name]
            print(f"| {name} | {floor.wall:.2f} s | {b.wall:.2f} s | {b.wall / floor.wall:.2f}x | {scanned.wall:.2f} s | **{scanned.wall / floor.wall:.2f}x** "
                  f"| {b.cpu:.2f} s | {scanned.cpu:.2f} s | {b.peak_kb / 1024:.0f} MiB | {scanned.peak_kb / 1024:.0f} MiB |")
        print(f"\nBaseline start-up (wall / CPU): `--version` {b_version.wall:.3f} s / {b_version.cpu:.3f} s; "
              f"`scan tiny.apk` {b_tiny.wall:.3f} s / {b_tiny.cpu:.3f} s")
    if args.scancode:
        compare_scancode(args.scancode, args.licensegate)
    scaling = sorted((size, scanned.wall, name) for name, size, _, _, _, scanned in rows if name.startswith("native-"))
    if len(scaling) > 1:
        print("\nGrowth (scan seconds per 100 MB): " + ", ".join(f"{name} {ss / (size / 1e8):.2f} s" for size, ss, name in scaling))
    return 0


if __name__ == "__main__":
    sys.exit(main())
