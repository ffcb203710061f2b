"""Every report format by name; `render(report, fmt)` gives the text of one."""

from __future__ import annotations

import json
from pathlib import Path

from . import Report

FORMATS = ("text", "json", "sarif", "cyclonedx", "spdx", "markdown", "junit", "html")
# what `--report FMT=FILE` users usually name the files; documentation only
SUFFIXES = {"text": ".txt", "json": ".json", "sarif": ".sarif", "cyclonedx": ".cdx.json", "spdx": ".spdx.json",
            "markdown": ".md", "junit": ".junit.xml", "html": ".html"}


def render(report: Report, fmt: str, *, verbose: bool = False, templates: Path | None = None, summary: bool = False) -> str:
    if fmt == "text":
        from ..escape import terminal
        from .text import render as text
        from .text import render_summary

        return terminal(render_summary(report) if summary else text(report, verbose=verbose))
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2) + "\n"
    if fmt == "sarif":
        from .sarif import render as sarif

        return sarif(report)
    if fmt == "cyclonedx":
        from .cyclonedx import render as cyclonedx

        return cyclonedx(report)
    if fmt == "spdx":
        from .spdx_json import render as spdx

        return spdx(report)
    if fmt == "markdown":
        from .markdown import render as markdown

        return markdown(report)
    if fmt == "junit":
        from .junit import render as junit

        return junit(report)
    if fmt == "html":
        from .html import render as html

        return html(report, templates)
    raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
