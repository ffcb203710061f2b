"""Policy: turn components into findings with severities and obligations.

Without a policy file the built-in default applies (docs/policy.md): the app is proprietary; GPL and AGPL code fail;
nonfree code fails; LGPL code in its own shared library passes with notice and source-offer obligations, LGPL code
statically combined with other code fails; permissive code passes with attribution obligations.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .errors import UsageError
from .model import Component, Finding, LoadSite, Obligation

if TYPE_CHECKING:
    from .models import Declared, ModelFile

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Severity = Literal["error", "warning", "info"]
SEVERITIES = ("error", "warning", "info", "off")

# Rule ids and their default severities (the app is proprietary).
DEFAULT_RULES: dict[str, str] = {
    "copyleft-gpl": "error",
    "copyleft-agpl": "error",
    "nonfree": "error",
    "lgpl-static": "error",
    "lgpl-shared": "info",
    "weak-copyleft": "info",
    "app-links-copyleft": "error",
    "unidentified-native-code": "info",
    "member-problem": "warning",
    "model-stance-unmet": "error",
    "model-license-undeclared": "warning",
    "model-metadata-conflict": "warning",
    "model-use-restricted": "warning",
    "model-gpl3-conflict": "error",
}

RULE_DESCRIPTIONS: dict[str, str] = {
    "copyleft-gpl": "GPL-licensed code is shipped in the app",
    "copyleft-agpl": "AGPL-licensed code is shipped in the app",
    "nonfree": "Code marked not redistributable (nonfree) is shipped in the app",
    "lgpl-static": "LGPL code is statically combined with other code",
    "lgpl-shared": "LGPL code is shipped as its own shared library",
    "weak-copyleft": "File-level copyleft code (MPL, EPL, CDDL) is shipped",
    "app-links-copyleft": "The app's own code links or loads copyleft code",
    "unidentified-native-code": "Native code whose origin and licence could not be identified",
    "member-problem": "An archive member could not be analysed or looks tampered with",
    "model-stance-unmet": "A model lacks what the chosen stance requires as its corresponding source",
    "model-license-undeclared": "A model ships with no licence, embedded or declared",
    "model-metadata-conflict": "A model's declared facts contradict its embedded metadata",
    "model-use-restricted": "A model is under a use-restricted licence whose terms must be passed on",
    "model-gpl3-conflict": "A use-restricted model licence conflicts with GPL-3.0 terms covering the app",
}


@dataclass
class Policy:
    source: str = "built-in default"
    app_license: str | None = None  # None: proprietary
    rules: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_RULES))
    model_stance: str = "training-code"  # docs/models.md explains the three stances and this default
    model_declarations: list[Declared] = field(default_factory=list)

    @property
    def app_is_gpl_covered(self) -> bool:
        if self.app_license is None:
            return False
        from . import spdx

        return spdx.family(self.app_license) in ("gpl", "agpl")

    def to_json(self) -> dict[str, object]:
        return {"source": self.source, "app_license": self.app_license, "rules": self.rules,
                "models": {"source": self.model_stance, "declared": [d.match for d in self.model_declarations]}}


_KNOWN_TOP = {"version", "app", "rules", "models"}


def load(path: Path | None) -> Policy:
    """The policy in `path`, or the built-in default when None. Bad files raise UsageError (exit 2)."""
    if path is None:
        return Policy()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: policy file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read policy file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML ({exc})") from None
    policy = Policy(source=str(path))
    unknown = set(raw) - _KNOWN_TOP
    if unknown:
        raise UsageError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_KNOWN_TOP))}")
    if raw.get("version", 1) != 1:
        raise UsageError(f"{path}: policy version {raw.get('version')!r} is not supported (this LicenseGate reads version 1)")
    app = raw.get("app", {})
    if not isinstance(app, dict) or set(app) - {"license"}:
        raise UsageError(f"{path}: [app] accepts only 'license'")
    if "license" in app:
        from . import spdx

        lic = app["license"]
        if not isinstance(lic, str) or not spdx.is_valid(lic):
            raise UsageError(f"{path}: app.license {lic!r} is not a valid SPDX expression")
        policy.app_license = lic
    rules = raw.get("rules", {})
    if not isinstance(rules, dict):
        raise UsageError(f"{path}: [rules] must be a table of rule = severity")
    for rule, sev in rules.items():
        if rule not in DEFAULT_RULES:
            raise UsageError(f"{path}: unknown rule {rule!r}; known: {', '.join(DEFAULT_RULES)}")
        if sev not in SEVERITIES:
            raise UsageError(f"{path}: rule {rule!r} has severity {sev!r}; use one of {', '.join(SEVERITIES)}")
        policy.rules[rule] = sev
    _load_models(raw.get("models", {}), policy, path)
    return policy


def _load_models(table: object, policy: Policy, path: Path) -> None:
    from .models import Declared
    from .models.provenance import STANCES

    if not isinstance(table, dict):
        raise UsageError(f"{path}: [models] must be a table")
    unknown = set(table) - {"source", "declare"}
    if unknown:
        raise UsageError(f"{path}: unknown key(s) in [models]: {', '.join(sorted(unknown))}; known: declare, source")
    stance = table.get("source", policy.model_stance)
    if stance not in STANCES:
        raise UsageError(f"{path}: models.source must be one of {', '.join(STANCES)}; got {stance!r}")
    policy.model_stance = stance
    declared = table.get("declare", [])
    if not isinstance(declared, list):
        raise UsageError(f"{path}: models.declare must be an array of tables ([[models.declare]])")
    for i, entry in enumerate(declared):
        if not isinstance(entry, dict):
            raise UsageError(f"{path}: models.declare[{i}] must be a table")
        policy.model_declarations.append(Declared.from_mapping(entry, source=f"{path}: models.declare[{i}]"))


@functools.lru_cache(maxsize=1)
def _obligations_by_family() -> dict[str, list[tuple[str, str]]]:
    text = resources.files("licensegate").joinpath("data/obligations.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return {fam: [(o["id"], o["text"]) for o in entry["obligations"]] for fam, entry in data["family"].items()}


def obligations_for(family: str, license: str | None) -> list[Obligation]:
    return [Obligation(oid, text, license) for oid, text in _obligations_by_family().get(family, [])]


# ---------------------------------------------------------------------------------------------------------------


def evaluate(
    components: list[Component],
    problems: list,
    load_sites: list[LoadSite],
    policy: Policy,
    platform: str,
    models: dict[str, ModelFile] | None = None,
) -> list[Finding]:
    """Findings for every component that the policy has something to say about, plus chains from app code."""
    findings: list[Finding] = []
    gpl_app = policy.app_is_gpl_covered

    def add(rule: str, comp: Component | None, message: str, obligations: list[Obligation], chain: list[str] | None = None, floor: str | None = None) -> None:
        sev = policy.rules.get(rule, "info")
        if sev == "off":
            return
        if floor == "info" and sev == "error":
            sev = "info"
        findings.append(Finding(rule, sev, comp.path if comp else None, message, obligations, chain or []))  # type: ignore[arg-type]

    for comp in components:
        comp.obligations = obligations_for(comp.family, comp.license)
        for part in comp.embedded:
            from . import spdx

            fam = spdx.family(part.license) if part.license else "unknown"
            for ob in obligations_for(fam, part.license):
                if ob not in comp.obligations:
                    comp.obligations.append(ob)
        fam = comp.family
        static = _statically_combined(comp)
        where = f" ({comp.license}" + (f", version {comp.version}" if comp.version else "") + ")"
        ios_note = " GPL terms are widely held to be incompatible with App Store distribution terms." if platform == "ios" else ""
        if fam == "nonfree":
            add("nonfree", comp, f"{comp.path}: {comp.name}{where} is marked not redistributable; this build must not be distributed.", comp.obligations)
        elif fam == "agpl":
            add("copyleft-agpl", comp, f"{comp.path}: {comp.name}{where} is AGPL code; distributing it requires the whole app under the AGPL and its source offered.{ios_note}", comp.obligations, floor="info" if gpl_app else None)
        elif fam == "gpl":
            add("copyleft-gpl", comp, f"{comp.path}: {comp.name}{where} is GPL code; distributing it requires the whole app under the GPL and its complete source offered.{ios_note}", comp.obligations, floor="info" if gpl_app else None)
        elif fam == "lgpl":
            if static:
                add("lgpl-static", comp, f"{comp.path}: {comp.name}{where} is LGPL code {static}; users cannot replace it, so the LGPL's relinking terms are not met by a shared library.", comp.obligations)
            else:
                add("lgpl-shared", comp, f"{comp.path}: {comp.name}{where} is an LGPL shared library: ship its notice and a source offer, and keep it replaceable.", comp.obligations)
        elif fam == "weak-copyleft":
            add("weak-copyleft", comp, f"{comp.path}: {comp.name}{where} is under a file-level copyleft licence: offer the source of its files.", comp.obligations)
        elif fam == "unknown" and comp.format in ("elf", "macho", "ar"):
            add("unidentified-native-code", comp, f"{comp.path}: native code not identified by any signature; treated as the app's own code.", [])

    findings.extend(_chains(components, load_sites, policy))
    if models:
        findings.extend(_model_findings(components, models, policy))
    for prob in problems:
        sev = policy.rules.get("member-problem", "warning")
        if sev != "off":
            findings.append(Finding("member-problem", sev, prob.path, f"{prob.path}: {prob.problem}: {prob.detail}"))  # type: ignore[arg-type]
    return findings


def _model_findings(components: list[Component], models: dict[str, ModelFile], policy: Policy) -> list[Finding]:
    """Provenance, classification and the stance's requirements for every model; findings for what is missing."""
    from . import spdx
    from .models import (
        classify_debian_ml_policy,
        classify_mof,
        find_declared,
        metadata_conflicts,
        model_use_restrictions,
        stance_requirements,
    )

    code = [c for c in components if c.kind != "model"]
    gpl_code = [c for c in code if c.family in ("gpl", "agpl")]
    gpl_covered = policy.app_is_gpl_covered or bool(gpl_code)
    gpl3 = any("GPL-3.0" in (lic or "") or "-or-later" in (lic or "") for lic in [policy.app_license] + [c.license for c in gpl_code] if lic and "GPL" in lic)
    why_covered = (f"the app is declared {policy.app_license}" if policy.app_is_gpl_covered
                   else f"the app contains GPL code ({', '.join(c.path for c in gpl_code[:3])})" if gpl_code else "")
    out: list[Finding] = []

    def add(rule: str, comp: Component, message: str, severity: str | None = None) -> None:
        sev = severity or policy.rules.get(rule, "info")
        if sev != "off":
            out.append(Finding(rule, sev, comp.path, message))  # type: ignore[arg-type]

    for comp in components:
        mf = models.get(comp.path)
        if mf is None:
            continue
        dec = find_declared(policy.model_declarations, comp.path, comp.sha256)
        if dec is not None and dec.licence_spdx and comp.license != dec.licence_spdx:
            comp.details["embedded_license"] = comp.license
            comp.license = dec.licence_spdx
            comp.origin = "declared"
            comp.family = spdx.family(comp.license) if spdx.is_valid(comp.license) else "unknown"
        comp.obligations = obligations_for(comp.family, comp.license)
        reqs = stance_requirements(policy.model_stance, mf, dec, gpl_covered)  # type: ignore[arg-type]
        conflicts = metadata_conflicts(mf, dec)
        restrictions = model_use_restrictions(mf, dec)
        comp.details["provenance"] = {
            "declared": None if dec is None else {
                "source": dec.source, "match": dec.match, "license": dec.licence, "upstream": dec.upstream,
                "training_code": dec.training_code, "model_card": dec.model_card,
                "training_data": None if dec.training_data is None else {
                    "description": dec.training_data.description, "location": dec.training_data.location,
                    "license": dec.training_data.licence},
            },
            "stance": policy.model_stance,
            "app_gpl_covered": gpl_covered,
            "debian_ml_policy": classify_debian_ml_policy(mf, dec).to_json(),
            "model_openness_framework": classify_mof(mf, dec).to_json(),
            "requirements": [r.to_json() for r in reqs],
            "conflicts": [c.to_json() for c in conflicts],
            "use_restrictions": [r.to_json() for r in restrictions],
        }
        for r in reqs:
            if r.present:
                continue
            if r.severity == "violation":
                add("model-stance-unmet", comp, f"{comp.path}: {r.what} is missing; the policy's stance ({policy.model_stance}) "
                    f"counts it as the model's corresponding source and {why_covered}.")
            elif r.key == "licence":
                add("model-license-undeclared", comp, f"{comp.path}: the model carries no licence and none is declared in the policy ([[models.declare]]).")
            else:
                add("model-stance-unmet", comp, f"{comp.path}: {r.what} is not declared (needed only if the app becomes GPL-covered).", "info")
        for c in conflicts:
            add("model-metadata-conflict", comp, f"{comp.path}: declared {c.field} {c.declared!r} ({c.declared_source}) contradicts the embedded {c.embedded!r}.")
        for u in restrictions:
            add("model-use-restricted", comp, f"{comp.path}: {u.licence} restricts use ({'; '.join(u.restrictions[:3])}); pass the restrictions on and ship its notice: {u.notice}")
            if u.gpl3_conflict and gpl3:
                add("model-gpl3-conflict", comp, f"{comp.path}: {u.licence} adds use restrictions, which GPL-3.0 s.7 and s.10 forbid in a work covered by it ({why_covered}).")
    return out


def _statically_combined(comp: Component) -> str | None:
    """Why an LGPL component counts as statically combined, or None when it is its own shared library."""
    if comp.kind in ("static-archive", "object"):
        return "in a static archive that gets linked into other code"
    from . import spdx

    if comp.origin != "identified" and any(m.license and spdx.family(m.license) == "lgpl" for m in comp.embedded):
        return "linked statically into app code"
    if comp.kind == "executable" and comp.format == "macho" and comp.details.get("bundle_executable"):
        return "linked into the app's main executable"
    return None


def _chains(components: list[Component], load_sites: list[LoadSite], policy: Policy) -> list[Finding]:
    """App-owned code (DEX call sites, unidentified native code) that links or loads copyleft code, with the chain."""
    by_path = {c.path: c for c in components}
    found: dict[tuple[str, str], list[str]] = {}

    def walk(origin: str, start: Component, chain: list[str]) -> None:
        seen = {start.path}
        queue = [(start, chain)]
        while queue:
            comp, path = queue.pop(0)
            if comp.family in _CHAIN_FAMILIES and len(path) > 1:
                found.setdefault((origin, comp.path), path)
            for nxt in comp.links:
                target = by_path.get(nxt)
                if target is not None and nxt not in seen:
                    seen.add(nxt)
                    queue.append((target, path + [nxt]))

    for comp in components:
        if comp.format in ("elf", "macho") and comp.origin == "unidentified":
            walk(comp.path, comp, [comp.path])
    for comp in components:
        for site in comp.load_sites:
            origin = f"{site.dex} ({site.class_name}.{site.method})"
            walk(origin, comp, [origin, comp.path])

    out = []
    for (origin, target), chain in found.items():
        comp = by_path[target]
        sev = policy.rules.get("app-links-copyleft", "error")
        if policy.app_is_gpl_covered and comp.family != "nonfree" and sev == "error":
            sev = "info"
        if sev == "off":
            continue
        verb = "loads" if "(" in chain[0] else "links"
        out.append(Finding(
            "app-links-copyleft", sev, target,  # type: ignore[arg-type]
            f"App code {origin} {verb} {comp.family.upper()} code {target} ({comp.license}): " + " -> ".join(chain),
            comp.obligations, chain,
        ))
    return out


_CHAIN_FAMILIES = ("gpl", "agpl", "nonfree")


def verdict(findings: list[Finding], fail_on: str = "error") -> Literal["pass", "fail"]:
    if fail_on == "never":
        return "pass"
    failing = {"error"} if fail_on == "error" else {"error", "warning"}
    return "fail" if any(f.severity in failing and not f.waived_by for f in findings) else "pass"
