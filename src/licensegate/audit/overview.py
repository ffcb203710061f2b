"""`licensegate db overview`: one self-contained HTML page of an audit (templates/audit_overview.html.j2).

No scripts, no network, every value autoescaped: app ids, names and paths come from artifacts.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from .. import __version__
from .queries import COPYLEFT
from .store import Store, now

_CURRENT = "SELECT DISTINCT scan_id FROM inputs WHERE status = 'done'"
ROW_LIMIT = 1000


def gather(store: Store) -> dict[str, Any]:
    status = dict(store.query("SELECT status, COUNT(*) FROM inputs GROUP BY status"))
    scans = store.query(
        "SELECT s.scan_id, s.app_id, s.version, s.platform, s.artifact_type, s.verdict, "
        "(SELECT COUNT(*) FROM components c WHERE c.scan_id = s.scan_id AND c.kind <> 'embedded'), "
        f"(SELECT COUNT(*) FROM components c WHERE c.scan_id = s.scan_id AND c.family IN ({_marks(COPYLEFT)})), "
        "(SELECT COUNT(*) FROM findings f WHERE f.scan_id = s.scan_id AND f.severity = 'error' AND f.waived = 0) "
        f"FROM scans s WHERE s.scan_id IN ({_CURRENT}) ORDER BY s.app_id, s.version, s.scan_id", COPYLEFT)
    apps = [dict(zip(("scan_id", "app_id", "version", "platform", "type", "verdict", "components", "copyleft", "errors"), r, strict=True))
            for r in scans]
    rules: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for sid, rule, n in store.query(
            f"SELECT scan_id, rule, COUNT(*) FROM findings WHERE severity = 'error' AND waived = 0 AND scan_id IN ({_CURRENT}) "
            "GROUP BY scan_id, rule ORDER BY scan_id, COUNT(*) DESC, rule"):
        rules[int(sid)].append((rule, int(n)))
    failing = [dict(a, rules=rules.get(int(a["scan_id"]), [])) for a in apps if a["verdict"] == "fail"]
    top = [dict(zip(("name", "family", "license", "apps", "builds"), r, strict=True)) for r in store.query(
        "SELECT c.name, c.family, c.license, COUNT(DISTINCT s.app_id), COUNT(DISTINCT s.scan_id) FROM components c "
        f"JOIN scans s ON s.scan_id = c.scan_id WHERE c.family IN ({_marks(COPYLEFT)}) AND s.scan_id IN ({_CURRENT}) "
        "GROUP BY c.name, c.family, c.license ORDER BY COUNT(DISTINCT s.app_id) DESC, COUNT(DISTINCT s.scan_id) DESC, c.name LIMIT 50",
        COPYLEFT)]
    by_app: dict[tuple[Any, Any], list[tuple[str, str, int]]] = defaultdict(list)
    for app, version, lic, fam, n in store.query(
            "SELECT s.app_id, s.version, COALESCE(c.license, '(unknown)'), c.family, COUNT(*) FROM components c "
            f"JOIN scans s ON s.scan_id = c.scan_id WHERE c.kind <> 'embedded' AND s.scan_id IN ({_CURRENT}) "
            "GROUP BY s.app_id, s.version, COALESCE(c.license, '(unknown)'), c.family ORDER BY s.app_id, s.version, COUNT(*) DESC"):
        by_app[(app, version)].append((lic, fam, int(n)))
    problems = [dict(zip(("path", "status", "attempts", "error"), r, strict=True)) for r in store.query(
        "SELECT path, status, attempts, error FROM inputs WHERE status IN ('error', 'quarantined') ORDER BY status, path")]
    return {
        "status": status, "apps": apps[:ROW_LIMIT], "apps_total": len(apps),
        "app_ids": len({a["app_id"] for a in apps}), "failing": failing[:ROW_LIMIT], "failing_total": len(failing),
        "top": top, "licences": [{"app_id": k[0], "version": k[1], "licences": v} for k, v in list(by_app.items())[:ROW_LIMIT]],
        "problems": problems[:ROW_LIMIT], "problems_total": len(problems), "row_limit": ROW_LIMIT,
    }


def render(store: Store) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("licensegate", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("audit_overview.html.j2").render(
        **gather(store), generated=now(), tool_version=__version__, colours=_FAMILY_COLOURS)


_FAMILY_COLOURS = {"nonfree": "#7b1fa2", "agpl": "#b71c1c", "gpl": "#d32f2f", "lgpl": "#f57c00",
                   "weak-copyleft": "#fbc02d", "permissive": "#388e3c", "unknown": "#757575"}


def _marks(items: tuple[str, ...]) -> str:
    return ", ".join("?" * len(items))
