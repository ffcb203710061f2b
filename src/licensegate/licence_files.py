"""Licence, notice and version files shipped inside an artifact: found by name, classified by text, tied to code.

What counts (by member path, case-insensitive): ``LICENSE*``, ``LICENCE*``, ``COPYING*``, ``NOTICE*``,
``COPYRIGHT*``, ``THIRD_PARTY*`` and ``*.LICENSE``/``*_LICENSE`` anywhere; any file in a ``license/``,
``licenses/`` or ``legal/`` folder; ``META-INF/*.version`` (written by AndroidX and Kotlin artifacts); the
``res/raw/third_party_licenses`` and ``third_party_license_metadata`` pair that Google's oss-licenses plugin writes;
``open_source_licenses.*`` and licence files under ``assets/``.

Classification compares word bigrams of the file with those of the vendored SPDX licence texts (data/licenses):
a licence is named when at least 85% of its bigrams occur in the file; a licence whose text is contained in a
longer one that also matched (BSD-2-Clause inside BSD-3-Clause) is dropped. ``SPDX-License-Identifier:`` lines and
licence URLs (short entries of the oss-licenses plugin) name a licence directly.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from ._dataclasses import dataclass, field
from ._files import package_file

if TYPE_CHECKING:
    from .model import Component

__all__ = ["LicenceFile", "classify", "copyright_lines", "file_kind", "read_licence_file", "tie"]

MAX_SIZE = 8 * 1024 * 1024  # a licence file bigger than this is not read (third_party_licenses stays far below)
NOTICE_TEXT_LIMIT = 64 * 1024  # NOTICE text carried into the notices, per file
THRESHOLD = 0.85

class _PathPatterns(NamedTuple):
    """The patterns of member paths `file_kind` tells licence files by."""

    # Matched against the file name (the last path component) only: neither alternative can hold a "/", so a match
    # in the whole path starts after its last "/" anyway, and one attempt there is cheaper than a search.
    name: re.Pattern[str]
    folder: re.Pattern[str]
    version: re.Pattern[str]
    pom: re.Pattern[str]
    oss: re.Pattern[str]
    oss_meta: re.Pattern[str]
    not_licence: re.Pattern[str]


# Compiled on first use (3.5 ms): a scan whose members all have a kind of their own (a tiny APK: manifest, DEX,
# native library) asks no path and imports this module only to tie licence files to components.
@functools.cache
def _paths() -> _PathPatterns:
    return _PathPatterns(
        name=re.compile(
            r"(?:(?:licen[cs]es?|copying|notice|copyright|third[_-]?party[^/]*|open_source_licen[cs]es)(?:[._-][^/]*)?"
            r"|[^/]+[._-]licen[cs]e(?:\.txt|\.md)?)$",
            re.I,
        ),
        folder=re.compile(r"(?:^|/)(?:licen[cs]es?|legal)/[^/]+$", re.I),
        version=re.compile(r"^META-INF/[^/]+\.version$"),
        pom=re.compile(r"(?:^|/)META-INF/maven/([^/]+)/([^/]+)/pom\.xml$"),
        oss=re.compile(r"(?:^|/)res/raw/third_party_licen[cs]es$"),
        oss_meta=re.compile(r"(?:^|/)res/raw/third_party_licen[cs]e_metadata$"),
        not_licence=re.compile(r"\.(?:class|dex|so|png|jpe?g|gif|webp|xml\.flat|arsc|kotlin_builtins|res)$", re.I),
    )


@dataclass
class LicenceFile:
    """A licence, NOTICE, version or licence-metadata file found in the artifact, with what it says."""

    path: str
    kind: str  # licence, notice, version, pom, oss-licenses, oss-licenses-metadata, licensegate-notices
    sha256: str
    size: int
    licences: list[str] = field(default_factory=list)  # SPDX ids the text contains
    scores: dict[str, float] = field(default_factory=dict)
    copyrights: list[str] = field(default_factory=list)
    tied_to: list[str] = field(default_factory=list)  # component paths
    version: str | None = None  # META-INF/*.version: the artifact version it records
    entries: list[dict[str, object]] = field(default_factory=list)  # oss-licenses: one per library
    text: str | None = None  # NOTICE files: the text (bounded), for the notices

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "path": self.path, "kind": self.kind, "sha256": self.sha256, "size": self.size,
            "licences": self.licences, "scores": self.scores, "copyrights": self.copyrights, "tied_to": self.tied_to,
        }
        if self.version is not None:
            out["version"] = self.version
        if self.entries:
            out["entries"] = self.entries
        return out


def file_kind(path: str) -> str | None:
    """What kind of licence-related file a member path names, or None."""
    p = _paths()
    if p.not_licence.search(path):
        return None
    if p.version.match(path):
        return "version"
    kind = next((k for rx, k in ((p.pom, "pom"), (p.oss, "oss-licenses"), (p.oss_meta, "oss-licenses-metadata"))
                 if rx.search(path)), None)
    if kind is not None:
        return kind
    base = path.rsplit("/", 1)[-1]
    if p.name.match(base) or p.folder.search(path):
        return "notice" if base.lower().startswith("notice") else "licence"
    return None


# The patterns for a file's text (below and under "copyright lines") compile on first use: 1 ms of the start-up of a
# scan that meets no licence text and no copyright line.
@functools.cache
def _control() -> re.Pattern[str]:
    return re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _decode(data: bytes) -> str:
    """Text of an artifact's file, without control characters (terminal escapes, bidi overrides) that would travel
    into the notices and reports."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return _control().sub("", text)


def read_licence_file(path: str, kind: str, data: bytes) -> LicenceFile:
    text = _decode(data)
    lf = LicenceFile(path, kind, hashlib.sha256(data).hexdigest(), len(data))
    if kind == "version":
        lf.version = text.strip()[:64] or None
    elif _is_licensegate_notices(text):
        lf.kind = "licensegate-notices"  # our own output packed into the app: never read back into the notices
    elif kind == "pom":
        _read_pom(lf, text)
    elif kind != "oss-licenses-metadata":
        _read_licence_text(lf, text)
    return lf


def _read_pom(lf: LicenceFile, text: str) -> None:
    """A Maven POM: its licences, and groupId:artifactId[:version] from its path and <version> (not the parent's)."""
    lf.licences = pom_licences(text)
    m = _paths().pom.search(lf.path)
    if m:
        version = re.search(r"<version>\s*([^<\s]{1,64})\s*</version>", re.sub(r"(?s)<parent>.*?</parent>", "", text))
        lf.version = f"{m.group(1)}:{m.group(2)}" + (f":{version.group(1)}" if version else "")


def _read_licence_text(lf: LicenceFile, text: str) -> None:
    """A licence, notice or oss-licenses text: copyright lines, and (but for oss-licenses, split into entries once
    the metadata is known: finish_oss_licenses) the licences it contains; a NOTICE keeps its text."""
    lf.copyrights = copyright_lines([text])
    if lf.kind == "oss-licenses":
        return
    lf.licences, lf.scores = classify(text)
    if lf.kind == "notice" or (not lf.licences and re.search(r"(?i)this product includes software developed", text)):
        lf.kind = "notice"
        lf.text = text[:NOTICE_TEXT_LIMIT].replace("\r\n", "\n").strip("\n")


_POM_NAMES = [
    (r"apache.*2", "Apache-2.0"), (r"\bmit\b", "MIT"), (r"bsd.*3|new bsd|revised bsd", "BSD-3-Clause"),
    (r"bsd.*2|simplified bsd", "BSD-2-Clause"), (r"lesser.*2\.1|lgpl.*2\.1", "LGPL-2.1-only"), (r"lesser.*3|lgpl.*3", "LGPL-3.0-only"),
    (r"affero|agpl", "AGPL-3.0-only"), (r"general public.*3|gpl.*3", "GPL-3.0-only"), (r"general public.*2|gpl.*2", "GPL-2.0-only"),
    (r"eclipse public.*2|epl.*2", "EPL-2.0"), (r"eclipse public|epl", "EPL-1.0"), (r"mozilla public.*2|mpl.*2", "MPL-2.0"),
    (r"common development.*1\.1|cddl.*1\.1", "CDDL-1.1"), (r"common development|cddl", "CDDL-1.0"),
]


def pom_licences(xml: str) -> list[str]:
    """SPDX ids of a Maven POM's <licenses> (read with a regex, never an XML parser fed hostile entities): by URL first,
    then by name. Several licences in one POM are the authors' choice (kept as alternatives)."""
    out: list[str] = []
    block = re.search(r"(?s)<licenses>(.*?)</licenses>", xml)
    for lic in re.findall(r"(?s)<license>(.*?)</license>", block.group(1) if block else "")[:10]:
        found = _pom_licence(lic)
        if found and found not in out:
            out.append(found)
    return out


def _pom_licence(lic: str) -> str | None:
    """The SPDX id of one <license> element: by its <url>, else by its <name>."""
    name = re.search(r"(?s)<name>(.*?)</name>", lic)
    url = re.search(r"(?s)<url>(.*?)</url>", lic)
    if url:
        found = next((i for pat, i in _URL_TELLS if re.search(pat, url.group(1), re.I)), None)
        if found:
            return found
    return next((i for pat, i in _POM_NAMES if re.search(pat, name.group(1), re.I)), None) if name else None


def finish_oss_licenses(texts: LicenceFile, raw: bytes, metadata: bytes) -> None:
    """Split third_party_licenses by its metadata ("start:length Library name" per line) and classify each part."""
    for line in _decode(metadata).splitlines():
        m = re.match(r"(\d+):(\d+)\s+(.+)$", line.strip())
        if not m:
            continue
        start, length, name = int(m.group(1)), int(m.group(2)), m.group(3).strip()
        part = _decode(raw[start : start + length])
        licences, _scores = classify(part)
        texts.entries.append({"name": name[:200], "licences": licences, "copyrights": copyright_lines([part])[:10]})


def _is_licensegate_notices(text: str) -> bool:
    """Notices LicenseGate wrote, packed into the app (the two-pass flow): they must not feed the next notices."""
    head = text[:2000]
    if "WRITTEN OFFER FOR SOURCE CODE\n=====" in head:
        return True  # SOURCE_OFFER.txt
    return "Generated by LicenseGate" in head and ("THIRD-PARTY SOFTWARE NOTICES" in head or "Third-party software notices" in head)


# -- OSGi bundles -----------------------------------------------------------------------------------------------


@dataclass
class Bundle:
    """An OSGi bundle manifest merged into the artifact: which packages it exports and where its licence is stated."""

    manifest: str  # member path of the MANIFEST.MF
    name: str
    exports: list[str]
    localization: str | None  # "plugin": plugin.properties beside the manifest's folder holds the bundle's texts
    license_header: str | None  # Bundle-License


def read_bundle_manifest(path: str, data: bytes) -> Bundle | None:
    headers = _main_section(_decode(data).replace("\r\n", "\n"))
    name = headers.get("Bundle-SymbolicName", "").split(";")[0].strip()
    if not name:
        return None
    unquoted = re.sub(r'"[^"]*"', '""', headers.get("Export-Package", ""))  # version ranges hold commas
    exports = [e.split(";")[0].strip() for e in unquoted.split(",")]
    return Bundle(path, name, [e for e in exports if re.fullmatch(r"[A-Za-z_][\w.]*", e)],
                  headers.get("Bundle-Localization") or "OSGI-INF/l10n/bundle", headers.get("Bundle-License"))


def _main_section(text: str) -> dict[str, str]:
    """The headers of a JAR manifest's main section, continuation lines joined."""
    headers: dict[str, str] = {}
    key = None
    for line in text.split("\n"):
        if line.startswith(" ") and key:
            headers[key] += line[1:]
        elif ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip()] = value.strip()
        elif not line.strip():
            break  # the main section ends at the first blank line; per-entry sections follow
    return headers


def bundle_licence_files(bundles: list[Bundle], properties: dict[str, bytes], components: list[Component]) -> tuple[list[LicenceFile], list[Component]]:
    """The licence each bundle states (an SPDX-License-Identifier in its localization file, or Bundle-License), tied
    to the Java components that define the packages it exports."""
    files: list[LicenceFile] = []
    changed: list[Component] = []
    for b in bundles:
        lf = _bundle_licence(b, properties)
        if lf is not None:
            changed += _tie_bundle(b, lf, components)
            files.append(lf)
    return files, changed


def _bundle_licence(b: Bundle, properties: dict[str, bytes]) -> LicenceFile | None:
    """The licence a bundle states: its localization file (classified as a licence text), else Bundle-License."""
    folder = b.manifest.rsplit("/", 1)[0] + "/" if "/" in b.manifest else ""
    folder = folder.removesuffix("META-INF/")
    loc = f"{folder}{b.localization}.properties" if b.localization else None
    raw = properties.get(loc) if loc else None
    if raw is not None:
        lf = LicenceFile(loc or "", "licence", hashlib.sha256(raw).hexdigest(), len(raw))
        text = _decode(raw)
        lf.licences, lf.scores = classify(text)
        lf.copyrights = copyright_lines([text])
        return lf
    if b.license_header:
        data = b.license_header.encode()
        lf = LicenceFile(b.manifest, "licence", hashlib.sha256(data).hexdigest(), len(data))
        lf.licences, lf.scores = classify(b.license_header)
        return lf
    return None


def _tie_bundle(b: Bundle, lf: LicenceFile, components: list[Component]) -> list[Component]:
    """Tie a bundle's licence to the Java components defining the packages it exports; those it set a licence on."""
    from .model import Evidence

    changed: list[Component] = []
    exported = set(b.exports)
    for c in _java(components):
        if not exported & set(_packages(c)):
            continue
        lf.tied_to.append(c.path)
        _add_copyrights(c, lf.copyrights)
        c.evidence.append(Evidence("licence-file", f"OSGi bundle {b.name} ({b.manifest}) exports its packages; {lf.path} states "
                                   f"{', '.join(lf.licences) or 'no recognised licence'}", None, "licence-file/osgi-bundle", lf.path))
        if len(lf.licences) == 1 and c.license is None:
            if c.origin == "unidentified":
                c.name = f"{b.name} (OSGi bundle)"
            _set_licence(c, lf.licences[0], f"OSGi bundle {b.name}: {lf.path} shipped in the artifact")
            changed.append(c)
    return changed


# -- tying files to code ---------------------------------------------------------------------------------------

# Words of licence file names that say nothing about whose licence it is.
_STOP = frozenset(
    "license licence licenses licences notice notices copying copyright readme txt md html htm text third party "
    "thirdparty software documentation legal meta inf apache android java lib library core main all the and for "
    "open source asl mit bsd gpl lgpl epl mpl version".split()
)


def _tokens(path: str) -> set[str]:
    parts = path.split("!/")[-1].split("/")
    words = re.split(r"[^a-z0-9]+", parts[-1].lower())
    if len(parts) > 1 and parts[-2].lower() not in ("license", "licenses", "licence", "licences", "legal", "meta-inf", "assets"):
        words += re.split(r"[^a-z0-9]+", parts[-2].lower())
    return {w for w in words if len(w) >= 3 and w not in _STOP and not w.isdigit()}


def _packages(c: Component) -> dict[str, int]:
    value = c.details.get("packages")
    return value if isinstance(value, dict) else {}


def _java(components: list[Component]) -> list[Component]:
    return [c for c in components if c.kind in ("java-library", "java-code") and not c.details.get("obfuscated")]


def _root_segments(c: Component) -> set[str]:
    pkg = str(c.details.get("package") or "")
    return {s for s in pkg.split(".") if len(s) >= 3 and s not in ("com", "org", "net")}


def _same_level(lf_path: str, comp: Component) -> bool:
    """A file and a component of the same archive (both in the APK, or both inside one nested archive)."""
    level = lf_path.rsplit("!/", 1)[0] if "!/" in lf_path else ""
    members = comp.details.get("members")
    if not isinstance(members, list):
        members = [comp.path]
    return any((m.rsplit("!/", 1)[0] if "!/" in m else "") == level for m in members if isinstance(m, str))


def tie(files: list[LicenceFile], components: list[Component]) -> list[Component]:
    """Tie licence, NOTICE and version files to the Java components they name; returns the components whose
    licence a shipped licence file set (unidentified code whose licence file names exactly one licence)."""
    java = _java(components)
    changed: list[Component] = []
    for lf in files:
        tie_kind = _TIES.get(lf.kind)
        if tie_kind is not None:
            changed += tie_kind(lf, java)
    return changed


def _tie_by_name(lf: LicenceFile, java: list[Component]) -> list[Component]:
    """A licence or NOTICE file whose name (or folder) names a component's package or name, at the same level."""
    from .model import Evidence

    words = _tokens(lf.path)
    changed: list[Component] = []
    for c in java if words else []:
        if not _same_level(lf.path, c) or not _named_by(words, c):
            continue
        lf.tied_to.append(c.path)
        _add_copyrights(c, lf.copyrights)
        c.evidence.append(Evidence("licence-file", f"{lf.kind} file {lf.path}" + (f" ({', '.join(lf.licences)})" if lf.licences else ""),
                                   None, "licence-file/name", lf.path))
        if lf.kind == "licence" and len(lf.licences) == 1 and c.license is None:
            _set_licence(c, lf.licences[0], f"licence file {lf.path} shipped in the artifact (text matched {lf.licences[0]})")
            changed.append(c)
    return changed


def _named_by(words: set[str], c: Component) -> bool:
    """The words of a file name name the component: a segment of its package, or a word of its name."""
    return bool(words & _root_segments(c) or words & set(re.split(r"[^a-z0-9]+", c.name.lower())))


def _set_licence(c: Component, licence: str, source: str) -> None:
    c.license = licence
    c.confidence = "medium"
    c.origin = "identified"
    c.details["license_source"] = source


def _add_copyrights(c: Component, lines: list[str]) -> None:
    have = c.details.setdefault("copyrights", [])
    if isinstance(have, list):
        have += [x for x in lines if x not in have]


def _tie_version(lf: LicenceFile, java: list[Component]) -> list[Component]:
    stem = lf.path.rsplit("/", 1)[-1].removesuffix(".version")
    group, _, _artifact = stem.partition("_")
    probe = group if "." in group else stem.replace("_", ".")
    for c in java:
        if any(p == probe or p.startswith(probe + ".") or probe.startswith(p + ".") for p in _packages(c)):
            lf.tied_to.append(c.path)
            versions = c.details.setdefault("artifact_versions", {})
            if isinstance(versions, dict) and lf.version:
                versions[stem] = lf.version
            break
    return []  # a version file sets no licence

def _tie_pom(lf: LicenceFile, java: list[Component]) -> list[Component]:
    """A POM packed under META-INF/maven/<groupId>/<artifactId>/ names the code under its groupId's packages."""
    from .model import Evidence

    m = _paths().pom.search(lf.path)
    if m is None:
        return []
    group = m.group(1)
    changed = []
    for c in java:
        if not _same_level(lf.path, c) or not _defines_under(c, group):
            continue
        lf.tied_to.append(c.path)
        c.evidence.append(Evidence("licence-file", f"Maven POM {lf.version or lf.path}: {' OR '.join(lf.licences) or 'no licence stated'}",
                                   None, "licence-file/maven-pom", lf.path))
        if lf.licences and c.license is None:
            _set_licence(c, " OR ".join(lf.licences), f"Maven POM {lf.path} shipped in the artifact")
            changed.append(c)
    return changed


def _defines_under(c: Component, group: str) -> bool:
    """The component defines packages in (or under) the given package."""
    return any(p == group or p.startswith(group + ".") for p in _packages(c))


def _tie_oss(lf: LicenceFile, java: list[Component]) -> list[Component]:
    changed = []
    for entry in lf.entries:
        name = str(entry.get("name", "")).lower()
        words = {w for w in re.split(r"[^a-z0-9]+", name) if len(w) >= 3 and w not in _STOP}
        for c in java:
            if name and (name == c.name.lower() or words & _root_segments(c)):
                changed += _tie_oss_entry(lf, entry, c)
    return changed


def _tie_oss_entry(lf: LicenceFile, entry: dict[str, object], c: Component) -> list[Component]:
    """Tie one oss-licenses entry to a component it names: its copyrights, and its licence when it names one."""
    if c.path not in lf.tied_to:
        lf.tied_to.append(c.path)
    lines = entry.get("copyrights")
    _add_copyrights(c, list(lines) if isinstance(lines, list) else [])
    licences = entry.get("licences")
    if c.license is None and isinstance(licences, list) and len(licences) == 1:
        _set_licence(c, str(licences[0]), f"{lf.path} entry {entry.get('name')!r} (oss-licenses plugin)")
        return [c]
    return []


# How each kind of file is tied to code; other kinds (licensegate-notices, metadata) tie to nothing.
_TIES: dict[str, Callable[[LicenceFile, list[Component]], list[Component]]] = {
    "version": _tie_version, "oss-licenses": _tie_oss, "pom": _tie_pom, "licence": _tie_by_name, "notice": _tie_by_name,
}


# -- classification ---------------------------------------------------------------------------------------------

_DEPRECATED = {"GPL-2.0", "GPL-3.0", "LGPL-2.1", "LGPL-3.0", "AGPL-3.0", "LGPL-2.0"}
_ALIAS_ONLY = {"GPL-2.0-or-later", "GPL-3.0-or-later", "LGPL-2.1-or-later", "LGPL-3.0-or-later", "AGPL-3.0-or-later", "LGPL-2.0-or-later"}
_WORD = re.compile(r"[a-z0-9]+")
_URL_TELLS = [
    (r"apache\.org/licenses/LICENSE-2\.0", "Apache-2.0"), (r"opensource\.org/licenses/mit", "MIT"),
    (r"opensource\.org/licenses/bsd-3", "BSD-3-Clause"), (r"opensource\.org/licenses/bsd-2", "BSD-2-Clause"),
    (r"eclipse\.org/legal/epl-v10|eclipse\.org/org/documents/epl-v10", "EPL-1.0"), (r"eclipse\.org/legal/epl-2\.0", "EPL-2.0"),
    (r"mozilla\.org/MPL/2\.0", "MPL-2.0"), (r"gnu\.org/licenses/old-licenses/lgpl-2\.1", "LGPL-2.1-only"),
    (r"gnu\.org/licenses/old-licenses/gpl-2\.0", "GPL-2.0-only"), (r"gnu\.org/licenses/lgpl", "LGPL-3.0-only"),
    (r"gnu\.org/licenses/agpl", "AGPL-3.0-only"), (r"gnu\.org/licenses/gpl", "GPL-3.0-only"),
    (r"creativecommons\.org/publicdomain/zero", "CC0-1.0"),
]


def _bigrams(text: str) -> frozenset[tuple[str, str]]:
    words = _WORD.findall(text.lower())
    return frozenset(zip(words, words[1:], strict=False))


@functools.cache
def _reference() -> dict[str, frozenset[tuple[str, str]]]:
    base = package_file("data/licenses")
    index = json.loads(base.joinpath("index.json").read_text("utf-8"))
    out: dict[str, frozenset[tuple[str, str]]] = {}
    for ident in index["ids"]:
        if ident in _DEPRECATED or ident in _ALIAS_ONLY:
            continue
        f = base.joinpath(f"{ident}.json")
        if not f.is_file():
            continue
        text = str(json.loads(f.read_text("utf-8")).get("licenseText") or "")
        text = re.sub(r"<[^<>\n]{1,40}>", " ", text)  # template fields: "<year> <owner>"
        grams = _bigrams(text)
        if len(grams) >= 20:
            out[ident] = grams
    return out


def classify(text: str) -> tuple[list[str], dict[str, float]]:
    """SPDX ids whose text the file contains, best first, with their bigram containment scores."""
    found = _spdx_tags(text)
    for ident, score in _contained(text):
        found.setdefault(ident, score)
    if not found and len(text) < 600:
        tell = next((i for pattern, i in _URL_TELLS if re.search(pattern, text, re.I)), None)
        if tell is not None:
            found[tell] = 1.0
    ordered = sorted(found, key=lambda i: -found[i])
    return ordered, {i: found[i] for i in ordered}


def _spdx_tags(text: str) -> dict[str, float]:
    """The licence ids of SPDX-License-Identifier tags, each scored 1.0."""
    found: dict[str, float] = {}
    for m in re.finditer(r"SPDX-License-Identifier:\s*([A-Za-z0-9.+\- ()]+)", text):
        for ident in re.split(r"\s+(?:OR|AND|WITH)\s+|[()]", m.group(1).strip()):
            if ident.strip():
                found[ident.strip()] = 1.0
    return found


def _contained(text: str) -> list[tuple[str, float]]:
    """(SPDX id, bigram containment score) of the reference texts the text contains, best first; a licence whose text
    lies inside one already accepted (BSD-2-Clause inside BSD-3-Clause) is left out."""
    doc = _bigrams(text)
    ref = _reference()
    scores = {ident: len(grams & doc) / len(grams) for ident, grams in ref.items()} if doc else {}
    scored = [(round(score, 2), len(ref[ident]), ident) for ident, score in scores.items() if score >= THRESHOLD]
    accepted: list[tuple[str, float]] = []
    for score, _n, ident in sorted(scored, key=lambda x: (-round(x[0] * 20) / 20, -x[1], x[2])):
        grams = ref[ident]
        if any(len(grams & ref[a]) / len(grams) >= 0.8 for a, _ in accepted):
            continue  # its text lies inside a licence already named
        accepted.append((ident, score))
    return accepted


# -- copyright lines --------------------------------------------------------------------------------------------

@functools.cache
def _copyright() -> re.Pattern[str]:
    return re.compile(
        r"(?:Copyright|COPYRIGHT|\([cC]\)|©)\s*(?:\([cC]\)\s*|©\s*)?(?:\d{4}[\d\s,\-–]*)(?:\([cC]\)\s*)?[^\n]*")


@functools.cache
def _placeholder() -> re.Pattern[str]:
    return re.compile(r"<\s*(?:year|owner|copyright holders?|name of author|author)\s*>|\[yyyy\]|\[name of copyright owner\]|\{yyyy\}", re.I)


def copyright_lines(texts: list[str]) -> list[str]:
    """Copyright statements found in texts, trimmed ("Copyright (c) 2018-2022 Cosmin Truta").

    Template placeholders ("Copyright (c) <year> <owner>", the Apache appendix's "[yyyy]") are never copyright lines.
    """
    found: list[str] = []
    for text in texts:
        for part in re.split(r"\n|\\n", _control().sub("", text)):
            for m in _copyright().finditer(part):
                line = _copyright_statement(m.group(0))
                if line is not None and line not in found:
                    found.append(line[:160])
    return found


def _copyright_statement(text: str) -> str | None:
    """A matched "Copyright ..." run trimmed to its statement; None for placeholders and years without a holder."""
    line = text.strip().rstrip("…").strip()
    line = re.split(r"\s+-\s+(?:https?://|options)|\s{2,}|<?https?://", line)[0].strip(" -,.")
    if _placeholder().search(line) or not re.search(r"\d{4}", line) or len(line) <= 12:
        return None
    if not re.search(r"\d{4}[\d\s,\-–]*(?:\([cC]\)\s*|©\s*|by\s+)?[A-Za-z]", line):
        return None  # a year and no holder ("Copyright 2004-2019")
    return line
