#!/usr/bin/env python3
"""Build LicenseGate's knowledge base of open-source native libraries from Debian bookworm (main, arm64).

A maintainer step, not run by CI: it downloads 3.3 GB and took 23 minutes on two cores (``--jobs 1``).

    python scripts/build_native_kb.py [--cache DIR] [--jobs 2] [--budget-minutes 65] [--aggregate-only]

Stages (each resumable; re-running skips finished work):

1. index    A private apt state (the fixtures' mechanism: own sources list, lists and cache; the system apt
            configuration is never touched) for bookworm main arm64, with the Contents-arm64 index.  Every binary
            package that ships a versioned shared library (``lib/<triplet>/*.so.N``) is a library package; they are
            grouped by source package (``Source:`` of the Packages index).  Versions are pinned in
            ``<cache>/plan.json``.
2. extract  ``apt-get download`` of each library package (pinned version), ``dpkg-deb -x``, then per ELF shared
            library and per plugin (an unversioned ``.so`` under the library directories): soname, exported
            (defined dynamic) symbols, NUL-terminated printable strings of its data sections; plus
            ``/usr/share/doc/<pkg>/copyright``.  One gzip'd JSON per source package in
            ``<cache>/sources/``.  Copyleft-heavy categories (codecs, compression, TLS, optical disc, image,
            audio effects, PDF) go first; the rest smallest download first, until the time budget ends.
3. aggregate  Document frequency of every string, symbol and C++ scope across source packages; per source
            package keep the strings and symbols distinctive to it (BAT-style ranking len/5^(df-1), OSSPolice-style
            noise filtering), per shared object and plugin its own best items (binary units), the licence of its
            non-packaging files from DEP-5 ``debian/copyright`` mapped to SPDX, and write
            ``src/licensegate/data/native_kb/native_kb.json.xz`` plus ``coverage.json``.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import gzip
import hashlib
import importlib.util
import json
import lzma
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from licensegate.binary import read_elf  # noqa: E402
from licensegate.errors import MemberError  # noqa: E402
from licensegate.knowledge import cxx_scopes  # noqa: E402

OUT_DIR = ROOT / "src" / "licensegate" / "data" / "native_kb"
SUITE = "bookworm"

# Categories whose libraries apps ship and which carry copyleft most often: processed first.
PRIORITY = [
    ("codec", r"ffmpeg|x264|x265|lame|vorbis|opus|flac|theora|vpx|dav1d|aom|xvid|faad|faac|mpg123|a52|dca|libmad|"
              r"twolame|sndfile|gsm|speex|de265|openh264|fdk|schroedinger|kvazaar|rav1e|svt|ogg|wavpack|musepack|"
              r"libmpeg2|mpeg2dec|libdv|gstreamer|gst-plugins|libass|libbs2b|libcaca|libmodplug|libopenmpt|zvbi|"
              r"libvdpau|libva|vlc|mplayer|mpv|xine|liba52|libdca|faad2|amrnb|amrwb|opencore|vo-amrwbenc|libilbc|"
              r"codec2|shine|soxr|libebur128|chromaprint|libmysofa|vid\.stab|zimg|aribb24|libdvbpsi|srt|librist"),
    ("compression", r"lzo|zlib|bzip2|xz-utils|zstd|lz4|brotli|snappy|libarchive|minizip|lzip|lzma|p7zip|"
                    r"libzip|unrar|zopfli|blosc|libdeflate|ucl|lrzip|lha|zziplib|quicklz|squashfs"),
    ("tls", r"gnutls|openssl|wolfssl|mbedtls|nettle|gmp|libgcrypt|libgpg-error|libtasn1|p11-kit|nss|libressl|"
            r"axtls|matrixssl|cyassl|libsodium|libssh|curl|krb5|cyrus-sasl|libidn|openvpn|strongswan|openconnect|"
            r"libtomcrypt|libtommath|botan|cryptopp|libb2|argon2|libxcrypt|libksba|gpgme|libassuan|libsrtp|"
            r"libzrtp|bzrtp|libnice|libmicrohttpd|neon|serf|libevent"),
    ("optical-disc", r"dvdread|dvdnav|dvdcss|bluray|libcdio|aacs|bdplus|cdparanoia|libcddb|libdiscid|burn|isofs|"
                     r"libisoburn|libudfread|brasero|cdrkit|libmusicbrainz"),
    ("image", r"libpng|libjpeg|jpeg|tiff|giflib|libwebp|imagemagick|graphicsmagick|libraw|exiv2|libheif|openjpeg|"
              r"jbig|lcms|gegl|babl|vips|libavif|jasper|openexr|libexif|libgphoto|netpbm|djvulibre|leptonica|"
              r"tesseract|opencv|gdk-pixbuf|librsvg|cairo|pixman|freetype|harfbuzz|fontconfig|fribidi|libjxl|"
              r"libwmf|libemf|libxpm|imlib|sdl2-image|sdl-image|libgd|gd|zbar|libqrencode|potrace|libde265"),
    ("audio-effects", r"soundtouch|rubberband|sox|libsamplerate|fftw|ladspa|lv2|lilv|serd|sord|sratom|calf|"
                      r"swh-plugins|tap-plugins|zita|libbs2b|fluidsynth|timidity|wildmidi|libgig|portaudio|"
                      r"pulseaudio|jack|alsa|sndio|openal|libmikmod|sdl2-mixer|sdl-mixer|aubio|vamp|libkeyfinder|"
                      r"libsbsms|soundfont|csound|libinstpatch|webrtc-audio|speexdsp|libfishsound|libao"),
    ("pdf", r"poppler|mupdf|ghostscript|qpdf|podofo|libharu|pdfium|xpdf|libspectre|libgxps|cups|ijs|jbig2dec|"
            r"libpaper|libpostscript|texlive|t1lib|libidn|evince|zathura|okular|pdf"),
]

# Symbols every toolchain adds or every C++ library defines: no identity (OSSPolice filters ~211 such names).
NOISE_SYMBOL = re.compile(
    r"^(_init|_fini|_edata|_end|__bss_start|__end__|_bss_end__|__bss_end__|__bss_start__|_start|main|"
    r"__data_start|data_start|_IO_stdin_used|__dso_handle|__TMC_END__|_GLOBAL_OFFSET_TABLE_|_DYNAMIC|"
    r"_Unwind_.*|__gcc_personality_v0|__gxx_personality_v0|__cxa_.*|__aeabi_.*|__gnu_.*|__stack_chk_.*|"
    r"_ZN?K?St.*|_ZNKSt.*|_ZNSt.*|_ZSt.*|_ZTISt.*|_ZTSSt.*|_ZTVSt.*|_ZT[VIS]NSt.*|_ZN9__gnu_cxx.*|"
    # C++ names reserved for the implementation (a leading underscore with an underscore or a capital): the
    # runtime's __cxxabiv1 typeinfo classes, which statically linked libc++ copies export
    r"_Z(?:N[rVKRO]*|T[VIS]N)[0-9]+_[_A-Z].*|"
    # typeinfo (name) of the fundamental types (_ZTIPKc: const char*), which only the C++ runtime defines
    r"_ZT[IS][PK]*(?:[a-z]|D[a-z])|"
    r"_Zd[la].*|_Zn[wa].*|__[a-z]+di3|__[a-z]+ti3|__[a-z]+sf\d|__[a-z]+df\d|__[a-z]+tf\d|__cpu_.*|"
    r"__libc_.*|__progname.*|environ|_environ|__environ|stdin|stdout|stderr|errno|optarg|optind|opterr|"
    r"VERSION|GLIBC_.*|__emutls_.*|__register_frame.*|__deregister_frame.*)$")


def log(msg: str) -> None:
    print(f"[kb {time.strftime('%H:%M:%S', time.gmtime())}] {msg}", flush=True)


def _load_fixture_build():
    spec = importlib.util.spec_from_file_location("fixture_build", ROOT / "fixtures" / "build.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def make_apt(root: Path):
    fb = _load_fixture_build()

    class KbApt(fb.Apt):  # type: ignore[name-defined,misc]
        ARCHES = ["arm64"]

        def opts(self) -> list[str]:
            o = [x for x in super().opts() if "armhf" not in x]
            # Own empty files instead of /dev/null: on a shared machine /dev/null is not always a device.
            empty = self.root / "empty"
            empty.mkdir(parents=True, exist_ok=True)
            o = [x.replace("=/dev/null", f"={empty}") if "Parts=" in x else x.replace("=/dev/null", f"={empty}/prefs")
                 for x in o]
            # The Contents index maps every path to its package without downloading packages (apt-file's target).
            t = "-oAcquire::IndexTargets::deb::Contents-deb::"
            o += [t + "MetaKey=$(COMPONENT)/Contents-$(ARCHITECTURE)",
                  t + "ShortDescription=Contents-$(ARCHITECTURE)",
                  t + "Description=$(RELEASE)/$(COMPONENT) $(ARCHITECTURE) Contents (deb)",
                  t + "PDiffs=false", t + "KeepCompressed=true"]
            return o

    return KbApt(root)


def index_files(apt, target: str) -> list[Path]:
    proc = subprocess.run(["apt-get", *apt.opts(), "indextargets", "--format", "$(FILENAME)",
                           f"Identifier: {target}"], capture_output=True, text=True, check=True)
    return [Path(p) for p in proc.stdout.split() if p]


def cat_index(path: Path) -> str:
    for cand in [path, *sorted(path.parent.glob(path.name + ".*"))]:
        if cand.exists():
            proc = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", str(cand)], capture_output=True, check=True)
            return proc.stdout.decode("utf-8", "replace")
    return ""


SHLIB_PATH = re.compile(r"^(?:usr/)?lib/(?:aarch64-linux-gnu/)?(?:[^/\s]+/)?lib[^/\s]*\.so\.\d[^/\s]*$")
# A plugin or loadable module a library package ships beside its library (camera drivers, format plugins,
# codec modules): an unversioned shared object anywhere under the library directories.
PLUGIN_PATH = re.compile(r"^(?:usr/)?lib/(?:aarch64-linux-gnu/)?(?:[^\s]+/)?[^/\s]+\.so$")


def category(source: str) -> tuple[int, str]:
    for i, (name, pat) in enumerate(PRIORITY):
        if re.search(pat, source):
            return i, name
    return len(PRIORITY), "other"


def build_plan(cache: Path) -> dict:
    plan_file = cache / "plan.json"
    if plan_file.exists():
        return json.loads(plan_file.read_text())
    apt = make_apt(cache / "apt")
    apt.update()
    packages: dict[str, dict] = {}
    for f in index_files(apt, "Packages"):
        for stanza in cat_index(f).split("\n\n"):
            fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", stanza, re.M))
            name, ver = fields.get("Package"), fields.get("Version")
            if not name or not ver or fields.get("Architecture") not in ("arm64",):
                continue
            old = packages.get(name)
            if old and subprocess.run(["dpkg", "--compare-versions", old["version"], "ge", ver]).returncode == 0:
                continue
            src = fields.get("Source", name).split()[0]
            src_ver = re.search(r"\((.*)\)", fields.get("Source", ""))
            packages[name] = dict(version=ver, source=src, source_version=src_ver.group(1) if src_ver else ver,
                                  size=int(fields.get("Size", "0")), section=fields.get("Section", ""),
                                  homepage=fields.get("Homepage", ""), sha256=fields.get("SHA256", ""))
    shlib_pkgs: dict[str, list[str]] = {}
    for f in index_files(apt, "Contents-deb"):
        for line in cat_index(f).splitlines():
            path, _, owners = line.rpartition(" ")
            path = path.strip()
            if not SHLIB_PATH.match(path):
                continue
            for owner in owners.strip().split(","):
                pkg = owner.rsplit("/", 1)[-1]
                if pkg.endswith(("-dbg", "-dbgsym", "-dev")):
                    continue
                shlib_pkgs.setdefault(pkg, []).append(path)
    sources: dict[str, dict] = {}
    for pkg, paths in shlib_pkgs.items():
        info = packages.get(pkg)
        if not info:
            continue
        s = sources.setdefault(info["source"], dict(version=info["source_version"], packages={}, size=0,
                                                    homepage=info["homepage"]))
        s["packages"][pkg] = info["version"]
        s["size"] += info["size"]
        s["homepage"] = s["homepage"] or info["homepage"]
    plan = dict(suite=SUITE, arch="arm64", created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                mirror=[e["uri"] for e in _load_fixture_build().system_debian_sources()],
                sources=sources)
    plan_file.write_text(json.dumps(plan, indent=1, sort_keys=True))
    log(f"plan: {len(sources)} source packages, {sum(len(s['packages']) for s in sources.values())} binary "
        f"packages, {sum(s['size'] for s in sources.values()) / 1e9:.2f} GB")
    return plan


def deb_name(pkg: str, ver: str) -> str:
    return f"{pkg}_{ver.replace(':', '%3a')}_arm64.deb"


STRING_RE = re.compile(rb"(?<![\x20-\x7e])([\x20-\x7e]{6,240})\x00")
MAX_STRINGS = 12000
MAX_SYMBOLS = 20000


def extract_source(cache: str, source: str, entry: dict) -> dict:
    """Worker: one source package -> its libraries' sonames, symbols, strings and copyright text."""
    debs = Path(cache) / "debs"
    result: dict = dict(source=source, version=entry["version"], packages=entry["packages"], libraries=[],
                        copyright=None, copyright_from=None, homepage=entry.get("homepage", ""))
    with tempfile.TemporaryDirectory(prefix="kb-", dir=Path(cache) / "tmp") as tmp:
        for pkg, ver in sorted(entry["packages"].items()):
            deb = debs / deb_name(pkg, ver)
            if not deb.exists():
                continue
            dest = Path(tmp) / pkg
            subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True, capture_output=True)
            cp = dest / "usr" / "share" / "doc" / pkg / "copyright"
            if result["copyright"] is None and cp.is_file() and not cp.is_symlink():
                result["copyright"] = cp.read_text(errors="replace")[:400000]
                result["copyright_from"] = pkg
            for path in sorted(dest.rglob("*.so*")):
                rel = str(path.relative_to(dest))
                if path.is_symlink() or not path.is_file():
                    continue
                kind = "library" if SHLIB_PATH.match(rel) else "plugin" if PLUGIN_PATH.match(rel) else None
                if kind is None:
                    continue
                data = path.read_bytes()
                if data[:4] != b"\x7fELF":
                    continue
                try:
                    info = read_elf(data, rel)
                except MemberError:
                    continue
                strings: dict[bytes, None] = {}
                for _off, region in info.strings:
                    for m in STRING_RE.finditer(region):
                        strings[m.group(1)] = None
                strs = sorted(strings, key=len, reverse=True)[:MAX_STRINGS]
                syms = [s for s in info.symbols if not NOISE_SYMBOL.match(s)][:MAX_SYMBOLS]
                result["libraries"].append(dict(package=pkg, path=rel, kind=kind, soname=info.soname, size=len(data),
                                                sha256=hashlib.sha256(data).hexdigest(), symbols=syms,
                                                strings=[s.decode("latin-1") for s in strs]))
    return result


def download(cache: Path, apt, specs: list[str]) -> None:
    debs = cache / "debs"
    proc = subprocess.run(["apt-get", *apt.opts(), "download", *specs], cwd=debs, capture_output=True, text=True)
    if proc.returncode != 0:
        log(f"apt-get download of {len(specs)} failed ({proc.stderr.strip()[-300:]}); retrying one by one")
        # One bad package must not lose the batch: retry singly.
        for s in specs:
            subprocess.run(["apt-get", *apt.opts(), "download", s], cwd=debs, capture_output=True, text=True)


def run_extract(cache: Path, plan: dict, jobs: int, budget_s: float) -> None:
    t0 = time.monotonic()
    out = cache / "sources"
    for d in (out, cache / "debs", cache / "tmp"):
        d.mkdir(parents=True, exist_ok=True)
    apt = make_apt(cache / "apt")
    srcs = plan["sources"]
    order = sorted(srcs, key=lambda s: (category(s)[0], srcs[s]["size"], s))
    todo = [s for s in order if not (out / f"{s}.json.gz").exists()]
    log(f"{len(order) - len(todo)} source packages already extracted, {len(todo)} to go")
    ready: list[str] = []
    lock = threading.Condition()
    stop = threading.Event()
    stats = dict(bytes=0, start=time.monotonic())

    def downloader() -> None:
        batch: list[str] = []
        batch_specs: list[str] = []
        for s in todo:
            if stop.is_set():
                break
            need = [f"{p}={v}" for p, v in srcs[s]["packages"].items()
                    if not (cache / "debs" / deb_name(p, v)).exists()]
            batch.append(s)
            batch_specs += need
            if len(batch_specs) >= 24 or len(batch) >= 24:
                if batch_specs:
                    download(cache, apt, batch_specs)
                    stats["bytes"] += sum(srcs[x]["size"] for x in batch)
                with lock:
                    ready.extend(batch)
                    lock.notify_all()
                batch, batch_specs = [], []
                # stay at most ~200 sources ahead of the extractors
                with lock:
                    while len(ready) > 200 and not stop.is_set():
                        lock.wait(5)
        if batch:
            if batch_specs:
                download(cache, apt, batch_specs)
            with lock:
                ready.extend(batch)
        with lock:
            ready.append("")  # sentinel
            lock.notify_all()

    th = threading.Thread(target=downloader, daemon=True)
    th.start()
    done = 0
    done_bytes = 0
    # Workers are spawned, not forked: a fork would inherit the downloader's apt-get pipes and hang it.
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: dict[cf.Future, str] = {}
        finished_feed = False
        while True:
            while not finished_feed and len(pending) < jobs * 2:
                with lock:
                    while not ready:
                        lock.wait(5)
                    s = ready.pop(0)
                    lock.notify_all()
                if s == "":
                    finished_feed = True
                    break
                if time.monotonic() - t0 > budget_s:
                    stop.set()
                    continue
                pending[pool.submit(extract_source, str(cache), s, srcs[s])] = s
            if not pending:
                break
            fin, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for f in fin:
                s = pending.pop(f)
                try:
                    res = f.result()
                except Exception as exc:  # a broken package is logged and skipped, not fatal
                    log(f"{s}: failed ({exc!r})")
                    continue
                with gzip.open(out / f"{s}.json.gz.tmp", "wt") as fh:
                    json.dump(res, fh)
                os.replace(out / f"{s}.json.gz.tmp", out / f"{s}.json.gz")
                done += 1
                done_bytes += srcs[s]["size"]
                if done % 25 == 0:
                    el = time.monotonic() - t0
                    log(f"{done}/{len(todo)} sources ({category(s)[1]}: {s}); {done_bytes / 1e6:.0f} MB of debs in "
                        f"{el:.0f}s = {done_bytes / 1e6 / max(el, 1):.2f} MB/s; queue {len(ready)}")
    stop.set()
    log(f"extract finished: {done} new source packages in {time.monotonic() - t0:.0f}s")


# --------------------------------------------------------------------------------------------------------------
# DEP-5 copyright -> SPDX

DEBIAN_TO_SPDX = {
    "expat": "MIT", "mit": "MIT", "x11": "X11", "isc": "ISC", "zlib": "Zlib", "libpng": "Libpng",
    "libpng-2.0": "libpng-2.0", "bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause",
    "bsd-4-clause": "BSD-4-Clause", "bsd-2": "BSD-2-Clause", "bsd-3": "BSD-3-Clause", "bsd-4": "BSD-4-Clause",
    "bsd": "BSD-3-Clause", "apache-2.0": "Apache-2.0", "apache-2": "Apache-2.0", "apache-1.1": "Apache-1.1",
    "mpl-2.0": "MPL-2.0", "mpl-1.1": "MPL-1.1", "openssl": "OpenSSL", "ssleay": "SSLeay-standalone",
    "bsl-1.0": "BSL-1.0", "boost": "BSL-1.0", "public-domain": "LicenseRef-public-domain",
    "publicdomain": "LicenseRef-public-domain", "cc0-1.0": "CC0-1.0", "cc0": "CC0-1.0", "unicode": "Unicode-DFS-2016",
    "curl": "curl", "ijg": "IJG", "libtiff": "libtiff", "ftl": "FTL", "psf-2.0": "PSF-2.0", "python": "PSF-2.0",
    "artistic": "Artistic-1.0-Perl", "artistic-2.0": "Artistic-2.0", "wtfpl": "WTFPL", "unlicense": "Unlicense",
    "0bsd": "0BSD", "epl-1.0": "EPL-1.0", "epl-2.0": "EPL-2.0", "cddl-1.0": "CDDL-1.0", "ofl-1.1": "OFL-1.1",
    "sgi-b-2.0": "SGI-B-2.0", "hpnd": "HPND", "ntp": "NTP", "bzip2-1.0.6": "bzip2-1.0.6", "bzip2": "bzip2-1.0.6",
    "icu": "ICU", "info-zip": "Info-ZIP", "lppl-1.3c": "LPPL-1.3c", "gfdl-1.2+": "GFDL-1.2-or-later",
    "gfdl-1.3+": "GFDL-1.3-or-later", "openldap-2.8": "OLDAP-2.8", "ruby": "Ruby", "php-3.01": "PHP-3.01",
    "tcl": "TCL", "x11-distribute-modifications-variant": "X11-distribute-modifications-variant",
    "mit-cmu": "MIT-CMU", "bsd-3-clause-clear": "BSD-3-Clause-Clear", "w3c": "W3C", "qhull": "Qhull",
    "ms-pl": "MS-PL", "zpl-2.1": "ZPL-2.1", "cecill-2.1": "CECILL-2.1", "cecill-c": "CECILL-C",
    "cecill-b": "CECILL-B", "eupl-1.2": "EUPL-1.2", "mpl-1.0": "MPL-1.0", "npl-1.1": "NPL-1.1",
}
TYPOS = {"lpgl-2.1+": "lgpl-2.1+", "lpgl-2+": "lgpl-2+", "gpl2+": "gpl-2+", "gpl3+": "gpl-3+", "lgpl2.1+": "lgpl-2.1+",
         "gplv2+": "gpl-2+", "gplv3+": "gpl-3+", "gplv2": "gpl-2", "gplv3": "gpl-3", "lgplv2.1+": "lgpl-2.1+",
         "bsd-3-clause~": "bsd-3-clause"}
VARIANT_PREFIXES = [("bsd-2-clause", "BSD-2-Clause"), ("bsd-3-clause", "BSD-3-Clause"), ("bsd-4-clause", "BSD-4-Clause"),
                    ("expat", "MIT"), ("mit", "MIT"), ("isc", "ISC"), ("zlib", "Zlib"), ("apache-2.0", "Apache-2.0")]
GNU_RE = re.compile(r"^(a?gpl|lgpl|gfdl)-?(\d(?:\.\d)?)?(\+)?(?:-(only|or-later))?$")
EXCEPTION_MAP = {
    "gcc-runtime-library": "GCC-exception-3.1", "gcc runtime library": "GCC-exception-3.1",
    "gcc-exception-3.1": "GCC-exception-3.1", "gcc-exception-2.0": "GCC-exception-2.0",
    "autoconf": "Autoconf-exception-3.0", "openssl": "openvpn-openssl-exception", "classpath": "Classpath-exception-2.0",
    "llvm": "LLVM-exception", "font": "Font-exception-2.0", "bison": "Bison-exception-2.2",
    "libtool": "Libtool-exception", "qt-gpl-exception-1.0": "Qt-GPL-exception-1.0", "ocaml": "OCaml-LGPL-linking-exception",
}


def _gnu(tok: str) -> str | None:
    m = GNU_RE.match(tok)
    if not m:
        return None
    fam, ver, plus, suffix = m.groups()
    fam = fam.upper()
    if not ver:
        ver = {"GPL": "2", "LGPL": "2.1", "AGPL": "3", "GFDL": "1.3"}[fam]
        plus = "+"
    if "." not in ver:
        ver = {"LGPL": {"2": "2.0"}.get(ver, ver + ".0")}.get(fam, ver + ".0")
        if fam == "LGPL" and ver == "2.0":
            ver = "2.0"
    later = plus or suffix == "or-later"
    return f"{fam}-{ver}-{'or-later' if later else 'only'}"


def debian_to_spdx(expr: str) -> tuple[str | None, bool]:
    """A Debian licence short-name expression -> (SPDX expression, fully understood)."""
    expr = expr.strip().rstrip(",")
    if not expr:
        return None, False
    ok = True
    out: list[str] = []
    # Split on or/and (Debian uses commas too: "GPL-2+, or LGPL-2.1+")
    parts = re.split(r"\s*,?\s+\b(or|and)\b\s+|\s*\|\s*", expr, flags=re.I)
    for i, part in enumerate(parts):
        if i % 2 == 1:
            out.append("OR" if part and part.lower() == "or" else "AND")
            continue
        if part is None:
            continue
        exc = None
        m = re.match(r"^(.*?)\s+with\s+(.*?)\s*(?:exception)?$", part, re.I)
        if m:
            part, exc = m.group(1), m.group(2).strip().lower()
        tok = part.strip().lower().replace(" ", "-")
        tok = TYPOS.get(tok, tok)
        spdx = _gnu(tok) or DEBIAN_TO_SPDX.get(tok) or DEBIAN_TO_SPDX.get(tok.rstrip("+"))
        if spdx is None:
            # Named variants ("BSD-3-clause-Google", "Expat-with-advertising") keep their base licence's family,
            # but the name is not fully understood.
            for prefix, base in VARIANT_PREFIXES:
                if tok.startswith(prefix):
                    spdx, ok = base, False
                    break
        if spdx is None:
            ok = False
            spdx = "LicenseRef-debian-" + re.sub(r"[^A-Za-z0-9.-]", "-", part.strip())[:60]
        if exc:
            e = EXCEPTION_MAP.get(exc) or EXCEPTION_MAP.get(exc.replace(" ", "-"))
            if e:
                spdx = f"{spdx} WITH {e}"
            else:
                ok = False
        out.append(spdx)
    joined = " ".join(out)
    if "OR" in out and "AND" in out:
        joined = "(" + joined + ")"
    return joined, ok


def library_stems(sonames: list[str]) -> set[str]:
    """'libFLAC.so.12' -> {'flac', 'libflac'}: names a source folder of that library may carry."""
    out = set()
    for so in sonames:
        stem = re.sub(r"\.so(\..*)?$", "", so).lower()
        stem = re.sub(r"[-_.]?\d+(\.\d+)*$", "", stem)
        bare = stem[3:] if stem.startswith("lib") else stem
        if len(bare) >= 2:
            out.add("lib" + bare)  # "src/flac/*" is the command-line tool, "src/libFLAC/*" the library
    return out


def parse_copyright(text: str | None, sonames: list[str] | None = None) -> dict:
    """The licence of the files that build the library, from a DEP-5 copyright file.

    A stanza whose globs name the library's own source folder (``src/libFLAC/*`` for libFLAC.so) wins over the
    ``Files: *`` default, which often describes the command-line tools beside the library."""
    if not text:
        return dict(license=None, confidence="none", machine_readable=False, others=[])
    if not re.match(r"^\s*Format:\s*\S*(copyright-format|dep5|DEP-5)", text, re.I):
        return dict(license=_free_text_licence(text), confidence="low", machine_readable=False, others=[])
    stanzas = []
    for block in re.split(r"\n[ \t]*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line[:1] in (" ", "\t"):
                if key:
                    fields[key] += "\n" + line
                continue
            if ":" in line:
                key, val = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = val.strip()
        stanzas.append(fields)
    main = None
    own = None
    stems = library_stems(sonames or [])
    counts: Counter[str] = Counter()
    understood = True
    for st in stanzas:
        files = st.get("files")
        lic = st.get("license", "").split("\n", 1)[0].strip()
        if files is None or not lic:
            continue
        globs = files.split()
        if all(g.startswith(("debian/", "./debian/")) or g == "debian" for g in globs):
            continue
        spdx, ok = debian_to_spdx(lic)
        if not spdx:
            continue
        if "*" in globs:
            main = (spdx, ok)  # the default stanza; later "*" stanzas override earlier ones
        elif stems and own is None and any(
                g.endswith("/*") and g.rstrip("/*").rsplit("/", 1)[-1].lower() in stems for g in globs):
            own = (spdx, ok)  # the first stanza covering a whole folder of the library's name
        counts[spdx] += len(globs)
    if own is not None:
        main = own
    if main is None and counts:
        lic = counts.most_common(1)[0][0]
        main = (lic, not lic.startswith("LicenseRef-debian"))
        understood = False
    if main is None:
        return dict(license=None, confidence="none", machine_readable=True, others=[])
    others = sorted(k for k in counts if k != main[0])
    conf = "high" if main[1] and understood else "medium"
    return dict(license=main[0], confidence=conf, machine_readable=True, others=others)


def _free_text_licence(text: str) -> str | None:
    """Best effort on a free-text copyright file: the licence stated FIRST (the upstream notice comes before the
    notes on bundled or packaging files)."""
    t = " ".join(text.split())
    checks = [
        (r"GNU Affero General Public License", "AGPL-3.0-or-later"),
        (r"GNU Lesser General Public License.{0,200}?version 3", "LGPL-3.0-or-later"),
        (r"GNU (Lesser|Library) General Public License", "LGPL-2.1-or-later"),
        (r"GNU General Public License.{0,200}?version 3", "GPL-3.0-or-later"),
        (r"GNU General Public License", "GPL-2.0-or-later"),
        (r"Apache License,? Version 2\.0", "Apache-2.0"),
        (r"Mozilla Public License,? v(ersion)? ?2\.0", "MPL-2.0"),
        (r"Redistribution and use in source and binary forms.{0,900}?endorse or promote", "BSD-3-Clause"),
        (r"Redistribution and use in source and binary forms", "BSD-2-Clause"),
        (r"Permission is hereby granted, free of charge", "MIT"),
        (r"This software is provided 'as-is'", "Zlib"),
        (r"Permission to use, copy, modify, (and/or )?(and )?distribute this software", "ISC"),
    ]
    best: tuple[int, int, str] | None = None
    for rank, (pat, lic) in enumerate(checks):
        m = re.search(pat, t, re.I)
        if m and (best is None or (m.start(), rank) < best[:2]):
            best = (m.start(), rank, lic)
    return best[2] if best else None


# --------------------------------------------------------------------------------------------------------------
# Aggregate

def upstream_version(v: str) -> str:
    v = v.split(":", 1)[-1]
    v = v.rsplit("-", 1)[0] if "-" in v else v
    return re.sub(r"[+~](dfsg|ds|repack|debian|really)[^+~]*.*$", "", v)


def noisy_string(s: str) -> bool:
    if len(s) < 8:
        return True
    letters = sum(c.isalpha() for c in s)
    if letters < 5 or letters < len(s) * 0.4:
        return True
    if s.startswith(("/usr/", "/build/", "/lib/", "GCC: ", "../", "./")):
        return True
    if re.fullmatch(r"[A-Za-z0-9+/=]{24,}", s) and not re.search(r"[aeiou]{1}.*[aeiou]", s.lower()):
        return True  # base64 / table blobs
    if re.fullmatch(r"[%\s\w.:,-]*%[-#0-9.lhz]*[sdiuxXfgp][%\s\w.:,-]*", s) and len(s) < 14:
        return True  # short format strings
    return False


PER_BINARY_STRINGS = 24
PER_BINARY_SYMBOLS = 24
PER_BINARY_SCOPES = 16


def _rank_strings(strs: set[str], str_df: Counter[str]) -> list[str]:
    # BAT ranking: a string in n packages is worth len/5^(n-1); keep only strings in <= 3 packages
    return sorted((s for s in strs if str_df[s] <= 3), key=lambda s: (-(len(s) / 5 ** (str_df[s] - 1)), s))


def _rank_symbols(syms: set[str], sym_df: Counter[str]) -> list[str]:
    return sorted((s for s in syms if sym_df[s] <= 2 and len(s) >= 4),
                  key=lambda s: (sym_df[s], -len(s) if len(s) < 40 else -40, s))


Items = tuple[dict, set[str], set[str], Counter[str]]


def _lib_items(lib: dict) -> Items:
    """A binary with its candidate strings, exported symbols and C++ scopes (each scope with how many symbols it
    has). The noise filters apply here as well as at extraction, so that ``--aggregate-only`` honours a changed one."""
    strs = {s for s in lib["strings"] if not noisy_string(s)}
    syms = {s for s in lib["symbols"] if not NOISE_SYMBOL.match(s)}
    return lib, strs, syms, Counter(cxx_scopes(syms))


def _binary_units(items: list[Items], kept_strings: set[str], kept_symbols: set[str], str_df: Counter[str],
                  sym_df: Counter[str], scope_df: Counter[str]) -> list[dict]:
    """Each shared object and plugin of a source package keeps its own best distinctive items beside the
    package's: a plugin's strings rarely make the package's best 120, so a camera driver or a format plugin would
    carry nothing the knowledge base knows. An item is in one list of a package only: items the package's list or
    an earlier unit already holds are not repeated (the entry points every camera driver exports belong to the
    first; a library built twice, in two flavours, is one unit). C++ scopes (``OpenBabel::MOL2Format``) that occur
    in at most 2 source packages are ranked by how many exported symbols the binary has under them."""
    units = []
    held = set(kept_strings) | set(kept_symbols)
    for lib, strs, syms, scopes in sorted(items, key=lambda t: t[0]["path"]):
        own_strings = [s for s in _rank_strings(strs, str_df)[:PER_BINARY_STRINGS] if s not in held]
        own_symbols = [s for s in _rank_symbols(syms, sym_df)[:PER_BINARY_SYMBOLS] if s not in held]
        own_scopes = [sc for sc in sorted((sc for sc in scopes if scope_df[sc] <= 2),
                                          key=lambda sc: (scope_df[sc], -scopes[sc], sc))[:PER_BINARY_SCOPES]
                      if sc not in held]
        if not own_strings and not own_symbols and not own_scopes:
            continue
        held.update(own_strings, own_symbols, own_scopes)
        units.append(dict(binary=lib["path"].rsplit("/", 1)[-1], kind=lib.get("kind", "library"),
                          strings=[[s, str_df[s]] for s in own_strings],
                          symbols=[[s, sym_df[s]] for s in own_symbols] + [[sc, scope_df[sc]] for sc in own_scopes]))
    return units


def aggregate(cache: Path, plan: dict, out_dir: Path, per_source_strings: int, per_source_symbols: int) -> None:
    files = sorted((cache / "sources").glob("*.json.gz"))
    log(f"aggregate: {len(files)} source packages")
    str_df: Counter[str] = Counter()
    sym_df: Counter[str] = Counter()
    scope_df: Counter[str] = Counter()
    for f in files:
        with gzip.open(f, "rt") as fh:
            r = json.load(fh)
        strs: set[str] = set()
        syms: set[str] = set()
        scopes: set[str] = set()
        for _, ls, ly, lc in map(_lib_items, r["libraries"]):
            strs |= ls
            syms |= ly
            scopes.update(lc)
        str_df.update(strs)
        sym_df.update(syms)
        scope_df.update(scopes)
    log(f"aggregate: {len(str_df)} distinct strings, {len(sym_df)} distinct symbols, {len(scope_df)} C++ scopes")
    entries = []
    machine = 0
    with_lib = 0
    for f in files:
        with gzip.open(f, "rt") as fh:
            r = json.load(fh)
        if not r["libraries"]:
            continue
        with_lib += 1
        items = list(map(_lib_items, r["libraries"]))
        libraries = [t for t in items if t[0].get("kind", "library") == "library"]
        sonames = sorted({lib["soname"] for lib, *_ in libraries if lib["soname"]})
        lic = parse_copyright(r["copyright"], sonames)
        machine += lic["machine_readable"]
        # The package's own list, as before per-binary units: from its versioned shared libraries.
        ranked = _rank_strings(set().union(*(t[1] for t in libraries)), str_df)[:per_source_strings]
        rsyms = _rank_symbols(set().union(*(t[2] for t in libraries)), sym_df)[:per_source_symbols]
        entries.append(dict(
            source=r["source"], version=upstream_version(r["version"]), debian_version=r["version"],
            homepage=r.get("homepage") or None,
            license=lic["license"], license_confidence=lic["confidence"], license_others=lic["others"][:8],
            machine_readable=lic["machine_readable"],
            sonames=sonames,
            packages=r["packages"],
            exported=sum(len(lib["symbols"]) for lib, *_ in libraries),
            symbols=[[s, sym_df[s]] for s in rsyms],
            strings=[[s, str_df[s]] for s in ranked],
            units=_binary_units(items, set(ranked), set(rsyms), str_df, sym_df, scope_df),
        ))
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = dict(format="licensegate.native-kb/2", suite=plan["suite"], arch=plan["arch"],
               plan_created=plan["created"], built=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               mirror=plan.get("mirror", []), sources=entries)
    raw = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    (out_dir / "native_kb.json.xz").write_bytes(lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME))
    total = len(plan["sources"])
    units = [u for e in entries for u in e["units"]]
    cov = dict(library_source_packages_in_debian=total, processed=len(files), with_shared_library=with_lib,
               machine_readable_copyright=machine,
               machine_readable_share=round(machine / max(with_lib, 1), 4),
               with_licence=sum(1 for e in entries if e["license"]),
               categories=dict(Counter(category(e["source"])[1] for e in entries)),
               strings=sum(len(e["strings"]) for e in entries), symbols=sum(len(e["symbols"]) for e in entries),
               binary_units=len(units), plugin_units=sum(1 for u in units if u["kind"] == "plugin"),
               unit_strings=sum(len(u["strings"]) for u in units), unit_symbols=sum(len(u["symbols"]) for u in units),
               bytes_xz=(out_dir / "native_kb.json.xz").stat().st_size, bytes_json=len(raw))
    (out_dir / "coverage.json").write_text(json.dumps(cov, indent=1, sort_keys=True) + "\n")
    log(f"aggregate: wrote {out_dir / 'native_kb.json.xz'} ({cov['bytes_xz'] / 1e6:.1f} MB); {cov}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "licensegate" / "kb")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--budget-minutes", type=float, default=65.0)
    ap.add_argument("--aggregate-only", action="store_true")
    ap.add_argument("--strings", type=int, default=120, help="distinctive strings kept per source package")
    ap.add_argument("--symbols", type=int, default=120, help="distinctive symbols kept per source package")
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    plan = build_plan(args.cache)
    if not args.aggregate_only:
        run_extract(args.cache, plan, args.jobs, args.budget_minutes * 60)
    aggregate(args.cache, plan, args.out, args.strings, args.symbols)
    return 0


if __name__ == "__main__":
    sys.exit(main())
