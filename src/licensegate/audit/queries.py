"""`licensegate db ...`: questions asked of an audit database, each one SQL query plus a renderer."""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path
from typing import Any

from .. import escape
from ..errors import UsageError
from ..fsutil import atomic_write, atomic_writer
from .store import Store

EXIT_PASS, EXIT_FAIL = 0, 1

COPYLEFT = ("agpl", "gpl", "lgpl", "weak-copyleft")

# Column types for the Parquet export (the schema in store.py, as Arrow types).
_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "inputs": [("path", "string"), ("sha256", "string"), ("size", "int64"), ("mtime_ns", "int64"), ("status", "string"),
               ("attempts", "int64"), ("error", "string"), ("scan_id", "int64"), ("scan_key", "string"), ("run_id", "int64"),
               ("updated_at", "string")],
    "scans": [("scan_id", "int64"), ("artifact_sha256", "string"), ("scan_key", "string"), ("verdict", "string"),
              ("app_id", "string"), ("version", "string"), ("version_code", "string"), ("platform", "string"),
              ("artifact_type", "string"), ("size", "int64"), ("duration_s", "float64"), ("cache_hits", "int64"),
              ("cache_misses", "int64"), ("tool_version", "string"), ("scanned_at", "string"), ("run_id", "int64"),
              ("report", "binary")],
    "components": [("scan_id", "int64"), ("path", "string"), ("kind", "string"), ("name", "string"), ("version", "string"),
                   ("license", "string"), ("family", "string"), ("sha256", "string")],
    "findings": [("scan_id", "int64"), ("rule", "string"), ("severity", "string"), ("component", "string"),
                 ("waived", "int64"), ("message", "string")],
    "links": [("scan_id", "int64"), ("src", "string"), ("dst", "string"), ("kind", "string")],
    "runs": [("run_id", "int64"), ("started_at", "string"), ("finished_at", "string"), ("tool_version", "string"),
             ("scan_key", "string"), ("engine", "string"), ("workers", "int64"), ("inputs", "int64"), ("scanned", "int64"),
             ("linked", "int64"), ("skipped", "int64"), ("failed", "int64"), ("quarantined", "int64"),
             ("cache_hits", "int64"), ("cache_misses", "int64"), ("wall_s", "float64")],
}


def apps_with(store: Store, name: str) -> list[dict[str, Any]]:
    """Apps and versions whose stored scan has a component (or a statically linked copy) with this name."""
    pattern = name.lower() if "%" in name else name.lower()
    op = "LIKE" if "%" in name else "="
    rows = store.query(
        "SELECT s.app_id, s.version, c.name, c.version, c.license, c.family, c.kind, c.path, s.artifact_sha256, s.verdict "
        f"FROM components c JOIN scans s ON s.scan_id = c.scan_id WHERE lower(c.name) {op} ? "
        "AND s.scan_id IN (SELECT scan_id FROM inputs WHERE status = 'done') "
        "ORDER BY s.app_id, s.version, c.path", (pattern,))
    keys = ("app_id", "app_version", "name", "version", "license", "family", "kind", "path", "artifact_sha256", "verdict")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def cmd_apps_with(store: Store, args: argparse.Namespace) -> int:
    rows = apps_with(store, args.name)
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_PASS
    if not rows:
        print(f"no stored app ships a component named {escape.text(args.name)!r}")
        return EXIT_PASS
    apps = {(r["app_id"], r["app_version"]) for r in rows}
    print(f"{len(apps)} app version(s) ship {escape.text(args.name)}:")
    for r in rows:
        what = "statically linked in " if r["kind"] == "embedded" else ""
        print(escape.text(f"  {r['app_id'] or '(no app id)'} {r['app_version'] or '?'}: {r['name']} {r['version'] or ''} "
                    f"({r['license'] or 'licence unknown'}, {r['family']}) {what}{r['path']}  [{r['verdict']}]"))
    return EXIT_PASS


def report_of(store: Store, app: str, version: str) -> dict[str, Any]:
    """The newest stored JSON report of APP at VERSION (version name or version code)."""
    rows = store.query("SELECT report FROM scans WHERE app_id = ? AND (version = ? OR version_code = ?) ORDER BY scanned_at DESC, scan_id DESC",
                       (app, version, version))
    if not rows:
        known = [r[0] for r in store.query("SELECT DISTINCT version FROM scans WHERE app_id = ? ORDER BY version", (app,))]
        hint = f"; stored versions: {', '.join(str(k) for k in known)}" if known else "; no scan of that app is stored"
        raise UsageError(f"no stored scan of {app} version {version}{hint}")
    return dict(json.loads(zlib.decompress(bytes(rows[0][0]))))


def cmd_diff(store: Store, args: argparse.Namespace) -> int:
    from ..diff import diff, render_markdown, render_text

    d = diff(report_of(store, args.app, args.old), report_of(store, args.app, args.new))
    d.old, d.new = f"{args.app} {args.old}", f"{args.app} {args.new}"
    if args.format == "json":
        text = json.dumps(d.to_json(), indent=2) + "\n"
    elif args.format == "markdown":
        text = render_markdown(d)
    else:
        text = render_text(d)
    sys.stdout.write(text)
    return EXIT_FAIL if d.adds_violation else EXIT_PASS


def cmd_export(store: Store, args: argparse.Namespace) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError("db export --parquet needs pyarrow: pip install 'licensegate[parquet]'") from None
    out: Path = args.parquet
    if out.exists() and not out.is_dir():
        raise UsageError(f"--parquet {out} is a file; give a folder")
    out.mkdir(parents=True, exist_ok=True)
    for table, cols in _COLUMNS.items():
        schema = pa.schema([(n, getattr(pa, t)()) for n, t in cols])
        target = out / f"{table}.parquet"
        cur = store.execute(f"SELECT {', '.join(n for n, _ in cols)} FROM {table}")
        n = 0
        with atomic_writer(target) as fh, pq.ParquetWriter(fh, schema) as writer:
            while rows := cur.fetchmany(50_000):
                columns = list(zip(*rows, strict=True))
                arrays = [pa.array([bytes(v) if v is not None else None for v in col] if t == "binary" else list(col), type=getattr(pa, t)())
                          for col, (_, t) in zip(columns, cols, strict=True)]
                writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
                n += len(rows)
        print(f"{target}: {n} row(s)", file=sys.stderr)
    if store.dialect == "postgresql":
        store.conn.commit()
    return EXIT_PASS


def cmd_overview(store: Store, args: argparse.Namespace) -> int:
    from .overview import render

    html = render(store)
    out: Path = args.output
    try:
        atomic_write(out, html)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"wrote {out}", file=sys.stderr)
    return EXIT_PASS
