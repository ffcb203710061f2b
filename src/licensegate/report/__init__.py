"""The report: one object joining a scan and the policy's verdict on it; renderers turn it into text, JSON and others.

Renderers read the scan through `Report.components` (each component as the policy concluded it: licence, family,
obligations) and a model's provenance through `Report.assessment`; they never see the policy write anything, because
it does not (`licensegate.policy.evaluate` is pure).
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from typing import TYPE_CHECKING

from .. import __version__
from .._dataclasses import asdict, dataclass, field
from ..model import Component, Finding, LibraryMatch, LoadSite

if TYPE_CHECKING:  # `licensegate --version` imports this package (the CLI's format list): it must stay light
    from collections.abc import Iterable

    from ..archive import MemberProblem
    from ..policy import ModelAssessment, Outcome, Policy, PolicyChoice, Verdict
    from ..scan import ScanResult

SCHEMA_ID = "licensegate.report/3"
READABLE_SCHEMAS = ("licensegate.report/1", "licensegate.report/2", SCHEMA_ID)  # what `diff` reads


@dataclass
class Report:
    """What a scan found, the policy it was judged by and the verdict: what every renderer reads."""

    scan: ScanResult
    policy: Policy
    evaluation: Verdict  # what the policy concluded: findings, obligations, licences, model provenance
    duration_s: float
    fail_on: str = "error"
    generated: str = field(default_factory=lambda: generated_now())
    policy_choice: PolicyChoice | None = None  # how the CLI chose the policy file; None when a caller passed it

    @property
    def policy_line(self) -> str:
        """The policy as a report names it: the file and where it was found, and files found but not used."""
        return self.policy_choice.describe() if self.policy_choice is not None else self.policy.source

    @property
    def findings(self) -> list[Finding]:
        return self.evaluation.findings

    @property
    def verdict(self) -> Outcome:
        """"pass" or "fail" under the report's fail_on."""
        return self.evaluation.outcome(self.fail_on)

    @functools.cached_property
    def components(self) -> list[Component]:
        """The scanned components as the policy concluded them (copies; the scan result is left as scanned)."""
        return [self.evaluation.concluded(c) for c in self.scan.components]

    @property
    def models(self) -> list[Component]:
        return sorted((c for c in self.components if c.kind == "model"), key=lambda c: c.path)

    def assessment(self, path: str) -> ModelAssessment | None:
        """A model's provenance under the policy's stance (None for components that are not models)."""
        return self.evaluation.models.get(path)

    def component(self, path: str | None) -> Component | None:
        if path is None:
            return None
        for c in self.components:
            if c.path == path:
                return c
        return None

    @property
    def failing(self) -> list[Finding]:
        """The unwaived findings that make the verdict fail under the report's --fail-on."""
        if self.verdict == "pass":
            return []
        sevs = {"error"} if self.fail_on == "error" else {"error", "warning"}
        return [f for f in self.findings if f.severity in sevs and not f.waived_by]

    @property
    def problems(self) -> list[MemberProblem]:
        return self.scan.problems

    def to_json(self) -> dict[str, object]:
        comps = sorted(self.components, key=lambda c: c.path)
        return {
            "schema": SCHEMA_ID,
            "tool": {"name": "licensegate", "version": __version__},
            "generated": self.generated,
            "artifact": asdict(self.scan.artifact),
            "policy": self._policy_json(),
            "summary": self._summary_json(comps),
            "components": [component_json(c, self.evaluation) for c in comps],
            "load_sites": [load_site_json(s) for s in self.scan.load_sites],
            "problems": [p.to_json() for p in self.problems],
            "licence_files": [lf.to_json() for lf in self.scan.licence_files],
            "findings": [f.to_json() for f in self.findings],
            "verdict": self.verdict,
        }

    def _summary_json(self, comps: list[Component]) -> dict[str, object]:
        return {
            "members": self.scan.members_scanned,
            "components": len(comps),
            "by_family": tally(c.family for c in comps),
            "findings": tally(f.severity for f in self.findings),
            "unidentified_native": sum(1 for f in self.findings if f.rule == "unidentified-native"),
            "duration_s": round(self.duration_s, 3),
        }

    def _policy_json(self) -> dict[str, object]:
        out = self.policy.to_json()
        if self.policy_choice is not None:
            out["discovery"] = self.policy_choice.to_json()
        return out


def tally(values: Iterable[str]) -> dict[str, int]:
    """How often each value occurs, in the order of first occurrence (the JSON summary's key order)."""
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


def generated_now() -> str:
    """UTC time of the report; SOURCE_DATE_EPOCH (reproducible builds) fixes it."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    t = time.gmtime(int(epoch)) if epoch and epoch.isdigit() else time.gmtime()
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", t)


def build(scan: ScanResult, policy: Policy, verdict: Verdict, fail_on: str, duration_s: float) -> Report:
    return Report(scan, policy, verdict, duration_s, fail_on=fail_on)


def fingerprint(f: Finding) -> str:
    """A stable id for a finding across builds: rule, component and chain, never the message wording."""
    key = "\0".join([f.rule, f.component or f.message, *f.chain])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def match_json(m: LibraryMatch) -> dict[str, object]:
    return {
        "id": m.id,
        "name": m.name,
        "project": m.project,
        "version": m.version,
        "license": m.license,
        "confidence": m.confidence,
        "evidence": [e.to_json() for e in m.evidence],
    }


def load_site_json(s: LoadSite) -> dict[str, object]:
    return {"dex": s.member,  # JSON key kept from schema 1: the member holding the call (DEX or class file)
            "class": s.class_name, "method": s.method, "call": s.call, "argument": s.argument, "offset": s.offset}


def details_json(c: Component, verdict: Verdict | None = None) -> dict[str, object]:
    """The JSON "details" of a component: its kind-specific facts, the typed facts stages hand each other, and for a
    model the policy's conclusions (the licence found in it when a declaration replaced it, its provenance)."""
    out: dict[str, object] = {k: c.details[k] for k in ("interpreter", "slices", "weak_links") if k in c.details}
    if c.dlopen_names:
        out["dlopen_names"] = c.dlopen_names
    if c.ml_runtime:
        out["ml_runtime"] = True
    out.update((k, v) for k, v in c.details.items() if k not in out)
    if c.bundle_executable:
        out["bundle_executable"] = True
    if verdict is not None:
        out.update(_policy_details(c, verdict))
    return out


def _policy_details(c: Component, verdict: Verdict) -> dict[str, object]:
    """What the policy concluded about a model: the licence found in it when a declaration replaced it, provenance."""
    out: dict[str, object] = {}
    k = verdict.conclusions.get(c.path)
    if k is not None and k.license_declared:
        out["embedded_license"] = k.embedded_license
    assessment = verdict.models.get(c.path)
    if assessment is not None:
        out["provenance"] = assessment.to_json()
    return out


def component_json(c: Component, verdict: Verdict | None = None) -> dict[str, object]:
    return {
        "path": c.path,
        "kind": c.kind,
        "format": c.format,
        "name": c.name,
        "version": c.version,
        "license": c.license,
        "license_choice": c.license_choice,
        "family": c.family,
        "confidence": c.confidence,
        "origin": c.origin,
        "identified_as": c.identified_as,
        "project": c.project,
        "evidence": [e.to_json() for e in c.evidence],
        "embedded": [match_json(m) for m in c.embedded],
        "links": c.links,
        "unresolved_links": c.unresolved_links,
        "loaded_by": c.loaded_by,
        "load_sites": [load_site_json(s) for s in c.load_sites],
        "soname": c.soname,
        "rpaths": c.rpaths,
        "sha256": c.sha256,
        "size": c.size,
        "abi": c.abi,
        "obligations": [o.to_json() for o in c.obligations],
        "details": details_json(c, verdict),
    }
