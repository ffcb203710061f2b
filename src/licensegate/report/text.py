"""The human-readable report printed by `licensegate scan` by default, and the short `--summary`.

The full report reads top-down as a person acts on it: the verdict, what to fix (each failing component once, with
its findings, what to do, its obligations and a `[[waiver]]` to paste), the other findings, then what ships
(components, models, load sites). `--summary` keeps the verdict, the failing findings with what to do, and the counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..escape import clip
from ..escape import text as esc
from ..model import Component, Finding
from . import Report
from .view import (
    SEVERITY_ORDER,
    Action,
    Shown,
    actions,
    chosen_licence,
    counts,
    message_for,
    printable,
    role,
    shown,
    verdict_line,
    what_to_do,
)

_INDENT = " " * 18


def render(report: Report, verbose: bool = False) -> str:
    out: list[str] = []
    for section in _SECTIONS:
        lines = section(report, verbose)
        if lines:
            out += lines + [""]
    out.append(verdict_line(report))
    return "\n".join(out) + "\n"


def render_summary(report: Report) -> str:
    """The verdict, the failing findings grouped by rule with what to do once per rule, and the counts."""
    out = _header(report, False) + [verdict_line(report), ""]
    failing = report.failing
    by_rule: dict[str, list[Finding]] = {}
    for f in failing:
        by_rule.setdefault(f.rule, []).append(f)
    for rule_id, group in by_rule.items():
        out.append(f"{group[0].severity.upper()} {rule_id} ({len(group)})")
        todo = what_to_do(rule_id)
        if todo:
            out.append(f"  What to do: {todo}")
        for f in group:
            out.append(f"  - {_summary_line(report, f)}")
        out.append("")
    n = counts(report)
    comps = len(shown(report.components))
    out.append(f"{comps} component{'' if comps == 1 else 's'}; findings: {n['error']} error, {n['warning']} warning, "
               f"{n['info']} info"
               + (f", {n['waived']} waived" if n["waived"] else "") + ".")
    if failing:
        out.append("The full report (`licensegate scan` without --summary) has each finding's evidence and a [[waiver]] "
                   "to paste for it.")
    return "\n".join(out) + "\n"


def _summary_line(report: Report, f: Finding) -> str:
    c = report.component(f.component)
    if c is None:
        return printable(f.message, 300)
    return f"{printable(c.path)}: {printable(c.name)}{printable(_version(c.version))} ({c.license or 'licence unknown'})"


# ---- sections -------------------------------------------------------------------------------------------------


def _header(report: Report, verbose: bool) -> list[str]:
    a = report.scan.artifact
    title = f"LicenseGate report: {printable(a.path, 300)}"
    ident = ", ".join(
        f"{k} {printable(str(v))}" for k, v in (("app", a.app_id), ("version", a.version), ("build", a.version_code),
                                                ("min SDK/OS", a.min_sdk)) if v
    )
    out = [title, "=" * len(title),
           f"{a.type.upper()} ({a.platform}), {a.size:,} bytes, sha256 {a.sha256[:16]}…" + (f"; {ident}" if ident else "")]
    if a.extract_native_libs is not None:
        out.append(f"extractNativeLibs: {str(a.extract_native_libs).lower()}")
    out.append(f"policy: {printable(report.policy_line, 600)}")
    out.append(f"{report.scan.members_scanned} members scanned in {report.duration_s:.2f} s")
    return out


def _verdict(report: Report, verbose: bool) -> list[str]:
    return [verdict_line(report)]


def _to_fix(report: Report, verbose: bool) -> list[str]:
    acts = actions(report, report.failing)
    if not acts:
        return []
    n = len(report.failing)
    title = f"What to fix ({n} failing finding(s), {sum(1 for a in acts if a.component)} component(s))"
    out = [title, "-" * len(title)]
    for act in acts:
        out += _action(report, act, verbose)
    return out[:-1] if out[-1] == "" else out


def _action(report: Report, act: Action, verbose: bool) -> list[str]:
    out = []
    c = act.component
    if c is not None:
        where = ", ".join(printable(p, 300) for p in act.paths)
        out.append(f"  {where}: {printable(c.name)}{printable(_version(c.version))}, {c.license or 'licence unknown'}")
    for f in act.findings:
        at = f" [{printable(f.component)}]" if len(act.paths) > 1 else ""
        out.append(f"    {f.severity.upper():7} {f.rule}{at}: {message_for(f)}")
    for rule_id, todo in act.steps():
        out.append(f"    What to do ({rule_id}): {todo}")
    out += _obligations(act, verbose, "    ")
    snippet = act.snippet(report.generated)
    if snippet:
        out.append("    To accept it instead, add to the policy file:")
        out += [f"      {line}" for line in snippet]
    return out + [""]


def _obligations(act: Action, verbose: bool, indent: str) -> list[str]:
    if not act.obligations:
        return []
    if verbose:
        return [f"{indent}Obligation {o.id}: {o.text}" for o in act.obligations]
    return [f"{indent}Obligations: {', '.join(o.id for o in act.obligations)} (--verbose for the text)"]


def _other_findings(report: Report, verbose: bool) -> list[str]:
    failing = {id(f) for f in report.failing}
    rest = [f for f in report.findings if id(f) not in failing]
    if not rest:
        return []
    title = f"Other findings ({len(rest)})"
    out = [title, "-" * len(title)]
    for f in sorted(rest, key=lambda f: (f.waived_by is not None, SEVERITY_ORDER.get(f.severity, 3))):
        waived = f" [waived: {printable(f.waived_by, 300)}]" if f.waived_by else ""
        out.append(f"  {f.severity.upper():7} {f.rule}: {printable(f.message, 2000)}{waived}")
        if f.severity == "warning" and not f.waived_by and what_to_do(f.rule):
            out.append(f"          What to do: {what_to_do(f.rule)}")
    return out


def _components(report: Report, verbose: bool) -> list[str]:
    rows = shown(report.components)
    title = f"Components ({len(rows)})"
    out = [title, "-" * len(title)]
    for row in rows:
        out += _component(row, verbose)
    return out if rows else out + ["  none found"]


def _component(row: Shown, verbose: bool) -> list[str]:
    """A component: its classification, path and identity, what it contains, links and is loaded by, its evidence
    (two lines unless verbose)."""
    c = row.first
    # The kind matters when it surprises: an executable shipped under a library's name, a static archive.
    kind = f"  ({c.kind})" if c.kind not in ("native-library", "java-library", "model") else ""
    out = [f"  [{role(c).upper():>13}] {printable(row.label, 300)}{kind}", _INDENT + _identity(c)]
    out += [f"{_INDENT}contains {printable(m.name)}{printable(_version(m.version))} — {m.license} ({m.confidence})"
            for m in c.embedded]
    for label, paths in (("links", row.links), ("loaded by", row.loaded_by)):
        if paths:
            out.append(f"{_INDENT}{label}: {', '.join(printable(p, 300) for p in paths)}")
    out += [f"{_INDENT}evidence ({e.where()}): {printable(e.text, 120)}" for e in row.evidence[:None if verbose else 2]]
    return out


def _identity(c: Component) -> str:
    conf = f", {c.confidence} confidence" if c.confidence else ""
    chosen = chosen_licence(c)
    return (f"{printable(c.name)}{printable(_version(c.version))} — {c.license or 'licence unknown'}{conf}"
            + (f"; used under {chosen}" if chosen else ""))


def _version(version: str | None) -> str:
    return f" {version}" if version else ""


def _models(report: Report, verbose: bool) -> list[str]:
    if not report.models:
        return []
    out = [f"Models ({len(report.models)})", "-" * 10]
    for model in report.models:
        out += _model(report, model)
    return out


def _model(report: Report, model: Component) -> list[str]:
    prov = _provenance(report, model)
    deb, mof = _table(prov.get("debian_ml_policy")), _table(prov.get("model_openness_framework"))
    source = " (declared)" if model.origin == "declared" else ""
    out = [f"  {printable(model.path, 300)}",
           f"{_INDENT}{printable(model.name)} — {model.format}, licence {model.license or 'none'}{source}",
           f"{_INDENT}Debian ML Policy: {deb.get('class') or 'n/a'}; MOF: {mof.get('class') or 'no class reached'}; "
           f"stance: {prov.get('stance') or report.policy.model_stance}"]
    for r in prov.get("requirements") or []:
        if isinstance(r, dict):
            state = f"present ({r.get('source')}: {printable(str(r.get('where')))})" if r.get("present") else "MISSING"
            out.append(f"{_INDENT}requires {r.get('what')}: {state}")
    return out


def _provenance(report: Report, model: Component) -> dict[str, Any]:
    """A model's provenance under the policy's stance, as JSON-shaped data ({} when it has none)."""
    found = report.assessment(model.path)
    return found.to_json() if found is not None else {}


def _load_sites(report: Report, verbose: bool) -> list[str]:
    sites = report.scan.load_sites
    if not sites:
        return []
    out = ["Native library load sites (DEX)", "-" * 31]
    for s in sites:
        arg = f'"{printable(s.argument)}"' if s.argument is not None else "<not a constant>"
        out.append(f"  {printable(s.member)}: {printable(s.class_name)}.{printable(s.method)} calls System.{s.call}({arg})")
    return out


def _not_models(report: Report, verbose: bool) -> list[str]:
    entries = report.scan.artifact.details.get("not_models") or []
    if not isinstance(entries, list) or not entries:
        return []
    out = ["Named like models, but not models", "-" * 33]
    out += [f"  {printable(str(e['path']), 300)}: {printable(str(e['what']))}" for e in entries]
    return out


def _table(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _licence_files(report: Report, verbose: bool) -> list[str]:
    files = report.scan.licence_files
    if not files:
        return []
    title = f"Licence files shipped ({len(files)})"
    out = [title, "-" * len(title)]
    for lf in files:
        what = ", ".join(lf.licences) or (f"version {lf.version}" if lf.version else "no licence text recognised")
        tied = f"; tied to {', '.join(lf.tied_to)}" if lf.tied_to else ""
        out.append(f"  {esc(lf.path)} ({lf.kind}): {esc(clip(what + tied, 240))}")
    return out


_SECTIONS: list[Callable[[Report, bool], list[str]]] = [
    _header, _verdict, _to_fix, _other_findings, _components, _models, _load_sites, _not_models, _licence_files,
]
