"""Declared model licence text -> SPDX expression, and the facts of use-restricted model licences.

The data lives in `licensegate/data/model_licences.toml` (sources cited there); this module holds the mechanism.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from licensegate import _toml, spdx
from licensegate._files import package_file

from .._dataclasses import dataclass


@dataclass(frozen=True)
class UseRestriction:
    """A use-restricted licence's terms that a distributor must pass on."""

    licence: str  # SPDX id or LicenseRef
    family: str  # "openrail", "llama", "gemma", "cc-nc", "cc-nd"
    restrictions: tuple[str, ...]
    notice: str  # the notice text the licence requires to travel with the model
    notice_clause: str | None
    source: str  # where the licence text is published
    gpl3_conflict: bool

    def to_json(self) -> dict[str, object]:
        return {
            "licence": self.licence,
            "family": self.family,
            "restrictions": list(self.restrictions),
            "notice": self.notice,
            "notice_clause": self.notice_clause,
            "source": self.source,
            "gpl3_conflict": self.gpl3_conflict,
        }


@dataclass(frozen=True)
class LicenceEntry:
    spdx: str
    free: bool
    aliases: tuple[str, ...]
    urls: tuple[str, ...]
    restriction: UseRestriction | None


@dataclass(frozen=True)
class LicenceTable:
    entries: tuple[LicenceEntry, ...]
    by_id: dict[str, LicenceEntry]  # lowercased SPDX id -> entry
    by_alias: dict[str, LicenceEntry]
    spdx_ids: dict[str, str]  # lowercased -> canonical, from the vendored SPDX list (data/spdx_ids.json)


_OPERATORS = {"and", "or", "with"}
_TOKEN = re.compile(r"\(|\)|[A-Za-z0-9.+\-]+")


def _normalise(text: str) -> str:
    folded = re.sub(r"[^a-z0-9+]+", " ", text.lower())
    return " ".join(folded.split())


def _normalise_url(url: str) -> str:
    u = url.lower().strip()
    u = re.sub(r"^[a-z]+://", "", u)
    return u.removeprefix("www.").rstrip("/")


@lru_cache(maxsize=1)
def licence_table() -> LicenceTable:
    raw = package_file("data", "model_licences.toml").read_bytes()
    doc = _toml.loads(raw.decode("utf-8"))
    entries = [_licence_entry(item) for item in doc.get("licence", [])]
    by_id = {e.spdx.lower(): e for e in entries}
    by_alias: dict[str, LicenceEntry] = {}
    for e in entries:
        by_alias.setdefault(_normalise(e.spdx), e)
        for a in e.aliases:
            by_alias.setdefault(a, e)
    return LicenceTable(tuple(entries), by_id, by_alias, spdx.current_licence_ids())


def _licence_entry(item: dict[str, Any]) -> LicenceEntry:
    """One [[licence]] of model_licences.toml."""
    return LicenceEntry(
        spdx=item["spdx"],
        free=bool(item.get("free", False)),
        aliases=tuple(_normalise(a) for a in item.get("aliases", [])),
        urls=tuple(_normalise_url(u) for u in item.get("urls", [])),
        restriction=_use_restriction(item["spdx"], item.get("restriction")),
    )


def _use_restriction(licence: str, r: dict[str, Any] | None) -> UseRestriction | None:
    """A [licence.restriction] table: the use restrictions and the notice the licence requires."""
    if r is None:
        return None
    return UseRestriction(
        licence=licence,
        family=r["family"],
        restrictions=tuple(r.get("restrictions", [])),
        notice=r["notice"],
        notice_clause=r.get("notice_clause"),
        source=r["source"],
        gpl3_conflict=bool(r.get("gpl3_conflict", False)),
    )


def _as_expression(text: str, table: LicenceTable) -> str | None:
    """Canonical SPDX expression when text is one over known ids (or LicenseRefs), else None."""
    tokens = _TOKEN.findall(text)
    if not tokens or "".join(tokens) != re.sub(r"\s+", "", text):
        return None
    out: list[str] = []
    depth = 0
    expect_id = True
    for tok in tokens:
        step = _expression_step(tok, expect_id, table, bool(out) and out[-1] == "WITH")
        if step is None:
            return None
        shown, expect_id, nesting = step
        depth += nesting
        if depth < 0:
            return None
        out.append(shown)
    if depth != 0 or expect_id:
        return None
    return " ".join(out).replace("( ", "(").replace(" )", ")")


def _expression_step(tok: str, expect_id: bool, table: LicenceTable, after_with: bool) -> tuple[str, bool, int] | None:
    """One token of an SPDX expression: (as written out, whether an id comes next, change of nesting depth); None
    when it cannot stand here."""
    if tok in ("(", ")"):
        # "(" opens where an id may stand; ")" closes after one
        return (tok, expect_id, 1 if tok == "(" else -1) if expect_id == (tok == "(") else None
    if tok.lower() in _OPERATORS:
        return None if expect_id else (tok.upper(), True, 0)
    shown = _licence_id(tok, table, after_with) if expect_id else None
    return None if shown is None else (shown, False, 0)


def _licence_id(tok: str, table: LicenceTable, after_with: bool) -> str | None:
    """A licence id as SPDX spells it, a LicenseRef, or (after WITH) an exception id kept as written."""
    low = tok.lower()
    entry = table.by_id.get(low)
    if entry is not None:
        return entry.spdx
    if low in table.spdx_ids:
        return table.spdx_ids[low]
    if tok.startswith("LicenseRef-") and len(tok) > len("LicenseRef-"):
        return tok
    return tok if after_with else None  # exception ids are not in this table


def to_spdx(raw: str | None) -> str | None:
    """The SPDX expression a declared licence text maps to, or None when it does not map."""
    text = raw.strip() if raw is not None else ""
    if not text or len(text) > 20000:
        return None
    table = licence_table()
    return (_short_name(text, table) if len(text) < 200 else None) or _by_url(text, table)


def _short_name(text: str, table: LicenceTable) -> str | None:
    """An SPDX expression, or a licence's name or alias."""
    expr = _as_expression(text, table)
    if expr is not None:
        return expr
    entry = table.by_alias.get(_normalise(text))
    return entry.spdx if entry is not None else None


def _by_url(text: str, table: LicenceTable) -> str | None:
    """A licence's URL anywhere in the text ("Apache License. Version 2.0 http://..." style: name plus URL)."""
    lowered = text.lower()
    return next((entry.spdx for entry in table.entries for url in entry.urls if url in lowered), None)


def is_free(expression: str | None) -> bool:
    """Whether every licence in the expression is free (DFSG/OSI); unknown ids are not."""
    if not expression:
        return False
    table = licence_table()
    ids = spdx.licence_ids(expression, exceptions=False)
    return bool(ids) and all((e := table.by_id.get(i.lower())) is not None and e.free for i in ids)


def use_restrictions(expression: str | None) -> list[UseRestriction]:
    """The use-restricted licences named in the expression, with their restrictions and required notices."""
    if not expression:
        return []
    table = licence_table()
    out: list[UseRestriction] = []
    for i in spdx.licence_ids(expression, exceptions=False):
        e = table.by_id.get(i.lower())
        if e is not None and e.restriction is not None and e.restriction not in out:
            out.append(e.restriction)
    return out
