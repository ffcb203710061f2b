"""Whole-process scan time against a floor measured in the same run.

    python benchmarks/run.py [--repeat N] [--only NAME]

Inputs are built from the fixture corpus (real Debian arm64/armhf libraries; `python fixtures/build.py` first, or
let this script run it) into benchmarks/.work/ and reused:

- `native-100mb.apk`: about 100 MB, of which about 80 MB are real native libraries (stored, as AGP packs them
  for extractNativeLibs=false) and the rest compressed resources;
- `entries-5000.apk`: 5,000 members and about 10 MB of DEX (four classes*.dex assembled by smali from generated
  classes) plus a few native libraries;
- `large-frameworks.ipa`: an IPA whose frameworks hold real code (the Debian libraries stored as framework binaries).

The floor is one Python process that opens the artifact, inflates every member once and sha256-hashes it: the least
any scanner that looks at every byte must do. Each measurement is the whole process (interpreter start included),
the minimum of N runs; peak memory is the child's maximum resident set size. The ratio scan/floor is what matters:
both run on the same machine in the same minute.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import shutil
import subprocess
import sys
import time
import zipfile
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


def measure(cmd: list[str], repeat: int) -> tuple[float, int, int]:
    """(min seconds, peak RSS in KiB, exit code) over `repeat` runs of a whole process.

    Time is taken on the command itself. Peak memory comes from one extra run under a small wrapper process: a
    child forked from this (large) benchmark process would count this process's pages in its own maximum.
    """
    best = float("inf")
    code = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - t0
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed with {proc.returncode}: {proc.stderr.decode().strip()}")
        code = proc.returncode
        best = min(best, elapsed)
    wrapped = subprocess.run([sys.executable, "-c", _PEAK, *cmd], capture_output=True, text=True)
    peak = int(wrapped.stdout.strip().splitlines()[-1])
    return best, peak, code


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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", help="run one input by name")
    ap.add_argument("--licensegate", default=shutil.which("licensegate") or "licensegate")
    ap.add_argument("--scaling", action="store_true", help="also time 10 MB, 100 MB and 1 GB native APKs (linear growth)")
    ap.add_argument("--scancode", metavar="EXE", help="also run ScanCode Toolkit (installed in its own venv) on the unpacked corpus APK and compare")
    args = ap.parse_args()
    WORK.mkdir(exist_ok=True)
    natives = corpus_natives()
    if not natives:
        raise SystemExit("no native libraries found in the fixture corpus")
    inputs = {
        "native-100mb.apk": build_native_apk,
        "entries-5000.apk": build_entries_apk,
        "large-frameworks.ipa": build_ipa,
    }
    if args.scaling:
        inputs["native-10mb.apk"] = lambda n, out: build_native_apk(n, out, 8 * 1024**2, 10 * 1024**2)
        inputs["native-1gb.apk"] = lambda n, out: build_native_apk(n, out, 820 * 1024**2, 1024**3)
    rows = []
    for name, builder in inputs.items():
        if args.only and args.only != name:
            continue
        path = WORK / name
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            builder(natives, tmp)
            tmp.replace(path)
        floor_s, floor_kb, _ = measure([sys.executable, "-c", FLOOR, str(path)], args.repeat)
        scan_s, scan_kb, code = measure([args.licensegate, "scan", str(path), "--format", "json", "--output", os.devnull], args.repeat)
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
        largest = max(i.file_size for i in infos)
        rows.append((name, path.stat().st_size, len(infos), largest, floor_s, scan_s, scan_s / floor_s, floor_kb, scan_kb))

    t0 = time.perf_counter()
    subprocess.run([args.licensegate, "--version"], stdout=subprocess.DEVNULL, check=True)
    startup = time.perf_counter() - t0

    print(f"# {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; min of {args.repeat} runs")
    print("| input | size | members | largest member | floor | scan | ratio | floor peak RSS | scan peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, size, members, largest, fs, ss, ratio, fkb, skb in rows:
        print(f"| {name} | {size / 1e6:.1f} MB | {members} | {largest / 1e6:.1f} MB | {fs:.2f} s | {ss:.2f} s | **{ratio:.2f}x** | {fkb / 1024:.0f} MiB | {skb / 1024:.0f} MiB |")
    print(f"\n`licensegate --version` start-up: {startup:.2f} s")
    if args.scancode:
        compare_scancode(args.scancode, args.licensegate)
    scaling = sorted((size, ss, name) for name, size, _, _, _, ss, _, _, _ in rows if name.startswith("native-"))
    if len(scaling) > 1:
        print("\nGrowth (scan seconds per 100 MB): " + ", ".join(f"{name} {ss / (size / 1e8):.2f} s" for size, ss, name in scaling))
    return 0


if __name__ == "__main__":
    sys.exit(main())
