"""Provenance and stance: pure functions over a `ModelFile` and what a team declares about it.

The policy loader (written elsewhere) builds `Declared` objects, typically with `Declared.from_mapping`; the
functions here never read files. docs/models.md explains the three stances and the classifications.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from licensegate import escape, spdx
from licensegate.errors import UsageError
from licensegate.ml.licences import UseRestriction, is_free, to_spdx, use_restrictions
from licensegate.ml.modelfile import ModelFile
from licensegate.model import Evidence

Stance = Literal["data", "training-code", "training-code-and-data"]
STANCES: tuple[Stance, ...] = ("data", "training-code", "training-code-and-data")
DEFAULT_STANCE: Stance = "training-code"  # why: docs/models.md, "The default"

DebianClass = Literal["Free", "ToxicCandy", "NonFree"]
MofClass = Literal["Class I", "Class II", "Class III"]
RequirementStatus = Literal["ok", "violation", "warning", "info"]

# LF Model Openness Framework components per class (REFERENCES.md section 4); each class includes the one below.
MOF_COMPONENTS: dict[MofClass, tuple[str, ...]] = {
    "Class III": ("model-architecture", "model-parameters", "model-card", "data-card", "technical-report",
                  "evaluation-results"),
    "Class II": ("training-code", "inference-code", "evaluation-code", "evaluation-data", "supporting-libraries"),
    "Class I": ("research-paper", "datasets", "data-preprocessing-code", "intermediate-parameters"),
}  # fmt: skip
MOF_ORDER: tuple[MofClass, ...] = ("Class III", "Class II", "Class I")
KNOWN_COMPONENTS = frozenset(c for cs in MOF_COMPONENTS.values() for c in cs)
_SHA256 = re.compile(r"^sha256:([0-9a-fA-F]{64})$")


@dataclass(frozen=True)
class TrainingData:
    description: str | None = None  # what the data is ("COCO 2017 train, filtered to people")
    location: str | None = None  # where a recipient can get it (URL, dataset id); None when private
    licence: str | None = None  # the data's licence (SPDX expression or raw text), when known


@dataclass(frozen=True)
class Declared:
    """What a team declares about a model, matched by sha256 (`sha256:<hex>`) or by a member path glob."""

    match: str
    licence: str | None = None  # SPDX expression or raw text; mapped with to_spdx
    upstream: str | None = None  # where the model came from, e.g. a model hub id or URL
    training_code: str | None = None  # location of the code that trains the model (and defines its architecture)
    training_data: TrainingData | None = None
    model_card: str | None = None
    components: Mapping[str, str] = field(default_factory=dict, hash=False)  # further MOF components: name -> location
    source: str = "policy"  # where the declaration was made (file and entry), shown beside each fact

    @property
    def licence_spdx(self) -> str | None:
        return to_spdx(self.licence)

    def matches(self, member: str, sha256: str | None) -> bool:
        m = _SHA256.match(self.match)
        if m:
            return sha256 is not None and sha256.lower() == m.group(1).lower()
        return fnmatch.fnmatchcase(member, self.match)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], source: str = "policy") -> Declared:
        """Build from a policy-file table; raise UsageError naming the bad key."""

        def opt_str(key: str, where: Mapping[str, object] = data) -> str | None:
            value = where.get(key)
            if value is None:
                return None
            if not isinstance(value, str):
                raise UsageError(f"{source}: `{key}` must be a string")
            return value

        allowed = {"match", "path", "sha256", "licence", "license", "upstream", "training_code", "training_data",
                   "model_card", "components"}  # fmt: skip
        unknown = set(data) - allowed
        if unknown:
            raise UsageError(f"{source}: unknown model declaration keys {sorted(unknown)}")
        match = opt_str("match") or opt_str("path")
        sha = opt_str("sha256")
        if sha is not None:
            match = f"sha256:{sha.removeprefix('sha256:')}"
            if not _SHA256.match(match):
                raise UsageError(f"{source}: `sha256` must be 64 hex digits")
        if not match:
            raise UsageError(f"{source}: a model declaration needs `path` (a glob) or `sha256`")
        td_raw = data.get("training_data")
        training_data = None
        if isinstance(td_raw, str):
            training_data = TrainingData(description=td_raw)
        elif isinstance(td_raw, Mapping):
            extra = set(td_raw) - {"description", "location", "licence", "license"}
            if extra:
                raise UsageError(f"{source}: unknown training_data keys {sorted(extra)}")
            training_data = TrainingData(
                description=opt_str("description", td_raw),
                location=opt_str("location", td_raw),
                licence=opt_str("licence", td_raw) or opt_str("license", td_raw),
            )
        elif td_raw is not None:
            raise UsageError(f"{source}: `training_data` must be a table or a string")
        comps_raw = data.get("components") or {}
        if not isinstance(comps_raw, Mapping) or not all(isinstance(v, str) for v in comps_raw.values()):
            raise UsageError(f"{source}: `components` must map component names to locations")
        bad = set(comps_raw) - KNOWN_COMPONENTS
        if bad:
            raise UsageError(f"{source}: unknown model components {sorted(bad)}; known: {sorted(KNOWN_COMPONENTS)}")
        licence = opt_str("licence") or opt_str("license")
        for what, value in (("licence", licence), ("training_data licence", training_data.licence if training_data else None)):
            if value is not None and (len(value) > 2000 or (not spdx.is_valid(value) and to_spdx(value) is None)):
                shown = value if len(value) <= 60 else value[:60] + "…"
                raise UsageError(f"{source}: {what} {escape.text(repr(shown))} is neither a valid SPDX expression nor a "
                                 "licence name LicenseGate knows; write an SPDX id, or LicenseRef-<name> for others")
        return cls(
            match=match,
            licence=licence,
            upstream=opt_str("upstream"),
            training_code=opt_str("training_code"),
            training_data=training_data,
            model_card=opt_str("model_card"),
            components={str(k): str(v) for k, v in comps_raw.items()},
            source=source,
        )


def find_declared(declarations: Sequence[Declared], member: str, sha256: str | None) -> Declared | None:
    """The declaration for a model: a sha256 match wins over path globs; among globs the first wins."""
    for d in declarations:
        if d.match.startswith("sha256:") and d.matches(member, sha256):
            return d
    for d in declarations:
        if not d.match.startswith("sha256:") and d.matches(member, sha256):
            return d
    return None


# ---------------------------------------------------------------- licence as concluded


@dataclass(frozen=True)
class LicenceView:
    spdx: str | None
    raw: str | None
    source: Literal["declared", "embedded"] | None
    where: str | None


def effective_licence(model: ModelFile, declared: Declared | None) -> LicenceView:
    """The licence used for classification: the team's declaration when made, else the embedded metadata.

    Both are reported; a disagreement is a `Conflict`."""
    if declared is not None and declared.licence:
        return LicenceView(declared.licence_spdx, declared.licence, "declared", declared.source)
    if model.license_raw or model.license:
        where = next((e.member or model.member for e in model.evidence if "licen" in e.rule), model.member)
        return LicenceView(model.license, model.license_raw, "embedded", where)
    return LicenceView(None, None, None, None)


@dataclass(frozen=True)
class Conflict:
    """Declared and embedded facts that disagree: a finding."""

    field: str
    embedded: str
    declared: str
    declared_source: str
    evidence: tuple[Evidence, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "field": self.field,
            "embedded": self.embedded,
            "declared": self.declared,
            "declared_source": self.declared_source,
            "evidence": [e.to_json() for e in self.evidence],
        }


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9.+]+", " ", text.lower()).split())


def _same_licence(a_raw: str, a_spdx: str | None, b_raw: str, b_spdx: str | None) -> bool:
    if a_spdx and b_spdx:
        return sorted(i.lower() for i in spdx.licence_ids(a_spdx, exceptions=False)) == sorted(i.lower() for i in spdx.licence_ids(b_spdx, exceptions=False))
    return _norm(a_raw) == _norm(b_raw)


_SOURCE_KEYS = ("general.source.url", "general.source.huggingface.repository", "general.url", "upstream", "source")


def metadata_conflicts(model: ModelFile, declared: Declared | None) -> list[Conflict]:
    """Where the team's declaration and the model's own metadata disagree."""
    if declared is None:
        return []
    out: list[Conflict] = []
    if declared.licence and model.license_raw:
        if not _same_licence(model.license_raw, model.license, declared.licence, declared.licence_spdx):
            ev = tuple(e for e in model.evidence if "licen" in e.rule)
            out.append(
                Conflict(
                    "licence",
                    model.license or model.license_raw,
                    declared.licence_spdx or declared.licence,
                    declared.source,
                    ev,
                )  # fmt: skip
            )
    if declared.upstream:
        want = _norm(declared.upstream)
        for key in _SOURCE_KEYS:
            have = model.metadata.get(key)
            if have and want not in _norm(have) and _norm(have) not in want:
                ev = tuple(e for e in model.evidence if e.rule.endswith(key))
                out.append(Conflict("upstream", have, declared.upstream, declared.source, ev))
                break
    return out


def model_use_restrictions(model: ModelFile, declared: Declared | None) -> list[UseRestriction]:
    """Use-restricted licences named by the declaration or the embedded metadata (each once)."""
    out: list[UseRestriction] = []
    for expr in (declared.licence_spdx if declared else None, model.license):
        for r in use_restrictions(expr):
            if r not in out:
                out.append(r)
    return out


# ---------------------------------------------------------------- Debian ML Policy


@dataclass(frozen=True)
class DebianClassification:
    klass: DebianClass
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"class": self.klass, "reasons": list(self.reasons)}


def classify_debian_ml_policy(model: ModelFile, declared: Declared | None) -> DebianClassification:
    """Debian Deep Learning Team ML Policy: Free (free licence + free public training data + free training
    code), ToxicCandy (free licence, but data or code private or unknown), NonFree (otherwise)."""
    lic = effective_licence(model, declared)
    if lic.spdx is None:
        why = (f"licence {lic.raw!r} ({lic.source}) does not map to a known licence" if lic.raw
               else "no licence declared or embedded")  # fmt: skip
        return DebianClassification("NonFree", (why,))
    if not is_free(lic.spdx):
        return DebianClassification("NonFree", (f"licence {lic.spdx} ({lic.source}) is not a DFSG-free licence",))
    reasons = [f"licence {lic.spdx} ({lic.source}) is free"]
    toxic: list[str] = []
    td = declared.training_data if declared else None
    if td is None or not td.location:
        toxic.append("training data not declared public (no training_data.location)")
    elif not td.licence:
        toxic.append("training data licence not declared")
    elif not is_free(to_spdx(td.licence)):
        toxic.append(f"training data licence {td.licence!r} is not DFSG-free")
    else:
        reasons.append(f"training data public at {td.location} under {to_spdx(td.licence)}")
    if declared is None or not declared.training_code:
        toxic.append("training code location not declared")
    else:
        reasons.append(f"training code at {declared.training_code}")
    if toxic:
        return DebianClassification("ToxicCandy", tuple(reasons + toxic))
    return DebianClassification("Free", tuple(reasons))


# ---------------------------------------------------------------- Model Openness Framework


@dataclass(frozen=True)
class MofClassification:
    klass: MofClass | None  # the highest class whose components are all present; None below Class III
    present: tuple[str, ...]
    missing: Mapping[MofClass, tuple[str, ...]]  # per class not reached, what it lacks

    def to_json(self) -> dict[str, object]:
        return {
            "class": self.klass,
            "present": list(self.present),
            "missing": {k: list(v) for k, v in self.missing.items()},
        }


def mof_components(model: ModelFile, declared: Declared | None) -> dict[str, str]:
    """Component name -> where it is, from the artifact itself and the declaration."""
    have: dict[str, str] = {}
    lic = effective_licence(model, declared)
    if lic.spdx and is_free(lic.spdx):
        # the shipped file is the architecture and parameters; MOF asks for them under an open licence
        have["model-parameters"] = model.member
        if model.format not in ("safetensors", "unknown"):
            have["model-architecture"] = model.member
    if declared is not None:
        if declared.model_card:
            have["model-card"] = declared.model_card
        if declared.training_code:
            have["training-code"] = declared.training_code
        if declared.training_data and declared.training_data.location:
            have["datasets"] = declared.training_data.location
        for k, v in declared.components.items():
            have.setdefault(k, v)
    return have


def classify_mof(model: ModelFile, declared: Declared | None) -> MofClassification:
    """LF Model Openness Framework class, where the declared components allow; what each class lacks."""
    have = mof_components(model, declared)
    klass: MofClass | None = None
    missing: dict[MofClass, tuple[str, ...]] = {}
    blocked = False
    for c in MOF_ORDER:
        lacks = tuple(x for x in MOF_COMPONENTS[c] if x not in have)
        if lacks:
            missing[c] = lacks
            blocked = True
        elif not blocked:
            klass = c
    return MofClassification(klass, tuple(sorted(have)), missing)


# ---------------------------------------------------------------- stance


@dataclass(frozen=True)
class Requirement:
    """One piece the chosen stance requires as the model's corresponding source."""

    key: str  # "model-file", "licence", "training-code", "training-data", "training-data-description"
    what: str  # human description
    present: bool
    where: str | None  # member path, URL, or the declaration's source
    source: Literal["artifact", "embedded", "declared"] | None
    severity: RequirementStatus  # "violation": missing and required now; "info": needed only under the GPL

    def to_json(self) -> dict[str, object]:
        return {"key": self.key, "what": self.what, "present": self.present, "where": self.where,
                "source": self.source, "severity": self.severity}  # fmt: skip


def stance_requirements(
    stance: Stance, model: ModelFile, declared: Declared | None, app_gpl_covered: bool
) -> list[Requirement]:
    """What the stance requires for this model, each present or missing.

    A missing piece is a violation in a GPL-covered app; otherwise a missing licence is a warning and other
    missing pieces are information.
    """
    if stance not in STANCES:
        raise UsageError(f"models.source must be one of {', '.join(STANCES)}; got {stance!r}")

    def sev(present: bool, key: str) -> RequirementStatus:
        if present:
            return "ok"
        if app_gpl_covered:
            return "violation"
        return "warning" if key == "licence" else "info"

    reqs: list[Requirement] = [
        Requirement("model-file", "the model as shipped (weights and graph)", True, model.member, "artifact", "ok")
    ]
    lic = effective_licence(model, declared)
    lic_present = lic.raw is not None or lic.spdx is not None
    reqs.append(
        Requirement(
            "licence",
            "a licence for the model that permits redistribution",
            lic_present,
            lic.where,
            lic.source,
            sev(lic_present, "licence"),
        )  # fmt: skip
    )
    if stance in ("training-code", "training-code-and-data"):
        code = declared.training_code if declared else None
        reqs.append(
            Requirement(
                "training-code",
                "the code that defines and trains the model, with its build scripts",
                code is not None,
                code,
                "declared" if code else None,
                sev(code is not None, "training-code"),
            )  # fmt: skip
        )
    if stance == "training-code-and-data":
        td = declared.training_data if declared else None
        loc = td.location if td else None
        desc = td.description if td else None
        reqs.append(
            Requirement(
                "training-data",
                "the training data, obtainable by recipients",
                loc is not None,
                loc,
                "declared" if loc else None,
                sev(loc is not None, "training-data"),
            )  # fmt: skip
        )
        reqs.append(
            Requirement(
                "training-data-description",
                "a description of the training data",
                desc is not None,
                declared.source if desc and declared else None,
                "declared" if desc else None,
                sev(desc is not None, "training-data-description"),
            )  # fmt: skip
        )
    return reqs
