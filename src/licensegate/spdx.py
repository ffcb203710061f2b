"""SPDX licence expressions: parsing, validation, licence families and the distributor's choice.

Grammar (SPDX 2.3 annex D): ``compound := simple | simple WITH exception | compound AND compound |
compound OR compound | ( compound )``; ``simple := id | id+ | LicenseRef-x | DocumentRef-y:LicenseRef-x``.
WITH binds tighter than AND, AND tighter than OR. Operators are accepted in upper or lower case.

Identifiers are checked against ``data/spdx_ids.json``, vendored from the npm packages
``spdx-license-ids`` and ``spdx-exceptions`` (the file names its versions). Deprecated ids parse; the
signature data must not use them (tests check).

Families (``model.Family``), most to least restrictive for the distributor of a proprietary app:
nonfree > agpl > gpl > lgpl > weak-copyleft > permissive; ``unknown`` when we cannot tell.

- ``X WITH <linking exception>`` (GCC-exception-3.1, Classpath-exception-2.0, LLVM-exception, ...) is
  *permissive-equivalent for linking*: the exception exists precisely so that combining the library with
  other code puts no copyleft obligation on that code (libstdc++, GNU Classpath, LLVM libc++). The
  library's own source obligations, if it is modified, remain; the family reports the effect on the app.
- ``A OR B``: the distributor chooses, so the family is that of the least restrictive known operand.
  Unknown operands are ignored unless all are unknown.
- ``A AND B``: all apply, so the family is the most restrictive operand; an unknown operand makes the
  result unknown unless a known operand is already nonfree (nothing is worse).
- ``LicenseRef-*`` naming a non-free licence (the ids in ``NONFREE_REFS``, or any ref containing
  ``nonfree``/``proprietary``/``commercial``) is nonfree; other LicenseRefs are unknown.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence

from licensegate._files import package_file
from licensegate.errors import LicenseGateError
from licensegate.model import Family

from ._dataclasses import dataclass

__all__ = [
    "SpdxError",
    "LicenseId",
    "With",
    "And",
    "Or",
    "Expression",
    "parse",
    "normalize",
    "is_valid",
    "family",
    "choice",
    "FAMILY_ORDER",
    "NONFREE_REFS",
    "LINKING_EXCEPTIONS",
]


class SpdxError(LicenseGateError):
    """An SPDX expression that does not parse or names an unknown identifier."""


# Most restrictive first; index = restrictiveness rank (higher index = less restrictive).
FAMILY_ORDER: tuple[Family, ...] = ("nonfree", "agpl", "gpl", "lgpl", "weak-copyleft", "permissive")
_RANK = {f: len(FAMILY_ORDER) - i for i, f in enumerate(FAMILY_ORDER)}  # nonfree=6 ... permissive=1

# LicenseRefs this project defines (used by the signature data).
NONFREE_REFS = frozenset(
    {
        "LicenseRef-FFmpeg-nonfree",  # FFmpeg configured with --enable-nonfree: "nonfree and unredistributable"
        "LicenseRef-Proprietary",
        "LicenseRef-Commercial",
    }
)

# Exceptions whose purpose is to let other code link with the covered code without inheriting copyleft.
LINKING_EXCEPTIONS = frozenset(
    {
        "GCC-exception-2.0",
        "GCC-exception-2.0-note",
        "GCC-exception-3.1",
        "Classpath-exception-2.0",
        "LLVM-exception",
        "Libtool-exception",
        "Autoconf-exception-2.0",
        "Autoconf-exception-3.0",
        "Autoconf-exception-generic",
        "Autoconf-exception-generic-3.0",
        "Autoconf-exception-macro",
        "Bison-exception-1.24",
        "Bison-exception-2.2",
        "Font-exception-2.0",
        "GNU-compiler-exception",
        "GNAT-exception",
        "LZMA-exception",
        "Linux-syscall-note",
        "Swift-exception",
        "WxWindows-exception-3.1",
        "eCos-exception-2.0",
        "freertos-exception-2.0",
        "mif-exception",
        "OCaml-LGPL-linking-exception",
        "LGPL-3.0-linking-exception",
        "GPL-3.0-linking-exception",
        "GPL-3.0-linking-source-exception",
        "fmt-exception",
        "Bootloader-exception",
        "Texinfo-exception",
    }
)

@functools.cache
def _family_patterns() -> tuple[tuple[re.Pattern[str], Family], ...]:
    """The SPDX id patterns of each family, in the order they are tried; compiled on first use (4 ms of a scan's
    start-up that meets no licence)."""
    nonfree = re.compile(r"^(CC-BY-NC.*|BUSL-1\.1|Elastic-2\.0|PolyForm-Noncommercial-.*|PolyForm-Small-Business-.*)$")
    agpl = re.compile(r"^(AGPL-.*|SSPL-1\.0|RPL-.*|OSL-.*|NPOSL-3\.0|CPAL-1\.0)$")
    gpl = re.compile(r"^(GPL-.*|EUPL-.*|CeCILL-(1|2).*|Sleepycat|QPL-1\.0.*|RPSL-1\.0|Parity-.*|copyleft-next-.*)$")
    lgpl = re.compile(r"^(LGPL-.*|LGPLLR)$")
    weak = re.compile(
        r"^(MPL-1\.0|MPL-1\.1|MPL-2\.0|EPL-.*|CDDL-.*|CPL-1\.0|IPL-1\.0|APSL-.*|MS-RL|CeCILL-C|ErlPL-1\.1|"
        r"SPL-1\.0|NPL-.*|Motosoto|CC-BY-SA-.*|CC-BY-ND-.*|OFL-.*|ODbL-1\.0|MulanPSL-.*|SISSL.*|LPL-1\.0.*|Watcom-1\.0)$"
    )
    permissive = re.compile(
        r"^(MIT.*|X11.*|BSD-.*|0BSD|Apache-.*|ISC.*|Zlib|zlib-acknowledgement|Libpng|libpng-.*|libtiff|IJG.*|FTL|"
        r"Unicode-.*|ICU|curl|OpenSSL.*|SSLeay-standalone|blessing|PSF-2\.0|Python-2\.0.*|BSL-1\.0|Unlicense|CC0-1\.0|"
        r"WTFPL|NCSA|PostgreSQL|bzip2-.*|Info-ZIP|HPND.*|MS-PL|Artistic-.*|AFL-.*|CC-BY-[1-4].*|PDDL-1\.0|"
        r"MPL-2\.0-no-copyleft-exception|Beerware|JSON|Python-2\.0|TCL|W3C.*|Zend-2\.0|OLDAP-.*|UPL-1\.0|"
        r"ECL-2\.0|Vim|BlueOak-1\.0\.0|Intel|NTP|FSFAP|FSFUL.*|X11-distribute-modifications-variant|SGI-B-2\.0|"
        r"ImageMagick|PHP-3\.01|Ruby|Unicode-TOU|MirOS|CC-PDDC|Sendmail|Spencer-.*|SMLNJ|snprintf|Xnet|fwlw|"
        r"Boehm-GC|Cube|Fair|FreeImage|libselinux-1\.0|NIST-PD.*|Public-Domain|LicenseRef-Public-Domain)$"
    )
    return (
        (nonfree, "nonfree"),
        (agpl, "agpl"),
        (lgpl, "lgpl"),
        (gpl, "gpl"),
        (permissive, "permissive"),
        (weak, "weak-copyleft"),
    )


@dataclass(frozen=True)
class LicenseId:
    """A licence id (``MIT``), ``id+`` (``or later``) or a ``LicenseRef-``."""

    id: str
    plus: bool = False

    def __str__(self) -> str:
        return self.id + ("+" if self.plus else "")


@dataclass(frozen=True)
class With:
    """`licence WITH exception`."""

    licence: LicenseId
    exception: str

    def __str__(self) -> str:
        return f"{self.licence} WITH {self.exception}"


@dataclass(frozen=True)
class And:
    """`a AND b ...`: every licence applies."""

    args: tuple[Expression, ...]

    def __str__(self) -> str:
        return " AND ".join(f"({a})" if isinstance(a, Or) else str(a) for a in self.args)


@dataclass(frozen=True)
class Or:
    """`a OR b ...`: a choice of licences."""

    args: tuple[Expression, ...]

    def __str__(self) -> str:
        return " OR ".join(str(a) for a in self.args)


Expression = LicenseId | With | And | Or


@dataclass(frozen=True)
class _Ids:
    """The SPDX licence and exception lists of data/spdx_ids.json."""

    licences: dict[str, str]  # lower-case -> canonical
    exceptions: dict[str, str]
    deprecated_licences: frozenset[str]
    deprecated_exceptions: frozenset[str]
    licences_version: str
    exceptions_version: str


@functools.cache
def _ids() -> _Ids:
    raw = json.loads(package_file("data/spdx_ids.json").read_text("utf-8"))
    lic = raw["licenses"]
    exc = raw["exceptions"]
    return _Ids(
        licences={i.lower(): i for i in [*lic["ids"], *lic["deprecated"]]},
        exceptions={i.lower(): i for i in [*exc["ids"], *exc["deprecated"]]},
        deprecated_licences=frozenset(lic["deprecated"]),
        deprecated_exceptions=frozenset(exc["deprecated"]),
        licences_version=str(lic["version"]),
        exceptions_version=str(exc["version"]),
    )


def current_licence_ids() -> dict[str, str]:
    """The SPDX License List's current (not deprecated) licence ids, by lower-case id."""
    ids = _ids()
    return {k: v for k, v in ids.licences.items() if v not in ids.deprecated_licences}


def list_versions() -> tuple[str, str]:
    """Versions of the vendored (spdx-license-ids, spdx-exceptions) lists."""
    ids = _ids()
    return ids.licences_version, ids.exceptions_version


def is_deprecated(identifier: str) -> bool:
    ids = _ids()
    return identifier in ids.deprecated_licences or identifier in ids.deprecated_exceptions


@functools.cache
def _token() -> re.Pattern[str]:
    return re.compile(r"\s*(?:(\()|(\))|([A-Za-z0-9.\-:]+)(\+)?)")


@functools.cache
def _ref() -> re.Pattern[str]:
    return re.compile(r"^(DocumentRef-[A-Za-z0-9.\-]+:)?LicenseRef-[A-Za-z0-9.\-]+$")


def _tokenize(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.strip()
    token = _token()
    while pos < len(text):
        m = token.match(text, pos)
        if not m or m.end() == pos:
            raise SpdxError(f"bad SPDX expression {text!r}: unexpected {text[pos:pos + 10]!r} at {pos}")
        if m.group(1):
            out.append("(")
        elif m.group(2):
            out.append(")")
        else:
            out.append(m.group(3) + (m.group(4) or ""))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    def __init__(self, text: str, strict: bool) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.strict = strict

    def error(self, msg: str) -> SpdxError:
        return SpdxError(f"bad SPDX expression {self.text!r}: {msg}")

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def op(self, name: str) -> bool:
        t = self.peek()
        if t is not None and t.upper() == name and t in (name, name.lower()):
            self.pos += 1
            return True
        return False

    def parse(self) -> Expression:
        if not self.tokens:
            raise self.error("empty")
        e = self.or_expr()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()!r}")
        return e

    def or_expr(self) -> Expression:
        args = [self.and_expr()]
        while self.op("OR"):
            args.append(self.and_expr())
        return args[0] if len(args) == 1 else Or(tuple(args))

    def and_expr(self) -> Expression:
        args = [self.with_expr()]
        while self.op("AND"):
            args.append(self.with_expr())
        return args[0] if len(args) == 1 else And(tuple(args))

    def with_expr(self) -> Expression:
        t = self.peek()
        if t == "(":
            self.pos += 1
            e = self.or_expr()
            if self.peek() != ")":
                raise self.error("missing ')'")
            self.pos += 1
            return e
        lic = self.licence()
        if self.op("WITH"):
            t = self.peek()
            if t is None or t in "()":
                raise self.error("WITH needs an exception id")
            self.pos += 1
            canon = _ids().exceptions.get(t.lower())
            if canon is None:
                if self.strict:
                    raise self.error(f"unknown exception id {t!r}")
                canon = t
            return With(lic, canon)
        return lic

    def licence(self) -> LicenseId:
        t = self.peek()
        if t is None or t in ("(", ")") or t.upper() in ("AND", "OR", "WITH"):
            raise self.error(f"expected a licence id, got {t!r}")
        self.pos += 1
        plus = t.endswith("+")
        ident = t[:-1] if plus else t
        if _ref().match(ident):
            return LicenseId(ident, plus)
        canon = _ids().licences.get(ident.lower())
        if canon is None:
            if self.strict:
                raise self.error(f"unknown licence id {ident!r}")
            canon = ident
        return LicenseId(canon, plus)


@functools.lru_cache(maxsize=4096)
def parse(text: str, *, strict: bool = True) -> Expression:
    """Parse an SPDX expression; with ``strict`` unknown ids raise :class:`SpdxError`."""
    return _Parser(text, strict).parse()


def normalize(text: str) -> str:
    """Canonical spelling: ids in their SPDX case, single spaces, needed parentheses only."""
    return str(parse(text))


def is_valid(text: str) -> bool:
    try:
        parse(text)
    except SpdxError:
        return False
    return True


def _id_family(lic: LicenseId) -> Family:
    ident = lic.id
    if ident.startswith(("LicenseRef-", "DocumentRef-")):
        low = ident.lower()
        if ident in NONFREE_REFS or any(w in low for w in ("nonfree", "non-free", "proprietary", "commercial")):
            return "nonfree"
        return "unknown"
    for pattern, fam in _family_patterns():
        if pattern.match(ident):
            if ident.endswith(("-with-GCC-exception", "-with-classpath-exception", "-with-autoconf-exception",
                               "-with-bison-exception", "-with-font-exception")):
                return "permissive"  # deprecated spellings of GPL WITH <linking exception>
            return fam
    return "unknown"


def _family(e: Expression) -> Family:
    if isinstance(e, LicenseId):
        return _id_family(e)
    if isinstance(e, With):
        base = _id_family(e.licence)
        if e.exception in LINKING_EXCEPTIONS and base in ("gpl", "lgpl", "agpl", "weak-copyleft", "permissive"):
            return "permissive"
        return base
    fams = [_family(a) for a in e.args]
    known = [f for f in fams if f != "unknown"]
    if isinstance(e, Or):
        return min(known, key=_RANK.__getitem__) if known else "unknown"
    return _conjunction_family(known, len(fams))


def _conjunction_family(known: Sequence[Family], terms: int) -> Family:
    """An AND is as strict as its strictest known term; unknown when a term is unknown, unless one is nonfree."""
    if not known:
        return "unknown"
    worst = max(known, key=_RANK.__getitem__)
    if len(known) < terms and worst != "nonfree":
        return "unknown"
    return worst


def family(expr: str | Expression | None) -> Family:
    """Licence family of an expression (see module docstring for the rules)."""
    if expr is None:
        return "unknown"
    e = parse(expr, strict=False) if isinstance(expr, str) else expr
    return _family(e)


def _choose(e: Expression) -> tuple[Expression, list[str]]:
    if isinstance(e, Or):
        picks = [_choose(a) for a in e.args]
        ranked = sorted(
            range(len(picks)),
            key=lambda i: (_family(picks[i][0]) == "unknown", _RANK.get(_family(picks[i][0]), 0), i),
        )
        best = picks[ranked[0]]
        others = ", ".join(f"{picks[i][0]} ({_family(picks[i][0])})" for i in ranked[1:])
        reason = f"chose {best[0]} ({_family(best[0])}) over {others}"
        return best[0], [*best[1], reason]
    if isinstance(e, And):
        parts = [_choose(a) for a in e.args]
        return And(tuple(p[0] for p in parts)), [r for p in parts for r in p[1]]
    return e, []


def choice(expr: str | Expression) -> tuple[str, str]:
    """The licence the distributor would pick and why.

    ``A OR B`` gives the distributor the choice: pick the least restrictive known option (the first
    listed on ties). Nested ORs inside ANDs are each resolved. Without an OR, the expression is returned
    unchanged with the reason ``"no choice"``.
    """
    e = parse(expr, strict=False) if isinstance(expr, str) else expr
    chosen, reasons = _choose(e)
    if not reasons:
        return str(chosen), "no choice: the expression has no OR"
    return str(chosen), "distributor's choice under OR: " + "; ".join(reasons)


def licence_ids(expression: str | None, *, exceptions: bool = True) -> list[str]:
    """Every licence id (and exception id, unless `exceptions` is False) in an SPDX expression, each once, in order
    of appearance; [] when the text is not an expression."""
    if not expression:
        return []
    try:
        e = parse(expression, strict=False)
    except SpdxError:
        return []
    out: list[str] = []

    def walk(x: Expression) -> None:
        if isinstance(x, LicenseId):
            out.append(x.id)
        elif isinstance(x, With):
            out.extend([x.licence.id, x.exception] if exceptions else [x.licence.id])
        else:
            for a in x.args:
                walk(a)

    walk(e)
    return list(dict.fromkeys(out))
