"""Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`: verdict first, failing findings, then details."""

from __future__ import annotations

from pathlib import Path

from ..escape import md_code, md_text
from ..model import Finding
from . import Report

_ICON = {"pass": "✅", "fail": "❌"}
_MAX_ROWS = 50


def _cell(text: object) -> str:
    return md_text(text if text is not None else "")


def _findings_table(findings: list[Finding], report: Report) -> list[str]:
    out = ["| severity | rule | component | licence | message |", "|---|---|---|---|---|"]
    for f in findings[:_MAX_ROWS]:
        comp = report.component(f.component)
        lic = comp.license if comp else ""
        out.append(f"| {f.severity} | `{f.rule}` | {md_code(f.component) if f.component else ''} | "
                   f"{_cell(lic)} | {_cell(f.message)} |")
    if len(findings) > _MAX_ROWS:
        out.append(f"\n… and {len(findings) - _MAX_ROWS} more (see the full report).")
    return out


def render(report: Report) -> str:
    a = report.scan.artifact
    name = a.app_id or Path(a.path).name
    version = f" {a.version}" if a.version else ""
    failing = report.failing
    out = [f"## {_ICON[report.verdict]} LicenseGate: {report.verdict.upper()}: {md_text(name)}{md_text(version)} ({a.type}, {a.platform})", ""]
    fams: dict[str, int] = {}
    for c in report.components:
        fams[c.family] = fams.get(c.family, 0) + 1
    sevs: dict[str, int] = {}
    for f in report.findings:
        sevs[f.severity] = sevs.get(f.severity, 0) + 1
    waived = [f for f in report.findings if f.waived_by]
    out.append(f"{len(report.components)} components ({', '.join(f'{v} {k}' for k, v in sorted(fams.items()))}); "
               f"findings: {', '.join(f'{v} {k}' for k, v in sorted(sevs.items())) or 'none'}"
               + (f"; {len(waived)} waived" if waived else "") + f". Policy: {report.policy.source}.")
    out.append("")
    if failing:
        out += ["### Failing findings", ""] + _findings_table(failing, report) + [""]
    warnings = [f for f in report.findings if f.severity == "warning" and f not in failing and not f.waived_by]
    if warnings:
        out += ["### Warnings", ""] + _findings_table(warnings, report) + [""]
    if waived:
        out += ["### Waived", ""] + [f"- `{f.rule}` {md_code(f.component, in_table=False)}: {_cell(f.waived_by)}" for f in waived] + [""]
    out += ["<details><summary>Components</summary>", "", "| component | name | version | licence | family | confidence |",
            "|---|---|---|---|---|---|"]
    for c in sorted(report.components, key=lambda c: c.path):
        out.append(f"| {md_code(c.path)} | {_cell(c.name)} | {_cell(c.version)} | {_cell(c.license)} | {c.family} | "
                   f"{_cell(c.confidence)} |")
    out += ["", "</details>", ""]
    if report.models:
        out += ["<details><summary>Models</summary>", "", "| model | format | licence | Debian ML | MOF | missing for the stance |",
                "|---|---|---|---|---|---|"]
        for m in report.models:
            prov = report.assessment(m.path)
            deb = prov.debian_ml_policy.klass if prov else None
            mof = prov.model_openness_framework.klass if prov else None
            missing = [r.key for r in prov.missing] if prov else []
            out.append(f"| {md_code(m.path)} | {m.format} | {_cell(m.license)} | {_cell(deb)} | {_cell(mof)} | "
                       f"{_cell(', '.join(str(x) for x in missing) or 'nothing')} |")
        out += ["", "</details>", ""]
    if report.scan.licence_files:
        out += ["<details><summary>Licence files shipped</summary>", "", "| file | kind | licences | tied to |", "|---|---|---|---|"]
        for lf in report.scan.licence_files:
            out.append(f"| `{_cell(lf.path)}` | {lf.kind} | {_cell(', '.join(lf.licences) or lf.version or '')} | "
                       f"{_cell(', '.join(lf.tied_to))} |")
        out += ["", "</details>", ""]
    return "\n".join(out) + "\n"
