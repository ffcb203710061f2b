"""Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`: the verdict first, then what to fix (each failing
component with what to do and a `[[waiver]]` to paste), warnings, waivers, and the details collapsed."""

from __future__ import annotations

import re
from pathlib import Path

from ..escape import md_code, md_text
from ..model import Finding
from . import Report, tally
from .view import Action, actions, counts, message_for, printable, role, shown, what_to_do

_ICON = {"pass": "✅", "fail": "❌"}
_MAX_ROWS = 50


def _cell(text: object) -> str:
    """Plain text for a table cell or a line (licensegate.escape.md_text: nothing in it renders as Markdown or HTML)."""
    return md_text(printable(text, 2000))


def _code(text: object) -> str:
    """A code span holding `text` literally (licensegate.escape.md_code)."""
    return md_code(printable(text, 2000))


def _findings_table(findings: list[Finding], report: Report) -> list[str]:
    out = ["| severity | rule | component | licence | message | what to do |", "|---|---|---|---|---|---|"]
    for f in findings[:_MAX_ROWS]:
        comp = report.component(f.component)
        lic = comp.license if comp else ""
        out.append(f"| {f.severity} | `{f.rule}` | {_code(f.component) if f.component else ''} | "
                   f"{_cell(lic)} | {_cell(f.message)} | {_cell(what_to_do(f.rule))} |")
    if len(findings) > _MAX_ROWS:
        out.append(f"\n… and {len(findings) - _MAX_ROWS} more (see the full report).")
    return out


def _headline(report: Report) -> list[str]:
    a = report.scan.artifact
    name = a.app_id or Path(a.path).name
    version = f" {a.version}" if a.version else ""
    fams = tally(role(row.first) for row in shown(report.components))
    n = counts(report)
    sevs = ", ".join(f"{n[k]} {k}" for k in ("error", "warning", "info") if n[k]) or "none"
    return [f"## {_ICON[report.verdict]} LicenseGate: {report.verdict.upper()}: {_cell(name)}{_cell(version)} "
            f"({a.type}, {a.platform})", "",
            f"{sum(fams.values())} components ({', '.join(f'{v} {k}' for k, v in sorted(fams.items()))}); "
            f"findings: {sevs}" + (f"; {n['waived']} waived" if n["waived"] else "")
            + f". Policy: {_cell(report.policy_line)}.", ""]


def _action(report: Report, act: Action) -> list[str]:
    """One failing component: a heading, its findings, what to do per rule, its obligations and a waiver to paste."""
    c = act.component
    if c is None:
        return _policy_action(act.findings[0])
    version = f" {c.version}" if c.version else ""
    out = [f"#### {', '.join(_code(p) for p in act.paths)}: {_cell(c.name)}{_cell(version)} ({_cell(c.license or 'licence unknown')})", ""]
    out += [_finding_line(f, len(act.paths) > 1) for f in act.findings]
    out += [f"- **What to do** (`{rule_id}`): {_cell(todo)}" for rule_id, todo in act.steps()]
    if act.obligations:
        out.append(f"- Obligations: {', '.join(o.id for o in act.obligations)}")
    return out + _waiver_block(act.snippet(report.generated)) + [""]


def _finding_line(f: Finding, with_path: bool) -> str:
    at = f" {_code(f.component)}" if with_path else ""  # a library in several ABIs: which copy
    return f"- **{f.severity}** `{f.rule}`{at}: {_cell(message_for(f))}"


def _policy_action(f: Finding) -> list[str]:
    """A failing finding about the policy itself (an expired waiver): the finding and what to do."""
    todo = what_to_do(f.rule)
    return [f"- **{f.severity}** `{f.rule}`: {_cell(f.message)}"] + ([f"  - **What to do:** {_cell(todo)}"] if todo else []) + [""]


def _waiver_block(snippet: list[str]) -> list[str]:
    """The waiver in a collapsed TOML block, fenced with more backticks than any run inside it."""
    if not snippet:
        return []
    fence = "`" * max(3, 1 + max((len(r) for line in snippet for r in re.findall(r"`+", line)), default=0))
    return ["", "<details><summary>Accept it instead: paste this into the policy file</summary>", "",
            f"{fence}toml", *snippet, fence, "", "</details>"]


def _components(report: Report) -> list[str]:
    out = ["<details><summary>Components</summary>", "", "| component | name | version | licence | family | confidence |",
           "|---|---|---|---|---|---|"]
    for row in sorted(shown(report.components), key=lambda r: r.first.path):
        c = row.first
        out.append(f"| {_code(row.label)} | {_cell(c.name)} | {_cell(c.version)} | {_cell(c.license)} | {role(c)} | "
                   f"{_cell(c.confidence)} |")
    return out + ["", "</details>", ""]


def _models(report: Report) -> list[str]:
    from .text import _provenance

    if not report.models:
        return []
    out = ["<details><summary>Models</summary>", "", "| model | format | licence | Debian ML | MOF | missing for the stance |",
           "|---|---|---|---|---|---|"]
    for m in report.models:
        prov = _provenance(report, m)
        deb = (prov.get("debian_ml_policy") or {}).get("class")
        mof = (prov.get("model_openness_framework") or {}).get("class")
        missing = [r.get("key") for r in prov.get("requirements") or [] if not r.get("present")]
        out.append(f"| {_code(m.path)} | {m.format} | {_cell(m.license)} | {_cell(deb)} | {_cell(mof)} | "
                   f"{_cell(', '.join(str(x) for x in missing) or 'nothing')} |")
    return out + ["", "</details>", ""]


def render(report: Report) -> str:
    out = _headline(report) + _to_fix(report) + _warnings(report) + _waived(report)
    out += _components(report) + _models(report) + _licence_files(report)
    return "\n".join(out) + "\n"


def _to_fix(report: Report) -> list[str]:
    failing = report.failing
    if not failing:
        return []
    out = [f"### What to fix ({len(failing)} failing finding(s))", ""]
    for act in actions(report, failing):
        out += _action(report, act)
    return out


def _warnings(report: Report) -> list[str]:
    failing = report.failing
    warnings = [f for f in report.findings if f.severity == "warning" and f not in failing and not f.waived_by]
    return ["### Warnings", ""] + _findings_table(warnings, report) + [""] if warnings else []


def _waived(report: Report) -> list[str]:
    waived = [f for f in report.findings if f.waived_by]
    if not waived:
        return []
    return ["### Waived", ""] + [f"- `{f.rule}` {_code(f.component)}: {_cell(f.waived_by)}" for f in waived] + [""]


def _licence_files(report: Report) -> list[str]:
    if not report.scan.licence_files:
        return []
    out = ["<details><summary>Licence files shipped</summary>", "", "| file | kind | licences | tied to |", "|---|---|---|---|"]
    for lf in report.scan.licence_files:
        out.append(f"| {_code(lf.path)} | {lf.kind} | {_cell(', '.join(lf.licences) or lf.version or '')} | "
                   f"{_cell(', '.join(lf.tied_to))} |")
    return out + ["", "</details>", ""]
