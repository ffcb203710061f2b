"""The coordinator: journal every input, link what is already known, scan the rest on an executor, store in batches.

One loop drives any `concurrent.futures.Executor`: a ProcessPoolExecutor on this machine or Dask's
`Client.get_executor()` on a cluster. A crashed worker breaks a process pool for every task in flight, so those
tasks are retried one at a time ("isolated") until the crash is pinned on one input; an input that crashes a worker
more than `retries` times when alone is quarantined with the error, and the others are stored normally.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .progress import Counters, Progress
from .store import InputRow, Journal, Store
from .worker import Outcome, Settings, Task, scan_batch, scan_input


@dataclass(frozen=True)
class InputSpec:
    path: str  # absolute
    sha256: str | None = None  # known in advance (a `sha256sum` list), else hashed by the coordinator


@dataclass
class Summary:
    counters: Counters
    verdicts: dict[str, str] = field(default_factory=dict)  # path -> pass/fail for every input done
    errors: dict[str, str] = field(default_factory=dict)  # path -> error for inputs not scanned
    quarantined: dict[str, str] = field(default_factory=dict)
    run_id: int = 0

    @property
    def exit_code(self) -> int:
        if self.errors or self.quarantined:
            return 2
        return 1 if any(v == "fail" for v in self.verdicts.values()) else 0


class Engine:
    """Makes executors; a process pool is remade after a worker crash broke it."""

    name = "engine"
    workers = 1

    chunk = 1  # inputs per submitted task

    @property
    def window(self) -> int:
        """Tasks kept in flight: enough to keep every worker busy while results travel back."""
        return max(2, self.workers * 2)
    crash_types: tuple[type[BaseException], ...] = ()

    def executor(self) -> cf.Executor:
        raise NotImplementedError

    def broken(self, exc: BaseException) -> bool:
        """True when the executor must be remade (every task in flight was lost)."""
        return False

    def close(self) -> None:
        pass


class ProcessEngine(Engine):
    def __init__(self, workers: int) -> None:
        import multiprocessing

        self.name = "process-pool"
        self.workers = workers
        # forkserver: no fork of a coordinator that runs threads; the preload imports the scanner once for all workers
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["licensegate.audit.worker", "licensegate.scan", "licensegate.policy"])
        self._pool: cf.ProcessPoolExecutor | None = None
        self.crash_types = (BrokenProcessPool,)

    def executor(self) -> cf.Executor:
        if self._pool is None:
            from .worker import warm

            self._pool = cf.ProcessPoolExecutor(self.workers, mp_context=self._ctx, initializer=warm)
        return self._pool

    def broken(self, exc: BaseException) -> bool:
        if isinstance(exc, BrokenProcessPool) and self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            return True
        return False

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class Audit:
    """One audit run against one database."""

    def __init__(self, store: Store, engine: Engine, settings: Settings, *, retries: int = 2, rescan: bool = False,
                 batch_size: int = 200, batch_seconds: float = 2.0, progress: Progress | None = None,
                 scan_fn: Callable[[Task], Outcome] = scan_input) -> None:
        self.store, self.engine, self.settings = store, engine, settings
        self.retries, self.rescan = retries, rescan
        self.batch_size, self.batch_seconds = batch_size, batch_seconds
        self.progress = progress or Progress("none")
        self.scan_fn = scan_fn
        self.c = Counters()
        self.summary = Summary(self.c)
        self._batch: list[Journal] = []
        self._flushed = time.monotonic()
        self._stat: dict[str, tuple[int | None, int | None]] = {}
        self._attempts: dict[str, int] = {}
        self._crashes: collections.Counter[str] = collections.Counter()
        self._solo_crashes: collections.Counter[str] = collections.Counter()
        self._twins: dict[str, list[str]] = {}  # sha256 being scanned -> other inputs with the same bytes

    # -- the run ----------------------------------------------------------------------------------------------

    def run(self, specs: Sequence[InputSpec]) -> Summary:
        from .. import __version__

        started = time.monotonic()
        self.summary.run_id = run_id = self.store.begin_run(self.settings.scan_key, __version__, self.engine.name, self.engine.workers)
        self.run_id = run_id
        self.c.total = len(specs)
        try:
            todo = self._journal(specs)
            self.progress.update(self.c)
            self._scan(todo)
            self._flush()
        finally:
            self.c.wall_s = time.monotonic() - started
            try:
                self._flush()
            finally:
                self.store.finish_run(run_id, self.c.as_run())
                self.progress.close(self.c)
        return self.summary

    def _journal(self, specs: Sequence[InputSpec]) -> list[InputSpec]:
        """Register every input; return those not already done under this scan key (resume)."""
        known = self.store.inputs([s.path for s in specs])
        new_rows: list[tuple[str, int | None, int | None]] = []
        todo: list[InputSpec] = []
        for s in specs:
            try:
                st = os.stat(s.path)
                stat: tuple[int | None, int | None] = (None, None) if os.path.isdir(s.path) else (st.st_size, st.st_mtime_ns)
            except OSError as exc:
                self._stat[s.path] = (None, None)
                new_rows.append((s.path, None, None))
                self._final(Journal(s.path, None, None, None, "error", 0, self.settings.scan_key,
                                    error=f"{s.path}: {exc.strerror or exc}"))
                continue
            self._stat[s.path] = stat
            row = known.get(s.path)
            if row is None:
                new_rows.append((s.path, *stat))
            elif not self.rescan and self._unchanged(row, stat, s):
                self._remember(row)
                continue
            self._attempts[s.path] = row.attempts if row is not None and row.scan_key == self.settings.scan_key else 0
            todo.append(s)
        self.store.register(new_rows, self.run_id)
        return todo

    def _unchanged(self, row: InputRow, stat: tuple[int | None, int | None], spec: InputSpec) -> bool:
        if row.scan_key != self.settings.scan_key or row.status == "pending":
            return False
        if stat == (None, None):  # a folder: its mtime says nothing about its content, so hash it again
            return False
        if spec.sha256 is not None and row.sha256 is not None and spec.sha256 != row.sha256:
            return False
        return (row.size, row.mtime_ns) == stat

    def _remember(self, row: InputRow) -> None:
        self.c.skipped += 1
        self.c.done += 1
        if row.status == "done" and row.verdict is not None:
            self.summary.verdicts[row.path] = row.verdict
        elif row.status == "quarantined":
            self.summary.quarantined[row.path] = row.error or "quarantined"
        else:
            self.summary.errors[row.path] = row.error or row.status

    def _scan(self, todo: list[InputSpec]) -> None:
        ready: collections.deque[Task] = collections.deque()
        isolated: collections.deque[Task] = collections.deque()
        inflight: dict[cf.Future[Any], list[Task]] = {}
        hashed = self._hashed(todo)
        # batches only when there is enough work for every worker to get several
        window, chunk = self.engine.window, max(1, min(self.engine.chunk, len(todo) // (self.engine.workers * 4)))
        exhausted = False
        while True:
            while not exhausted and len(ready) < window * chunk:
                got = next(hashed, None)
                if got is None:
                    exhausted = True
                elif got is not _LINKED:
                    ready.append(got)
            if not (ready or isolated or inflight):
                break
            self._submit(ready, isolated, inflight, window, chunk)
            done, _ = cf.wait(list(inflight), timeout=0.5, return_when=cf.FIRST_COMPLETED)
            alone = len(inflight) == 1
            for fut in done:
                tasks = inflight.pop(fut, None)
                if tasks is None:  # already moved to the suspects when the pool broke
                    continue
                try:
                    result = fut.result()
                except BaseException as exc:  # noqa: BLE001 - the executor lost the task: a worker died
                    if isinstance(exc, KeyboardInterrupt):
                        raise
                    self._crashed(tasks, exc, alone, isolated, inflight)
                    continue
                for task, outcome in zip(tasks, result if isinstance(result, list) else [result], strict=True):
                    self._outcome(task, outcome)
            self.progress.update(self.c)
            if len(self._batch) >= self.batch_size or time.monotonic() - self._flushed >= self.batch_seconds:
                self._flush()

    def _submit(self, ready: collections.deque[Task], isolated: collections.deque[Task],
                inflight: dict[cf.Future[Any], list[Task]], window: int, chunk: int) -> None:
        if isolated:  # after a crash: one suspect at a time, so the next crash names its input
            if not inflight:
                self._send([isolated.popleft()], inflight)
            return
        while ready and len(inflight) < window:
            self._send([ready.popleft() for _ in range(min(chunk, len(ready)))], inflight)

    def _send(self, tasks: list[Task], inflight: dict[cf.Future[Any], list[Task]]) -> None:
        for t in tasks:
            self._attempts[t.path] += 1
        ex = self.engine.executor()
        fut = ex.submit(self.scan_fn, tasks[0]) if len(tasks) == 1 else ex.submit(scan_batch, self.scan_fn, tasks)
        inflight[fut] = tasks

    def _crashed(self, tasks: list[Task], exc: BaseException, alone: bool, isolated: collections.deque[Task],
                 inflight: dict[cf.Future[Any], list[Task]]) -> None:
        if self.engine.broken(exc):  # the pool is gone: every other task in flight is a suspect too
            for others in list(inflight.values()):
                isolated.extend(others)
            inflight.clear()
        if len(tasks) > 1:  # a batch of inputs (Dask): which one killed the worker is found by trying each alone
            for task in tasks:
                self._crashes[task.path] += 1
                self.c.retried += 1
                isolated.append(task)
            return
        task = tasks[0]
        self._crashes[task.path] += 1
        if alone:  # only a crash with nothing else in flight is pinned on this input
            self._solo_crashes[task.path] += 1
        killed = type(exc).__name__ == "KilledWorker"  # Dask already retried it on other workers
        if killed or self._solo_crashes[task.path] > self.retries:
            error = f"worker crashed {self._crashes[task.path]} time(s) scanning it ({type(exc).__name__}: {exc})".strip()
            self.c.quarantined += 1
            self._final_with_twins(task, Journal(task.path, task.sha256, *self._stat[task.path], "quarantined",
                                                 self._attempts[task.path], self.settings.scan_key, error=error))
            return
        self.c.retried += 1
        isolated.append(task)

    def _outcome(self, task: Task, outcome: Outcome) -> None:
        stat = self._stat[task.path]
        if outcome.record is None:
            self.c.failed += 1
            j = Journal(task.path, task.sha256, *stat, "error", self._attempts[task.path], self.settings.scan_key,
                        error=outcome.error or "no result")
        else:
            self.c.scanned += 1
            self.c.cache_hits += outcome.record.cache_hits
            self.c.cache_misses += outcome.record.cache_misses
            self.c.cpu_s += outcome.cpu_s
            j = Journal(task.path, task.sha256, *stat, "done", self._attempts[task.path], self.settings.scan_key, outcome=outcome)
        self._final_with_twins(task, j)

    def _final_with_twins(self, task: Task, j: Journal) -> None:
        self._final(j)
        for twin in self._twins.pop(task.sha256, []):
            if j.status != "done":
                self.c.failed += j.status == "error"
                self.c.quarantined += j.status == "quarantined"
            else:
                self.c.linked += 1
            self._final(Journal(twin, task.sha256, *self._stat[twin], j.status, 0, self.settings.scan_key, error=j.error))

    def _final(self, j: Journal) -> None:
        self._batch.append(j)
        self.c.done += 1
        verdict = j.outcome.record.verdict if j.outcome and j.outcome.record else j.verdict
        if j.status == "done" and verdict:
            self.summary.verdicts[j.path] = verdict
        elif j.status == "quarantined":
            self.summary.quarantined[j.path] = j.error or ""
        elif j.status == "error":
            self.summary.errors[j.path] = j.error or ""

    def _flush(self) -> None:
        if self._batch:
            stored = self.store.write_batch(self._batch, self.run_id, replace=self.rescan)
            for j in self._batch:  # twins learn their verdict once their scan is stored
                if j.status == "done" and j.path not in self.summary.verdicts and j.sha256 in stored:
                    self.summary.verdicts[j.path] = stored[j.sha256][1]
            self._batch = []
        self._flushed = time.monotonic()

    # -- hashing and dedup --------------------------------------------------------------------------------------

    def _hashed(self, todo: list[InputSpec]) -> Iterator[Any]:
        """Tasks for inputs whose bytes are not yet scanned under this key; links the others (yields _LINKED)."""
        from ..scan import _file_digest

        group = 64
        with cf.ThreadPoolExecutor(max_workers=2) as hashers:  # hashlib releases the GIL
            for i in range(0, len(todo), group):
                chunk = todo[i : i + group]
                futs = [None if s.sha256 else hashers.submit(_file_digest, Path(s.path)) for s in chunk]
                pairs: list[tuple[InputSpec, str]] = []
                for s, f in zip(chunk, futs, strict=True):
                    if f is None:
                        pairs.append((s, s.sha256 or ""))
                        continue
                    try:
                        pairs.append((s, f.result()[1]))
                    except OSError as exc:
                        self.c.failed += 1
                        self._final(Journal(s.path, None, *self._stat[s.path], "error", self._attempts[s.path],
                                            self.settings.scan_key, error=f"{s.path}: {exc.strerror or exc}"))
                known = {} if self.rescan else self.store.scans_for(self.settings.scan_key, [sha for _, sha in pairs])
                for s, sha in pairs:
                    if sha in known:
                        self.c.linked += 1
                        sid, verdict = known[sha]
                        self._final(Journal(s.path, sha, *self._stat[s.path], "done", self._attempts[s.path],
                                            self.settings.scan_key, scan_id=sid, verdict=verdict))
                        yield _LINKED
                    elif sha in self._twins:  # same bytes already on their way to a worker: wait for that scan
                        self._twins[sha].append(s.path)
                        yield _LINKED
                    else:
                        self._twins[sha] = []
                        yield Task(s.path, sha, self.settings)


_LINKED = object()
