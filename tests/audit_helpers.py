"""Shared by the audit tests; importable by pool workers (forkserver children get the tests folder on sys.path)."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import time
import zipfile
from pathlib import Path
from typing import NoReturn

from licensegate.audit.worker import Outcome, Task, scan_input

SMALL = ("traps.apk", "lib.aar", "player.aab", "ios-app.ipa", "clean-app.apk")


def crashing_scan(task: Task) -> Outcome:
    """A real scan, except that a worker SIGKILLs itself on inputs named crash-once (the first time) or crash-always."""
    name = Path(task.path).name
    marker = Path(task.path + ".crashed")
    if "crash-always" in name or ("crash-once" in name and not marker.exists()):
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return scan_input(task)


def slow_scan(task: Task) -> Outcome:
    """A real scan, except that inputs named slow-* never finish on their own: only the deadline ends them."""
    return scan_input(task, record=_sleep_forever if Path(task.path).name.startswith("slow-") else None)


def _sleep_forever(task: Task) -> NoReturn:
    while True:
        time.sleep(0.01)


def variant(src: Path, dst: Path, label: str) -> Path:
    """A copy of a zip artifact with different bytes (its archive comment) and the same content."""
    shutil.copyfile(src, dst)
    with zipfile.ZipFile(dst, "a") as z:
        z.comment = f"licensegate audit test {label}".encode()
    return dst


def rows(db: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
