"""The Dask path runs the same scan function and stores the same verdicts as the process pool."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audit_helpers import rows, slow_scan, variant
from licensegate.cli import main

pytest.importorskip("distributed")


def verdicts(db: Path) -> dict[str, str]:
    return dict(rows(db, "SELECT artifact_sha256, verdict FROM scans"))


@pytest.fixture(scope="module")
def pool_verdicts(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    db = tmp_path_factory.mktemp("pool") / "audit.db"
    assert main(["audit", str(corpus), "--db", str(db), "--jobs", "2", "--progress", "none"]) == 1
    got = verdicts(db)
    assert len(got) == 7
    return got


def test_local_cluster_stores_the_same_verdicts(corpus: Path, tmp_path: Path, pool_verdicts: dict[str, str]) -> None:
    db = tmp_path / "audit.db"
    assert main(["audit", str(corpus), "--db", str(db), "--dask", "local", "--progress", "none"]) == 1
    assert verdicts(db) == pool_verdicts
    assert rows(db, "SELECT engine, scanned FROM runs") == [("dask", 7)]


def test_timeout_under_dask_records_the_input_as_failed_and_frees_the_worker(corpus: Path, tmp_path: Path) -> None:
    """One worker thread: the inputs after the one that never ends are scanned only if the deadline freed it."""
    from licensegate.audit.cluster import DaskEngine
    from licensegate.audit.inputs import expand
    from licensegate.audit.runner import Audit
    from licensegate.audit.store import Store
    from licensegate.audit.worker import Settings

    apps = tmp_path / "apps"
    apps.mkdir()
    variant(corpus / "traps.apk", apps / "slow-traps.apk", "slow")  # the largest input: sent first
    for name in ("ios-app.ipa", "lib.aar"):
        shutil.copyfile(corpus / name, apps / name)
    db = tmp_path / "audit.db"
    store, engine = Store(str(db)), DaskEngine("local", 1)
    try:
        assert engine.workers == 1
        summary = Audit(store, engine, Settings(scan_key="timeout-test", timeout_s=5), scan_fn=slow_scan).run(expand([str(apps)]))
    finally:
        engine.close()
        store.close()
    assert rows(db, "SELECT path, status, error FROM inputs ORDER BY path") == [
        (str(apps / "ios-app.ipa"), "done", None),
        (str(apps / "lib.aar"), "done", None),
        (str(apps / "slow-traps.apk"), "error", "timed out after 5 s"),
    ]
    assert summary.exit_code == 2 and summary.counters.scanned == 2 and summary.counters.failed == 1


def _wait_for(path: Path, proc: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size > 0:
            return
        assert proc.poll() is None, "the process exited early"
        time.sleep(0.1)
    raise AssertionError(f"{path} not written in {seconds} s")


def test_real_scheduler_and_worker_processes(corpus: Path, tmp_path: Path, pool_verdicts: dict[str, str]) -> None:
    dask = str(Path(sys.executable).with_name("dask"))
    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    started: list[subprocess.Popen[bytes]] = []
    try:
        scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                      "--scheduler-file", str(sched_file)], env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(tmp_path / "scheduler.log", "wb"))
        started.append(scheduler)
        _wait_for(sched_file, scheduler)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(2):
            started.append(subprocess.Popen([dask, "worker", "--scheduler-file", str(sched_file), "--nthreads", "1",
                                             "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}"], env=env,
                                            stdout=subprocess.DEVNULL, stderr=open(tmp_path / f"worker{i}.log", "wb")))
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        db = tmp_path / "audit.db"
        assert main(["audit", str(corpus), "--db", str(db), "--dask", address, "--progress", "none"]) == 1
        assert verdicts(db) == pool_verdicts
        assert rows(db, "SELECT engine, workers, scanned FROM runs") == [("dask", 2, 7)]
    finally:
        for proc in reversed(started):  # ended by PID, workers first
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
        for proc in reversed(started):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
