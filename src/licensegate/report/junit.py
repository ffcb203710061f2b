"""JUnit XML for GitLab and other CI test reports: one test case per component, failing when it fails the gate.

Findings that belong to no component (waivers, the source-offer contact) are test cases of the policy file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..escape import xml
from ..model import Finding
from . import Report


def _case(suite: ET.Element, classname: str, name: str, failing: list[Finding], others: list[Finding]) -> None:
    case = ET.SubElement(suite, "testcase", classname=xml(classname), name=xml(name), time="0")
    for f in failing:
        fail = ET.SubElement(case, "failure", type=f.rule, message=xml(f.message[:500]))
        fail.text = xml(f"{f.severity} {f.rule}: {f.message}" + ("\nchain: " + " -> ".join(f.chain) if f.chain else ""))
    if others:
        out = ET.SubElement(case, "system-out")
        out.text = xml("\n".join(f"{f.severity} {f.rule}: {f.message}" + (f" [waived: {f.waived_by}]" if f.waived_by else "")
                                  for f in others))


def render(report: Report) -> str:
    a = report.scan.artifact
    failing = report.failing
    fail_ids = {id(f) for f in failing}
    suite_name = f"licensegate: {a.app_id or Path(a.path).name}"
    root = ET.Element("testsuites", name="licensegate")
    suite = ET.SubElement(root, "testsuite", name=xml(suite_name), timestamp=report.generated.rstrip("Z"))
    cases = 0
    for c in sorted(report.components, key=lambda c: c.path):
        mine = [f for f in report.findings if f.component == c.path]
        _case(suite, f"{a.type}.{c.family}", c.path, [f for f in mine if id(f) in fail_ids],
              [f for f in mine if id(f) not in fail_ids])
        cases += 1
    paths = {c.path for c in report.components}
    rest = [f for f in report.findings if f.component not in paths]
    by_name: dict[str, list[Finding]] = {}
    for f in rest:
        by_name.setdefault(f.component or f"policy: {f.rule}", []).append(f)
    for name, fs in sorted(by_name.items()):
        _case(suite, f"{a.type}.policy" if name.startswith("policy") else f"{a.type}.member", name,
              [f for f in fs if id(f) in fail_ids], [f for f in fs if id(f) not in fail_ids])
        cases += 1
    if report.scan.licence_files:
        out = ET.SubElement(suite, "system-out")  # licence files shipped: listed, never a test case of their own
        out.text = "Licence files shipped:\n" + "\n".join(
            f"{lf.path} ({lf.kind}): {', '.join(lf.licences) or lf.version or '-'}" for lf in report.scan.licence_files)
    failures = sum(1 for case in suite if case.find("failure") is not None)
    for el in (root, suite):
        el.set("tests", str(cases))
        el.set("failures", str(failures))
        el.set("errors", "0")
    suite.set("skipped", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
