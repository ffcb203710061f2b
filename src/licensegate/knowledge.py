"""Knowledge base of open-source native libraries (built from Debian by scripts/build_native_kb.py) and its matcher.

The hand-written signatures (signatures.py) name what they know with licence strings; this module names what a
distribution knows: per Debian source package, the strings and exported symbols that are distinctive to it across
the whole distribution, its sonames and the licence of its files from ``debian/copyright``.

Matching one binary costs one split of its string sections at NUL bytes and two set intersections (C speed): a
knowledge-base string is a whole NUL-terminated string, so whole-string equality is both exact and cheaper than an
automaton pass over the same bytes. Scoring follows BAT (Hemel et al., MSR 2011): a string found in n source packages
weighs len/5^(n-1); a package needs several distinctive strings or symbols, and a share of its own, before it is
named (OSSPolice's minimum matching score in spirit), so a single shared error message never names anything. The file
name is never evidence and a soname only adds to content evidence.

Beside a package's own list, each of its shared objects and plugins keeps its own best items (a binary unit: a camera
driver or a format plugin whose strings never make the package's best 120). Units count with their package, as one
match; the share of a package's items a binary must carry is the best of any one list. C++ libraries are also known
by their exported scopes (``OpenBabel::MOL2Format``, read from the mangled names), which survive a version change.

The data file is loaded lazily (only when a scan meets native code) and compiled once into the user cache, keyed by
the data file's digest, like the signature database.
"""

from __future__ import annotations

import functools
import hashlib
import json
import lzma
import mmap
import os
import pickle
import re
import struct
import sys
import zlib
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, overload

from . import kb_index
from ._files import package_file
from .compiled import prune_stale, remembered_digest
from .errors import DataError
from .fsutil import atomic_writer
from .kb_index import ItemIndex, NameListTable, NameTable
from .model import Confidence, Evidence, LibraryMatch

__all__ = ["KnowledgeBase", "KBEntry", "load_default", "RUNTIME_SOURCES"]

DATA_FILE = "native_kb.json.xz"
FORMAT = "licensegate.native-kb/2"  # /2 added the per-binary units; /1 files (no units) still load
_FORMATS = frozenset({"licensegate.native-kb/1", FORMAT})
_CACHE_FORMAT = 13  # bump when the compiled shape changes
_COMPILED_MAGIC = b"LGNKB\x00\x00\x02"

# Language runtimes and compression code that every C/C++ build carries pieces of: inside another library they are
# embedded parts, never its name (a binary is named after one of these only through its own soname).
RUNTIME_SOURCES = frozenset({"gcc-12", "gcc-11", "gcc-13", "gcc-defaults", "llvm-toolchain-14", "llvm-toolchain-15",
                             "llvm-toolchain-16", "llvm-toolchain-13", "libunwind", "zlib", "glibc", "musl",
                             "libxcrypt", "libatomic-ops", "libbsd", "libmd"})

# Thresholds (see docs/signatures.md, "Knowledge base"): counts of distinctive items matched, and the share of the
# package's own distinctive items they make up.
MIN_ITEMS = 4  # fewer matched strings+symbols than this never names a package
HIGH_ITEMS = 8
MIN_SHARE = 0.05
MIN_UNIQUE = 3  # items found in no other Debian source package
HIGH_UNIQUE = 5
HIGH_SHARE = 0.15
_EVIDENCE_STRINGS = 6
_EVIDENCE_SYMBOLS = 4
_EVIDENCE_UNITS = 3
_TEXT_LIMIT = 200


class KBEntry(NamedTuple):
    """One Debian source package, or one binary unit of a package."""

    source: str  # Debian source package
    version: str  # upstream version in Debian bookworm
    debian_version: str
    license: str | None  # SPDX expression from debian/copyright ("Files: *" stanza), None when not readable
    license_confidence: str  # high (DEP-5, every name understood) | medium | low (free text) | none
    homepage: str | None
    sonames: tuple[str, ...]
    packages: tuple[str, ...]  # Debian binary packages
    n_strings: int  # distinctive strings kept for it
    n_symbols: int  # distinctive exported symbols and C++ scopes kept for it
    owner: int  # index of the source package's entry: itself, or the package a binary unit belongs to
    binary: str | None  # a unit's shared object or plugin ("canon.so"); None for the package's own list

    @property
    def id(self) -> str:
        return f"debian:{self.source}"


class KnowledgeBase:
    """The compiled knowledge base: entries, and indexes from a string / symbol / soname to the entries holding it.

    Index values pack (entry index, document frequency) as ``index << 2 | min(df, 3)``; an item kept by several
    entries maps to a tuple of such ints.
    """

    def __init__(self, doc: dict[str, Any], origin: str) -> None:
        if not isinstance(doc, dict) or doc.get("format") not in _FORMATS or not isinstance(doc.get("sources"), list):
            raise DataError(f"{origin}: not a LicenseGate native knowledge base ({FORMAT})")
        strings: dict[bytes, list[int]] = {}
        symbols: dict[bytes, list[int]] = {}
        entries = [_read_entry(i, raw, strings, symbols, origin) for i, raw in enumerate(doc["sources"])]
        # Binary units after all packages, so that a package's index is its place in the file.
        for i, raw in enumerate(doc["sources"]):
            units = raw.get("units", []) if isinstance(raw, dict) else []
            if not isinstance(units, list):
                raise DataError(f"{origin}: malformed entry {i} (units is not a list)")
            for unit in units:
                entries.append(_read_unit(len(entries), i, entries[i], unit, strings, symbols, origin))
        self._setup(origin, str(doc.get("suite", "")), str(doc.get("built", "")), entries,
                    ItemIndex(ItemIndex.serialise(strings)), ItemIndex(ItemIndex.serialise(symbols)), _tables(entries))

    def _setup(self, origin: str, suite: str, built: str, entries: Sequence[KBEntry], strings: ItemIndex,
               symbols: ItemIndex, tables: _Tables) -> None:
        """Set the entries, the two item indexes and the small lookup tables derived from the entries."""
        self.origin, self.suite, self.built = origin, suite, built
        self.entries = entries  # a list, or the compiled file's entries decoded on first use (_CompiledEntries)
        self.strings = strings  # latin-1 bytes of each distinctive string -> packed owners
        self.symbols = symbols  # latin-1 bytes of each distinctive exported symbol -> packed owners
        self.sonames: NameTable
        self.by_package: NameTable
        self.by_source_norm: NameTable  # "libpng16" for libpng1.6: how signature ids and names compare
        self.by_homepage: NameListTable
        self.soname_keys: NameTable  # versionless soname stem -> the one entry with it (soname_key)
        self.sonames, self.by_package, self.by_source_norm, self.by_homepage, self.soname_keys = tables

    def tables(self) -> _Tables:
        return self.sonames, self.by_package, self.by_source_norm, self.by_homepage, self.soname_keys

    # -- matching --------------------------------------------------------------------------------------------

    def match(
        self,
        *,
        strings: Sequence[tuple[int, bytes | memoryview]],
        symbols: Iterable[str] = (),
        soname: str | None = None,
        member: str = "",
        known: Iterable[int] = (),
    ) -> list[LibraryMatch]:
        """Packages whose distinctive strings / exported symbols this binary carries, best first.

        ``role`` is ``primary`` for the package the binary is (its soname is the package's, or its code clearly
        dominates: at least twice the score of the next, and not a runtime); every other package is ``embedded``.
        """
        names = list(symbols)
        found = self._collect(strings, names + list(dict.fromkeys(cxx_scopes(names))))
        so_idx = self._soname_owner(soname) if soname else None
        results = self._assign(found, known, so_idx, member)
        primary = self._primary(results, so_idx)
        if primary is not None:
            primary.role = "primary"
        return [m for _, m, _ in results]

    def _soname_owner(self, soname: str) -> int | None:
        """The entry whose library this soname names: exactly, or by its versionless stem, so that a Mach-O install
        name (``@rpath/libfftw3.3.dylib``), another version (``libvips-cpp.so.8.17``) or an auditwheel-renamed
        soname (``libgphoto2-5e586eb2.so.6``) finds Debian's ``libfftw3.so.3``; a stem two entries share names none."""
        idx = self.sonames.get(soname)
        if idx is not None:
            return idx
        key = soname_key(soname)
        return self.soname_keys.get(key) if key else None

    def _collect(self, strings: Sequence[tuple[int, bytes | memoryview]], symbols: Iterable[str]) -> dict[int, _Found]:
        """Every package with at least one of its distinctive strings or exported symbols in the binary."""
        found: dict[int, _Found] = defaultdict(_Found)  # one _Found per entry met, not per owner of every hit
        for base, region in strings:
            # Every byte outside printable ASCII ends a string, as when the knowledge base was extracted: its
            # strings are maximal printable runs, none shorter than the shortest item.
            hits = self.strings.items_in(region)
            if not hits:
                continue
            raw = region if isinstance(region, bytes) else bytes(region)  # the evidence's offsets: raw.find
            for s, owners in hits.items():
                for packed in owners:
                    found[packed >> 2].strings.append((s, packed & 3, base, raw))
        for name, owners in self.symbols.lookup_latin1(symbols).items():
            for packed in owners:
                found[packed >> 2].symbols.append((name, packed & 3))
        return found

    def _assign(self, found: dict[int, _Found], known: Iterable[int], so_idx: int | None,
                member: str) -> list[tuple[float, LibraryMatch, int]]:
        """BAT's greedy assignment: the package explaining the most is taken first and the strings and symbols it
        explains count for nobody else, so code that several packages copy (gnulib, a bundled zlib) is credited
        once. Packages already named by a hand-written signature explain their items before anything else."""
        groups: dict[int, list[tuple[KBEntry, _Found]]] = {}
        for i, g in found.items():  # a package's binary units count with the package
            e = self.entries[i]
            groups.setdefault(e.owner, []).append((e, g))
        explained: set[object] = set()
        for idx in known:
            for _, g in groups.pop(idx, ()):
                explained.update(g.items())
        results: list[tuple[float, LibraryMatch, int]] = []
        while groups:
            idx, parts = max(((i, _counted([(e, g.without(explained)) for e, g in ps])) for i, ps in groups.items()),
                             key=lambda t: (sum(g.score() for _, g in t[1]), -t[0]))
            del groups[idx]
            e = self.entries[idx]
            f = _Found.union(g for _, g in parts)
            conf = _confidence(f, max((_share(u, g) for u, g in parts), default=0.0))
            if conf is None:
                continue
            explained.update(f.items())
            units = [(u, g) for u, g in parts if u.binary is not None and (g.strings or g.symbols)]
            results.append((f.score(), self._library_match(e, f, conf, idx == so_idx, member, units), idx))
        results.sort(key=lambda r: (-r[0], r[1].id))
        return results

    def _primary(self, results: list[tuple[float, LibraryMatch, int]], so_idx: int | None) -> LibraryMatch | None:
        """The package the binary is: its soname's, or one whose code dominates (twice the next score, no runtime)."""
        primary = next((m for _, m, i in results if i == so_idx), None)
        if primary is None and results:
            best_score, best, best_idx = results[0]
            second = results[1][0] if len(results) > 1 else 0.0
            if best_score >= 2 * second and self.entries[best_idx].source not in RUNTIME_SOURCES:
                primary = best
        return primary

    def _library_match(self, e: KBEntry, f: _Found, conf: Confidence, by_soname: bool, member: str,
                       units: Sequence[tuple[KBEntry, _Found]] = ()) -> LibraryMatch:
        ev: list[Evidence] = []
        uniq = sum(1 for _, df, _, _ in f.strings if df == 1)
        n_strings = e.n_strings + sum(u.n_strings for u, _ in units)
        n_symbols = e.n_symbols + sum(u.n_symbols for u, _ in units)
        ev.append(Evidence(
            "identity-string",
            f"{len(f.strings)} of {n_strings} strings distinctive to Debian source package {e.source} "
            f"({uniq} found in no other package of Debian {self_suite(self)}), {len(f.symbols)} of {n_symbols} "
            f"distinctive exported symbols; score {f.score():.0f}",
            None, f"{e.id}/summary", member,
        ))
        for u, g in sorted(units, key=lambda t: (-t[1].score(), t[0].binary or ""))[:_EVIDENCE_UNITS]:
            ev.append(Evidence(
                "identity-string",
                f"{len(g.strings)} of {u.n_strings} strings and {len(g.symbols)} of {u.n_symbols} symbols or C++ "
                f"scopes distinctive to {u.binary} of Debian {e.source}",
                None, f"{e.id}/binary", member,
            ))
        for s, df, base, raw in sorted(f.strings, key=lambda t: (t[1], -len(t[0]), t[0]))[:_EVIDENCE_STRINGS]:
            pos = raw.find(s + b"\0")
            pos = raw.find(s) if pos < 0 else pos
            text = s.decode("latin-1")[:_TEXT_LIMIT]
            ev.append(Evidence("identity-string", f"{text} [in {_packages(df)}]", base + pos if pos >= 0 else None,
                               f"{e.id}/string", member))
        for sym, df in sorted(f.symbols, key=lambda t: (t[1], t[0]))[:_EVIDENCE_SYMBOLS]:
            ev.append(Evidence("symbol", f"{sym[:_TEXT_LIMIT]} [in {_packages(df)}]", None, f"{e.id}/symbol", member))
        if by_soname:
            ev.append(Evidence("soname", f"soname of Debian {e.source}", None, f"{e.id}/soname", member))
        licence = e.license
        if licence is not None and "LicenseRef-debian-" in licence:
            # A licence Debian names in its own words (ImageMagick, Hylafax...): shown, never concluded from.
            ev.append(Evidence("metadata", f"debian/copyright of {e.source} {e.debian_version} names licences LicenseGate "
                               f"cannot map to SPDX: {licence}", None, f"{e.id}/licence", member))
            licence = None
        elif licence is not None and e.license_confidence == "low":
            ev.append(Evidence("metadata", f"licence {licence} read best-effort from the free-text (not machine-readable) "
                               f"debian/copyright of {e.source} {e.debian_version}: low confidence", None,
                               f"{e.id}/licence", member))
            if conf == "high":
                conf = "medium"  # a licence read from prose never makes a high-confidence conclusion
        elif licence is not None:
            ev.append(Evidence("metadata", f"licence {licence} from debian/copyright of {e.source} {e.debian_version} "
                               f"({e.license_confidence} confidence)", None, f"{e.id}/licence", member))
        return LibraryMatch(
            id=e.id, name=e.source, project=e.source, license=licence, version=None, confidence=conf, evidence=ev,
            homepage=e.homepage, role="embedded",
        )


def self_suite(kb: KnowledgeBase) -> str:
    return kb.suite or "bookworm"


def _packages(df: int) -> str:
    return "this package only" if df == 1 else ("2 packages" if df == 2 else "3 packages")


class _Found:
    __slots__ = ("strings", "symbols")

    def __init__(self) -> None:
        self.strings: list[tuple[bytes, int, int, bytes]] = []  # (string, df, region base, region bytes)
        self.symbols: list[tuple[str, int]] = []

    def items(self) -> list[object]:
        return [s for s, _, _, _ in self.strings] + [y for y, _ in self.symbols]

    def without(self, explained: set[object]) -> _Found:
        if not explained:
            return self
        f = _Found()
        f.strings = [t for t in self.strings if t[0] not in explained]
        f.symbols = [t for t in self.symbols if t[0] not in explained]
        return f

    @staticmethod
    def union(parts: Iterable[_Found]) -> _Found:
        """One package's matches over its lists (the build puts an item in one list of a package only)."""
        f = _Found()
        for g in parts:
            f.strings += g.strings
            f.symbols += g.symbols
        return f

    def score(self) -> float:
        # BAT: len/5^(df-1) per string; a symbol counts as a string of its length capped at 20 characters
        return sum(min(len(s), 80) / 5 ** (df - 1) for s, df, _, _ in self.strings) + sum(
            min(len(s), 20) / 5 ** (df - 1) for s, df in self.symbols)


def _counts(f: _Found) -> tuple[int, int]:
    """Items matched, and how many of them no other Debian source package has."""
    uniq = sum(1 for _, df, _, _ in f.strings if df == 1) + sum(1 for _, df in f.symbols if df == 1)
    return len(f.strings) + len(f.symbols), uniq


def _counted(parts: list[tuple[KBEntry, _Found]]) -> list[tuple[KBEntry, _Found]]:
    """A package's own list always counts; a binary unit only when it alone carries enough of its items to name a
    package (a few generic strings from each of many plugins, "frame is too short", are no evidence)."""
    out = []
    for u, g in parts:
        n, uniq = _counts(g)
        if u.binary is None or (n >= MIN_ITEMS and uniq >= MIN_UNIQUE):
            out.append((u, g))
    return out


def _share(e: KBEntry, f: _Found) -> float:
    """The share of an entry's own distinctive strings (or symbols) that the binary carries."""
    return max(len(f.strings) / e.n_strings if e.n_strings else 0.0, len(f.symbols) / e.n_symbols if e.n_symbols else 0.0)


def _confidence(f: _Found, share: float) -> Confidence | None:
    """Counts over everything a package's lists and its binaries' units matched; the share is the best of any one
    list (the package's own, or one binary's: a plugin matched well by its own items is matched well)."""
    ns, ny = len(f.strings), len(f.symbols)
    items, uniq = _counts(f)
    if items < MIN_ITEMS or uniq < MIN_UNIQUE:
        return None
    if uniq >= HIGH_UNIQUE and ((items >= HIGH_ITEMS and share >= HIGH_SHARE) or (ns >= 3 and ny >= 3 and share >= MIN_SHARE)
                                or items >= 40):
        return "high"
    if share >= MIN_SHARE:
        return "medium"
    return None


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _vocabulary(s: str) -> bool:
    """Strings that many projects share without sharing code, although few Debian libraries carry them: a lone
    identifier (enum names such as HTTP reason phrases "NonAuthoritativeInformation") and character tables
    (charset converters' " #%'()+,/0234..."). Measured on vendor builds: gRPC matched qt6-httpserver, lxml recode."""
    if _IDENTIFIER.fullmatch(s):
        return True
    if len(s) >= 16:
        rising = sum(1 for a, b in zip(s, s[1:], strict=False) if b > a)
        if rising >= 0.75 * (len(s) - 1):
            return True
    return False


def _source_name() -> str:
    """A regex for one mangled <source-name> (length then that many characters, lengths 1-99), as a trie on the
    length's digits so that the whole search runs inside the regex engine."""
    alts = []
    for d in range(1, 10):
        inner = [f"(?![0-9]).{{{d}}}"] + [f"{e}.{{{10 * d + e}}}" for e in range(10)]
        alts.append(f"{d}(?:{'|'.join(inner)})")
    return "(?:" + "|".join(alts) + ")"


@functools.cache
def _cxx_nested() -> re.Pattern[str]:
    """A C++ nested name in a mangled exported symbol, at the start of a line: a function or static member (``_ZN``,
    const/volatile/ref qualified ``_ZNK``...) or a class's vtable, typeinfo or typeinfo name (``_ZTVN``, ``_ZTIN``).
    Compiled on first use (6-7 ms): with the compiled module only a non-ASCII name needs it."""
    return re.compile(r"\n_Z(?:N[rVKRO]*|T[VIS]N)(" + _source_name() + ")(" + _source_name() + ")")

_LENGTH = re.compile(r"[0-9]+")


def cxx_scopes(symbols: Iterable[str]) -> list[str]:
    """The first two names of each mangled nested C++ name, one per such symbol: ``OpenBabel::MOL2Format`` (a class
    in a namespace) from ``_ZN9OpenBabel10MOL2Format10ReadMoleculeEPNS_6OBBaseEPNS_10OBConversionE``, ``cv::imread``
    (a function in a namespace). Nothing for C names, ``std::`` (``_ZNSt``: a substitution, not a length),
    namespaces reserved for the implementation (``__cxxabiv1``, ``_GLOBAL__N_1``: a leading underscore with an
    underscore or a capital, C++ [lex.name]) and names of 100 characters or more. Exported scopes survive a version change that alters
    every signature; the knowledge base keeps those that at most two Debian source packages define (std, boost and
    other shared namespaces fall out by document frequency). About 0.5 microseconds per symbol (one regex pass);
    the compiled module gives the same list for ASCII names (nearly all), scanning the same text in C."""
    text = "\n" + "\n".join(symbols)
    if kb_index.ACCEL is not None and text.isascii():
        return kb_index.ACCEL.cxx_scopes(text)
    out = []
    for a, b in _cxx_nested().findall(text):
        ns = a[_LENGTH.match(a).end():]  # type: ignore[union-attr]
        if not ns:
            continue  # a namespace of digits only ("_ZN12345678901234..."): no name
        if ns[0] == "_" and (ns[1:2] == "_" or ns[1:2].isupper()):
            continue  # reserved for the implementation: the C++ runtime's __cxxabiv1, anonymous namespaces
        out.append(ns + "::" + b[_LENGTH.match(b).end():])  # type: ignore[union-attr]
    return out


_SO_SUFFIX = re.compile(r"(\.dylib|\.so(\.[0-9.]*)?)$")
_VERSION_TAIL = re.compile(r"(\.\d+)+$")
_AUDITWHEEL_HASH = re.compile(r"-[0-9a-f]{8}$")


def soname_key(soname: str) -> str | None:
    """'libvips-cpp.so.42', '@rpath/libvips-cpp.8.17.1.dylib' and 'libvips-cpp-1a2b3c4d.so.42' -> 'libvips-cpp'."""
    base = soname.rsplit("/", 1)[-1].lower()
    base = _VERSION_TAIL.sub("", _SO_SUFFIX.sub("", base))
    base = _AUDITWHEEL_HASH.sub("", base)
    return base if len(base) > 4 else None


def homepage_key(url: str) -> str:
    """'https://www.zlib.net/' and 'http://zlib.net' compare equal."""
    u = url.strip().lower().split("://", 1)[-1]
    u = u[4:] if u.startswith("www.") else u
    return u.split("#", 1)[0].rstrip("/")


def norm_name(name: str) -> str:
    """'libsdl2-image' and 'sdl2-image' compare equal."""
    n = "".join(ch for ch in name.lower() if ch.isalnum())
    return n[3:] if n.startswith("lib") and len(n) > 5 else n


_Tables = tuple[NameTable, NameTable, NameTable, NameListTable, NameTable]


def _tables(entries: list[KBEntry]) -> _Tables:
    """Sonames, binary packages, normalised names and homepages -> entry index (first entry wins); soname stems
    -> the entry they belong to, when only one has the stem (compiled with the rest: 15 ms to build per scan)."""
    sonames: dict[str, int] = {}
    by_package: dict[str, int] = {}
    by_source_norm: dict[str, int] = {}
    by_homepage: dict[str, list[int]] = {}
    for i, e in enumerate(entries):
        by_source_norm.setdefault(norm_name(e.source), i)
        if e.homepage:
            by_homepage.setdefault(homepage_key(e.homepage), []).append(i)
        for so in e.sonames:
            sonames.setdefault(so, i)
        for p in e.packages:
            by_package.setdefault(p, i)
    owners: dict[str, set[int]] = {}
    for so, i in sonames.items():
        key = soname_key(so)
        if key:
            owners.setdefault(key, set()).add(i)
    soname_keys = {k: next(iter(v)) for k, v in owners.items() if len(v) == 1}
    one = [NameTable.build({k: (i,) for k, i in t.items()}) for t in (sonames, by_package, by_source_norm, soname_keys)]
    return one[0], one[1], one[2], NameListTable.build(by_homepage), one[3]


def _read_entry(i: int, raw: Any, strings: dict[bytes, list[int]], symbols: dict[bytes, list[int]],
                origin: str) -> KBEntry:
    """One source package of the data file; its strings and symbols go into the item tables."""
    try:
        n_strings, n_symbols = _index_items(i, raw, strings, symbols)
        return KBEntry(
            source=str(raw["source"]), version=str(raw["version"]), debian_version=str(raw["debian_version"]),
            license=raw.get("license"), license_confidence=str(raw.get("license_confidence", "none")),
            homepage=raw.get("homepage"), sonames=tuple(raw.get("sonames", ())),
            packages=tuple(raw.get("packages", {})), n_strings=n_strings, n_symbols=n_symbols, owner=i, binary=None,
        )
    except (KeyError, TypeError, ValueError, UnicodeEncodeError) as exc:
        raise DataError(f"{origin}: malformed entry {i} ({exc!r})") from None


def _index_items(i: int, raw: Any, strings: dict[bytes, list[int]], symbols: dict[bytes, list[int]]) -> tuple[int, int]:
    """Put an entry's (or unit's) strings and symbols into the item tables; how many of each it keeps."""
    n_strings = 0
    for s, df in raw["strings"]:
        if not _vocabulary(str(s)):
            strings.setdefault(str(s).encode("latin-1"), []).append(i << 2 | min(int(df), 3))
            n_strings += 1
    for s, df in raw["symbols"]:
        try:
            key = str(s).encode("latin-1")
        except UnicodeEncodeError:
            continue  # binaries' symbol names are read as latin-1: no binary can carry this one
        symbols.setdefault(key, []).append(i << 2 | min(int(df), 3))
    return n_strings, len(raw["symbols"])


def _read_unit(i: int, owner: int, e: KBEntry, raw: Any, strings: dict[bytes, list[int]],
               symbols: dict[bytes, list[int]], origin: str) -> KBEntry:
    """One binary's own items (a shared object or plugin of the package ``e``): an entry pointing at its owner."""
    try:
        n_strings, n_symbols = _index_items(i, raw, strings, symbols)
        return e._replace(sonames=(), packages=(), homepage=None, n_strings=n_strings, n_symbols=n_symbols,
                          owner=owner, binary=str(raw["binary"]))
    except (KeyError, TypeError, ValueError, UnicodeEncodeError, AttributeError) as exc:
        raise DataError(f"{origin}: malformed unit of entry {owner} ({exc!r})") from None


# -- loading ---------------------------------------------------------------------------------------------------


def load_path(path: Path) -> KnowledgeBase:
    """Load a knowledge-base file (``.json.xz``); any damage is a one-line error naming the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"native knowledge base {path}: cannot read ({exc.strerror or exc})") from None
    return _parse(raw, str(path))


def _parse(raw: bytes, origin: str) -> KnowledgeBase:
    try:
        doc = json.loads(lzma.decompress(raw))
    except (lzma.LZMAError, ValueError, EOFError) as exc:
        raise DataError(f"native knowledge base {origin}: corrupted ({exc})") from None
    return KnowledgeBase(doc, origin)


@functools.cache
def load_default() -> KnowledgeBase:
    """The packaged knowledge base, compiled once into the user cache (LICENSEGATE_NO_CACHE=1 turns that off).

    The compiled file is read in place (memory-mapped), so loading costs a few milliseconds; a compiled file that
    is damaged, truncated or of another format is rebuilt from the data file.
    """
    origin = str(_data_ref(DATA_FILE))
    digest = _data_digest(DATA_FILE)[:24] + f"-{_CACHE_FORMAT}"
    cache = None if os.environ.get("LICENSEGATE_NO_CACHE") else _cache_dir() / f"native-kb-{digest}-{sys.byteorder}.idx"
    kb = _load_compiled(cache, origin) if cache is not None else None
    if kb is None:
        kb = _parse(_read_data(DATA_FILE), origin)
        if cache is not None:
            _save_compiled(kb, cache)
            # The first scan on a machine then runs on the compiled file as every later one does (its memory, its
            # lookups); the parsed one stays when the cache could not be written or read back.
            kb = _load_compiled(cache, origin) or kb
    kb.fingerprint = digest  # type: ignore[attr-defined]
    return kb


# The compiled file: this header; a head checked by its CRC-32 (the entries' offsets and their pickles, the suite
# and build date, the five name tables); the string and symbol indexes, read in place and checked by their sizes.
# The head is the part a lookup cannot check as it goes: 2.6 MB, its CRC-32 0.9 ms.
_COMPILED = struct.Struct("=8sIIIIQ")  # magic, CRC-32 of the head, entries, their pickles' bytes, meta bytes, head bytes


class _CompiledEntries(Sequence[KBEntry]):
    """The compiled file's entries, each unpickled from its own bytes on first use and kept.

    A scan needs a few hundred of the 14,531 (many-libs.apk 697, wild-debian.apk 201, measured 2026-12-02); one
    pickle of all of them cost every process 45 ms to load, and a 10-15 ms collection of the tuples right after.
    """

    __slots__ = ("_offsets", "_blob", "_decoded")

    def __init__(self, offsets: memoryview, blob: memoryview) -> None:
        self._offsets, self._blob = offsets, blob
        self._decoded: list[KBEntry | None] = [None] * (len(offsets) - 1)

    def __len__(self) -> int:
        return len(self._decoded)

    @overload
    def __getitem__(self, i: int) -> KBEntry: ...

    @overload
    def __getitem__(self, i: slice) -> list[KBEntry]: ...

    def __getitem__(self, i: int | slice) -> KBEntry | list[KBEntry]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        e = self._decoded[i]
        if e is None:
            j = i % len(self._decoded)
            e = self._decoded[j] = KBEntry._make(pickle.loads(self._blob[self._offsets[j] : self._offsets[j + 1]]))
        return e


def _aligned(n: int) -> int:
    return n + (-n % 8)


def _save_compiled(kb: KnowledgeBase, cache: Path) -> None:
    """The head and the two item indexes, written atomically; an unwritable cache is only slower."""
    rows = [pickle.dumps(tuple(e), protocol=pickle.HIGHEST_PROTOCOL) for e in kb.entries]
    offsets = array("I", [0])
    for row in rows:
        offsets.append(offsets[-1] + len(row))
    meta = pickle.dumps((kb.suite, kb.built), protocol=pickle.HIGHEST_PROTOCOL)
    parts = [offsets.tobytes(), *rows, meta]
    parts.append(b"\0" * (-sum(map(len, parts)) % 8))  # every index starts at a multiple of 8
    for table in kb.tables():
        index = bytes(table.index.buffer())
        parts += [index, b"\0" * (-len(index) % 8)]
    head = b"".join(parts)
    header = _COMPILED.pack(_COMPILED_MAGIC, zlib.crc32(head), len(rows), offsets[-1], len(meta), len(head))
    strings = kb.strings.buffer()
    try:
        with atomic_writer(cache) as fh:
            # In 64 KiB writes: one large write leaves the file in the page cache as large folios, and every later
            # scan's mmap faults then map whole folios (measured on Linux 6.18: entries-5000.apk peaked at 80 MiB
            # instead of 54 MiB until the page cache was dropped).
            for section in (memoryview(header + head), strings, memoryview(b"\0" * (-len(strings) % 8)),
                            kb.symbols.buffer()):
                for at in range(0, len(section), 1 << 16):
                    fh.write(section[at : at + (1 << 16)])
    except OSError:
        return
    prune_stale(cache, "native-kb-", ".idx")  # other data versions' and formats' compiled files, once unused


def _load_compiled(cache: Path, origin: str) -> KnowledgeBase | None:
    """The compiled knowledge base, memory-mapped; None when it is absent or damaged (then it is rebuilt)."""
    try:
        with cache.open("rb") as fh:
            buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    try:
        magic, crc, n, blob_len, meta_len, head_len = _COMPILED.unpack_from(buf, 0)
        head = memoryview(buf)[_COMPILED.size : _COMPILED.size + head_len]
        if magic != _COMPILED_MAGIC or len(head) != head_len or zlib.crc32(head) != crc:
            return None
        at = 4 * (n + 1)
        offsets, blob = head[:at].cast("I"), head[at : at + blob_len]
        if offsets[0] != 0 or offsets[n] != blob_len or len(blob) != blob_len:
            return None
        suite, built = pickle.loads(head[at + blob_len : at + blob_len + meta_len])
        at = _aligned(at + blob_len + meta_len)
        indexes = []
        for _ in range(5):
            indexes.append(ItemIndex(head, at))
            at = _aligned(indexes[-1].end)
        sonames, by_package, by_source_norm, by_homepage, soname_keys = indexes
        tables = (NameTable(sonames), NameTable(by_package), NameTable(by_source_norm), NameListTable(by_homepage),
                  NameTable(soname_keys))
        strings = ItemIndex(buf, _COMPILED.size + head_len)
        symbols = ItemIndex(buf, _aligned(strings.end))
        if at != head_len or symbols.end != len(buf):
            return None
    except Exception:  # noqa: BLE001 - whatever a damaged cache file raises, it is rebuilt
        return None
    kb = KnowledgeBase.__new__(KnowledgeBase)
    kb._setup(origin, str(suite), str(built), _CompiledEntries(offsets, blob), strings, symbols, tables)
    return kb


def fingerprint() -> str:
    """Digest of the packaged data file, without loading it (the content cache keys results by it)."""
    try:
        return _data_digest(DATA_FILE)[:16]
    except DataError:
        return "missing"


def _data_ref(name: str) -> Any:
    return package_file("data", "native_kb", name)


def _read_data(name: str) -> bytes:
    ref = _data_ref(name)
    try:
        return bytes(ref.read_bytes())
    except OSError as exc:
        raise DataError(f"native knowledge base {ref} is missing or unreadable ({exc.strerror or exc}); "
                        "reinstall LicenseGate") from None


@functools.lru_cache(maxsize=4)
def _data_digest(name: str) -> str:
    """sha256 of the data file (8.4 MB: 16-18 ms to read and hash), once per process and then only when the file's
    stamp changes (compiled.py); it names the compiled file and keys caches."""
    ref = _data_ref(name)
    recorded = isinstance(ref, Path) and not os.environ.get("LICENSEGATE_NO_CACHE")
    return remembered_digest([ref], _cache_dir() if recorded else None, f"native-kb-{name}",
                             lambda: hashlib.sha256(_read_data(name)).hexdigest())


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "licensegate"
