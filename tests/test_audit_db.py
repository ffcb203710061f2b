"""licensegate db: apps-with, diff between stored versions, Parquet export, the HTML overview; PostgreSQL on loopback."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from audit_helpers import rows
from licensegate.audit.store import Journal, Store
from licensegate.audit.worker import Settings, Task, scan_input
from licensegate.cli import main

CHROMIUM = Path("/usr/bin/chromium")
PG_ENV = "LICENSEGATE_TEST_POSTGRES_URL"  # exported by .ci/run after .ci/postgres-start


def store_scan(store: Store, artifact: Path, **fields: str) -> None:
    """A real scan of `artifact` stored under another app id / version (the corpus has one version per app)."""
    out = scan_input(Task(str(artifact), "", Settings(scan_key="test-key")))
    assert out.record is not None, out.error
    rec = dataclasses.replace(out.record, **fields)
    store.register([(str(artifact) + "#" + json.dumps(fields), None, None)], 0)
    store.write_batch([Journal(str(artifact) + "#" + json.dumps(fields), rec.artifact_sha256 + json.dumps(fields), None, None,
                               "done", 1, "test-key", outcome=dataclasses.replace(out, record=dataclasses.replace(
                                   rec, artifact_sha256=rec.artifact_sha256 + json.dumps(fields))))], 0)


@pytest.fixture(scope="module")
def audited(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("db") / "audit.db"
    assert main(["audit", str(corpus), "--db", str(db), "--progress", "none"]) == 1
    store = Store(str(db))
    try:  # two "versions" of one app: the clean build, then a build that adds GPL code
        store_scan(store, corpus / "clean-app.apk", app_id="com.example.fleet", version="1.0")
        store_scan(store, corpus / "gpl-player.apk", app_id="com.example.fleet", version="2.0")
        store_scan(store, corpus / "traps.apk", app_id='<script>alert("x")</script>&', version="<b>9</b>")
    finally:
        store.close()
    return db


def test_apps_with(audited: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "apps-with", "X264", "--db", str(audited), "--format", "json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert {(r["app_id"], r["name"]) for r in found} >= {("com.example.player", "x264"), ("com.example.iosapp", "x264"),
                                                          ("com.example.fleet", "x264")}
    assert all(r["family"] == "gpl" for r in found)
    assert main(["db", "apps-with", "ghostscript", "--db", str(audited)]) == 0
    out = capsys.readouterr().out
    assert "com.example.traps 0.9: Ghostscript" in out and "AGPL-3.0" in out
    assert main(["db", "apps-with", "no-such-library", "--db", str(audited)]) == 0
    assert "no stored app" in capsys.readouterr().out


def test_diff_between_two_stored_versions(audited: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "diff", "com.example.fleet", "1.0", "2.0", "--db", str(audited), "--format", "json"]) == 1
    d = json.loads(capsys.readouterr().out)
    added = {c["name"] for c in d["components_added"]}
    assert "x264" in added and "FFmpeg libavcodec" in added
    assert d["verdicts"] == {"old": "pass", "new": "fail"} and d["adds_violation"]
    assert main(["db", "diff", "com.example.fleet", "2.0", "1.0", "--db", str(audited)]) == 0
    assert "adds no violation" in capsys.readouterr().out
    assert main(["db", "diff", "com.example.fleet", "1.0", "3.0", "--db", str(audited)]) == 2
    assert "stored versions: 1.0, 2.0" in capsys.readouterr().err


def test_parquet_export_has_every_row(audited: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    assert main(["db", "export", "--parquet", str(tmp_path / "pq"), "--db", str(audited)]) == 0
    for table in ("inputs", "scans", "components", "findings", "links", "runs"):
        t = pq.read_table(tmp_path / "pq" / f"{table}.parquet")
        assert t.num_rows == rows(audited, f"SELECT COUNT(*) FROM {table}")[0][0], table
    comps = pq.read_table(tmp_path / "pq" / "components.parquet").to_pylist()
    assert any(c["name"] == "x264" and c["family"] == "gpl" for c in comps)


def test_overview_is_one_escaped_page_that_renders_in_chromium(audited: Path, tmp_path: Path) -> None:
    page = tmp_path / "overview.html"
    assert main(["db", "overview", "-o", str(page), "--db", str(audited)]) == 0
    text = page.read_text()
    assert "<script" not in text and '&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;' in text and "&lt;b&gt;9&lt;/b&gt;" in text
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text) and "<link" not in text
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                               "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert re.search(r'<h2 id="failing">Failing apps \(\d+\)</h2>', dom)
    assert "Ghostscript" in dom and "com.example.fleet" in dom and "GPL-2.0-or-later" in dom
    assert "<script>alert" not in dom  # the hostile app id stayed text


@pytest.fixture
def pg_url() -> Iterator[str]:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} not set (.ci/run starts a server with .ci/postgres-start and exports it)")
    import psycopg

    name = f"lg_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield re.sub(r"/[^/]*$", f"/{name}", url)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_postgresql_is_the_same_store(corpus: Path, pg_url: str, audited: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(corpus), "--db", pg_url, "--progress", "none"]) == 1
    import psycopg

    with psycopg.connect(pg_url) as con:
        for statement in _doc_sql():  # the docs' example SQL runs on PostgreSQL too
            con.execute(statement).fetchall()
        got = dict(con.execute("SELECT artifact_sha256, verdict FROM scans").fetchall())
        comps = con.execute("SELECT COUNT(*) FROM components").fetchone()
        assert con.execute("SELECT COUNT(*) FROM inputs WHERE status = 'done'").fetchone() == (7,)
    sqlite_rows = rows(audited, "SELECT artifact_sha256, verdict FROM scans WHERE scan_key <> 'test-key'")
    assert got == dict(sqlite_rows)
    assert comps == rows(audited, "SELECT COUNT(*) FROM components c JOIN scans s USING (scan_id) WHERE s.scan_key <> 'test-key'")[0]
    capsys.readouterr()
    assert main(["audit", str(corpus), "--db", pg_url, "--progress", "json"]) == 1
    summary = json.loads(capsys.readouterr().err.strip().splitlines()[-2])
    assert summary["event"] == "summary" and summary["scanned"] == 0
    assert main(["db", "apps-with", "x264", "--db", pg_url]) == 0
    assert "com.example.player 2.4.1: x264" in capsys.readouterr().out
    assert main(["db", "export", "--parquet", str(tmp_path / "pq"), "--db", pg_url]) == 0
    assert main(["db", "overview", "-o", str(tmp_path / "o.html"), "--db", pg_url]) == 0
    assert "Ghostscript" in (tmp_path / "o.html").read_text()


def _doc_sql() -> list[str]:
    text = (Path(__file__).resolve().parent.parent / "docs" / "audit.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    return [s.strip() for b in blocks for s in b.split(";") if s.strip()]


def test_the_example_sql_of_the_docs_runs(audited: Path, corpus: Path) -> None:
    statements = _doc_sql()
    assert len(statements) >= 6
    import sqlite3

    con = sqlite3.connect(audited)
    try:
        results = [con.execute(s).fetchall() for s in statements]
    finally:
        con.close()
    assert ("com.example.player", "2.4.1", "lib/arm64-v8a/libx264.so", "native-library") in results[0]
    assert any(r[2] == "Ghostscript" for r in results[1])
