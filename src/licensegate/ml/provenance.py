"""Provenance and stance: pure functions over a `ModelFile` and what a team declares about it.

The policy loader (written elsewhere) builds `Declared` objects, typically with `Declared.from_mapping`; the
functions here never read files. docs/models.md explains the three stances and the classifications.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from typing import Literal

from licensegate import escape, spdx
from licensegate.errors import UsageError
from licensegate.ml.licences import UseRestriction, is_free, to_spdx, use_restrictions
from licensegate.ml.modelfile import ModelFile
from licensegate.model import Evidence

from .._dataclasses import dataclass, field

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
        unknown = set(data) - _DECLARATION_KEYS
        if unknown:
            raise UsageError(f"{source}: unknown model declaration keys {sorted(unknown)}")
        match = _declared_match(data, source)
        training_data = _training_data(data.get("training_data"), source)
        components = _mof_declared(data.get("components") or {}, source)
        licence = _opt_str(data, "licence", source) or _opt_str(data, "license", source)
        _check_licence(licence, "licence", source)
        _check_licence(training_data.licence if training_data else None, "training_data licence", source)
        return cls(
            match=match,
            licence=licence,
            upstream=_opt_str(data, "upstream", source),
            training_code=_opt_str(data, "training_code", source),
            training_data=training_data,
            model_card=_opt_str(data, "model_card", source),
            components=components,
            source=source,
        )


_DECLARATION_KEYS = frozenset({"match", "path", "sha256", "licence", "license", "upstream", "training_code",
                               "training_data", "model_card", "components"})  # fmt: skip


def _opt_str(where: Mapping[str, object], key: str, source: str) -> str | None:
    value = where.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise UsageError(f"{source}: `{key}` must be a string")
    return value


def _declared_match(data: Mapping[str, object], source: str) -> str:
    """What a declaration matches: `sha256:<hex>` or a member path glob."""
    match = _opt_str(data, "match", source) or _opt_str(data, "path", source)
    sha = _opt_str(data, "sha256", source)
    if sha is not None:
        match = f"sha256:{sha.removeprefix('sha256:')}"
        if not _SHA256.match(match):
            raise UsageError(f"{source}: `sha256` must be 64 hex digits")
    if not match:
        raise UsageError(f"{source}: a model declaration needs `path` (a glob) or `sha256`")
    return match


def _training_data(td_raw: object, source: str) -> TrainingData | None:
    """`training_data`: a description, or a table of description, location and licence."""
    if td_raw is None:
        return None
    if isinstance(td_raw, str):
        return TrainingData(description=td_raw)
    if not isinstance(td_raw, Mapping):
        raise UsageError(f"{source}: `training_data` must be a table or a string")
    extra = set(td_raw) - {"description", "location", "licence", "license"}
    if extra:
        raise UsageError(f"{source}: unknown training_data keys {sorted(extra)}")
    return TrainingData(
        description=_opt_str(td_raw, "description", source),
        location=_opt_str(td_raw, "location", source),
        licence=_opt_str(td_raw, "licence", source) or _opt_str(td_raw, "license", source),
    )


def _mof_declared(comps_raw: object, source: str) -> dict[str, str]:
    """`components`: further Model Openness Framework components, name -> location."""
    if not isinstance(comps_raw, Mapping) or not all(isinstance(v, str) for v in comps_raw.values()):
        raise UsageError(f"{source}: `components` must map component names to locations")
    bad = set(comps_raw) - KNOWN_COMPONENTS
    if bad:
        raise UsageError(f"{source}: unknown model components {sorted(bad)}; known: {sorted(KNOWN_COMPONENTS)}")
    return {str(k): str(v) for k, v in comps_raw.items()}


def _check_licence(value: str | None, what: str, source: str) -> None:
    """A declared licence must be an SPDX expression or a licence name LicenseGate maps to one."""
    if value is None or (len(value) <= 2000 and (spdx.is_valid(value) or to_spdx(value) is not None)):
        return
    shown = value if len(value) <= 60 else value[:60] + "…"
    raise UsageError(f"{source}: {what} {escape.text(repr(shown))} is neither a valid SPDX expression nor a "
                     "licence name LicenseGate knows; write an SPDX id, or LicenseRef-<name> for others")


def find_declared(declarations: Sequence[Declared], member: str, sha256: str | None) -> Declared | None:
    """The declaration for a model: a sha256 match wins over path globs; among globs the first wins."""
    by_digest = [d for d in declarations if d.match.startswith("sha256:")]
    by_glob = [d for d in declarations if not d.match.startswith("sha256:")]
    return next((d for d in by_digest + by_glob if d.matches(member, sha256)), None)


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
    found = (_licence_conflict(model, declared), _upstream_conflict(model, declared))
    return [c for c in found if c is not None]


def _licence_conflict(model: ModelFile, declared: Declared) -> Conflict | None:
    if not (declared.licence and model.license_raw):
        return None
    if _same_licence(model.license_raw, model.license, declared.licence, declared.licence_spdx):
        return None
    ev = tuple(e for e in model.evidence if "licen" in e.rule)
    return Conflict("licence", model.license or model.license_raw, declared.licence_spdx or declared.licence,
                    declared.source, ev)  # fmt: skip


def _upstream_conflict(model: ModelFile, declared: Declared) -> Conflict | None:
    """The first source key of the model's metadata that names another upstream than the declared one."""
    if not declared.upstream:
        return None
    want = _norm(declared.upstream)
    for key in _SOURCE_KEYS:
        have = model.metadata.get(key)
        if have and want not in _norm(have) and _norm(have) not in want:
            ev = tuple(e for e in model.evidence if e.rule.endswith(key))
            return Conflict("upstream", have, declared.upstream, declared.source, ev)
    return None


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
    for free, why in (_training_data_freedom(declared), _training_code_freedom(declared)):
        (reasons if free else toxic).append(why)
    if toxic:
        return DebianClassification("ToxicCandy", tuple(reasons + toxic))
    return DebianClassification("Free", tuple(reasons))


def _training_data_freedom(declared: Declared | None) -> tuple[bool, str]:
    """Whether the declared training data is public under a DFSG-free licence, and why (not)."""
    td = declared.training_data if declared else None
    if td is None or not td.location:
        return False, "training data not declared public (no training_data.location)"
    if not td.licence:
        return False, "training data licence not declared"
    if not is_free(to_spdx(td.licence)):
        return False, f"training data licence {td.licence!r} is not DFSG-free"
    return True, f"training data public at {td.location} under {to_spdx(td.licence)}"


def _training_code_freedom(declared: Declared | None) -> tuple[bool, str]:
    if declared is None or not declared.training_code:
        return False, "training code location not declared"
    return True, f"training code at {declared.training_code}"


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
        for k, v in _declared_components(declared).items():
            have.setdefault(k, v)
    return have


def _declared_components(declared: Declared) -> dict[str, str]:
    """The MOF components a declaration locates: its model card, training code and data, then `components`."""
    td = declared.training_data
    named = (("model-card", declared.model_card), ("training-code", declared.training_code),
             ("datasets", td.location if td else None))  # fmt: skip
    out = {k: v for k, v in named if v}
    for k, v in declared.components.items():
        out.setdefault(k, v)
    return out


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
    reqs = [Requirement("model-file", "the model as shipped (weights and graph)", True, model.member, "artifact", "ok"),
            _licence_requirement(model, declared, app_gpl_covered)]  # fmt: skip
    if stance in ("training-code", "training-code-and-data"):
        reqs.append(_training_code_requirement(declared, app_gpl_covered))
    if stance == "training-code-and-data":
        reqs.extend(_training_data_requirements(declared, app_gpl_covered))
    return reqs


def _severity(present: bool, key: str, app_gpl_covered: bool) -> RequirementStatus:
    if present:
        return "ok"
    if app_gpl_covered:
        return "violation"
    return "warning" if key == "licence" else "info"


def _licence_requirement(model: ModelFile, declared: Declared | None, app_gpl_covered: bool) -> Requirement:
    lic = effective_licence(model, declared)
    present = lic.raw is not None or lic.spdx is not None
    return Requirement("licence", "a licence for the model that permits redistribution", present, lic.where,
                       lic.source, _severity(present, "licence", app_gpl_covered))  # fmt: skip


def _training_code_requirement(declared: Declared | None, app_gpl_covered: bool) -> Requirement:
    code = declared.training_code if declared else None
    return Requirement("training-code", "the code that defines and trains the model, with its build scripts",
                       code is not None, code, "declared" if code else None,
                       _severity(code is not None, "training-code", app_gpl_covered))  # fmt: skip


def _training_data_requirements(declared: Declared | None, app_gpl_covered: bool) -> list[Requirement]:
    td = declared.training_data if declared else None
    loc = td.location if td else None
    desc = td.description if td else None
    return [
        Requirement("training-data", "the training data, obtainable by recipients", loc is not None, loc,
                    "declared" if loc else None, _severity(loc is not None, "training-data", app_gpl_covered)),
        Requirement("training-data-description", "a description of the training data", desc is not None,
                    declared.source if desc and declared else None, "declared" if desc else None,
                    _severity(desc is not None, "training-data-description", app_gpl_covered)),
    ]  # fmt: skip
