"""What changed between two builds: components and models added or removed, licence changes, new findings.

Each side is a JSON report (`licensegate.report/3`, or /2 and /1 of earlier versions) or an artifact, which is scanned with the given policy.
Components are matched by member path; findings by the same identity SARIF fingerprints use (rule, component,
chain), so reworded messages do not count as new. A new violation is a new finding that fails the gate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._dataclasses import dataclass, field
from .errors import InputError
from .escape import clip, md_code, md_text
from .escape import text as esc
from .fsutil import open_regular
from .report import READABLE_SCHEMAS, SCHEMA_ID

Json = dict[str, Any]


@dataclass
class LicenceChange:
    path: str
    name: str
    old: str | None
    new: str | None
    old_family: str
    new_family: str


@dataclass
class ReportDiff:
    old: str
    new: str
    added: list[Json] = field(default_factory=list)
    removed: list[Json] = field(default_factory=list)
    licence_changes: list[LicenceChange] = field(default_factory=list)
    version_changes: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    new_findings: list[Json] = field(default_factory=list)
    resolved_findings: list[Json] = field(default_factory=list)
    new_violations: list[Json] = field(default_factory=list)
    verdicts: tuple[str, str] = ("", "")

    @property
    def adds_violation(self) -> bool:
        return bool(self.new_violations)

    def to_json(self) -> Json:
        return {
            "schema": "licensegate.diff/1",
            "old": self.old, "new": self.new, "verdicts": {"old": self.verdicts[0], "new": self.verdicts[1]},
            "components_added": [_brief(c) for c in _code(self.added)],
            "components_removed": [_brief(c) for c in _code(self.removed)],
            "models_added": [_brief(c) for c in _models(self.added)],
            "models_removed": [_brief(c) for c in _models(self.removed)],
            "licence_changes": [vars(x) for x in self.licence_changes],
            "version_changes": [{"path": p, "old": o, "new": n} for p, o, n in self.version_changes],
            "new_findings": self.new_findings,
            "resolved_findings": self.resolved_findings,
            "new_violations": self.new_violations,
            "adds_violation": self.adds_violation,
        }


def _code(components: list[Json]) -> list[Json]:
    return [c for c in components if c["kind"] != "model"]


def _models(components: list[Json]) -> list[Json]:
    return [c for c in components if c["kind"] == "model"]


def _brief(c: Json) -> Json:
    return {"path": c["path"], "name": c["name"], "version": c.get("version"), "license": c.get("license"),
            "family": c.get("family"), "kind": c.get("kind")}


def _key(f: Json) -> tuple[str, str, tuple[str, ...]]:
    return (f["rule"], f.get("component") or f.get("message", ""), tuple(f.get("chain") or []))


def load_side(path: Path, scan_report: Any = None) -> Json:
    """A report as JSON: read from a report file, or made by `scan_report(path)` for an artifact."""
    if path.is_file() and path.suffix.lower() == ".json":
        data = _read_json(path)
        if not isinstance(data, dict) or data.get("schema") not in READABLE_SCHEMAS:
            raise InputError(f"{path}: not a LicenseGate report (schema {SCHEMA_ID})")
        problem = _shape_problem(data)
        if problem is not None:
            raise InputError(f"{path}: not a LicenseGate report of schema {SCHEMA_ID}: {problem}")
        return data
    if scan_report is None:
        raise InputError(f"{path}: not a JSON report")
    return dict(scan_report(path))


def _read_json(path: Path) -> object:
    try:
        with open_regular(path) as fh:
            return json.loads(fh.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable JSON report ({clip(exc, 160)})") from None
    except RecursionError:
        raise InputError(f"{path}: not a LicenseGate report (JSON nested too deep)") from None


def _shape_problem(data: Json) -> str | None:
    """What `diff` needs of a report, checked before it is used: the reason it cannot be, or None."""
    artifact = data.get("artifact")
    if not isinstance(artifact, dict) or not isinstance(artifact.get("path"), str):
        return "artifact.path must be a string"
    for key in ("components", "findings"):
        if not isinstance(data.get(key), list):
            return f"{key} must be an array"
    problems = [_component_problem(i, c) for i, c in enumerate(data["components"])]
    problems += [_finding_problem(i, f) for i, f in enumerate(data["findings"])]
    return next((p for p in problems if p is not None), None)


def _strings(obj: object, keys: tuple[str, ...]) -> bool:
    return isinstance(obj, dict) and all(isinstance(obj.get(k), str) for k in keys)


def _optional_strings(obj: Json, keys: tuple[str, ...]) -> bool:
    return all(isinstance(obj.get(k), (str, type(None))) for k in keys)


def _component_problem(i: int, c: object) -> str | None:
    if not _strings(c, ("path", "name", "kind")):
        return f"components[{i}] needs string path, name and kind"
    assert isinstance(c, dict)
    bad = next((k for k in ("version", "license", "family") if not _optional_strings(c, (k,))), None)
    return None if bad is None else f"components[{i}].{bad} must be a string or null"


def _finding_problem(i: int, f: object) -> str | None:
    if not _strings(f, ("rule", "severity", "message")):
        return f"findings[{i}] needs string rule, severity and message"
    assert isinstance(f, dict)
    if not _optional_strings(f, ("component", "waived_by")):
        return f"findings[{i}].component and .waived_by must be strings or null"
    chain = f.get("chain") or []
    if not isinstance(chain, list) or not all(isinstance(x, str) for x in chain):
        return f"findings[{i}].chain must be an array of strings"
    return None


def diff(old: Json, new: Json, fail_on: str = "error") -> ReportDiff:
    """Components added, removed or changed, and findings new or resolved, between two JSON reports."""
    out = ReportDiff(str(old["artifact"]["path"]), str(new["artifact"]["path"]),
                     verdicts=(str(old.get("verdict")), str(new.get("verdict"))))
    _diff_components(old, new, out)
    old_keys = {_key(f) for f in old["findings"]}
    new_keys = {_key(f) for f in new["findings"]}
    out.new_findings = [f for f in new["findings"] if _key(f) not in old_keys]
    out.resolved_findings = [f for f in old["findings"] if _key(f) not in new_keys]
    failing = _FAILING.get(fail_on, {"error", "warning"})
    out.new_violations = [f for f in out.new_findings if f["severity"] in failing and not f.get("waived_by")]
    return out


# The severities that fail the gate for each --fail-on level ("warning" and anything else: errors and warnings).
_FAILING: dict[str, set[str]] = {"never": set(), "error": {"error"}}


def _diff_components(old: Json, new: Json, out: ReportDiff) -> None:
    """Components by member path: added, removed, and the licence and version changes of those in both."""
    before = {c["path"]: c for c in old["components"]}
    after = {c["path"]: c for c in new["components"]}
    out.added = [after[p] for p in sorted(set(after) - set(before))]
    out.removed = [before[p] for p in sorted(set(before) - set(after))]
    for p in sorted(set(before) & set(after)):
        a, b = before[p], after[p]
        if a.get("license") != b.get("license"):
            out.licence_changes.append(LicenceChange(p, b["name"], a.get("license"), b.get("license"),
                                                     a.get("family", "unknown"), b.get("family", "unknown")))
        if a.get("version") != b.get("version"):
            out.version_changes.append((p, a.get("version"), b.get("version")))


def render_text(d: ReportDiff) -> str:
    lines = [f"LicenseGate diff: {esc(d.old)} -> {esc(d.new)}", f"verdict: {esc(d.verdicts[0])} -> {esc(d.verdicts[1])}", ""]
    for title, items in _text_sections(d):
        if items:
            lines.append(f"{title} ({len(items)})")
            lines.extend(f"  {esc(x)}" for x in items)
            lines.append("")
    if d.adds_violation:
        lines.append(f"The new build adds {len(d.new_violations)} violation(s).")
    else:
        lines.append("The new build adds no violation.")
    return "\n".join(lines) + "\n"


def _text_sections(d: ReportDiff) -> list[tuple[str, list[str]]]:
    """The text report's sections, in order, with their lines (unescaped)."""
    return [
        ("Components added", [_component_line(c) for c in _code(d.added)]),
        ("Components removed", [_component_line(c) for c in _code(d.removed)]),
        ("Models added", [_component_line(c) for c in _models(d.added)]),
        ("Models removed", [_component_line(c) for c in _models(d.removed)]),
        ("Licence changes", [f"{x.path}: {x.name}: {x.old} ({x.old_family}) -> {x.new} ({x.new_family})"
                             for x in d.licence_changes]),
        ("Version changes", [f"{p}: {o} -> {n}" for p, o, n in d.version_changes]),
        ("New findings", [_finding_line(f) + (" [waived]" if f.get("waived_by") else "") for f in d.new_findings]),
        ("Resolved findings", [_finding_line(f) for f in d.resolved_findings]),
    ]


def _component_line(c: Json) -> str:
    version = " " + c["version"] if c.get("version") else ""
    return f"{c['path']}: {c['name']}{version} ({c.get('license') or 'licence unknown'}, {c.get('family')})"


def _finding_line(f: Json) -> str:
    return f"{f['severity'].upper()} {f['rule']}: {f['message']}"


def _markdown_changes(d: ReportDiff) -> list[str]:
    """The table of components added and removed (nothing when there are none)."""
    rows = ([("added", c) for c in d.added] + [("removed", c) for c in d.removed])
    if not rows:
        return []
    return ["| change | path | name | licence |", "|---|---|---|---|",
            *(f"| {what} | {md_code(c['path'])} | {md_text(c['name'])} | {md_text(c.get('license') or '')} |" for what, c in rows),
            ""]


def render_markdown(d: ReportDiff) -> str:
    icon = "❌" if d.adds_violation else "✅"
    lines = [f"## {icon} LicenseGate diff: {len(d.new_violations)} new violation(s)", "",
             f"{md_code(d.old, in_table=False)} → {md_code(d.new, in_table=False)}; verdict {md_text(d.verdicts[0])} → {md_text(d.verdicts[1])}", ""]
    lines += _markdown_changes(d)
    for x in d.licence_changes:
        lines.append(f"- licence of {md_code(x.path, in_table=False)}: {md_text(x.old)} → **{md_text(x.new)}**")
    for f in d.new_violations:
        lines.append(f"- **{md_text(f['severity'])}** {md_code(f['rule'], in_table=False)}: {md_text(f['message'])}")
    return "\n".join(lines) + "\n"
