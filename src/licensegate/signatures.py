"""Signature database of native libraries and the one-pass matcher over a binary's string sections.

Data lives in ``data/signatures/*.toml`` (one file per domain) and ``data/generic_licences.toml``;
this module holds the mechanism only.

Signature file format
---------------------
Each file is a list of ``[[library]]`` tables::

    [[library]]
    id = "x264"                      # unique across all files; used in rule ids and gpl_if_embedded
    name = "x264"                    # display name
    project = "x264"                 # upstream project
    license = "GPL-2.0-or-later"     # SPDX expression of the default licence (validated)
    homepage = "https://..."
    sources = ["upstream file defining the strings / licence", "Debian copyright file"]  # at least one
    ml_runtime = false               # optional: an on-device ML runtime
    gpl_if_embedded = ["x264", ...]  # optional, FFmpeg only: see below
    debian = ["libx264-164"]         # optional: Debian bookworm packages the literals were checked in
    notes = "..."                    # optional

    [[library.rule]]
    id = "identity"                  # unique within the library; evidence rule = "<library id>/<rule id>"
    kind = "identity-string"         # identity-string | licence-string | symbol | soname | filename
    strength = "strong"              # strong | weak
    literal = "H.264/MPEG-4 AVC codec - Copy"   # string kinds: exact bytes (latin-1), >= 6 characters
    license = "GPL-2.0-or-later"     # licence-string only: the licence this text states
    priority = 20                    # licence-string only: the highest priority found wins
    version = 'regex (one group)'    # optional; string kinds: on the whole NUL-terminated string;
                                     # symbol/soname/filename: on the name
    prefix = "x264_encoder_open_"    # symbol kind: prefix or exact on exported/defined symbol names
    exact = "x264_encoder_open"
    regex = '^libx264\\.so'          # soname / filename kinds: re.search on the name
    supporting = false               # optional: counts only when another rule of the library matched

Matching
--------
``SignatureDB.match`` runs ONE Aho-Corasick automaton (built on first use over every literal) over the string
sections, then checks symbols and names. For each library:

- licence: the highest-priority licence-string rule found; else the library's default. With no licence
  string, a library with ``gpl_if_embedded`` (FFmpeg) becomes ``GPL-2.0-or-later`` when one of those
  libraries (x264, x265, libpostproc, Xvid) is found in the same binary with at least medium confidence;
  an ``embedded-component`` evidence records why.
- confidence: ``high`` when a strong content rule (identity-string, licence-string, symbol) matched, or
  content rules of two different kinds did; ``medium`` for weak content plus a name (soname/filename), or
  two different weak content rules; ``low`` otherwise (one weak content rule, or names only). Names alone
  never give more than ``low``: a file can be called anything.
- role: ``primary`` when the library's soname or filename rule matched and it has content evidence (or
  nothing else was found); if no library matched by name, the single library with the best score
  (confidence, then number of rules) is primary; everything else is ``embedded``. Ties give no primary:
  a bundle of equally evident libraries (a static FFmpeg) is something else that embeds them.
- supporting rules (configure lines, shared version banners) only add evidence to a library that
  matched on another rule; on their own they identify nothing.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter, length_hint, methodcaller
from pathlib import Path
from typing import Any, Literal

import ahocorasick_rs

from licensegate import _toml, spdx
from licensegate._files import package_file
from licensegate.compiled import gc_paused, prune_stale, remembered_digest
from licensegate.errors import LicenseGateError
from licensegate.model import Confidence, Evidence, LibraryMatch

from ._dataclasses import dataclass, field

__all__ = ["Rule", "LibrarySignature", "GenericLicence", "SignatureDB"]

RuleKind = Literal["identity-string", "licence-string", "symbol", "soname", "filename"]
STRING_KINDS = frozenset({"identity-string", "licence-string"})
CONTENT_KINDS = frozenset({"identity-string", "licence-string", "symbol"})
NAME_KINDS = frozenset({"soname", "filename"})
_KINDS = STRING_KINDS | {"symbol"} | NAME_KINDS

_LIBRARY_KEYS = {
    "id", "name", "project", "license", "homepage", "sources", "ml_runtime", "gpl_if_embedded", "debian",
    "notes", "rule",
}
_RULE_KEYS = {
    "id", "kind", "strength", "literal", "license", "priority", "version", "prefix", "exact", "regex",
    "supporting", "note",
}
_GENERIC_KEYS = {"id", "spdx", "literal", "word", "sources", "note"}
_ID = re.compile(r"^[a-z0-9][a-z0-9.+_-]*$")
MIN_LITERAL = 6
TEXT_LIMIT = 200  # evidence text length
_CONTEXT = 4096  # how far to look for the bounds of a hit's string
_NOT_TEXT = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # control bytes other than tab and line ends
_VERSION_TRIES = 16  # occurrences of a literal examined for a version
_CONF_RANK = {"low": 0, "medium": 1, "high": 2}
_WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")


class LazyPattern:
    """A regex validated when the data is loaded, compiled on first use.

    The cached database (see `_default_db`) pickles it as its source text and its prefilter, so unpickling neither
    recompiles hundreds of patterns of which a scan uses a handful nor works out their literals again (322
    patterns: 15-28 ms per process).
    """

    __slots__ = ("pattern", "_rx", "_needs")

    def __init__(self, pattern: str, needs: tuple[tuple[bool, str], ...] | None = None) -> None:
        self.pattern = pattern
        self._rx: re.Pattern[str] | None = None
        # Literals one of which every match must contain (at the start when anchored), one per top-level branch:
        # most names fail them, so most of the hundreds of file-name and soname patterns are never compiled
        # (compiling them cost more than a small scan: 98 patterns, 0.13 s, on wild-av.apk's 41 binaries).
        self._needs = _required_literals(pattern) if needs is None else needs

    def search(self, text: str) -> re.Match[str] | None:
        if self._needs and not any(text.startswith(lit) if anchored else lit in text for anchored, lit in self._needs):
            return None
        if self._rx is None:
            self._rx = re.compile(self.pattern)
        return self._rx.search(text)

    @property
    def anchored_literals(self) -> tuple[str, ...]:
        """Literals one of which every text this pattern accepts starts with (() when there are none)."""
        if self._needs and all(anchored for anchored, _ in self._needs):
            return tuple(lit for _, lit in self._needs)
        return ()

    def __reduce__(self) -> tuple[type[LazyPattern], tuple[str, tuple[tuple[bool, str], ...]]]:
        return (LazyPattern, (self.pattern, self._needs))


_LITERAL_ESCAPES = frozenset("./+-_ ")
_GROUP_DEPTH = {"(": 1, ")": -1}


def _required_literals(pattern: str) -> tuple[tuple[bool, str], ...]:
    """(anchored, literal) for each top-level branch of the pattern: the plain characters the branch starts with
    (after an optional ^, then an optional leading group: ``(lib)?`` or ``(^|/)``, which make the literal
    unanchored), which every match of that branch must contain; () when some branch has none of 2 characters or
    more, or when the pattern sets flags. A group of plain alternatives right after a branch's literal extends it,
    one literal per alternative."""
    if pattern.startswith("(?"):
        return ()
    needs: list[tuple[bool, str]] = []
    for branch in _top_level_branches(pattern):
        anchored = branch.startswith("^")
        i = 1 if anchored else 0
        skip = _leading_group(branch, i)
        if skip:
            anchored, i = False, skip
        literal, end = _literal_at(branch, i)
        # a group of plain alternatives right after the literal: one literal per alternative
        # (``^lib(boringssl|crypto_boringssl)\\.so``: "libboringssl" or "libcrypto_boringssl", not just "lib")
        alternatives = _plain_alternatives(branch, end) if end >= 0 else None
        if alternatives:
            needs.extend((anchored, literal + a) for a in alternatives)
            continue
        if len(literal) < 2:
            return ()
        needs.append((anchored, literal))
    return tuple(dict.fromkeys(needs))


def _structure(pattern: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(index, character, group depth after it) of each character from `start` on that gives the pattern its
    structure: neither a backslash nor the character it escapes, nor inside a character class (whose `[` is given,
    its closing `]` not)."""
    depth, in_class, escaped = 0, False, False
    for i in range(start, len(pattern)):
        c = pattern[i]
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif in_class:
            in_class = c != "]"
        else:
            in_class = c == "["
            depth += _GROUP_DEPTH.get(c, 0)
            yield i, c, depth


def _top_level_branches(pattern: str) -> list[str]:
    """The pattern split at each `|` outside any group or character class."""
    cuts = [i for i, c, depth in _structure(pattern) if c == "|" and depth == 0]
    return [pattern[a + 1 : b] for a, b in zip([-1, *cuts], [*cuts, len(pattern)], strict=True)]


def _leading_group(branch: str, i: int) -> int:
    """The index after a group at `i` that a match may skip or that matches no literal text: ``(...)?`` (not an
    extension group ``(?...)``) or ``(^|/)``; 0 when there is none."""
    if not branch.startswith("(", i) or branch.startswith("(?", i):
        return 0
    for j, c, depth in _structure(branch, i):
        if c in _GROUP_DEPTH and depth == 0:  # the group's closing parenthesis
            if branch.startswith("?", j + 1):
                return j + 2
            return j + 1 if branch[i : j + 1] == "(^|/)" else 0
    return 0


def _literal_at(pattern: str, i: int) -> tuple[str, int]:
    """The plain characters (letters, digits, `_`, `-`, escaped punctuation) of the pattern from index i on, less
    the last one when a quantifier makes it optional; and the index after them (-1 when one was dropped)."""
    out: list[str] = []
    while i < len(pattern):
        c = pattern[i]
        if c.isascii() and (c.isalnum() or c in "_-"):
            out.append(c)
            i += 1
        elif c == "\\" and i + 1 < len(pattern) and pattern[i + 1] in _LITERAL_ESCAPES:
            out.append(pattern[i + 1])
            i += 2
        else:
            break
    if i < len(pattern) and pattern[i] in "?*{" and out:
        out.pop()  # the quantifier makes the last character optional
        i = -1
    return "".join(out), i


def _plain_alternatives(pattern: str, i: int) -> list[str] | None:
    """The alternatives of a capturing group at `i` that holds only plain characters and `|` and is not followed
    by a quantifier (``(boringssl|crypto_boringssl)``), or None."""
    if not pattern.startswith("(", i) or pattern.startswith("(?", i):
        return None
    close = pattern.find(")", i)
    if close < 0 or pattern[close + 1 : close + 2] in ("?", "*", "+", "{"):
        return None
    alternatives = pattern[i + 1 : close].split("|")
    for a in alternatives:
        literal, end = _literal_at(a, 0)
        if end != len(a) or not literal:
            return None
    return [_literal_at(a, 0)[0] for a in alternatives]


@dataclass(frozen=True)
class Rule:
    library: str
    id: str
    kind: RuleKind
    strength: Literal["strong", "weak"]
    literal: str | None = None
    license: str | None = None
    priority: int = 0
    version: LazyPattern | None = None
    prefix: str | None = None
    exact: str | None = None
    regex: LazyPattern | None = None
    supporting: bool = False

    @property
    def qualified_id(self) -> str:
        return f"{self.library}/{self.id}"


@dataclass(frozen=True)
class LibrarySignature:
    id: str
    name: str
    project: str
    license: str
    homepage: str | None
    sources: tuple[str, ...]
    rules: tuple[Rule, ...]
    ml_runtime: bool = False
    gpl_if_embedded: tuple[str, ...] = ()
    debian: tuple[str, ...] = ()
    origin: str = ""  # data file name


@dataclass(frozen=True)
class GenericLicence:
    id: str
    spdx: str
    literal: str
    word: bool  # require non-word characters around the hit
    sources: tuple[str, ...]


@dataclass
class _Hit:
    rule: Rule
    evidence: Evidence
    version: str | None = None


@dataclass
class _Found:
    lib: LibrarySignature
    hits: dict[str, _Hit] = field(default_factory=dict)


def _fail(origin: str, where: str, msg: str) -> LicenseGateError:
    return LicenseGateError(f"signature data {origin}: {where}: {msg}")


def _only_keys(origin: str, where: str, raw: dict[str, Any], keys: frozenset[str] | set[str]) -> None:
    unknown = set(raw) - keys
    if unknown:
        raise _fail(origin, where, f"unknown keys {sorted(unknown)}")


def _valid(origin: str, where: str, raw: dict[str, Any], key: str, ok: Callable[[Any], bool], message: str,
           default: Any = None) -> Any:
    """raw[key] (or the default) when `ok` accepts it; else the data is refused with the message."""
    value = raw.get(key, default)
    if not ok(value):
        raise _fail(origin, where, message)
    return value


def _is_id(v: object) -> bool:
    return isinstance(v, str) and bool(_ID.match(v))


def _is_text(v: object) -> bool:
    return isinstance(v, str) and bool(v)


def _compile_version(origin: str, where: str, pattern: Any) -> LazyPattern | None:
    if pattern is None:
        return None
    if not isinstance(pattern, str):
        raise _fail(origin, where, "version must be a string")
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise _fail(origin, where, f"bad version regex: {exc}") from exc
    if rx.groups != 1:
        raise _fail(origin, where, "version regex needs exactly one group")
    return LazyPattern(pattern)


def _check_spdx(origin: str, where: str, expr: Any) -> str:
    if not isinstance(expr, str):
        raise _fail(origin, where, "license must be a string")
    try:
        return spdx.normalize(expr)
    except spdx.SpdxError as exc:
        raise _fail(origin, where, str(exc)) from exc


def _parse_rule(origin: str, lib_id: str, raw: Any) -> Rule:
    if not isinstance(raw, dict):
        raise _fail(origin, lib_id, "rule must be a table")
    where = f"library {lib_id!r} rule {raw.get('id')!r}"
    _only_keys(origin, where, raw, _RULE_KEYS)
    rid = _valid(origin, where, raw, "id", _is_id, "rule id missing or malformed")
    kind = _valid(origin, where, raw, "kind", lambda v: v in _KINDS, f"kind must be one of {sorted(_KINDS)}")
    strength = _valid(origin, where, raw, "strength", lambda v: v in ("strong", "weak"),
                      "strength must be strong or weak", "strong")
    _check_literal(origin, where, kind, raw)
    licence = _rule_licence(origin, where, kind, raw)
    _check_symbol_keys(origin, where, kind, raw)
    regex = _name_regex(origin, where, kind, raw.get("regex"))
    priority = _valid(origin, where, raw, "priority", lambda v: isinstance(v, int), "priority must be an integer", 0)
    supporting = _valid(origin, where, raw, "supporting", lambda v: isinstance(v, bool),
                        "supporting must be a boolean", False)
    return Rule(
        library=lib_id,
        id=rid,
        kind=kind,
        strength=strength,
        literal=raw.get("literal"),
        license=licence,
        priority=priority,
        version=_compile_version(origin, where, raw.get("version")),
        prefix=raw.get("prefix"),
        exact=raw.get("exact"),
        regex=regex,
        supporting=supporting,
    )


def _check_literal(origin: str, where: str, kind: str, raw: dict[str, Any]) -> None:
    """String rules match one printable literal, and only string rules have one."""
    literal = raw.get("literal")
    if kind not in STRING_KINDS:
        if literal is not None:
            raise _fail(origin, where, "literal is for string rules only")
        return
    if not isinstance(literal, str) or len(literal) < MIN_LITERAL:
        raise _fail(origin, where, f"string rules need a literal of >= {MIN_LITERAL} characters")
    if not all(" " <= c < "\x7f" or c in "\t\n\r" for c in literal):
        raise _fail(origin, where, "literal must be printable ASCII (tab, newline allowed)")
    if raw.get("prefix") or raw.get("exact") or raw.get("regex"):
        raise _fail(origin, where, "string rules take literal only")


def _rule_licence(origin: str, where: str, kind: str, raw: dict[str, Any]) -> str | None:
    """A licence-string rule states a licence (and may have a priority); no other rule does."""
    licence = raw.get("license")
    if kind == "licence-string":
        if licence is None:
            raise _fail(origin, where, "licence-string rules need license")
        return _check_spdx(origin, where, licence)
    if licence is not None or "priority" in raw:
        raise _fail(origin, where, "license/priority are for licence-string rules only")
    return None


def _check_symbol_keys(origin: str, where: str, kind: str, raw: dict[str, Any]) -> None:
    prefix, exact = raw.get("prefix"), raw.get("exact")
    if kind == "symbol":
        if (prefix is None) == (exact is None) or not isinstance(prefix or exact, str) or raw.get("regex"):
            raise _fail(origin, where, "symbol rules need exactly one of prefix / exact")
    elif prefix is not None or exact is not None:
        raise _fail(origin, where, "prefix/exact are for symbol rules only")


def _name_regex(origin: str, where: str, kind: str, regex: object) -> LazyPattern | None:
    """The regex of a soname/filename rule, checked now and compiled on first use."""
    if kind not in NAME_KINDS:
        if regex is not None:
            raise _fail(origin, where, "regex is for soname/filename rules only")
        return None
    if not isinstance(regex, str):
        raise _fail(origin, where, "soname/filename rules need regex")
    try:
        re.compile(regex)
    except re.error as exc:
        raise _fail(origin, where, f"bad regex: {exc}") from exc
    return LazyPattern(regex)


def _parse_library(origin: str, raw: Any) -> LibrarySignature:
    if not isinstance(raw, dict):
        raise _fail(origin, "library", "must be a table")
    where = f"library {raw.get('id')!r}"
    _only_keys(origin, where, raw, _LIBRARY_KEYS)
    lib_id = _valid(origin, where, raw, "id", _is_id, "id missing or malformed")
    for key in ("name", "project"):
        _valid(origin, where, raw, key, _is_text, f"{key} missing")
    sources = _valid(origin, where, raw, "sources", lambda v: isinstance(v, list) and bool(v) and all(map(_is_text, v)),
                     "sources must be a non-empty list of strings")
    rules = _library_rules(origin, where, lib_id, raw.get("rule"))
    gie, deb = _string_list(origin, where, raw, "gpl_if_embedded"), _string_list(origin, where, raw, "debian")
    ml = _valid(origin, where, raw, "ml_runtime", lambda v: isinstance(v, bool), "ml_runtime must be a boolean", False)
    homepage = _valid(origin, where, raw, "homepage", lambda v: v is None or isinstance(v, str),
                      "homepage must be a string")
    return LibrarySignature(
        id=lib_id,
        name=raw["name"],
        project=raw["project"],
        license=_check_spdx(origin, where, raw.get("license")),
        homepage=homepage,
        sources=tuple(sources),
        rules=rules,
        ml_runtime=ml,
        gpl_if_embedded=gie,
        debian=deb,
        origin=origin,
    )


def _library_rules(origin: str, where: str, lib_id: str, rules_raw: object) -> tuple[Rule, ...]:
    """A library's rules: at least one, unique ids, and content (not only names or supporting strings) among them."""
    if not isinstance(rules_raw, list) or not rules_raw:
        raise _fail(origin, where, "at least one [[library.rule]] is required")
    rules = tuple(_parse_rule(origin, lib_id, r) for r in rules_raw)
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise _fail(origin, where, "duplicate rule ids")
    if not any(r.kind in CONTENT_KINDS and not r.supporting for r in rules):
        raise _fail(origin, where, "needs at least one non-supporting content rule (string or symbol)")
    return rules


def _string_list(origin: str, where: str, raw: dict[str, Any], key: str) -> tuple[str, ...]:
    val = raw.get(key, [])
    if not isinstance(val, list) or not all(isinstance(v, str) for v in val):
        raise _fail(origin, where, f"{key} must be a list of strings")
    return tuple(val)


def _parse_generic(origin: str, raw: Any) -> GenericLicence:
    if not isinstance(raw, dict):
        raise _fail(origin, "licence", "must be a table")
    where = f"licence {raw.get('id')!r}"
    _only_keys(origin, where, raw, _GENERIC_KEYS)
    gid = _valid(origin, where, raw, "id", _is_id, "id missing or malformed")
    literal = _valid(origin, where, raw, "literal", lambda v: isinstance(v, str) and len(v) >= MIN_LITERAL,
                     f"literal of >= {MIN_LITERAL} characters required")
    sources = _valid(origin, where, raw, "sources", lambda v: isinstance(v, list) and bool(v), "sources required")
    return GenericLicence(
        id=gid,
        spdx=_check_spdx(origin, where, raw.get("spdx")),
        literal=literal,
        word=bool(raw.get("word", False)),
        sources=tuple(sources),
    )


def _string_at(raw: bytes, start: int, end: int) -> tuple[str, int]:
    """The string around raw[start:end], as latin-1, and its start: bounded by NULs and the other control bytes no
    text holds (a string embedded in compressed tables has binary bytes, not a NUL, before it), at most _CONTEXT
    bytes either side."""
    floor = raw.rfind(b"\0", max(0, start - _CONTEXT), start) + 1 or max(0, start - _CONTEXT)
    # the C string's NULs first (found at C speed), then the last other control byte inside it
    lo = max((m.end() for m in _NOT_TEXT.finditer(raw, floor, start)), default=floor)
    nul = raw.find(b"\0", end, end + _CONTEXT)
    ceiling = nul if nul >= 0 else min(len(raw), end + _CONTEXT)
    after = _NOT_TEXT.search(raw, end, ceiling)
    return raw[lo:after.start() if after else ceiling].decode("latin-1"), lo


def _bounded(raw: bytes, pos: int, length: int) -> bool:
    """True when the bytes around raw[pos:pos+length] are not word characters (letters, digits, '-')."""
    before = raw[pos - 1] if pos > 0 else 0
    after = raw[pos + length] if pos + length < len(raw) else 0
    return before not in _WORD_BYTES and after not in _WORD_BYTES


def _trim(s: str, hit_start: int, hit_len: int) -> str:
    """Readable evidence text: the string, cut to TEXT_LIMIT around the hit, control bytes escaped."""
    if len(s) > TEXT_LIMIT:
        lo = max(0, min(hit_start - 40, len(s) - TEXT_LIMIT))
        s = ("…" if lo else "") + s[lo : lo + TEXT_LIMIT] + ("…" if lo + TEXT_LIMIT < len(s) else "")
    return "".join(c if " " <= c < "\x7f" or c == "…" else repr(c)[1:-1] for c in s)


class SignatureDB:
    """The loaded signature database and its matcher. Build with :meth:`load_default` or :meth:`from_files`."""

    def __init__(self, libraries: Sequence[LibrarySignature], generic: Sequence[GenericLicence] = ()) -> None:
        # Identifies the data a result came from (the content cache keys results by it); set by the loader.
        self.fingerprint = "custom"
        self.libraries = _by_id(libraries)
        self.generic = tuple(generic)
        ids = [g.id for g in self.generic]
        if len(set(ids)) != len(ids):
            raise _fail("generic_licences.toml", "licence", "duplicate ids")
        self._symbol_exact: dict[str, list[Rule]] = {}
        self._symbol_prefix: dict[str, list[Rule]] = {}
        self._name_rules: list[Rule] = []
        by_literal: dict[str, tuple[list[Rule], list[GenericLicence]]] = {}
        for lib in libraries:
            for rule in lib.rules:
                self._index_rule(rule, by_literal)
        for g in self.generic:
            by_literal.setdefault(g.literal, ([], []))[1].append(g)
        # Every literal once, with the rules and generic texts it serves: the automaton's patterns, in this order.
        self._literals = [(literal, tuple(rules), tuple(gens)) for literal, (rules, gens) in by_literal.items()]
        # Worked out with the database and pickled with it (built on first use, 2-3 CPU-ms of every scan): the name
        # rules by the literal their regexes start with, and the source of the symbol prefixes' trie regex.
        self._names = (_NameRuleIndex(self._name_rules, "soname"), _NameRuleIndex(self._name_rules, "filename"))
        self._prefix_source = "\\0(" + _trie(sorted(self._symbol_prefix)) + ")" if self._symbol_prefix else ""

    def _index_rule(self, rule: Rule, by_literal: dict[str, tuple[list[Rule], list[GenericLicence]]]) -> None:
        """String rules go into the automaton, symbol rules into the exact and prefix tables, name rules to a list."""
        if rule.kind in STRING_KINDS:
            assert rule.literal is not None
            by_literal.setdefault(rule.literal, ([], []))[0].append(rule)
        elif rule.kind == "symbol" and rule.exact is not None:
            self._symbol_exact.setdefault(rule.exact, []).append(rule)
        elif rule.kind == "symbol":
            assert rule.prefix is not None
            self._symbol_prefix.setdefault(rule.prefix, []).append(rule)
        else:
            self._name_rules.append(rule)

    # -- loading -----------------------------------------------------------------------------------

    @classmethod
    def from_files(cls, signature_files: Iterable[Path], generic_file: Path | None = None) -> SignatureDB:
        """A database from explicit files (tests, user extensions); validated like the default one."""
        libraries: list[LibrarySignature] = []
        for path in sorted(signature_files):
            libraries.extend(_load_libraries(path.name, path.read_text("utf-8")))
        generic = _load_generic(generic_file.name, generic_file.read_text("utf-8")) if generic_file else []
        return cls(libraries, generic)

    @classmethod
    def load_default(cls) -> SignatureDB:
        """The packaged database, loaded and validated once per process."""
        return _default_db()

    # -- matching ----------------------------------------------------------------------------------

    def _scan(
        self, strings: Sequence[tuple[int, bytes | memoryview]], want_generic: bool
    ) -> tuple[dict[str, _Hit], list[tuple[str, Evidence]]]:
        """One automaton pass: first hit of every string rule, and generic licence hits.

        The automaton runs over the raw bytes of each section (every literal is printable ASCII, so a real
        occurrence is found where it lies); every literal it reports is then located with ``bytes.find`` for its
        first offset and the NUL-terminated string around it.
        """
        hits: dict[str, _Hit] = {}
        generic: dict[str, tuple[str, Evidence]] = {}
        done: set[str] = set()  # literals fully recorded
        values = self._literals
        for base, data in strings:
            raw = bytes(data)
            matcher = self._matcher(len(raw))
            # Each literal once per section, in the order the automaton first reports it.
            for index in dict.fromkeys(i for i, _start, _end in matcher.find_matches_as_indexes(raw, overlapping=True)):
                literal, rules, gens = values[index]
                if literal not in done and _record_pending(raw, base, literal, rules, gens if want_generic else (),
                                                           hits, generic):
                    done.add(literal)
        return hits, list(generic.values())

    def _matcher(self, size: int) -> ahocorasick_rs.BytesAhoCorasick:
        """The automaton of the literals over raw bytes (ahocorasick-rs, ~10x pyahocorasick over printable text) for
        the next `size` bytes; built on first use, never pickled. A contiguous NFA until the process has scanned
        `_DFA_AFTER` bytes, then a DFA: both report the same matches in the same order (tests/test_signatures.py),
        the DFA twice as fast but 12x slower to build, which a small scan never repays."""
        state = self.__dict__
        state["_scanned"] = scanned = state.get("_scanned", 0) + size
        key = "_dfa" if scanned >= _DFA_AFTER else "_nfa"
        matcher = state.get(key)
        if matcher is None:
            impl = ahocorasick_rs.Implementation.DFA if key == "_dfa" else ahocorasick_rs.Implementation.ContiguousNFA
            matcher = state[key] = ahocorasick_rs.BytesAhoCorasick(
                [literal.encode("ascii") for literal, _, _ in self._literals], implementation=impl)
        return matcher

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in _UNPICKLED}

    def _symbol_hits(self, symbols: Sequence[str]) -> dict[str, _Hit]:
        """Each symbol rule's hit on the first symbol it accepts (its exact name, or the first name with its prefix),
        recorded in the order of those symbols, exact rules before prefix rules on the same symbol.

        Python only sees the hits: the exact names present are a set intersection, the prefixes that may be present
        are found by one regular expression (a trie of them) over the names joined by NULs, and the first symbol of
        each is found by `filter` walking the list at C speed, resuming where the last hit left it. A Python loop
        testing every symbol against every prefix cost ~0.45 us a symbol (many-libs.apk's 257,300: 209 ms)."""
        firsts: list[tuple[int, int, int, str, list[Rule]]] = []  # (symbol index, 0 exact / 1 prefix, order, ...)
        present = self._symbol_exact.keys() & symbols
        walk = iter(symbols)
        for sym in filter(present.__contains__, walk) if present else ():
            present.discard(sym)  # its first occurrence is its evidence
            firsts.append((len(symbols) - length_hint(walk) - 1, 0, 0, sym, self._symbol_exact[sym]))
            if not present:
                break
        remaining = self._candidate_prefixes(symbols)  # in table order
        walk = iter(symbols)
        while remaining:
            hit = next(filter(methodcaller("startswith", tuple(remaining)), walk), None)
            if hit is None:
                break
            at = len(symbols) - length_hint(walk) - 1
            firsts.extend((at, 1, order, hit, self._symbol_prefix[p]) for order, p in enumerate(remaining)
                          if hit.startswith(p))
            remaining = [p for p in remaining if not hit.startswith(p)]
        firsts.sort(key=itemgetter(0, 1, 2))
        hits: dict[str, _Hit] = {}
        for _, _, _, sym, rules in firsts:
            for r in rules:
                if r.qualified_id not in hits:
                    hits[r.qualified_id] = _symbol_hit(r, sym)
        return hits

    def _candidate_prefixes(self, symbols: Sequence[str]) -> list[str]:
        """The symbol prefixes some name may start with, in table order: every prefix one of the names starts with,
        and a few more when a name holds a NUL (the walk over the list is what decides)."""
        if not symbols or not self._symbol_prefix:
            return []
        rx = self.__dict__.get("_prefix_rx")
        if rx is None:
            rx = self.__dict__["_prefix_rx"] = re.compile(self._prefix_source)
        found = dict.fromkeys(rx.findall("\0" + "\0".join(symbols)))  # the shortest prefix each name starts with
        return [p for p in self._symbol_prefix if p.startswith(tuple(found))] if found else []

    def _name_hits(self, names: Iterable[str], filename: str) -> dict[str, _Hit]:
        """The name rules' hits, in rule order: soname rules on the sonames or install names, file-name rules on the
        member's file name."""
        hits: dict[str, _Hit] = {}
        name_list = [n for n in names if n]
        base = filename.replace("\\", "/").rsplit("/", 1)[-1]
        base_list = [base] if base else []
        soname_rules, filename_rules = self._names
        candidates = sorted({*soname_rules.candidates(name_list), *filename_rules.candidates(base_list)})
        for i in candidates:
            rule = self._name_rules[i]
            hit = _name_hit(rule, name_list if rule.kind == "soname" else base_list)
            if hit is not None:
                hits[rule.qualified_id] = hit
        return hits

    def match(
        self,
        *,
        strings: Sequence[tuple[int, bytes | memoryview]],
        symbols: Iterable[str] = (),
        names: Iterable[str] = (),
        filename: str = "",
        member: str = "",
    ) -> list[LibraryMatch]:
        """Libraries found in one binary.

        ``strings``: (member offset of the section, section bytes) for the string-bearing sections
        (.rodata, .data.rel.ro, __cstring, __const, ...; the whole member for a static archive or an
        unknown format). ``symbols``: exported / defined symbol names only (never undefined imports:
        libavcodec imports ``x264_encoder_open_164`` without containing x264). ``names``: soname or
        Mach-O install names. ``filename``: the member's file name. ``member``: the member path put
        into every evidence.
        """
        return self.match_all(strings=strings, symbols=symbols, names=names, filename=filename, member=member)[0]

    def match_all(
        self,
        *,
        strings: Sequence[tuple[int, bytes | memoryview]],
        symbols: Iterable[str] = (),
        names: Iterable[str] = (),
        filename: str = "",
        member: str = "",
    ) -> tuple[list[LibraryMatch], list[tuple[str, Evidence]]]:
        """``match`` and ``match_generic`` in a single pass over the bytes."""
        symbols = symbols if isinstance(symbols, (list, tuple)) else list(symbols)
        string_hits, generic = self._scan(strings, want_generic=True)
        all_hits = {**string_hits, **self._symbol_hits(symbols), **self._name_hits(names, filename)}
        found: dict[str, _Found] = {}
        for qid, hit in all_hits.items():
            lib = self.libraries[hit.rule.library]
            found.setdefault(lib.id, _Found(lib)).hits[qid] = hit
        matches = self._conclude(found, member, exports=bool(symbols))
        if member:
            generic = [(s, _with_member(e, member)) for s, e in generic]
        return matches, generic

    def match_generic(
        self, strings: Sequence[tuple[int, bytes | memoryview]], member: str = ""
    ) -> list[tuple[str, Evidence]]:
        """Generic licence texts (GNU licence URLs and titles) in the string sections; medium confidence.

        A bare ``GPL`` token is never evidence; SPDX-id literals need non-word characters around them.
        """
        generic = self._scan(strings, want_generic=True)[1]
        return [(s, _with_member(e, member)) for s, e in generic] if member else generic

    def _conclude(self, found: dict[str, _Found], member: str, exports: bool = False) -> list[LibraryMatch]:
        """The matcher's conclusion rules, in order: each library's match (confidence, licence, version, evidence);
        FFmpeg's GPL-if-embedded rule; which match is the binary itself (primary) rather than embedded in it."""
        results = [r for r in (_library_match(f, member) for f in found.values()) if r is not None]
        _apply_gpl_if_embedded(results, member)
        _choose_primary(results, exports)
        out = [m for _, m, _ in results]
        out.sort(key=lambda m: (-_CONF_RANK[m.confidence], m.id))
        return out


_EVIDENCE_ORDER = {"licence-string": 0, "identity-string": 1, "symbol": 2, "soname": 3, "filename": 4}
_Result = tuple[_Found, LibraryMatch, tuple[int, int]]  # (hits, match, ranking score: confidence, content hits)


def _by_id(libraries: Sequence[LibrarySignature]) -> dict[str, LibrarySignature]:
    """Libraries by id: ids unique across files, every gpl_if_embedded id known."""
    by_id: dict[str, LibrarySignature] = {}
    for lib in libraries:
        if lib.id in by_id:
            raise _fail(lib.origin, f"library {lib.id!r}", f"duplicate id (also in {by_id[lib.id].origin})")
        by_id[lib.id] = lib
    for lib in libraries:
        for other in lib.gpl_if_embedded:
            if other not in by_id:
                raise _fail(lib.origin, f"library {lib.id!r}", f"gpl_if_embedded names unknown id {other!r}")
    return by_id


def _library_match(f: _Found, member: str) -> _Result | None:
    """One library's match from its hits; None when only supporting rules (configure lines, banners) hit."""
    hits = list(f.hits.values())
    if all(h.rule.supporting for h in hits):
        return None  # configure lines and shared banners identify nothing on their own
    content = [h for h in hits if h.rule.kind in CONTENT_KINDS and not h.rule.supporting]
    named = [h for h in hits if h.rule.kind in NAME_KINDS]
    conf = _confidence(content, named)
    evidence = [_with_member(h.evidence, member)
                for h in sorted(hits, key=lambda h: (_EVIDENCE_ORDER[h.rule.kind], -h.rule.priority, h.rule.id))]
    m = LibraryMatch(
        id=f.lib.id,
        name=f.lib.name,
        project=f.lib.project,
        license=_hit_licence(hits, f.lib.license),
        version=_hit_version(hits),
        confidence=conf,
        evidence=evidence,
        ml_runtime=f.lib.ml_runtime,
        homepage=f.lib.homepage,
    )
    return f, m, (_CONF_RANK[conf], len(content))


def _hit_licence(hits: list[_Hit], default: str) -> str | None:
    """The licence of the highest-priority licence string that hit, else the library's own."""
    licence_hits = sorted((h for h in hits if h.rule.kind == "licence-string"), key=lambda h: -h.rule.priority)
    return licence_hits[0].rule.license if licence_hits else default


def _hit_version(hits: list[_Hit]) -> str | None:
    """The version a hit read, string rules first."""
    return next((h.version for h in sorted(hits, key=lambda h: h.rule.kind not in STRING_KINDS) if h.version), None)


def _confidence(content: list[_Hit], named: list[_Hit]) -> Confidence:
    """High: a strong content rule, or content of two kinds; medium: content backed by a name or a second hit."""
    if any(h.rule.strength == "strong" for h in content) or len({h.rule.kind for h in content}) >= 2:
        return "high"
    if content and (named or len(content) >= 2):
        return "medium"
    return "low"


def _apply_gpl_if_embedded(results: list[_Result], member: str) -> None:
    """A library that is GPL when built with certain others (FFmpeg with x264) turns GPL when one of them is in the
    same binary with at least medium confidence, unless its own licence string says otherwise."""
    by_id = {m.id: m for _, m, _ in results}
    for f, m, _ in results:
        if any(h.rule.kind == "licence-string" for h in f.hits.values()):
            continue  # its own licence string says what it is
        for other in _embedded_with(f.lib, by_id):
            if spdx.family(m.license) in ("lgpl", "weak-copyleft", "permissive", "unknown"):
                m.license = "GPL-2.0-or-later"
            m.evidence.append(Evidence(
                "embedded-component",
                f"{other.name} ({other.license}) is in the same binary; FFmpeg links it only in a GPL build",
                None,
                f"{m.id}/gpl-if-embedded:{other.id}",
                member,
            ))


def _embedded_with(lib: LibrarySignature, by_id: dict[str, LibraryMatch]) -> list[LibraryMatch]:
    """The matches, of at least medium confidence, of the libraries that make `lib` GPL when built in."""
    found = (by_id.get(other_id) for other_id in lib.gpl_if_embedded)
    return [m for m in found if m is not None and m.confidence != "low"]


def _choose_primary(results: list[_Result], exports: bool = False) -> None:
    """The primary match is what the binary is: a library named by soname or file name with content behind it (or
    the only match); without any name, the single best-evidenced library. The others are embedded in it.

    Without a name, a library whose API the binary does not export, although it exports other symbols, is code
    linked into something else (the app's own library with LAME inside), never the binary itself: OSSPolice's
    "strings match but exported functions do not" reading of static linking (REFERENCES.md, prior art)."""
    named_results = [(f, m) for f, m, _ in results if _hit_kind(f, NAME_KINDS)]
    for f, m in named_results:
        if _hit_kind(f, CONTENT_KINDS) or len(results) == 1:
            m.role = "primary"
    candidates = [(m, s) for f, m, s in results if not (exports and _api_not_exported(f))]
    if candidates and not named_results:
        best = max(s for _, s in candidates)
        top = [m for m, s in candidates if s == best]
        if len(top) == 1:
            top[0].role = "primary"


def _api_not_exported(f: _Found) -> bool:
    """The library's signature names exported API symbols and none of them is among the binary's."""
    return any(r.kind == "symbol" and not r.supporting for r in f.lib.rules) and not _hit_kind(f, frozenset({"symbol"}))


def _hit_kind(f: _Found, kinds: frozenset[str]) -> bool:
    return any(h.rule.kind in kinds for h in f.hits.values())


def _record_pending(raw: bytes, base: int, literal: str, rules: Sequence[Rule], gens: Sequence[GenericLicence],
                    hits: dict[str, _Hit], generic: dict[str, tuple[str, Evidence]]) -> bool:
    """Record the hits of the literal's rules and generic texts not yet found; True when all of them are found (the
    literal needs no more looking at), False too for a false candidate joined across deleted bytes."""
    todo_rules = [r for r in rules if r.qualified_id not in hits]
    todo_gens = [g for g in gens if g.id not in generic]
    if not todo_rules and not todo_gens:
        return True
    if not _record_literal(raw, base, literal, todo_rules, todo_gens, hits, generic):
        return False
    return all(r.qualified_id in hits for r in rules) and all(g.id in generic for g in gens)


class _NameRuleIndex:
    """The name rules of one kind that can accept a name: those whose regex must start with a literal the name
    starts with (found by one dict look-up per literal length), and those with no such literal.

    Trying every one of the ~290 name rules on every binary was 15,500 Python calls on wild-debian.apk's 54
    binaries; the literal is LazyPattern's own, so a rule left out is one whose search would have failed."""

    def __init__(self, rules: Sequence[Rule], kind: str) -> None:
        self._by_literal: dict[str, list[int]] = {}
        self._always: list[int] = []
        for i, rule in enumerate(rules):
            if rule.kind != kind:
                continue
            assert rule.regex is not None
            if rule.regex.anchored_literals:
                for literal in rule.regex.anchored_literals:
                    self._by_literal.setdefault(literal, []).append(i)
            else:
                self._always.append(i)
        self._lengths = sorted({len(literal) for literal in self._by_literal})

    def candidates(self, names: list[str]) -> list[int]:
        """Indexes of the rules that may accept one of the names (in no particular order)."""
        if not names:
            return []
        found = list(self._always)
        for name in names:
            for n in self._lengths:
                found.extend(self._by_literal.get(name[:n], ()))
        return found


def _name_hit(rule: Rule, candidates: list[str]) -> _Hit | None:
    """A name rule's hit on the first candidate name (soname, install name or file name) its regex accepts."""
    assert rule.regex is not None
    for name in candidates:
        if rule.regex.search(name):
            version = None
            if rule.version is not None:
                m = rule.version.search(name)
                version = m.group(1) if m else None
            return _Hit(rule, Evidence(rule.kind, name, None, rule.qualified_id), version)
    return None


def _record_literal(raw: bytes, base: int, literal: str, rules: list[Rule], gens: list[GenericLicence],
                    hits: dict[str, _Hit], generic: dict[str, tuple[str, Evidence]]) -> bool:
    """Locate `literal` in the section's bytes and record the hits of `rules` and `gens` there; False when the
    automaton's candidate is not in the original bytes. Generic texts marked `word` need non-word characters
    around them."""
    needle = literal.encode("ascii")
    pos = raw.find(needle)
    if pos < 0:
        return False
    if any(g.word for g in gens):
        bounded = _word_bounded(raw, needle, pos)
        gens = [g for g in gens if not g.word or bounded >= 0]
        if bounded >= 0 and not rules:
            pos = bounded
    s, s_start = _string_at(raw, pos, pos + len(needle))
    shown = _trim(s, pos - s_start, len(needle))
    for rule in rules:
        hits[rule.qualified_id] = _string_hit(rule, raw, needle, pos, (s, s_start), base)
    for g in gens:
        generic[g.id] = (g.spdx, Evidence("licence-string", shown, base + pos, f"generic/{g.id}"))
    return True


def _word_bounded(raw: bytes, needle: bytes, pos: int) -> int:
    """The first occurrence of `needle` from `pos` with non-word characters around it, or -1."""
    while pos >= 0 and not _bounded(raw, pos, len(needle)):
        pos = raw.find(needle, pos + 1)
    return pos


def _string_hit(rule: Rule, raw: bytes, needle: bytes, pos: int, first: tuple[str, int], base: int) -> _Hit:
    """The hit of a string rule whose literal is first at `pos` (inside the C string `first`: text, start).

    The first occurrence may be prose ("Update your FFmpeg version to ..."): for a rule with a version regex, a few
    more occurrences are tried for one the regex accepts; the hit stays at the first one when none does.
    """
    s, s_start = first
    hit_pos, hit_shown, version = pos, _trim(s, pos - s_start, len(needle)), None
    if rule.version is not None:
        at, tries = pos, 0
        while at >= 0 and tries < _VERSION_TRIES:
            cand, cand_start = (s, s_start) if at == pos else _string_at(raw, at, at + len(needle))
            m = rule.version.search(cand)
            if m:
                version, hit_pos, hit_shown = m.group(1), at, _trim(cand, at - cand_start, len(needle))
                break
            at = raw.find(needle, at + 1)
            tries += 1
    return _Hit(rule, Evidence(rule.kind, hit_shown, base + hit_pos, rule.qualified_id), version)


def _trie(words: list[str]) -> str:
    """Regex source matching the start of a text that starts with one of the sorted, distinct words; the alternatives
    merged by their common starts, so that a text is rejected at its first character no word has there.

    `str.startswith` with the tuple of ~40 symbol prefixes compares each in turn (~0.45 us a name); the trie
    rejects a name after a character or two."""
    if words[0] == "":
        return ""  # a word that is a prefix of the others already accepts what they would
    heads: dict[str, list[str]] = {}
    for w in words:
        heads.setdefault(w[0], []).append(w[1:])
    alternatives = [re.escape(c) + _trie(rest) for c, rest in heads.items()]
    return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"


def _symbol_hit(rule: Rule, sym: str) -> _Hit:
    version = None
    if rule.version is not None:
        m = rule.version.search(sym)
        version = m.group(1) if m else None
    return _Hit(rule, Evidence("symbol", sym[:TEXT_LIMIT], None, rule.qualified_id), version)


def _with_member(e: Evidence, member: str) -> Evidence:
    if not member or e.member == member:
        return e
    return Evidence(e.kind, e.text, e.offset, e.rule, member)


def _load_table(origin: str, text: str, key: str) -> list[Any]:
    """The array of tables under `key` in one data file; anything else at the top level is an error."""
    try:
        raw = _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        raise _fail(origin, "file", f"TOML error: {exc}") from exc
    unknown = set(raw) - {key}
    if unknown:
        raise _fail(origin, "file", f"unknown top-level keys {sorted(unknown)}")
    entries = raw.get(key, [])
    return entries if isinstance(entries, list) else [entries]


def _load_libraries(origin: str, text: str) -> list[LibrarySignature]:
    return [_parse_library(origin, entry) for entry in _load_table(origin, text, "library")]


def _load_generic(origin: str, text: str) -> list[GenericLicence]:
    return [_parse_generic(origin, entry) for entry in _load_table(origin, text, "licence")]


@functools.cache
def _default_db() -> SignatureDB:
    """The packaged database; a compiled copy is cached by content hash so a build gate does not pay ~0.3 s of
    TOML parsing, validation and automaton building on every run (LICENSEGATE_NO_CACHE=1 turns it off)."""
    data = package_file("data")
    sig_files = sorted((e for e in data.joinpath("signatures").iterdir() if e.name.endswith(".toml")), key=lambda p: p.name)
    generic_file = data.joinpath("generic_licences.toml")
    use_cache = not os.environ.get("LICENSEGATE_NO_CACHE")

    @functools.cache
    def texts() -> tuple[list[tuple[str, str]], str]:
        return [(e.name, e.read_text("utf-8")) for e in sig_files], generic_file.read_text("utf-8")

    def compute_digest() -> str:
        return hashlib.sha256(repr((*texts(), _CACHE_FORMAT)).encode()).hexdigest()[:24]

    files = [f for f in (*sig_files, generic_file) if isinstance(f, Path)]  # all of them but in a zipped install
    recorded = use_cache and len(files) == len(sig_files) + 1
    # the record is per format: the digest it remembers covers the format, and names the compiled file
    digest = remembered_digest(files, _cache_dir() if recorded else None, f"signatures-{_CACHE_FORMAT}", compute_digest)
    cache = _cache_dir() / f"signatures-{digest}.pickle" if use_cache else None
    if cache is not None and cache.is_file():
        try:
            with cache.open("rb") as fh, gc_paused():
                db = pickle.load(fh)
            if isinstance(db, SignatureDB):
                db.fingerprint = digest
                return db
        except Exception:  # a stale or damaged cache is rebuilt
            pass
    libraries: list[LibrarySignature] = []
    sig_texts, generic_text = texts()
    for name, text in sig_texts:
        libraries.extend(_load_libraries(name, text))
    db = SignatureDB(libraries, _load_generic("generic_licences.toml", generic_text))
    db.fingerprint = digest
    if cache is not None:
        try:
            from .fsutil import atomic_write

            atomic_write(cache, pickle.dumps(db, protocol=pickle.HIGHEST_PROTOCOL), durable=False)
        except OSError:
            pass  # a read-only home: no cache, same answers
        else:
            prune_stale(cache, "signatures-", ".pickle")  # other versions' and formats' compiled files, once unused
    return db


# bump when SignatureDB's attributes change shape, or what they are computed from (LazyPattern's prefilter). Format 3
# was read back with the prefilters of an earlier rule: its digest, remembered against the data files' stamps
# only, outlived a change of the code (found by tests/test_signatures.py)
_CACHE_FORMAT = 4
_UNPICKLED = frozenset({"_nfa", "_dfa", "_scanned", "_prefix_rx"})  # built on first use in each process
# Bytes a process scans with the NFA before it builds the DFA: over wild-av.apk's string sections (2026-12-02) the
# DFA took 6.6 ms to build against 0.5 ms and scanned 378 against 182 MB/s, so it repays its build after ~2 MB.
_DFA_AFTER = 2 << 20


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "licensegate"
