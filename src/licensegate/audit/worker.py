"""The function every worker runs: one artifact in, one picklable `Outcome` out.

It is module-level and takes only plain data, so a ProcessPoolExecutor and a Dask cluster run the same code. The
policy travels as text (remote workers need not see the coordinator's files) and is parsed once per process. The
worker also flattens the report into the rows the database stores and compresses the JSON report, so the
coordinator only inserts.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import signal
import socket
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._dataclasses import dataclass, field
from ..errors import LicenseGateError

if TYPE_CHECKING:
    from ..policy import Policy
    from ..report import Report

SCAN_KEY_VERSION = "licensegate.audit/1"


@dataclass(frozen=True)
class Settings:
    """What is the same for every input of one audit; part of each task."""

    scan_key: str
    policy_text: str | None = None  # None: the built-in default policy
    policy_name: str | None = None  # the file the text came from, shown in reports
    cache_dir: str | None = None  # the content cache, on storage every worker sees
    fail_on: str = "error"
    timeout_s: float | None = None


@dataclass(frozen=True)
class Task:
    path: str
    sha256: str
    settings: Settings


@dataclass
class ScanRecord:
    """One scan as the database stores it (scans row plus its child rows)."""

    artifact_sha256: str
    scan_key: str
    verdict: str
    app_id: str | None
    version: str | None
    version_code: str | None
    platform: str
    artifact_type: str
    size: int
    duration_s: float
    cache_hits: int
    cache_misses: int
    tool_version: str
    report_z: bytes  # zlib-compressed JSON report
    components: list[tuple[str, str, str | None, str | None, str | None, str, str | None]] = field(default_factory=list)
    findings: list[tuple[str, str, str | None, int, str]] = field(default_factory=list)
    links: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Outcome:
    path: str
    sha256: str
    record: ScanRecord | None = None
    error: str | None = None  # the input could not be scanned (recorded; not retried)
    worker: str = ""
    cpu_s: float = 0.0


def scan_key(analysis: str, policy: Policy, fail_on: str, today: str | None = None) -> str:
    """Identity of "this artifact judged this way": tool version, what the analysis depends on
    (`cache.analysis_fingerprint`: signatures, native knowledge base, code), policy and the gate.

    Waivers that expire change the verdict with the calendar, so the set of waivers already expired is part of it.
    """
    from .. import __version__

    pol = policy.to_json()
    pol.pop("source", None)
    today = today or time.strftime("%Y-%m-%d", time.gmtime())
    expired = [i for i, w in enumerate(policy.waivers) if w.expires is not None and w.expires.isoformat() < today]
    key = json.dumps({"v": SCAN_KEY_VERSION, "tool": __version__, "kb": analysis, "policy": pol,
                      "fail_on": fail_on, "expired": expired}, sort_keys=True, default=str)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def scan_input(task: Task, record: Callable[[Task], ScanRecord] | None = None) -> Outcome:
    """Scan one artifact; an artifact that cannot be scanned is an Outcome with an error, never an exception.

    `record` replaces the scan itself (tests); the deadline, the error handling and the accounting stay.
    """
    started = time.process_time()
    out = Outcome(task.path, task.sha256, worker=f"{socket.gethostname()}:{os.getpid()}")
    try:
        with _deadline(task.settings.timeout_s):
            out.record = (record or _record)(task)
    except _Timeout:
        out.error = f"timed out after {task.settings.timeout_s:g} s"
    except LicenseGateError as exc:
        out.error = str(exc) or type(exc).__name__
    except MemoryError:
        out.error = "out of memory"
    except Exception as exc:  # a bug on one input must not stop the fleet: recorded with its type
        out.error = f"internal error: {type(exc).__name__}: {exc}"
    out.cpu_s = time.process_time() - started
    return out


def scan_batch(fn: Callable[[Task], Outcome], tasks: list[Task]) -> list[Outcome]:
    """Several inputs in one task: on a cluster, the scheduler's per-task cost is paid once for all of them."""
    return [fn(t) for t in tasks]


def _record(task: Task) -> ScanRecord:
    from .. import __version__

    s = task.settings
    started = time.perf_counter()
    report, hits, misses = _check(Path(task.path), _policy(s.policy_text, s.policy_name), s.cache_dir, s.fail_on)
    duration = time.perf_counter() - started
    doc = report.to_json()
    a = report.scan.artifact
    if task.sha256 and a.sha256 and a.sha256 != task.sha256:
        raise _Changed(f"{task.path}: changed while the audit ran (sha256 {a.sha256[:12]}..., expected {task.sha256[:12]}...)")
    rec = ScanRecord(
        artifact_sha256=a.sha256 or task.sha256, scan_key=s.scan_key, verdict=report.verdict, app_id=a.app_id,
        version=a.version, version_code=a.version_code, platform=a.platform, artifact_type=a.type, size=a.size,
        duration_s=round(duration, 4), cache_hits=hits, cache_misses=misses, tool_version=__version__,
        report_z=zlib.compress(json.dumps(doc, separators=(",", ":")).encode("utf-8"), 6),
    )
    _rows(doc, rec)
    return rec


def _check(path: Path, policy: Policy, cache_dir: str | None, fail_on: str) -> tuple[Report, int, int]:
    """The one call into the scan pipeline: (report, content-cache hits, misses of this scan)."""
    from .. import check
    from ..cache import ContentCache

    hits, misses = ContentCache.process_hits, ContentCache.process_misses
    report = check(path, policy, cache=cache_dir, fail_on=fail_on)
    return report, ContentCache.process_hits - hits, ContentCache.process_misses - misses


def _rows(doc: dict[str, Any], rec: ScanRecord) -> None:
    """Flatten the JSON report into the rows of the components, links and findings tables."""
    for c in doc["components"]:
        rec.components.extend(_component_rows(c))
        rec.links.extend(_link_rows(c))
    rec.links = list(dict.fromkeys(rec.links))  # once each, in report order
    rec.findings.extend((f["rule"], f["severity"], f.get("component"), 1 if f.get("waived_by") else 0, f.get("message") or "")
                        for f in doc["findings"])


def _component_rows(c: dict[str, Any]) -> list[tuple[str, str, str | None, str | None, str | None, str, str | None]]:
    from ..spdx import family

    rows = [(c["path"], c["kind"], c.get("name"), c.get("version"), c.get("license"), c.get("family") or "unknown", c.get("sha256"))]
    for m in c.get("embedded") or []:  # statically linked copies: "which apps ship x264" must find them
        lic = m.get("license")
        rows.append((c["path"], "embedded", m.get("name"), m.get("version"), lic, family(lic) if lic else "unknown", c.get("sha256")))
    return rows


def _link_rows(c: dict[str, Any]) -> list[tuple[str, str, str]]:
    links = c.get("links") or []
    rows = [(c["path"], dst, "needed") for dst in links]
    rows.extend((src, c["path"], "loads") for src in c.get("loaded_by") or [] if src not in links)
    return rows


class _Timeout(BaseException):
    """Not an Exception: a scan step that survives a bad member (`except Exception`) must not swallow the deadline."""


class _Changed(LicenseGateError):
    exit_code = 2


@contextmanager
def _deadline(seconds: float | None) -> Iterator[None]:
    """Raise _Timeout in this thread after `seconds`: SIGALRM in a process's main thread (pool workers), a timer
    thread otherwise (Dask runs tasks in worker threads). Either way the exception arrives between two Python
    bytecodes, so a long call into C (inflating one huge member) ends before the deadline is seen."""
    if not seconds:
        yield
    elif threading.current_thread() is threading.main_thread():
        with _alarm(seconds):
            yield
    else:
        with _thread_deadline(seconds):
            yield


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def fire(signum: int, frame: object) -> None:
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextmanager
def _thread_deadline(seconds: float) -> Iterator[None]:
    """A timer that raises _Timeout asynchronously in the scanning thread (PyThreadState_SetAsyncExc), so that a
    Dask worker thread is freed for the next task instead of finishing a hostile input."""
    import ctypes

    tid = ctypes.c_ulong(threading.get_ident())
    lock = threading.Lock()
    state = {"running": True, "fired": False}

    def fire() -> None:
        with lock:
            if state["running"]:
                state["fired"] = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(tid, ctypes.py_object(_Timeout))

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["running"] = False
            fired = state["fired"]
        if fired:  # the deadline passed: drop the exception if it is still pending, and report the timeout here
            ctypes.pythonapi.PyThreadState_SetAsyncExc(tid, None)
            raise _Timeout()


@functools.lru_cache(maxsize=4)
def _policy(text: str | None, name: str | None) -> Policy:
    from .. import policy as policy_mod

    if text is None:
        return policy_mod.load(None)
    # load() reads a file (and names it in errors): give it the text in a private file, then the real name.
    with tempfile.TemporaryDirectory(prefix="licensegate-policy-") as tmp:
        p = Path(tmp) / (Path(name).name if name else "licensegate.toml")
        p.write_text(text, encoding="utf-8")
        pol = policy_mod.load(p)
    pol.source = name or pol.source
    return pol


# Modules and knowledge bases a scan otherwise loads on its first input (about 0.4 s of CPU, measured): a worker
# that loads them before its first task starts as fast as its second, and loaded in the forkserver (preload.py),
# every worker of every pool inherits them for nothing.
WARM_MODULES = ("licensegate.scan", "licensegate.policy", "licensegate.report", "licensegate.licence_files",
                "licensegate.android.dex", "licensegate.android.inventory", "licensegate.android.manifest",
                "licensegate.android.classfile", "licensegate.ios.bundle", "licensegate.ml", "licensegate.ml.sniff")


def warm() -> None:
    """Process initializer: import the scanner and load every knowledge base once, before the first task."""
    import importlib

    from ..android.dex import load_java_packages
    from ..knowledge import load_default as native_kb
    from ..ml.licences import licence_table
    from ..signatures import SignatureDB

    for name in WARM_MODULES:
        importlib.import_module(name)
    SignatureDB.load_default()
    native_kb()
    load_java_packages()
    licence_table()
    _policy(None, None)
