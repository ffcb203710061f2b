"""One self-contained HTML page for the compliance engineer (templates/report.html.j2): no network, one small inline
script that sorts and filters the tables (the page reads fine without it)."""

from __future__ import annotations

import re
from pathlib import Path

from markupsafe import Markup, escape

from .. import __version__
from . import Report, tally
from .graph_svg import FAMILY_COLOURS, render_svg
from .notices import environment
from .text import _provenance
from .view import SEVERITY_ORDER, actions, chosen_licence, message_for, printable, role, role_label, shown, what_to_do


def licence_html(expression: str | None) -> Markup:
    """A licence expression that wraps only between its operands, never inside an id ("GPL-2.0-or-later")."""
    if not expression:
        return Markup('<span class="none">licence unknown</span>')
    parts = re.split(r"(\s+(?:OR|AND|WITH)\s+|[()])", expression)
    out = []
    for part in parts:
        if not part or part.isspace():
            continue
        if part.strip() in ("OR", "AND", "WITH", "(", ")"):
            out.append(f'<span class="op">{escape(part.strip())}</span>')
        else:
            out.append(f'<span class="lic">{escape(part.strip())}</span>')
    return Markup(" ".join(out))


def path_html(path: str | None) -> Markup:
    """A member path that wraps after a `/`, keeping each folder and file name whole ("arm64-v8a") unless one alone
    is wider than its column."""
    if not path:
        return Markup("")
    return Markup("<wbr>").join(Markup('<span class="seg">{}</span>').format(p) for p in re.split(r"(?<=/)", path) if p)


def render(report: Report, templates: Path | None = None) -> str:
    env = environment(templates)
    env.filters["licence"] = licence_html
    env.filters["path"] = path_html
    env.filters["printable"] = printable
    rows = shown(report.components)
    fams = tally(role(row.first) for row in rows)
    findings = sorted(report.findings, key=lambda f: (f.waived_by is not None, SEVERITY_ORDER.get(f.severity, 3), f.rule,
                                                      f.component or ""))
    return env.get_template("report.html.j2").render(
        report=report, artifact=report.scan.artifact, rows=rows, findings=findings, families=fams,
        failing=report.failing, actions=actions(report, report.failing), models=report.models, colours=FAMILY_COLOURS, severity_order=SEVERITY_ORDER,
        tool_version=__version__, graph=Markup(render_svg(report.components, report.findings)),
        component=report.component, role=role, role_label=role_label, what_to_do=what_to_do, message_for=message_for,
        chosen_licence=chosen_licence, provenance=lambda m: _provenance(report, m),
    )
