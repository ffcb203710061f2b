"""CycloneDX 1.6 JSON, built with cyclonedx-python-lib.

Native and Java components carry their concluded licence, hashes, and `evidence.identity` (the technique and the
confidence of each piece of evidence, the member as an occurrence, copyright lines found in strings). Models are
`machine-learning-model` components. cyclonedx-python-lib has no model-card model yet, so the `modelCard` object is
added to the serialised JSON by `_model_card` from what the scan knows; the result is validated against the 1.6
schema in the test suite. Dependencies follow the link graph; the app (metadata.component) depends on every
component no other component links.
"""

from __future__ import annotations

import datetime
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component as CdxComponent
from cyclonedx.model.component import ComponentType
from cyclonedx.model.component_evidence import (
    AnalysisTechnique,
    ComponentEvidence,
    Identity,
    IdentityField,
    Method,
    Occurrence,
)
from cyclonedx.model.license import LicenseAcknowledgement, LicenseExpression
from cyclonedx.output.json import JsonV1Dot6

from .. import __version__
from ..model import Component
from ..policy import ModelAssessment
from . import Report
from .notices import component_copyrights

if TYPE_CHECKING:
    from ..licence_files import LicenceFile

_CONFIDENCE = {"high": Decimal("0.9"), "medium": Decimal("0.6"), "low": Decimal("0.3")}
_TECHNIQUE = {
    "licence-string": AnalysisTechnique.BINARY_ANALYSIS,
    "identity-string": AnalysisTechnique.BINARY_ANALYSIS,
    "symbol": AnalysisTechnique.BINARY_ANALYSIS,
    "soname": AnalysisTechnique.BINARY_ANALYSIS,
    "embedded-component": AnalysisTechnique.BINARY_ANALYSIS,
    "filename": AnalysisTechnique.FILENAME,
    "metadata": AnalysisTechnique.MANIFEST_ANALYSIS,
}
_TYPE = {"executable": ComponentType.APPLICATION, "model": ComponentType.MACHINE_LEARNING_MODEL}
_NS = uuid.UUID("6f1b2d4e-9c3a-5b7d-8e0f-1a2b3c4d5e6f")  # LicenseGate's namespace for deterministic serial numbers


def _clip(text: str, n: int = 200) -> str:
    text = text.replace("\n", " ").strip()
    return text if len(text) <= n else text[: n - 1] + "…"


def _properties(c: Component) -> list[Property]:
    """LicenseGate's facts about a component that CycloneDX has no field for, as `licensegate:` properties."""
    props = [Property(name="licensegate:path", value=c.path), Property(name="licensegate:kind", value=c.kind),
             Property(name="licensegate:family", value=c.family), Property(name="licensegate:origin", value=c.origin)]
    optional = (("format", c.format), ("abi", c.abi), ("license-choice", c.license_choice))
    props += [Property(name=f"licensegate:{key}", value=value) for key, value in optional if value]
    props += [Property(name="licensegate:embedded", value=f"{m.name} {m.version or ''} ({m.license})".replace("  ", " "))
              for m in c.embedded]
    return props


def _identity_evidence(c: Component) -> ComponentEvidence | None:
    """`evidence.identity`: each piece of evidence as a method with its technique and confidence."""
    if not (c.evidence or c.confidence):
        return None
    conf = _CONFIDENCE.get(c.confidence or "low", Decimal("0.3"))
    # a file name alone is weak evidence whatever the overall confidence (docs/report.md)
    methods = [Method(technique=_TECHNIQUE.get(e.kind, AnalysisTechnique.OTHER),
                      confidence=_CONFIDENCE["low"] if e.kind == "filename" else conf,
                      value=_clip(f"{e.rule}: {e.text}")) for e in c.evidence[:10]]
    occurrences = [Occurrence(location=c.path, offset=e.offset) for e in c.evidence[:1]] or [Occurrence(location=c.path)]
    return ComponentEvidence(
        identity=[Identity(field=IdentityField.NAME, confidence=conf, concluded_value=c.name, methods=methods)],
        occurrences=occurrences,
    )


_DECLARED_REFS = (("training_code", ExternalReferenceType.VCS), ("model_card", ExternalReferenceType.DOCUMENTATION),
                  ("upstream", ExternalReferenceType.DISTRIBUTION))


def _declared_references(a: ModelAssessment | None) -> list[ExternalReference]:
    """The links a [[models.declare]] entry gives (training code, model card, upstream) as external references."""
    declared = a.declared if a else None
    if declared is None:
        return []
    urls = ((key, kind, getattr(declared, key)) for key, kind in _DECLARED_REFS)
    return [ExternalReference(type=kind, url=XsUri(url), comment=key) for key, kind, url in urls
            if url and url.startswith(("http://", "https://"))]


def _component(c: Component, a: ModelAssessment | None) -> CdxComponent:
    copyrights = component_copyrights(c)
    return CdxComponent(
        name=c.name,
        type=_TYPE.get(c.kind, ComponentType.LIBRARY),
        bom_ref=c.path,
        version=c.version,
        group=None,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=c.sha256)] if c.sha256 else None,
        licenses=[LicenseExpression(c.license, acknowledgement=LicenseAcknowledgement.CONCLUDED)] if c.license else None,
        copyright="\n".join(copyrights) or None,
        properties=_properties(c),
        evidence=_identity_evidence(c),
        external_references=_declared_references(a) or None,
    )


def _tensors(items: object) -> list[dict[str, str]]:
    """A model's inputs or outputs as modelCard formats ("input: float32[1x224x224x3]")."""
    out = []
    for x in items if isinstance(items, list) else []:
        if isinstance(x, dict):
            shape = "x".join(str(d) for d in x.get("shape") or []) or "?"
            out.append({"format": f"{x.get('name')}: {x.get('dtype') or 'tensor'}[{shape}]"})
    return out


def _model_parameters(c: Component, model: dict[str, object], a: ModelAssessment | None) -> dict[str, object]:
    producer = f" ({model['producer']})" if model.get("producer") else ""
    params: dict[str, object] = {"modelArchitecture": f"{c.format} model{producer}"}
    for key in ("inputs", "outputs"):
        tensors = _tensors(model.get(key))
        if tensors:
            params[key] = tensors
    td = a.declared.training_data if a and a.declared else None
    if td is not None:
        data: dict[str, object] = {"type": "dataset", "name": str(td.description or "training data")}
        if td.location:
            data["contents"] = {"url": str(td.location)}
        params["datasets"] = [data]
    return params


def _provenance_properties(a: ModelAssessment | None) -> list[dict[str, str]]:
    """The stance, the Debian ML Policy and MOF classes, and each requirement of the stance, met or missing."""
    props = [{"name": "licensegate:stance", "value": str(a.stance if a else None)}]
    if a is None:
        return props
    props.append({"name": "licensegate:debian-ml-policy", "value": str(a.debian_ml_policy.klass)})
    props.append({"name": "licensegate:mof-class", "value": str(a.model_openness_framework.klass)})
    for r in a.requirements:
        state = f"present: {r.where}" if r.present else "missing"
        props.append({"name": f"licensegate:requires:{r.key}", "value": f"{r.what} - {state}"})
    return props


def _model_card(c: Component, a: ModelAssessment | None) -> dict[str, object]:
    """A CycloneDX modelCard from the model's metadata and its provenance under the policy's stance."""
    found = c.details.get("model")
    model: dict[str, object] = found if isinstance(found, dict) else {}
    card: dict[str, object] = {"bom-ref": f"{c.path}#model-card", "modelParameters": _model_parameters(c, model, a),
                               "properties": _provenance_properties(a)}
    raw_notes = model.get("notes")
    notes = [str(n) for n in raw_notes] if isinstance(raw_notes, (list, tuple)) else []
    if model.get("description"):
        notes.insert(0, str(model["description"]))
    if notes:
        card["considerations"] = {"technicalLimitations": notes}
    return card


def to_cyclonedx(report: Report) -> dict[str, object]:
    """The BOM in named steps: the app as the root, one component per binary, model and licence file, the link graph
    as dependencies, then the model cards (added to the JSON, which the library does not model)."""
    comps = sorted(report.components, key=lambda c: c.path)
    root = _root(report)
    bom = _bom(report, root)
    by_path = {c.path: _component(c, report.assessment(c.path)) for c in comps}
    for c in comps:
        bom.components.add(by_path[c.path])
    for lf in report.scan.licence_files:
        bom.components.add(_licence_file(lf))
    _register_links(bom, root, comps, by_path)
    data = json.loads(JsonV1Dot6(bom).output_as_string())
    _add_model_cards(data, report, comps)
    return dict(data)


def _register_links(bom: Bom, root: CdxComponent, comps: list[Component], by_path: dict[str, CdxComponent]) -> None:
    """The link graph as dependencies: the app depends on what nothing else links, each binary on what it links."""
    linked = {t for c in comps for t in c.links}
    bom.register_dependency(root, [by_path[c.path] for c in comps if c.path not in linked])
    for c in comps:
        bom.register_dependency(by_path[c.path], [by_path[t] for t in c.links if t in by_path])


def _root(report: Report) -> CdxComponent:
    a = report.scan.artifact
    return CdxComponent(name=a.app_id or Path(a.path).name, type=ComponentType.APPLICATION, bom_ref="artifact",
                        version=a.version, hashes=[HashType(alg=HashAlgorithm.SHA_256, content=a.sha256)],
                        properties=[Property(name="licensegate:artifact-type", value=a.type),
                                    Property(name="licensegate:platform", value=a.platform),
                                    Property(name="licensegate:verdict", value=report.verdict)])


def _bom(report: Report, root: CdxComponent) -> Bom:
    """An empty BOM whose serial number and timestamp follow from the artifact and the report, so reruns agree."""
    a = report.scan.artifact
    timestamp = datetime.datetime.strptime(report.generated, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    bom = Bom(serial_number=uuid.uuid5(_NS, f"{a.sha256}/{report.generated}/{__version__}"),
              metadata=BomMetaData(component=root, timestamp=timestamp))
    bom.metadata.tools.components.clear()  # the library lists itself; we add LicenseGate below, deterministically
    bom.metadata.tools.components.add(CdxComponent(name="licensegate", version=__version__, type=ComponentType.APPLICATION))
    return bom


def _licence_file(lf: LicenceFile) -> CdxComponent:
    """A licence, NOTICE or version file shipped in the artifact: a `file` component, licences as found in its text."""
    props = [Property(name="licensegate:licence-file-kind", value=lf.kind)]
    props += [Property(name="licensegate:tied-to", value=t) for t in lf.tied_to]
    if lf.version:
        props.append(Property(name="licensegate:version-file", value=lf.version))
    licences = [LicenseExpression(" AND ".join(lf.licences), acknowledgement=LicenseAcknowledgement.DECLARED)]
    return CdxComponent(
        name=lf.path, type=ComponentType.FILE, bom_ref=f"file:{lf.path}",
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=lf.sha256)],
        licenses=licences if lf.licences else None, copyright="\n".join(lf.copyrights) or None, properties=props)


def _add_model_cards(data: dict[str, Any], report: Report, comps: list[Component]) -> None:
    cards = {c.path: _model_card(c, report.assessment(c.path)) for c in comps if c.kind == "model"}
    for item in data.get("components", []):
        if item.get("bom-ref") in cards:
            item["modelCard"] = cards[item["bom-ref"]]


def render(report: Report) -> str:
    return json.dumps(to_cyclonedx(report), indent=2) + "\n"
