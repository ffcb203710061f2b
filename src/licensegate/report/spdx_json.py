"""SPDX 2.3 JSON: one package for the artifact, one per component, links as DYNAMIC_LINK relationships.

spdx-tools validates the output in the test suite. SPDX 3.0 (with its AI profile for models) is not written: no
maintained Python library writes and validates it yet (spdx-tools' 3.0 support is experimental).
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__, spdx
from ..model import Component
from ..spdx import licence_ids
from . import Report
from .notices import component_copyrights

if TYPE_CHECKING:
    from ..licence_files import LicenceFile

_NS = uuid.UUID("0d5c1d8e-3f4a-5e6b-9c7d-2e1f0a9b8c7d")
_PURPOSE = {"executable": "APPLICATION", "native-library": "LIBRARY", "java-library": "LIBRARY",
            "static-archive": "LIBRARY", "object": "LIBRARY", "bundle": "FRAMEWORK", "model": "OTHER"}


def spdx_ref(path: str) -> str:
    return "SPDXRef-" + re.sub(r"[^A-Za-z0-9.\-]+", "-", path).strip("-")


def _licence(expr: str | None) -> str:
    if not expr:
        return "NOASSERTION"
    try:
        return spdx.normalize(expr)
    except spdx.SpdxError:
        return "NOASSERTION"


def _package(c: Component) -> dict[str, object]:
    copyrights = component_copyrights(c)
    comment = f"{c.kind} at {c.path}; licence family {c.family}"
    if c.confidence:
        comment += f"; identified with {c.confidence} confidence from " + ", ".join(sorted({e.kind for e in c.evidence}))
    if c.license_choice:
        comment += f"; {c.license_choice}"
    pkg: dict[str, object] = {
        "name": c.name,
        "SPDXID": spdx_ref(c.path),
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False,
        "licenseConcluded": _licence(c.license),
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "\n".join(copyrights) if copyrights else "NOASSERTION",
        "primaryPackagePurpose": _PURPOSE.get(c.kind, "OTHER"),
        "comment": comment,
    }
    if c.version:
        pkg["versionInfo"] = c.version
    if c.sha256:
        pkg["checksums"] = [{"algorithm": "SHA256", "checksumValue": c.sha256}]
    if c.project:
        pkg["supplier"] = "NOASSERTION"
    return pkg


_ROOT_ID = "SPDXRef-artifact"


def _root_package(report: Report) -> dict[str, object]:
    """The package for the artifact itself: the app, under the policy's app licence."""
    a = report.scan.artifact
    root: dict[str, object] = {
        "name": a.app_id or Path(a.path).name, "SPDXID": _ROOT_ID, "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False, "licenseConcluded": _licence(report.policy.app_license), "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION", "primaryPackagePurpose": "APPLICATION",
        "checksums": [{"algorithm": "SHA256", "checksumValue": a.sha256}],
        "comment": f"{a.type} ({a.platform}) scanned by LicenseGate; verdict {report.verdict}",
    }
    if a.version:
        root["versionInfo"] = a.version
    return root


def _relationship(element: str, kind: str, related: str) -> dict[str, object]:
    return {"spdxElementId": element, "relationshipType": kind, "relatedSpdxElement": related}


def _component_relationships(comps: list[Component]) -> list[dict[str, object]]:
    """The artifact CONTAINS each component; a component's links inside the artifact are DYNAMIC_LINKs."""
    rels = [_relationship("SPDXRef-DOCUMENT", "DESCRIBES", _ROOT_ID)]
    paths = {c.path for c in comps}
    for c in comps:
        rels.append(_relationship(_ROOT_ID, "CONTAINS", spdx_ref(c.path)))
        rels += [_relationship(spdx_ref(c.path), "DYNAMIC_LINK", spdx_ref(t)) for t in c.links if t in paths]
    return rels


def _licence_file(lf: LicenceFile) -> dict[str, object]:
    """A licence file shipped in the artifact, as an SPDX file."""
    return {
        "fileName": "./" + lf.path, "SPDXID": spdx_ref("file:" + lf.path),
        "checksums": [{"algorithm": "SHA256", "checksumValue": lf.sha256}],
        "licenseConcluded": "NOASSERTION",
        "licenseInfoInFiles": [i for i in lf.licences if not i.startswith("LicenseRef-")] or ["NOASSERTION"],
        "copyrightText": "\n".join(lf.copyrights) or "NOASSERTION",
        "comment": f"{lf.kind} file shipped in the artifact" + (f"; tied to {', '.join(lf.tied_to)}" if lf.tied_to else ""),
    }


def _extracted_licences(report: Report, comps: list[Component]) -> list[dict[str, object]]:
    """The LicenseRef- ids used, each with the text SPDX asks for."""
    refs = sorted({i for c in comps for i in licence_ids(c.license) if i.startswith("LicenseRef-")}
                  | {i for i in licence_ids(report.policy.app_license) if i.startswith("LicenseRef-")})
    return [{"licenseId": r, "name": r.removeprefix("LicenseRef-"),
             "extractedText": f"{r}: a licence outside the SPDX License List, named by LicenseGate's data files; "
                              "see the component's evidence for its text."} for r in refs]


def to_spdx(report: Report) -> dict[str, object]:
    a = report.scan.artifact
    comps = sorted(report.components, key=lambda c: c.path)
    name = a.app_id or Path(a.path).name
    files = [_licence_file(lf) for lf in report.scan.licence_files]
    rels = _component_relationships(comps) + [_relationship(_ROOT_ID, "CONTAINS", str(f["SPDXID"])) for f in files]
    doc: dict[str, object] = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{name} (LicenseGate scan)",
        "documentNamespace": f"https://spdx.org/spdxdocs/licensegate-{re.sub(r'[^A-Za-z0-9.-]+', '-', name)}-"
                             f"{uuid.uuid5(_NS, a.sha256 + report.generated)}",
        "creationInfo": {"created": report.generated, "creators": [f"Tool: licensegate-{__version__}"]},
        "documentDescribes": [_ROOT_ID],
        "packages": [_root_package(report), *[_package(c) for c in comps]],
        "relationships": rels,
    }
    if files:
        doc["files"] = files
    extracted = _extracted_licences(report, comps)
    if extracted:
        doc["hasExtractedLicensingInfos"] = extracted
    return doc


def render(report: Report) -> str:
    return json.dumps(to_spdx(report), indent=2) + "\n"
