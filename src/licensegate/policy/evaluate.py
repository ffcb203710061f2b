"""Policy as a pure stage: `evaluate(scan_result, policy) -> Verdict`.

Without a policy file the built-in default applies (docs/policy.md): the app is proprietary; GPL and AGPL code fail;
nonfree code fails; LGPL code in its own shared library passes with notice and source-offer obligations, LGPL code
statically combined with other code fails; permissive code passes with attribution obligations.

The scan result is only read: what the policy concludes about a component (its licence when a declaration replaces
the one found, its obligations, a model's provenance) lives in the `Verdict`, which renderers read.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import TYPE_CHECKING, Literal

from .. import _toml, spdx
from ..archive import MemberProblem
from ..model import Component, Family, Finding, Obligation
from .file import Policy
from .waivers import selects

if TYPE_CHECKING:
    from ..scan import ScanResult
    from .stance import ModelAssessment

Outcome = Literal["pass", "fail"]


@dataclass(frozen=True)
class Conclusion:
    """What the policy concludes about one component."""

    license: str | None
    family: Family
    origin: Literal["identified", "unidentified", "declared"]
    obligations: tuple[Obligation, ...]
    license_declared: bool = False  # a [[models.declare]] licence replaced the one found in the artifact
    embedded_license: str | None = None  # the licence found in the artifact (None: none), when one was replaced


@dataclass
class Verdict:
    """Everything the policy concluded about one scan; the scan result itself is left as it was."""

    findings: list[Finding]
    conclusions: dict[str, Conclusion] = field(default_factory=dict)  # by component path
    models: dict[str, ModelAssessment] = field(default_factory=dict)  # by component path, one per shipped model

    def outcome(self, fail_on: str = "error") -> Outcome:
        return outcome(self.findings, fail_on)

    def conclusion(self, comp: Component) -> Conclusion:
        return self.conclusions.get(comp.path) or Conclusion(comp.license, comp.family, comp.origin, tuple(comp.obligations))

    def concluded(self, comp: Component) -> Component:
        """A copy of `comp` with the policy's conclusions applied: what reports show."""
        k = self.conclusion(comp)
        return replace(comp, license=k.license, family=k.family, origin=k.origin, obligations=list(k.obligations))


def outcome(findings: Iterable[Finding], fail_on: str = "error") -> Outcome:
    """"fail" when an unwaived finding is at least as severe as `fail_on` ("error", "warning"; "never" passes)."""
    if fail_on == "never":
        return "pass"
    failing = {"error"} if fail_on == "error" else {"error", "warning"}
    return "fail" if any(f.severity in failing and not f.waived_by for f in findings) else "pass"




@functools.cache
def _obligations_by_family() -> dict[str, list[tuple[str, str]]]:
    text = resources.files("licensegate").joinpath("data/obligations.toml").read_text(encoding="utf-8")
    data = _toml.loads(text)
    return {fam: [(o["id"], o["text"]) for o in entry["obligations"]] for fam, entry in data["family"].items()}


def obligations_for(family: str, license: str | None) -> list[Obligation]:
    return [Obligation(oid, text, license) for oid, text in _obligations_by_family().get(family, [])]


def component_obligations(comp: Component) -> tuple[Obligation, ...]:
    """The obligations of a component's licence and of every library embedded in it, without repeats."""
    out = obligations_for(comp.family, comp.license)
    for part in comp.embedded:
        fam = spdx.family(part.license) if part.license else "unknown"
        out += [ob for ob in obligations_for(fam, part.license) if ob not in out]
    return tuple(out)


def _model_conclusion(comp: Component, policy: Policy) -> Conclusion:
    """A model's licence is the one the policy declares for it, when that differs from the one found."""
    from .stance import declaration_for  # the model stance and the ml package load only for apps with models

    dec = declaration_for(comp, policy)
    if dec is not None and dec.licence_spdx and comp.license != dec.licence_spdx:
        lic = dec.licence_spdx
        fam: Family = spdx.family(lic) if spdx.is_valid(lic) else "unknown"
        return Conclusion(lic, fam, "declared", tuple(obligations_for(fam, lic)),
                          license_declared=True, embedded_license=comp.license)
    return Conclusion(comp.license, comp.family, comp.origin, tuple(obligations_for(comp.family, comp.license)))


def evaluate(scan: ScanResult, policy: Policy, today: datetime.date | None = None, *,
             source_offer: bool = False) -> Verdict:
    """What `policy` says about `scan`: findings with severities, obligations, concluded licences, model provenance.

    Severity overrides and waivers apply last; `today` (default: the UTC date) decides which waivers have expired.
    `source_offer`: the caller writes the written source offer, so a missing contact is a finding
    (`source-offer-contact-missing`). Pure: `scan` is not changed.
    """
    conclusions = {c.path: Conclusion(c.license, c.family, c.origin, component_obligations(c)) for c in scan.components}
    findings = _component_findings(scan.components, conclusions, policy, scan.artifact.platform)
    reach = copyleft_reach(scan.components)
    findings.extend(_chains(scan.components, reach, conclusions, policy))
    assessments: dict[str, ModelAssessment] = {}
    if scan.models:
        # GPL code the app's own code links or loads makes the app GPL-covered; a GPL program merely shipped beside
        # it (an aggregate) does not.
        linked = [c for c in scan.components if c.path in reach and c.family in ("gpl", "agpl")]
        linked += [c for c in scan.components if c.origin == "unidentified" and c.family in ("gpl", "agpl") and c not in linked]
        for comp in scan.components:
            if comp.path in scan.models:
                conclusions[comp.path] = _model_conclusion(comp, policy)
        from .stance import model_findings

        more, assessments = model_findings(scan.components, scan.models, policy, linked)
        findings.extend(more)
    findings.extend(_problem_findings(scan.problems, policy))
    findings = apply_overrides(findings, scan.components, policy)
    findings.extend(apply_waivers(findings, scan.components, policy, today))
    if source_offer:
        findings.extend(source_offer_findings(scan.components, policy, conclusions))
    return Verdict(findings, conclusions, assessments)


def _problem_findings(problems: list[MemberProblem], policy: Policy) -> list[Finding]:
    sev = policy.severity("member-problem", "warning")
    if sev == "off":
        return []
    return [Finding("member-problem", sev, p.path, f"{p.path}: {p.problem}: {p.detail}") for p in problems]  # type: ignore[arg-type]


_Add = Callable[..., None]


def _component_findings(components: list[Component], conclusions: dict[str, Conclusion], policy: Policy,
                        platform: str) -> list[Finding]:
    """Findings from each component's licence family, the platform and the allow and deny lists."""
    findings: list[Finding] = []

    def add(rule: str, comp: Component | None, message: str, obligations: list[Obligation], chain: list[str] | None = None,
            floor: str | None = None) -> None:
        sev = policy.severity(rule)
        if sev == "off":
            return
        if floor == "info" and sev == "error":
            sev = "info"
        findings.append(Finding(rule, sev, comp.path if comp else None, message, obligations, chain or []))  # type: ignore[arg-type]

    for comp in components:
        obligations = list(conclusions[comp.path].obligations)
        _family_finding(comp, obligations, policy, add)
        if platform == "ios" and comp.family in ("gpl", "agpl"):
            add("ios-gpl", comp, f"{comp.path}: {comp.name}{_where(comp)} is {comp.family.upper()} code in an iOS app: App Store terms add "
                "usage restrictions that the GPL forbids (GPL-2.0 s.6, GPL-3.0 s.10); the FSF holds them incompatible and "
                "VLC was withdrawn from the App Store over this in 2011.", obligations)
        if comp.license and (policy.allow or policy.deny):
            _allow_deny(comp, policy, add, obligations)
    return findings


def _where(comp: Component) -> str:
    return f" ({comp.license}" + (f", version {comp.version}" if comp.version else "") + ")"


def _family_finding(comp: Component, obligations: list[Obligation], policy: Policy, add: _Add) -> None:
    """The finding a component's licence family calls for, if any."""
    fam, where = comp.family, _where(comp)
    floor = "info" if policy.app_is_gpl_covered else None  # GPL code in a GPL app is what it should be
    if fam == "nonfree":
        add("nonfree", comp, f"{comp.path}: {comp.name}{where} is marked not redistributable; this build must not be distributed.", obligations)
    elif fam == "agpl":
        add("copyleft-agpl", comp, f"{comp.path}: {comp.name}{where} is AGPL code; distributing it requires the whole app under the AGPL and its source offered.", obligations, floor=floor)
    elif fam == "gpl":
        add("copyleft-gpl", comp, f"{comp.path}: {comp.name}{where} is GPL code; distributing it requires the whole app under the GPL and its complete source offered.", obligations, floor=floor)
    elif fam == "lgpl":
        static = _statically_combined(comp)
        if comp.kind == "java-library" and comp.format == "dex":
            add("lgpl-java", comp, f"{comp.path}: {comp.name}{where} is an LGPL Java library merged into the app's DEX files: users cannot swap it like a shared library, so ship what they need to rebuild with a modified copy, and a source offer.", obligations)
        elif static:
            add("lgpl-static", comp, f"{comp.path}: {comp.name}{where} is LGPL code {static}; users cannot replace it, so the LGPL's relinking terms are not met by a shared library.", obligations)
        else:
            add("lgpl-shared", comp, f"{comp.path}: {comp.name}{where} is an LGPL shared library: ship its notice and a source offer, and keep it replaceable.", obligations)
    elif fam == "weak-copyleft":
        add("weak-copyleft", comp, f"{comp.path}: {comp.name}{where} is under a file-level copyleft licence: offer the source of its files.", obligations)
    elif fam == "unknown" and comp.format in ("elf", "macho", "ar"):
        if comp.origin == "identified":
            add("unidentified-native", comp, f"{comp.path}: identified as {comp.name}, but its licence is unknown; review it.", [])
        else:
            parts = comp.embedded and ("; parts found inside: " + ", ".join(sorted({m.name for m in comp.embedded})))
            add("unidentified-native", comp, f"{comp.path}: native code that nothing identifies (tried: the hand-written "
                "signatures' licence and identity strings, symbols and sonames, and the Debian knowledge base's "
                "distinctive strings and exported symbols" + (parts or "") + "); treated as the app's own code.", [])
    elif fam == "unknown" and comp.kind in ("java-library", "java-code") and comp.origin == "unidentified":
        classes = comp.details.get("classes")
        add("unidentified-java-code", comp, f"{comp.path}: {classes} classes of Java code ({comp.name}) that no library in the knowledge base claims; licence unknown.", [])


def _allow_deny(comp: Component, policy: Policy, add: _Add, obligations: list[Obligation]) -> None:
    """`license-denied` when no choice under OR avoids a denied id; `license-not-allowed` when none stays in the list."""
    try:
        expr = spdx.parse(comp.license or "", strict=False)
    except spdx.SpdxError:
        return
    deny, allow = set(policy.deny), set(policy.allow)

    def names(lic: spdx.LicenseId | spdx.With) -> set[str]:
        if isinstance(lic, spdx.With):
            return {str(lic), lic.licence.id, str(lic.licence)}
        return {lic.id, str(lic)}

    def avoids(e: spdx.Expression) -> bool:
        if isinstance(e, (spdx.LicenseId, spdx.With)):
            return not (names(e) & deny)
        return any(avoids(a) for a in e.args) if isinstance(e, spdx.Or) else all(avoids(a) for a in e.args)

    def allowed(e: spdx.Expression) -> bool:
        if isinstance(e, (spdx.LicenseId, spdx.With)):
            return bool(names(e) & allow)
        return any(allowed(a) for a in e.args) if isinstance(e, spdx.Or) else all(allowed(a) for a in e.args)

    if deny and not avoids(expr):
        add("license-denied", comp, f"{comp.path}: {comp.name} is under {comp.license}, which the policy denies "
            f"([licenses] deny = {', '.join(policy.deny)}).", obligations)
    elif allow and not allowed(expr):
        add("license-not-allowed", comp, f"{comp.path}: {comp.name} is under {comp.license}, which is not in the policy's "
            "allow list ([licenses] allow).", obligations)


def apply_overrides(findings: list[Finding], components: list[Component], policy: Policy) -> list[Finding]:
    """Findings with the severities [[override]] sets; an override to "off" drops the finding."""
    if not policy.overrides:
        return findings
    by_path = {c.path: c for c in components}
    out = []
    for f in findings:
        comp = by_path.get(f.component or "")
        sev: str = f.severity
        for o in policy.overrides:
            if o.rule == f.rule and (not (o.name or o.path or o.sha256) or selects(o.name, o.path, o.sha256, comp, f.component)):
                sev = o.severity
        if sev != "off":
            f.severity = sev  # type: ignore[assignment]
            out.append(f)
    return out


_POLICY_RULES = ("waiver-expired", "waiver-unused", "source-offer-contact-missing")


def apply_waivers(findings: list[Finding], components: list[Component], policy: Policy,
                  today: datetime.date | None = None) -> list[Finding]:
    """Mark findings covered by a current waiver; return the findings about the waivers themselves.

    An expired waiver waives nothing and is itself a failure (`waiver-expired`); a current waiver that matches no
    finding is reported (`waiver-unused`) so stale waivers get cleaned up.
    """
    if not policy.waivers:
        return []
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    by_path = {c.path: c for c in components}
    out: list[Finding] = []
    for i, w in enumerate(policy.waivers):
        label = w.label(i)
        hits = [f for f in findings if f.rule not in _POLICY_RULES and w.matches(f, by_path.get(f.component or ""))]
        if w.expires is not None and w.expired(today):
            sev = policy.severity("waiver-expired", "error")
            if sev != "off":
                covers = f" it would cover {len(hits)} finding(s)" if hits else " it matches nothing"
                out.append(Finding("waiver-expired", sev, None,  # type: ignore[arg-type]
                                   f"{policy.source}: {label} expired on {w.expires.isoformat()};{covers}. "
                                   "Renew it with a new date or fix the build."))
            continue
        for f in hits:
            if f.waived_by is None:
                f.waived_by = label + (f" (until {w.expires.isoformat()})" if w.expires else "")
        if not hits:
            sev = policy.severity("waiver-unused", "warning")
            if sev != "off":
                what = ", ".join(f"{k} {v!r}" for k, v in (("name", w.name), ("path", w.path), ("sha256", w.sha256)) if v)
                out.append(Finding("waiver-unused", sev, None,  # type: ignore[arg-type]
                                   f"{policy.source}: {label} matches no finding ({what}); remove it or fix its pattern."))
    return out


def source_offer_findings(components: list[Component], policy: Policy,
                          conclusions: dict[str, Conclusion] | None = None) -> list[Finding]:
    """`source-offer-contact-missing` when a written offer is due and the policy names no one to answer it."""
    def family(c: Component) -> str:
        k = (conclusions or {}).get(c.path)
        return k.family if k is not None else c.family

    due = [c for c in components if family(c) in ("gpl", "agpl", "lgpl")
           or any(m.license and spdx.family(m.license) in ("gpl", "agpl", "lgpl") for m in c.embedded)]
    if not due or policy.source_offer.complete:
        return []
    sev = policy.severity("source-offer-contact-missing", "warning")
    if sev == "off":
        return []
    return [Finding("source-offer-contact-missing", sev, None,  # type: ignore[arg-type]
                    f"{policy.source}: {len(due)} component(s) need a written source offer but the policy has no complete "
                    "[source_offer] (organisation plus address or email); SOURCE_OFFER.txt carries placeholders marked "
                    "TO BE COMPLETED.")]


def _statically_combined(comp: Component) -> str | None:
    """Why an LGPL component counts as statically combined, or None when it is its own shared library."""
    if comp.kind in ("static-archive", "object"):
        return "in a static archive that gets linked into other code"
    if comp.origin != "identified" and any(m.license and spdx.family(m.license) == "lgpl" for m in comp.embedded):
        return "linked statically into app code"
    if comp.kind == "executable" and comp.format == "macho" and comp.bundle_executable:
        return "linked into the app's main executable"
    return None


_CHAIN_FAMILIES = ("gpl", "agpl", "nonfree")


def copyleft_reach(components: list[Component]) -> dict[str, list[list[str]]]:
    """Copyleft components that app-owned code (DEX call sites, unidentified native code) links or loads, each with
    the chains that reach it."""
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
            origin = f"{site.member} ({site.class_name}.{site.method})"
            walk(origin, comp, [origin, comp.path])

    by_target: dict[str, list[list[str]]] = {}
    for (_origin, target), chain in found.items():
        by_target.setdefault(target, []).append(chain)
    return by_target


def _chains(components: list[Component], reach: dict[str, list[list[str]]], conclusions: dict[str, Conclusion],
            policy: Policy) -> list[Finding]:
    """One finding per copyleft component app code reaches. A chain that is the tail of a longer one
    (libapp.so -> libavcodec.so inside classes.dex (Player.<clinit>) -> libapp.so -> libavcodec.so) adds nothing;
    the longest chain comes first."""
    by_path = {c.path: c for c in components}
    out = []
    for target, chains in reach.items():
        comp = by_path[target]
        sev = policy.severity("app-links-copyleft", "error")
        if policy.app_is_gpl_covered and comp.family != "nonfree" and sev == "error":
            sev = "info"
        if sev == "off":
            continue
        maximal = [c for c in chains if not any(len(o) > len(c) and o[-len(c):] == c for o in chains)]
        maximal.sort(key=lambda c: (-len(c), c))
        chain, others = maximal[0], maximal[1:]
        also = ""
        if others:
            shown = "; ".join(" -> ".join(o) for o in others[:3])
            also = f"; also reached by {len(others)} other path(s): {shown}" + ("; …" if len(others) > 3 else "")
        out.append(Finding(
            "app-links-copyleft", sev, target,  # type: ignore[arg-type]
            f"App code reaches {comp.family.upper()} code {target} ({comp.license}): " + " -> ".join(chain) + also,
            list(conclusions[target].obligations), chain,
        ))
    return out
