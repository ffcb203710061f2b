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
from typing import TYPE_CHECKING, Literal

from .. import _toml, spdx
from .._dataclasses import dataclass, field, replace
from .._files import package_file
from ..archive import MemberProblem
from ..model import Component, Family, Finding, Obligation
from .file import Policy
from .waivers import Override, Waiver, selects, unmatched_path_hint

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
    text = package_file("data/obligations.toml").read_text(encoding="utf-8")
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


def _conclusion(comp: Component, reach: dict[str, list[list[str]]]) -> Conclusion:
    """A component's licence and obligations as scanned; a copyleft program that no app code links or loads
    (`separate_program`) does not take the whole app with it, so it has no `gpl-whole-work` obligation."""
    obligations = component_obligations(comp)
    if separate_program(comp, reach):
        obligations = tuple(o for o in obligations if o.id != "gpl-whole-work")
    return Conclusion(comp.license, comp.family, comp.origin, obligations)


def separate_program(comp: Component, reach: dict[str, list[list[str]]]) -> bool:
    """A GPL or AGPL executable shipped beside the app (BusyBox, an OpenVPN binary renamed lib*.so), not the app's
    main executable, and no app code links or loads it: it runs as a program of its own, an aggregate with the app
    (GPL-2.0 s.2, GPL-3.0 s.5), so its licence asks for its own source, not the app's."""
    return (comp.kind == "executable" and not comp.bundle_executable and comp.family in ("gpl", "agpl")
            and comp.path not in reach)


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
             source_offer: bool = True) -> Verdict:
    """What `policy` says about `scan`: findings with severities, obligations, concluded licences, model provenance.

    Severity overrides and waivers apply last; `today` (default: the UTC date) decides which waivers have expired.
    A written source offer that is due with no one named to answer it is a finding (`source-offer-contact-missing`)
    whatever outputs the caller asks for; `source_offer=False` leaves it out, like setting the rule "off".
    Pure: `scan` is not changed.
    """
    reach = copyleft_reach(scan.components)
    conclusions = {c.path: _conclusion(c, reach) for c in scan.components}
    findings = _component_findings(scan.components, conclusions, policy, scan.artifact.platform, reach)
    findings.extend(_chains(scan.components, reach, conclusions, policy))
    assessments: dict[str, ModelAssessment] = {}
    if scan.models:
        more, assessments = _model_findings(scan, policy, reach, conclusions)
        findings.extend(more)
    findings.extend(_problem_findings(scan.problems, policy))
    findings = apply_overrides(findings, scan.components, policy)
    findings.extend(apply_waivers(findings, scan.components, policy, today))
    if source_offer:
        findings.extend(source_offer_findings(scan.components, policy, conclusions))
    return Verdict(findings, conclusions, assessments)


def _model_findings(scan: ScanResult, policy: Policy, reach: dict[str, list[list[str]]],
                    conclusions: dict[str, Conclusion]) -> tuple[list[Finding], dict[str, ModelAssessment]]:
    """The models' findings and provenance under the policy's stance; their conclusions replace the components'."""
    from .stance import model_findings

    # GPL code the app's own code links or loads makes the app GPL-covered; a GPL program merely shipped beside it
    # (an aggregate) does not.
    linked = [c for c in scan.components if c.path in reach and c.family in ("gpl", "agpl")]
    linked += [c for c in scan.components if c.origin == "unidentified" and c.family in ("gpl", "agpl") and c not in linked]
    for comp in scan.components:
        if comp.path in scan.models:
            conclusions[comp.path] = _model_conclusion(comp, policy)
    return model_findings(scan.components, scan.models, policy, linked)


def _problem_findings(problems: list[MemberProblem], policy: Policy) -> list[Finding]:
    sev = policy.severity("member-problem", "warning")
    if sev == "off":
        return []
    return [Finding("member-problem", sev, p.path, f"{p.path}: {p.problem}: {p.detail}") for p in problems]  # type: ignore[arg-type]


_Add = Callable[..., None]


def _component_findings(components: list[Component], conclusions: dict[str, Conclusion], policy: Policy,
                        platform: str, reach: dict[str, list[list[str]]]) -> list[Finding]:
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
        _family_finding(comp, obligations, policy, add, reach)
        if platform == "ios" and comp.family in ("gpl", "agpl"):
            add("ios-gpl", comp, f"{comp.path}: {comp.name}{_where(comp)} is {comp.family.upper()} code in an iOS app: App Store terms add "
                "usage restrictions that the GPL forbids (GPL-2.0 s.6, GPL-3.0 s.10); the FSF holds them incompatible and "
                "VLC was withdrawn from the App Store over this in 2011.", obligations)
        if comp.license and (policy.allow or policy.deny):
            _allow_deny(comp, policy, add, obligations)
    return findings


def _where(comp: Component) -> str:
    return f" ({comp.license}" + (f", version {comp.version}" if comp.version else "") + ")"


def _family_finding(comp: Component, obligations: list[Obligation], policy: Policy, add: _Add,
                    reach: dict[str, list[list[str]]]) -> None:
    """The finding a component's licence family calls for, if any."""
    finding = _FAMILY_FINDINGS.get(comp.family)
    if finding is not None:
        finding(_Judged(comp, obligations, policy, add, reach))


@dataclass(frozen=True)
class _Judged:
    """One component under judgement: what a family's finding needs to word and add itself."""

    comp: Component
    obligations: list[Obligation]
    policy: Policy
    add: _Add
    reach: dict[str, list[list[str]]]

    @property
    def named(self) -> str:
        """`lib/arm64-v8a/libx264.so: x264 (GPL-2.0-or-later, version 164)`."""
        return f"{self.comp.path}: {self.comp.name}{_where(self.comp)}"

    @property
    def floor(self) -> str | None:
        return "info" if self.policy.app_is_gpl_covered else None  # GPL code in a GPL app is what it should be

    def loader(self) -> str | None:
        """The app code that links or loads the component, as the first chain that reaches it names it."""
        chains = self.reach.get(self.comp.path)
        return chains[0][0] if chains else None


def _nonfree_finding(j: _Judged) -> None:
    j.add("nonfree", j.comp, f"{j.named} is marked not redistributable; this build must not be distributed.", j.obligations)


def _copyleft_finding(j: _Judged) -> None:
    """GPL and AGPL: a separate program asks for its own source; a library or a program app code loads takes the
    whole app with it."""
    fam = j.comp.family.upper()
    if separate_program(j.comp, j.reach):
        j.add("copyleft-program", j.comp, f"{j.named} is a {fam} program shipped beside the app (an executable that no "
              f"app code links or loads): ship its licence and its complete source, or a written offer for it. Shipping "
              f"it as a program of its own does not put the app under the {fam}; app code linking or loading it would "
              "(app-links-copyleft).", j.obligations)
        return
    rule = "copyleft-agpl" if j.comp.family == "agpl" else "copyleft-gpl"
    how = "is AGPL code" if j.comp.family == "agpl" else "is GPL code"
    loader = j.loader()
    if j.comp.kind == "executable" and not j.comp.bundle_executable and loader:
        how = f"is a {fam} program (an executable) that app code loads as a library ({loader}), so it is combined with the app"
    whole = "its source offered" if j.comp.family == "agpl" else "its complete source offered"
    j.add(rule, j.comp, f"{j.named} {how}; distributing it requires the whole app under the {fam} and {whole}.",
          j.obligations, floor=j.floor)


def _lgpl_finding(j: _Judged) -> None:
    comp = j.comp
    if comp.kind == "java-library" and comp.format == "dex":
        j.add("lgpl-java", comp, f"{j.named} is an LGPL Java library merged into the app's DEX files: users cannot swap "
              "it like a shared library, so ship what they need to rebuild with a modified copy, and a source offer.",
              j.obligations)
        return
    static = _statically_combined(comp)
    if static and _open_source_host(comp):
        j.add("lgpl-static", comp, f"{comp.path}: {static}, whose own licence ({' AND '.join(_own_terms(comp))}) lets "
              "users rebuild it: ship the source of both, or a written offer, so a user can relink it with a modified "
              "copy (LGPL-2.1 s.6(a), LGPL-3.0 s.4(d)(0)).", j.obligations, floor="info")
    elif static:
        j.add("lgpl-static", comp, f"{comp.path}: {static}; users cannot replace it, so the LGPL's relinking terms are "
              "not met by a shared library.", j.obligations)
    else:
        j.add("lgpl-shared", comp, f"{j.named} is an LGPL shared library: ship its notice and a source offer, and keep "
              "it replaceable.", j.obligations)


def _weak_copyleft_finding(j: _Judged) -> None:
    j.add("weak-copyleft", j.comp, f"{j.named} is under a file-level copyleft licence: offer the source of its files.",
          j.obligations)


def _unknown_finding(j: _Judged) -> None:
    comp = j.comp
    if comp.format in ("elf", "macho", "ar"):
        j.add("unidentified-native", comp, _unidentified_native_message(comp), [])
    elif comp.kind in ("java-library", "java-code") and comp.origin == "unidentified":
        classes = comp.details.get("classes")
        j.add("unidentified-java-code", comp, f"{comp.path}: {classes} classes of Java code ({comp.name}) that no "
              "library in the knowledge base claims; licence unknown.", [])


def _unidentified_native_message(comp: Component) -> str:
    if comp.origin == "identified":
        return f"{comp.path}: identified as {comp.name}, but its licence is unknown; review it."
    parts = comp.embedded and ("; parts found inside: " + ", ".join(sorted({m.name for m in comp.embedded})))
    return (f"{comp.path}: native code that nothing identifies (tried: the hand-written signatures' licence and "
            "identity strings, symbols and sonames, and the Debian knowledge base's distinctive strings and exported "
            "symbols" + (parts or "") + "); treated as the app's own code.")


_FAMILY_FINDINGS: dict[str, Callable[[_Judged], None]] = {
    "nonfree": _nonfree_finding,
    "agpl": _copyleft_finding,
    "gpl": _copyleft_finding,
    "lgpl": _lgpl_finding,
    "weak-copyleft": _weak_copyleft_finding,
    "unknown": _unknown_finding,
}


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
        # the last matching override wins
        sev = next((o.severity for o in reversed(policy.overrides) if _overrides(o, f, comp)), f.severity)
        if sev != "off":
            f.severity = sev  # type: ignore[assignment]
            out.append(f)
    return out


def _overrides(o: Override, f: Finding, comp: Component | None) -> bool:
    """The override is for the finding's rule and selects its component (an override without selectors: every one)."""
    unselective = not (o.name or o.path or o.sha256)
    return o.rule == f.rule and (unselective or selects(o.name, o.path, o.sha256, comp, f.component))


_POLICY_RULES = ("waiver-expired", "waiver-unused", "source-offer-contact-missing")


def apply_waivers(findings: list[Finding], components: list[Component], policy: Policy,
                  today: datetime.date | None = None) -> list[Finding]:
    """Mark findings covered by a current waiver; return the findings about the waivers themselves.

    An expired waiver waives nothing and is itself a failure (`waiver-expired`); a current waiver that matches no
    finding is reported (`waiver-unused`, naming the shipped path nearest its glob) so stale waivers get cleaned up.
    """
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    by_path = {c.path: c for c in components}
    out: list[Finding] = []
    for i, w in enumerate(policy.waivers):
        hits = [f for f in findings if f.rule not in _POLICY_RULES and w.matches(f, by_path.get(f.component or ""))]
        if w.expired(today):
            out += _waiver_expired(policy, w, i, hits)
        elif hits:
            _waive(hits, w, i)
        else:
            out += _waiver_unused(policy, w, i, components)
    return out


def _waive(hits: list[Finding], w: Waiver, index: int) -> None:
    label = w.label(index) + (f" (until {w.expires.isoformat()})" if w.expires else "")
    for f in hits:
        if f.waived_by is None:
            f.waived_by = label


def _waiver_expired(policy: Policy, w: Waiver, index: int, hits: list[Finding]) -> list[Finding]:
    sev = policy.severity("waiver-expired", "error")
    if sev == "off" or w.expires is None:
        return []
    covers = f" it would cover {len(hits)} finding(s)" if hits else " it matches nothing"
    return [Finding("waiver-expired", sev, None,  # type: ignore[arg-type]
                    f"{policy.source}: {w.label(index)} expired on {w.expires.isoformat()};{covers}. "
                    "Renew it with a new date or fix the build.")]


def _waiver_unused(policy: Policy, w: Waiver, index: int, components: list[Component]) -> list[Finding]:
    sev = policy.severity("waiver-unused", "warning")
    if sev == "off":
        return []
    what = ", ".join(f"{k} {v!r}" for k, v in (("name", w.name), ("path", w.path), ("sha256", w.sha256)) if v)
    return [Finding("waiver-unused", sev, None,  # type: ignore[arg-type]
                    f"{policy.source}: {w.label(index)} matches no finding ({what}); remove it or fix its pattern."
                    + unmatched_path_hint(w, components))]


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
                    "[source_offer] (organisation plus address or email) to answer it; the SOURCE_OFFER.txt that "
                    "--notices writes carries placeholders marked TO BE COMPLETED until it does.")]


def _statically_combined(comp: Component) -> str | None:
    """What LGPL code is statically combined with what, naming the real host binary ("GNU MP 6.2.1
    (LGPL-3.0-or-later) is LGPL code linked statically into lib/arm64-v8a/libfoo.so (FFmpeg libavcodec, an identified
    third-party library)"), or None when the component is its own shared library."""
    if comp.kind in ("static-archive", "object"):
        return f"{comp.name}{_where(comp)} is LGPL code in a static archive that gets linked into other code"
    parts = _lgpl_parts(comp)
    if comp.kind == "executable" and comp.format == "macho" and comp.bundle_executable:
        return f"{parts or comp.name + _where(comp)} {_is(parts)} LGPL code linked into the app's main executable {comp.path}"
    if parts and not _is_lgpl_library(comp):
        return f"{parts} {_is(parts)} LGPL code linked statically into {_host(comp)}"
    return None


def _is_lgpl_library(comp: Component) -> bool:
    """An identified library under the LGPL itself (FLINT with parts of Arb inside): the whole binary is the LGPL
    library a user can replace, so LGPL parts inside it are not a static combination with other code."""
    return comp.origin == "identified" and all(spdx.family(t) == "lgpl" for t in _own_terms(comp))


def _open_source_host(comp: Component) -> bool:
    """An identified library whose own licence is open source (NativeScript's Apache-2.0 around JavaScriptCore):
    its source can be offered with the LGPL code's, so a user can relink, unlike the app's own or unknown code."""
    if comp.kind in ("static-archive", "object") or comp.bundle_executable or comp.origin != "identified":
        return False  # an archive is linked into code nobody identified; a main executable is the app's own
    own = _own_terms(comp)
    return bool(own) and all(
        spdx.family(t) in ("permissive", "weak-copyleft", "lgpl") for t in own)


def _own_terms(comp: Component) -> list[str]:
    """The AND terms of a component's licence that none of the libraries found inside it brought in."""
    parts = {m.license.strip("()") for m in comp.embedded if m.license}
    return [t for t in _and_terms(comp.license or "") if t not in parts]


def _and_terms(expression: str) -> list[str]:
    """The top-level AND terms of a licence expression, outer parentheses removed ("(A OR B) AND C" -> A OR B, C)."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(expression):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and expression.startswith(" AND ", i):
            terms.append(expression[start:i])
            start = i + 5
    terms.append(expression[start:])
    return [t.strip().removeprefix("(").removesuffix(")") if t.strip().startswith("(") else t.strip() for t in terms]


def _lgpl_parts(comp: Component) -> str:
    """The LGPL libraries found inside a binary, as "GNU MP 6.2.1 (LGPL-3.0-or-later)", "" for none. Low-confidence
    parts (which do not set the binary's licence) and parts of the binary's own project are left out."""
    parts = [f"{m.name}{' ' + m.version if m.version else ''} ({m.license})" for m in comp.embedded
             if m.confidence != "low" and m.license and spdx.family(m.license) == "lgpl"
             and not (comp.project and m.project == comp.project)]
    return ", ".join(dict.fromkeys(parts))


def _is(parts: str) -> str:
    return "are" if "), " in parts else "is"


def _host(comp: Component) -> str:
    """The binary statically linked LGPL code is in, as a reviewer would name it."""
    if comp.origin == "identified":
        version = f" {comp.version}" if comp.version else ""
        return f"{comp.path} ({comp.name}{version}, an identified third-party library)"
    return f"{comp.path}, a binary nothing identifies (treated as the app's own code)"


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
        sev = _chain_severity(policy, comp)
        if sev == "off":
            continue
        chain, *others = _maximal_chains(chains)
        out.append(Finding(
            "app-links-copyleft", sev, target,  # type: ignore[arg-type]
            f"App code reaches {comp.family.upper()} code {target} ({comp.license}): " + " -> ".join(chain)
            + _other_paths(others), list(conclusions[target].obligations), chain,
        ))
    return out


def _chain_severity(policy: Policy, comp: Component) -> str:
    """The rule's severity; in a GPL app a GPL or AGPL chain is what it should be (info), a nonfree one never is."""
    sev = policy.severity("app-links-copyleft", "error")
    return "info" if policy.app_is_gpl_covered and comp.family != "nonfree" and sev == "error" else sev


def _maximal_chains(chains: list[list[str]]) -> list[list[str]]:
    """The chains that are not the tail of a longer one, longest first."""
    maximal = [c for c in chains if not any(len(o) > len(c) and o[-len(c):] == c for o in chains)]
    return sorted(maximal, key=lambda c: (-len(c), c))


def _other_paths(others: list[list[str]]) -> str:
    if not others:
        return ""
    shown = "; ".join(" -> ".join(o) for o in others[:3])
    return f"; also reached by {len(others)} other path(s): {shown}" + ("; …" if len(others) > 3 else "")
