"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Every rule carries short and full descriptions and help; every result has a location (the artifact, with the member
path in the message, the logical location and the properties) and a `partialFingerprints` entry that depends only on
rule, component and chain, so a finding keeps its identity across builds. Waived findings carry a suppression.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

from .. import __version__
from ..model import Finding
from ..policy import catalogue, rule
from . import Report, fingerprint

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "licensegate/v1"
_LEVEL = {"error": "error", "warning": "warning", "info": "note", "off": "none"}

def _artifact_uri(path: str) -> str:
    """Repository-relative when the artifact is under the working folder, as GitHub code scanning expects."""
    p = Path(path)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(Path(os.getcwd()).resolve()).as_posix()
        except ValueError:
            return p.as_uri()
    return p.as_posix()


def _rule(rule_id: str, level: str) -> dict[str, object]:
    r = rule(rule_id)  # every rule a finding carries is in data/rules.toml (tests/test_rules_catalogue.py)
    short = r.description if r else rule_id
    full, help_text = (r.rationale, r.remediation) if r else (short, "")
    return {
        "id": rule_id,
        "name": "".join(w.capitalize() for w in rule_id.split("-")),
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": f"{full}\n\nWhat to do: {help_text}", "markdown": f"{full}\n\n**What to do:** {help_text}"},
        "defaultConfiguration": {"level": _LEVEL.get(level, "warning")},
        "properties": {"tags": ["licensing", "compliance"], "precision": "high"},
    }


def _result(f: Finding, report: Report, rule_index: dict[str, int], uri: str) -> dict[str, object]:
    member = f.component or ""
    text = f.message if not member or member in f.message else f"{member}: {f.message}"
    location: dict[str, object] = {
        "physicalLocation": {"artifactLocation": {"uri": uri, "index": 0}, "region": {"startLine": 1}},
    }
    if member:
        location["logicalLocations"] = [{"fullyQualifiedName": member, "kind": "module"}]
    out: dict[str, object] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index[f.rule],
        "level": _LEVEL.get(f.severity, "warning"),
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f)},
        "properties": _properties(f, report),
    }
    if f.waived_by:
        out["suppressions"] = [{"kind": "external", "status": "accepted", "justification": f.waived_by}]
    return out


def _properties(f: Finding, report: Report) -> dict[str, object]:
    """The finding's member and severity, its component's identity, the chain and the obligations."""
    props: dict[str, object] = {"member": f.component or None, "severity": f.severity}
    comp = report.component(f.component)
    if comp is not None:
        props.update({"component": comp.name, "version": comp.version, "license": comp.license, "family": comp.family,
                      "confidence": comp.confidence, "sha256": comp.sha256})
    if f.chain:
        props["chain"] = f.chain
    if f.obligations:
        props["obligations"] = [o.id for o in f.obligations]
    return props


def to_sarif(report: Report) -> dict[str, object]:
    known = list(catalogue())
    rule_ids = known + sorted({f.rule for f in report.findings} - set(known))
    rule_index = {r: i for i, r in enumerate(rule_ids)}
    a = report.scan.artifact
    uri = _artifact_uri(a.path)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "LicenseGate",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(r, report.policy.rules.get(r, "warning")) for r in rule_ids],
            }},
            "automationDetails": {"id": f"licensegate/{a.app_id or Path(a.path).name}/"},
            "artifacts": [{"location": {"uri": uri}, "length": a.size, "hashes": {"sha-256": a.sha256}}] + [
                # licence, NOTICE and version files shipped inside, as nested artifacts of the scanned one
                {"location": {"uri": quote(lf.path, safe="/!")}, "parentIndex": 0, "length": lf.size, "hashes": {"sha-256": lf.sha256},
                 "roles": ["attachment"],
                 "description": {"text": f"{lf.kind} file" + (f": {', '.join(lf.licences)}" if lf.licences else "")
                                 + (f"; tied to {', '.join(lf.tied_to)}" if lf.tied_to else "")}}
                for lf in report.scan.licence_files],
            "invocations": [{"executionSuccessful": True, "endTimeUtc": report.generated}],
            "results": [_result(f, report, rule_index, uri) for f in report.findings],
            "properties": {"verdict": report.verdict, "policy": report.policy.source},
        }],
    }


def render(report: Report) -> str:
    return json.dumps(to_sarif(report), indent=2) + "\n"
