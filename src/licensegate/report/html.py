"""One self-contained HTML page for the compliance engineer (templates/report.html.j2): no scripts, no network."""

from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from .. import __version__
from . import Report
from .graph_svg import FAMILY_COLOURS, render_svg
from .notices import environment


def render(report: Report, templates: Path | None = None) -> str:
    env = environment(templates)
    comps = sorted(report.components, key=lambda c: c.path)
    fams: dict[str, int] = {}
    for c in comps:
        fams[c.family] = fams.get(c.family, 0) + 1
    order = {"error": 0, "warning": 1, "info": 2}
    findings = sorted(report.findings, key=lambda f: (f.waived_by is not None, order.get(f.severity, 3), f.rule, f.component or ""))
    return env.get_template("report.html.j2").render(
        report=report, artifact=report.scan.artifact, components=comps, findings=findings, families=fams,
        failing=report.failing, models=report.models, colours=FAMILY_COLOURS, tool_version=__version__,
        graph=Markup(render_svg(comps, report.findings)),
        component=report.component,
    )
