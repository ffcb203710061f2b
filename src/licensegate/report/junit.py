"""JUnit XML for GitLab and other CI test reports: one test case per component, failing when it fails the gate.

Findings that belong to no component (waivers, the source-offer contact) are test cases of the policy file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..escape import xml
from ..model import Finding
from . import Report


def _case(suite: ET.Element, classname: str, name: str, findings: list[Finding], fail_ids: set[int]) -> None:
    """One test case: the failing findings as <failure>s, the others (info, waived) in its system-out."""
    case = ET.SubElement(suite, "testcase", classname=xml(classname), name=xml(name), time="0")
    for f in (f for f in findings if id(f) in fail_ids):
        fail = ET.SubElement(case, "failure", type=f.rule, message=xml(f.message[:500]))
        fail.text = xml(f"{f.severity} {f.rule}: {f.message}" + _chain(f))
    others = [f for f in findings if id(f) not in fail_ids]
    if others:
        out = ET.SubElement(case, "system-out")
        out.text = xml("\n".join(_line(f) for f in others))


def _chain(f: Finding) -> str:
    return "\nchain: " + " -> ".join(f.chain) if f.chain else ""


def _line(f: Finding) -> str:
    return f"{f.severity} {f.rule}: {f.message}" + (f" [waived: {f.waived_by}]" if f.waived_by else "")


def _component_cases(suite: ET.Element, report: Report, fail_ids: set[int]) -> int:
    """A test case per component, failing when one of its findings fails the gate."""
    kind = report.scan.artifact.type
    components = sorted(report.components, key=lambda c: c.path)
    for c in components:
        _case(suite, f"{kind}.{c.family}", c.path, [f for f in report.findings if f.component == c.path], fail_ids)
    return len(components)


def _policy_cases(suite: ET.Element, report: Report, fail_ids: set[int]) -> int:
    """A test case per rule of the findings about the policy itself, and per member that is no component."""
    kind = report.scan.artifact.type
    paths = {c.path for c in report.components}
    by_name: dict[str, list[Finding]] = {}
    for f in report.findings:
        if f.component not in paths:
            by_name.setdefault(f.component or f"policy: {f.rule}", []).append(f)
    for name, fs in sorted(by_name.items()):
        _case(suite, f"{kind}.policy" if name.startswith("policy") else f"{kind}.member", name, fs, fail_ids)
    return len(by_name)


def _licence_files(suite: ET.Element, report: Report) -> None:
    """Licence files shipped: listed in the suite's output, never a test case of their own."""
    if not report.scan.licence_files:
        return
    out = ET.SubElement(suite, "system-out")
    out.text = "Licence files shipped:\n" + "\n".join(
        f"{lf.path} ({lf.kind}): {', '.join(lf.licences) or lf.version or '-'}" for lf in report.scan.licence_files)


def _count(root: ET.Element, suite: ET.Element, cases: int) -> None:
    failures = sum(1 for case in suite if case.find("failure") is not None)
    for el in (root, suite):
        el.set("tests", str(cases))
        el.set("failures", str(failures))
        el.set("errors", "0")
    suite.set("skipped", "0")


def render(report: Report) -> str:
    a = report.scan.artifact
    fail_ids = {id(f) for f in report.failing}
    root = ET.Element("testsuites", name="licensegate")
    suite = ET.SubElement(root, "testsuite", name=xml(f"licensegate: {a.app_id or Path(a.path).name}"),
                          timestamp=report.generated.rstrip("Z"))
    cases = _component_cases(suite, report, fail_ids) + _policy_cases(suite, report, fail_ids)
    _licence_files(suite, report)
    _count(root, suite, cases)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
