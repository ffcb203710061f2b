"""The model stance: what a policy concludes about each shipped model, and the findings for what is missing.

A model's corresponding source depends on the stance the team chose (docs/models.md); the requirements, the
Debian ML Policy and Model Openness Framework classes, conflicts and use restrictions come from `licensegate.ml`,
which holds the mechanisms. This module applies them under a policy and returns them typed (`ModelAssessment`).
"""

from __future__ import annotations

from collections.abc import Callable

from .._dataclasses import dataclass
from ..ml import (
    Conflict,
    DebianClassification,
    Declared,
    ModelFile,
    MofClassification,
    Requirement,
    UseRestriction,
    classify_debian_ml_policy,
    classify_mof,
    find_declared,
    metadata_conflicts,
    model_use_restrictions,
    stance_requirements,
)
from ..model import Component, Finding
from .file import Policy


@dataclass(frozen=True)
class ModelAssessment:
    """A model's provenance under the policy's stance: what is declared, its classes, what the stance requires."""

    declared: Declared | None
    stance: str
    app_gpl_covered: bool
    debian_ml_policy: DebianClassification
    model_openness_framework: MofClassification
    requirements: tuple[Requirement, ...]
    conflicts: tuple[Conflict, ...]
    use_restrictions: tuple[UseRestriction, ...]

    @property
    def missing(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.present]

    def to_json(self) -> dict[str, object]:
        dec = self.declared
        return {
            "declared": None if dec is None else {
                "source": dec.source, "match": dec.match, "license": dec.licence, "upstream": dec.upstream,
                "training_code": dec.training_code, "model_card": dec.model_card,
                "training_data": None if dec.training_data is None else {
                    "description": dec.training_data.description, "location": dec.training_data.location,
                    "license": dec.training_data.licence},
            },
            "stance": self.stance,
            "app_gpl_covered": self.app_gpl_covered,
            "debian_ml_policy": self.debian_ml_policy.to_json(),
            "model_openness_framework": self.model_openness_framework.to_json(),
            "requirements": [r.to_json() for r in self.requirements],
            "conflicts": [c.to_json() for c in self.conflicts],
            "use_restrictions": [r.to_json() for r in self.use_restrictions],
        }


def declaration_for(comp: Component, policy: Policy) -> Declared | None:
    return find_declared(policy.model_declarations, comp.path, comp.sha256)


def assess(mf: ModelFile, dec: Declared | None, policy: Policy, gpl_covered: bool) -> ModelAssessment:
    return ModelAssessment(
        declared=dec,
        stance=policy.model_stance,
        app_gpl_covered=gpl_covered,
        debian_ml_policy=classify_debian_ml_policy(mf, dec),
        model_openness_framework=classify_mof(mf, dec),
        requirements=tuple(stance_requirements(policy.model_stance, mf, dec, gpl_covered)),  # type: ignore[arg-type]
        conflicts=tuple(metadata_conflicts(mf, dec)),
        use_restrictions=tuple(model_use_restrictions(mf, dec)),
    )


def _gpl3_terms(policy: Policy, gpl_code: list[Component]) -> bool:
    """Whether GPL-3.0 terms (the app's, or those of GPL code it links) may cover the app."""
    licences = [policy.app_license] + [c.license for c in gpl_code]
    return any("GPL-3.0" in lic or "-or-later" in lic for lic in licences if lic and "GPL" in lic)


def _why_covered(policy: Policy, gpl_code: list[Component]) -> str:
    if policy.app_is_gpl_covered:
        return f"the app is declared {policy.app_license}"
    if gpl_code:
        return f"the app's code links or loads GPL code ({', '.join(c.path for c in gpl_code[:3])})"
    return ""


def model_findings(components: list[Component], models: dict[str, ModelFile], policy: Policy,
                   gpl_code: list[Component]) -> tuple[list[Finding], dict[str, ModelAssessment]]:
    """The assessment of every model and the findings for what its stance finds missing or in conflict.

    `gpl_code`: the GPL components the app's own code links or loads (they make the app GPL-covered).
    """
    gpl_covered = policy.app_is_gpl_covered or bool(gpl_code)
    gpl3 = _gpl3_terms(policy, gpl_code)
    why_covered = _why_covered(policy, gpl_code)
    out: list[Finding] = []
    assessments: dict[str, ModelAssessment] = {}

    def add(rule: str, comp: Component, message: str, severity: str | None = None) -> None:
        sev = severity or policy.severity(rule)
        if sev != "off":
            out.append(Finding(rule, sev, comp.path, message))  # type: ignore[arg-type]

    for comp in components:
        mf = models.get(comp.path)
        if mf is None:
            continue
        a = assess(mf, declaration_for(comp, policy), policy, gpl_covered)
        assessments[comp.path] = a
        _requirement_findings(comp, a, policy, why_covered, add)
        for c in a.conflicts:
            add("model-metadata-conflict", comp, f"{comp.path}: declared {c.field} {c.declared!r} ({c.declared_source}) contradicts the embedded {c.embedded!r}.")
        for u in a.use_restrictions:
            add("model-use-restricted", comp, f"{comp.path}: {u.licence} restricts use ({'; '.join(u.restrictions[:3])}); pass the restrictions on and ship its notice: {u.notice}")
            if u.gpl3_conflict and gpl3:
                add("model-gpl3-conflict", comp, f"{comp.path}: {u.licence} adds use restrictions, which GPL-3.0 s.7 and s.10 forbid in a work covered by it ({why_covered}).")
    return out, assessments


def _requirement_findings(comp: Component, a: ModelAssessment, policy: Policy, why_covered: str,
                          add: Callable[..., None]) -> None:
    """A violation when a piece the stance requires now is missing; info when it is needed only under the GPL."""
    for r in a.missing:
        if r.severity == "violation":
            add("model-stance-unmet", comp, f"{comp.path}: {r.what} is missing; the policy's stance ({policy.model_stance}) "
                f"counts it as the model's corresponding source and {why_covered}.")
        elif r.key == "licence":
            add("model-license-undeclared", comp, f"{comp.path}: the model carries no licence and none is declared in the policy ([[models.declare]]).")
        else:
            add("model-stance-unmet", comp, f"{comp.path}: {r.what} is not declared (needed only if the app becomes GPL-covered).", "info")
