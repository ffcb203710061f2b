"""Third-party notices and the written source offer, rendered from Jinja2 templates.

`write_notices(report, folder)` writes THIRD_PARTY_NOTICES.html, THIRD_PARTY_NOTICES.txt and SOURCE_OFFER.txt.
Templates live in `licensegate/templates/`; a user folder (`--templates DIR`) holding a file of the same name wins.
Licence texts come from the vendored SPDX licence list (`data/licenses/`, see its README for source and version).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import jinja2

from .. import __version__, spdx
from .._dataclasses import dataclass, field
from .._files import package_file
from ..errors import UsageError
from ..fsutil import atomic_write
from ..licence_files import copyright_lines
from ..ml import Requirement
from ..model import Component, LibraryMatch
from . import Report

NOTICE_FILES = ("THIRD_PARTY_NOTICES.html", "THIRD_PARTY_NOTICES.txt", "SOURCE_OFFER.txt")
OFFER_FAMILIES = ("gpl", "agpl", "lgpl")
TO_BE_COMPLETED = "[TO BE COMPLETED: {}]"

# Licences whose text is a template for the holder's own notice: the notice must carry the real copyright line.
_ATTRIBUTION = ("MIT", "BSD-", "ISC", "X11", "Zlib", "libpng", "Libpng", "NCSA", "0BSD", "BSL-1.0", "curl", "MIT-0", "IJG", "FTL")
NEEDS_HOLDER = "[NEEDED: no copyright line found in the artifact; copy the holder's line from the library's own licence file]"


def component_copyrights(c: Component) -> list[str]:
    """Copyright lines for one component: from its evidence, its binary's strings and the licence files tied to it."""
    lines = copyright_lines([e.text for e in c.evidence])
    extra = c.details.get("copyrights")
    if isinstance(extra, list):
        lines += [x for x in extra if isinstance(x, str) and x not in lines]
    return lines


@dataclass
class NoticeEntry:
    """One third-party work: a library (all its copies across ABIs) or a model."""

    name: str
    version: str | None
    license: str | None
    family: str
    kind: str  # native-library, java-library, embedded, model, ...
    paths: list[str] = field(default_factory=list)
    copyrights: list[str] = field(default_factory=list)
    homepage: str | None = None
    project: str | None = None
    license_choice: str | None = None
    author: str | None = None  # models: the author their metadata names
    requirements: list[Requirement] = field(default_factory=list)  # models: the stance's requirements
    stance: str | None = None
    notice_texts: list[str] = field(default_factory=list)  # NOTICE files tied to this component (Apache-2.0 s.4(d))

    @property
    def needs_holder(self) -> bool:
        """An attribution licence and no copyright line found: the notice must say a holder is needed."""
        return not self.copyrights and any(i.startswith(_ATTRIBUTION) for i in spdx.licence_ids(self.license))

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.name, self.version or "", self.license or "")


@dataclass
class LicenceText:
    id: str
    name: str
    url: str | None
    text: str | None  # None: not vendored; the notices give the URL instead


@dataclass
class Notices:
    report: Report
    entries: list[NoticeEntry]
    models: list[NoticeEntry]
    licences: list[LicenceText]
    offer: list[NoticeEntry]  # GPL-family components needing the written offer
    list_version: str
    notice_files: list[tuple[str, str]] = field(default_factory=list)  # (member path, text) of NOTICE files shipped
    # File-level copyleft (EPL, MPL, CDDL): the source of the covered files must be available and recipients told how
    weak_copyleft: list[NoticeEntry] = field(default_factory=list)


@functools.cache
def _licence_index() -> dict[str, object]:
    raw = package_file("data/licenses/index.json").read_text("utf-8")
    return dict(json.loads(raw))


def licence_text(ident: str) -> LicenceText:
    """The vendored SPDX text of one licence id, or a pointer to the SPDX page when it is not vendored."""
    f = package_file(f"data/licenses/{ident}.json")
    if ident in _licence_index()["ids"] and f.is_file():  # type: ignore[operator]
        data = json.loads(f.read_text("utf-8"))
        return LicenceText(ident, str(data.get("name") or ident), data.get("url"), _without_template_lines(str(data.get("licenseText") or "")))
    if ident.startswith(("LicenseRef-", "DocumentRef-")):
        return LicenceText(ident, ident, None, None)
    return LicenceText(ident, ident, f"https://spdx.org/licenses/{ident}.html", None)


_TEMPLATE_LINE = re.compile(r"^[^\n]*(?:<\s*(?:year|owner|copyright holders?)\s*>)[^\n]*\n?", re.I | re.M)


def _without_template_lines(text: str) -> str:
    """The SPDX text without its template copyright line ("Copyright (c) <year> <owner>"): each component's real
    copyright lines are listed with the component."""
    return _TEMPLATE_LINE.sub("", text).lstrip("\n")


def _entry_from_component(c: Component) -> NoticeEntry:
    homepage = c.details.get("homepage")
    return NoticeEntry(c.name, c.version, c.license, c.family, c.kind, [c.path], component_copyrights(c),
                       homepage=homepage if isinstance(homepage, str) and homepage.startswith(("https://", "http://")) else None,
                       project=c.project, license_choice=c.license_choice)


def _entry_from_match(m: LibraryMatch, host: Component) -> NoticeEntry:
    return NoticeEntry(m.name, m.version, m.license, spdx.family(m.license) if m.license else "unknown", "embedded",
                       [host.path], copyright_lines([e.text for e in m.evidence]), homepage=m.homepage, project=m.project)


def collect(report: Report) -> Notices:
    """What the notices and the offer say: identified components (merged across ABIs), embedded code, models."""
    components = sorted(report.components, key=lambda c: c.path)
    entries = _library_entries([c for c in components if c.kind != "model"])
    models = [_model_entry(c, report) for c in components if c.kind == "model"]
    licences = _licence_texts([*entries, *models])
    offer = [e for e in entries if e.family in OFFER_FAMILIES]
    weak = [e for e in entries if e.family == "weak-copyleft"]
    return Notices(report, entries, models, licences, offer, str(_licence_index().get("version")), _notice_files(report), weak)


def _library_entries(components: list[Component]) -> list[NoticeEntry]:
    """Identified libraries and the code embedded in any binary, one entry each, by name and version."""
    merged: dict[tuple[str, str, str], NoticeEntry] = {}
    for c in components:
        if c.origin != "unidentified":
            _merge(merged, _entry_from_component(c))
        for m in c.embedded:
            if m.id != c.identified_as:
                _merge(merged, _entry_from_match(m, c))
    return sorted(merged.values(), key=lambda e: (e.name.lower(), e.version or ""))


def _licence_texts(entries: list[NoticeEntry]) -> list[LicenceText]:
    """The text of every licence id the entries use, once each, by id."""
    ids: list[str] = []
    for e in entries:
        ids += [i for i in spdx.licence_ids(e.license) if i not in ids]
    return [licence_text(i) for i in sorted(ids, key=str.lower)]


def _merge(merged: dict[tuple[str, str, str], NoticeEntry], entry: NoticeEntry) -> None:
    """One entry per library: another copy (an ABI, a host it is embedded in) adds its paths, copyrights, NOTICEs."""
    have = merged.setdefault(entry.key, entry)
    if have is entry:
        return
    have.paths += [p for p in entry.paths if p not in have.paths]
    have.copyrights += [x for x in entry.copyrights if x not in have.copyrights]
    have.notice_texts += [x for x in entry.notice_texts if x not in have.notice_texts]


def _model_entry(c: Component, report: Report) -> NoticeEntry:
    """A model's entry: its licence and author, and what the policy's stance asks of its source."""
    details, a = _table(c.details.get("model")), report.assessment(c.path)
    entry = _entry_from_component(c)
    entry.author = details.get("author")
    entry.requirements = list(a.requirements) if a else []
    entry.stance = a.stance if a else None
    return entry


def _notice_files(report: Report) -> list[tuple[str, str]]:
    """NOTICE texts shipped in the artifact, once each (Apache-2.0 s.4(d) requires passing them on)."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for lf in sorted(report.scan.licence_files, key=lambda f: f.path):
        if lf.kind == "notice" and lf.text and lf.sha256 not in seen:
            seen.add(lf.sha256)
            out.append((lf.path, lf.text))
    return out


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def environment(templates: Path | None = None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if templates is not None:
        if not templates.is_dir():
            raise UsageError(f"--templates {templates}: not a folder")
        loaders.append(jinja2.FileSystemLoader(str(templates)))
    loaders.append(jinja2.PackageLoader("licensegate", "templates"))
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=lambda name: bool(name and ".html" in name),
                             keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters["wrap"] = _wrap
    return env


def _wrap(text: str, width: int = 100, indent: str = "") -> str:
    import textwrap

    return "\n".join(textwrap.fill(p, width, initial_indent=indent, subsequent_indent=indent) if p.strip() else ""
                     for p in str(text).split("\n"))


def render_all(report: Report, templates: Path | None = None) -> dict[str, str]:
    """File name -> content for the three notice files."""
    notices = collect(report)
    env = environment(templates)
    offer = report.policy.source_offer
    tbc = TO_BE_COMPLETED.format
    context = {
        "n": notices, "report": report, "artifact": report.scan.artifact, "tool_version": __version__,
        "contact": {
            "organisation": offer.organisation or tbc("organisation name, [source_offer] organisation"),
            "address": offer.address or tbc("postal address, [source_offer] address"),
            "email": offer.email or tbc("e-mail address, [source_offer] email"),
            "url": offer.url,
            "years": offer.years,
            "complete": offer.complete,
        },
        "to_be_completed": not offer.complete,
        "needs_holder": NEEDS_HOLDER,
    }
    out: dict[str, str] = {}
    for name in NOTICE_FILES:
        try:
            out[name] = env.get_template(name + ".j2").render(**context)
        except jinja2.TemplateError as exc:
            raise UsageError(f"template {name}.j2: {type(exc).__name__}: {exc}") from None
    return out


def write_notices(report: Report, folder: Path, templates: Path | None = None) -> list[Path]:
    files = render_all(report, templates)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in files.items():
            atomic_write(folder / name, text)
            written.append(folder / name)
    except OSError as exc:
        raise UsageError(f"cannot write notices to {folder}: {exc.strerror or exc}") from None
    return written
