"""licensegate audit with the process pool on the fixture corpus: storage, dedup, resume, crashes, broken inputs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from audit_helpers import SMALL, crashing_scan, rows, variant
from licensegate.audit.inputs import expand
from licensegate.audit.runner import Audit, InputSpec, ProcessEngine
from licensegate.audit.store import Store
from licensegate.audit.worker import Settings, scan_key
from licensegate.cli import main


def audit(*args: str) -> int:
    return main(["audit", "--progress", "none", *args])


def verdicts(db: Path) -> dict[str, str]:
    return dict(rows(db, "SELECT artifact_sha256, verdict FROM scans"))


def test_corpus_audit_stores_every_build_and_a_rerun_scans_nothing(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "audit.db"
    assert audit(str(corpus), "--db", str(db), "--jobs", "2") == 1  # some builds violate the default policy
    inputs = dict(rows(db, "SELECT path, status FROM inputs"))
    expected = {str(corpus / a) for a in ("gpl-player.apk", "clean-app.apk", "traps.apk", "player.aab", "lib.aar", "ios-app.ipa", "unpacked-apk")}
    assert set(inputs) == expected and set(inputs.values()) == {"done"}
    by_app = dict(rows(db, "SELECT app_id || ' ' || artifact_type, verdict FROM scans"))
    assert by_app["com.example.clean apk"] == "pass" and by_app["com.example.player apk"] == "fail"
    # the stored report is the scan's JSON report; its rows are queryable
    report = json.loads(zlib.decompress(rows(db, "SELECT report FROM scans WHERE app_id = 'com.example.traps'")[0][0]))
    assert report["verdict"] == "fail" and report["artifact"]["app_id"] == "com.example.traps"
    x264 = rows(db, "SELECT DISTINCT s.app_id FROM components c JOIN scans s USING (scan_id) WHERE lower(c.name) = 'x264' ORDER BY 1")
    assert x264 == [("com.example.iosapp",), ("com.example.player",)]
    agpl = rows(db, "SELECT s.app_id, c.name FROM components c JOIN scans s USING (scan_id) WHERE c.family = 'agpl'")
    assert ("com.example.traps", "Ghostscript") in agpl
    assert rows(db, "SELECT COUNT(*) FROM links WHERE src = 'lib/arm64-v8a/libapp.so' AND dst = 'lib/arm64-v8a/libavcodec.so'")[0][0] >= 1
    assert rows(db, "SELECT COUNT(*) FROM findings WHERE rule = 'copyleft-agpl' AND waived = 0")[0][0] >= 1
    capsys.readouterr()

    scans_before = rows(db, "SELECT scan_id, scanned_at FROM scans ORDER BY 1")
    assert audit(str(corpus), "--db", str(db), "--progress", "json") == 1
    err = capsys.readouterr().err
    summary = [json.loads(line) for line in err.splitlines() if line.startswith("{")][-1]
    assert summary["event"] == "summary" and summary["scanned"] == 0 and summary["skipped"] + summary["linked"] == 7
    assert rows(db, "SELECT scan_id, scanned_at FROM scans ORDER BY 1") == scans_before
    assert rows(db, "SELECT scanned, linked + skipped FROM runs ORDER BY run_id") == [(7, 0), (0, 7)]


def test_same_bytes_under_other_names_are_linked_not_scanned(corpus: Path, tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    (apps / "team-b").mkdir(parents=True)
    for name in ("a.apk", "team-b/b.apk", "team-b/c.apk"):
        shutil.copyfile(corpus / "traps.apk", apps / name)
    db = tmp_path / "audit.db"
    assert audit(str(apps), "--db", str(db)) == 1
    assert rows(db, "SELECT COUNT(*) FROM scans")[0][0] == 1
    assert rows(db, "SELECT COUNT(DISTINCT scan_id), COUNT(*) FROM inputs WHERE status = 'done'")[0] == (1, 3)
    assert rows(db, "SELECT scanned, linked FROM runs") == [(1, 2)]
    # a new path with known bytes, in a later run: linked too
    shutil.copyfile(corpus / "traps.apk", apps / "d.apk")
    assert audit(str(apps), "--db", str(db)) == 1
    assert rows(db, "SELECT scanned, linked, skipped FROM runs ORDER BY run_id")[-1] == (0, 1, 3)
    # another policy is another scan key: scanned again, stored beside the first
    policy = tmp_path / "p.toml"
    policy.write_text('version = 1\n[rules]\ncopyleft-agpl = "warning"\n')
    audit(str(apps), "--db", str(db), "--policy", str(policy))
    assert rows(db, "SELECT COUNT(*), COUNT(DISTINCT scan_key) FROM scans")[0] == (2, 2)


def _corpus_variants(corpus: Path, folder: Path, n: int) -> list[Path]:
    folder.mkdir()
    return [variant(corpus / SMALL[i % len(SMALL)], folder / f"v{i:02d}-{SMALL[i % len(SMALL)]}", str(i)) for i in range(n)]


def test_an_interrupted_audit_resumes_with_what_is_left(corpus: Path, tmp_path: Path) -> None:
    files = _corpus_variants(corpus, tmp_path / "apps", 10)
    db = tmp_path / "audit.db"
    cmd = [sys.executable, "-m", "licensegate", "audit", str(tmp_path / "apps"), "--db", str(db), "--jobs", "1", "--batch", "1", "--progress", "none"]
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        committed = 0
        while time.monotonic() < deadline and proc.poll() is None:
            if db.exists():
                try:
                    committed = rows(db, "SELECT COUNT(*) FROM scans")[0][0]
                except Exception:  # noqa: BLE001 - schema still being created
                    committed = 0
                if committed >= 3:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, "the audit finished before it could be interrupted"
        os.killpg(proc.pid, signal.SIGKILL)  # the coordinator and its workers, all at once, mid-run
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    first = {sha for (sha,) in rows(db, "SELECT artifact_sha256 FROM scans")}
    assert 3 <= len(first) < len(files)
    assert audit(str(tmp_path / "apps"), "--db", str(db), "--jobs", "2") == 1
    run = rows(db, "SELECT scanned, linked + skipped FROM runs ORDER BY run_id DESC LIMIT 1")[0]
    assert run == (len(files) - len(first), len(first))
    assert rows(db, "SELECT COUNT(*), COUNT(DISTINCT artifact_sha256) FROM scans")[0] == (len(files), len(files))
    assert {s for (s,) in rows(db, "SELECT status FROM inputs")} == {"done"}


def _audit_api(specs: list[InputSpec], db: Path, retries: int = 2) -> tuple[Audit, Store]:
    from licensegate.policy import load
    from licensegate.signatures import SignatureDB

    settings = Settings(scan_key=scan_key(SignatureDB.load_default().fingerprint, load(None), "error"))
    store = Store(str(db))
    engine = ProcessEngine(2)
    a = Audit(store, engine, settings, retries=retries, scan_fn=crashing_scan)
    return a, store


def test_a_sigkilled_worker_is_retried_and_an_input_that_keeps_killing_is_quarantined(corpus: Path, tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    apps.mkdir()
    good = [variant(corpus / "lib.aar", apps / f"ok-{i}.aar", str(i)) for i in range(3)]
    once = variant(corpus / "traps.apk", apps / "crash-once.apk", "once")
    always = variant(corpus / "player.aab", apps / "crash-always.aab", "always")
    db = tmp_path / "audit.db"
    audit_run, store = _audit_api(expand([str(apps)]), db, retries=1)
    try:
        summary = audit_run.run(expand([str(apps)]))
    finally:
        audit_run.engine.close()
        store.close()
    assert summary.exit_code == 2
    status = {Path(p).name: (s, a, e) for p, s, a, e in rows(db, "SELECT path, status, attempts, error FROM inputs")}
    assert status["crash-once.apk"][0] == "done" and status["crash-once.apk"][1] >= 2
    assert status["crash-always.aab"][0] == "quarantined"
    assert "worker crashed" in status["crash-always.aab"][2] and "BrokenProcessPool" in status["crash-always.aab"][2]
    assert status["crash-always.aab"][1] >= 2  # retried once, alone, before quarantine
    assert all(status[g.name][0] == "done" for g in good)
    assert rows(db, "SELECT COUNT(*) FROM scans")[0][0] == 4
    assert summary.counters.quarantined == 1 and summary.counters.retried >= 1
    # a rerun keeps the quarantine (it would only kill workers again) and scans nothing
    audit_run, store = _audit_api([], db, retries=1)
    try:
        again = audit_run.run(expand([str(apps)]))
    finally:
        audit_run.engine.close()
        store.close()
    assert again.counters.scanned == 0 and again.exit_code == 2 and list(again.quarantined) == [str(always)]
    assert once.exists()


def test_broken_inputs_are_recorded_and_the_others_still_scanned(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apps = tmp_path / "apps"
    apps.mkdir()
    shutil.copyfile(corpus / "clean-app.apk", apps / "clean.apk")
    (apps / "truncated.apk").write_bytes((corpus / "traps.apk").read_bytes()[:5000])
    (apps / "text.ipa").write_text("not an archive\n")
    db = tmp_path / "audit.db"
    missing = tmp_path / "nowhere.apk"
    assert audit(str(apps), str(missing), "--db", str(db)) == 2
    status = {Path(p).name: (s, e) for p, s, e in rows(db, "SELECT path, status, error FROM inputs")}
    assert status["clean.apk"][0] == "done"
    for bad in ("truncated.apk", "text.ipa", "nowhere.apk"):
        assert status[bad][0] == "error" and status[bad][1], bad
    assert "no such file" in status["nowhere.apk"][1].lower()
    err = capsys.readouterr().err
    assert "3 could not be scanned" in err and "truncated.apk" in err and "Traceback" not in err


def test_inputs_lists_stdin_and_folders(corpus: Path, tmp_path: Path) -> None:
    apps = tmp_path / "apps"
    (apps / "deep" / "My.xcframework").mkdir(parents=True)
    (apps / "deep" / "unpacked").mkdir()
    (apps / "deep" / "unpacked" / "AndroidManifest.xml").write_bytes(b"<manifest/>")
    (apps / "deep" / "x.apk").write_bytes(b"PK")
    (apps / "notes.txt").write_text("x")
    (apps / "link.apk").symlink_to(corpus / "traps.apk")
    got = [Path(s.path).relative_to(apps).as_posix() for s in expand([str(apps)])]
    assert got == ["deep/My.xcframework", "deep/unpacked", "deep/x.apk"]
    lst = tmp_path / "list.txt"
    sha = "ab" * 32
    lst.write_text(f"# fleet\n{sha}  apps/deep/x.apk\n\napps/deep/x.apk\n{tmp_path / 'apps' / 'deep' / 'unpacked'}\n")
    specs = expand([f"@{lst}"])
    assert [(Path(s.path).name, s.sha256) for s in specs] == [("x.apk", sha), ("unpacked", None)]
    specs = expand(["-"], stdin=[str(apps / "deep" / "x.apk") + "\n"])
    assert [s.path for s in specs] == [str(apps / "deep" / "x.apk")]


def test_usage_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert audit(str(tmp_path), "--db", str(tmp_path / "a.db")) == 2  # an empty folder
    assert "no artifacts found" in capsys.readouterr().err
    assert main(["db", "apps-with", "x264", "--db", str(tmp_path / "missing.db")]) == 2
    assert "no such audit database" in capsys.readouterr().err
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    (tmp_path / "a.apk").write_bytes(b"PK")
    assert audit(str(tmp_path / "a.apk"), "--db", str(tmp_path / "junk.db")) == 2
    assert "not a database" in capsys.readouterr().err


def test_the_content_cache_is_shared_by_the_workers_and_its_hit_rate_reported(corpus: Path, tmp_path: Path,
                                                                              capsys: pytest.CaptureFixture[str]) -> None:
    apps = tmp_path / "apps"
    apps.mkdir()
    for i in range(4):  # other bytes, same libraries inside: each scan after the first finds them in the cache
        variant(corpus / "traps.apk", apps / f"release-{i}.apk", str(i))
    db = tmp_path / "audit.db"
    assert audit(str(apps), "--db", str(db), "--jobs", "2", "--cache", str(tmp_path / "cache")) == 1
    hits, misses = rows(db, "SELECT cache_hits, cache_misses FROM runs")[0]
    per_scan = rows(db, "SELECT cache_hits, cache_misses FROM scans")
    assert (hits, misses) == tuple(map(sum, zip(*per_scan, strict=True)))
    assert hits > 0 and misses > 0 and hits >= misses  # at most two scans (one per worker) start cold
    assert "% hits" in capsys.readouterr().err


def test_an_input_over_the_timeout_is_recorded_as_failed(corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    assert audit(str(corpus / "gpl-player.apk"), "--db", str(db), "--jobs", "1", "--timeout", "0.01") == 2
    assert rows(db, "SELECT status, error FROM inputs") == [("error", "timed out after 0.01 s")]


def test_progress_line_and_json_lines() -> None:
    import io

    from licensegate.audit.progress import Counters, Progress

    c = Counters(total=10, done=4, scanned=3, linked=1, failed=1, cache_hits=3, cache_misses=1)
    tty = io.StringIO()
    p = Progress("tty", tty)
    p.update(c, force=True)
    line = tty.getvalue()
    for part in ("audit 4/10", "40%", "/s", "ETA", "failed 1", "dedup 1", "cache 75%"):
        assert part in line, part
    js = io.StringIO()
    p = Progress("json", js)
    p.update(c, force=True)
    p.close(c)
    events = [json.loads(x) for x in js.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["progress", "summary"]
    assert events[0]["done"] == 4 and events[0]["total"] == 10 and events[0]["cache_hit_rate"] == 0.75
    assert "eta_s" in events[0] and "rate_per_s" in events[0]


def test_batched_tasks_are_split_when_a_worker_dies(corpus: Path, tmp_path: Path) -> None:
    """Several inputs per task (what the Dask engine does): a crash retries each input of the batch alone."""
    from licensegate.policy import load
    from licensegate.signatures import SignatureDB

    apps = tmp_path / "apps"
    apps.mkdir()
    for i in range(10):
        variant(corpus / "ios-app.ipa", apps / f"ok-{i:02d}.ipa", str(i))
    variant(corpus / "ios-app.ipa", apps / "crash-once.ipa", "once")
    variant(corpus / "ios-app.ipa", apps / "crash-always.ipa", "always")

    class Batched(ProcessEngine):
        chunk = 3

    db = tmp_path / "audit.db"
    store = Store(str(db))
    engine = Batched(1)
    settings = Settings(scan_key=scan_key(SignatureDB.load_default().fingerprint, load(None), "error"))
    try:
        summary = Audit(store, engine, settings, retries=1, scan_fn=crashing_scan).run(expand([str(apps)]))
    finally:
        engine.close()
        store.close()
    status = dict(rows(db, "SELECT path, status FROM inputs"))
    assert status.pop(str(apps / "crash-always.ipa")) == "quarantined"
    assert set(status.values()) == {"done"} and len(status) == 11
    assert summary.counters.scanned == 11 and summary.exit_code == 2


def test_a_rebuilt_knowledge_base_rescans_what_an_earlier_audit_stored(corpus: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from licensegate import knowledge

    db = tmp_path / "audit.db"
    app = str(corpus / "clean-app.apk")
    assert audit(app, "--db", str(db)) == 0
    assert audit(app, "--db", str(db)) == 0  # unchanged: nothing scanned again
    real = knowledge.fingerprint()
    monkeypatch.setattr(knowledge, "fingerprint", lambda: real[::-1])  # the native knowledge base was rebuilt
    assert audit(app, "--db", str(db)) == 0
    assert rows(db, "SELECT scanned FROM runs ORDER BY run_id") == [(1,), (0,), (1,)]
    assert len({key for (key,) in rows(db, "SELECT scan_key FROM scans")}) == 2


def test_a_rebuilt_java_knowledge_base_rescans_what_an_earlier_audit_stored(corpus: Path, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """data/java_kb.tsv is rebuilt by a maintainer script, like the native knowledge base, without a new version:
    the scan key covers it (and every other file of the package but the native knowledge base, keyed on its own)."""
    from licensegate import cache

    package = tmp_path / "licensegate"  # the installed package, as a copy this test may rebuild
    shutil.copytree(cache._PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__", "native_kb"))
    monkeypatch.setattr(cache, "_PACKAGE", package)
    db = tmp_path / "audit.db"
    app = str(corpus / "clean-app.apk")
    try:
        cache.code_fingerprint.cache_clear()
        assert audit(app, "--db", str(db)) == 0
        assert audit(app, "--db", str(db)) == 0  # unchanged: nothing scanned again
        with (package / "data" / "java_kb.tsv").open("a", encoding="utf-8") as fh:
            fh.write("com.example.rebuilt\tGPL-2.0-only\n")
        cache.code_fingerprint.cache_clear()
        assert audit(app, "--db", str(db)) == 0
    finally:
        cache.code_fingerprint.cache_clear()  # the next test digests the real package
    assert rows(db, "SELECT scanned FROM runs ORDER BY run_id") == [(1,), (0,), (1,)]
