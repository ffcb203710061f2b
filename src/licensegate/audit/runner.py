"""The coordinator: journal every input, link what is already known, scan the rest on an executor, store in batches.

One loop drives any `concurrent.futures.Executor`: a ProcessPoolExecutor on this machine or Dask's
`Client.get_executor()` on a cluster. A crashed worker breaks a process pool for every task in flight, so those
tasks are retried one at a time ("isolated") until the crash is pinned on one input; an input that crashes a worker
more than `retries` times when alone is quarantined with the error, and the others are stored normally.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import itertools
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from .._dataclasses import dataclass, field
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
        # forkserver: no fork of a coordinator that runs threads; the preload warms the scanner once for all workers
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["licensegate.audit.preload"])
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
        self._ready: collections.deque[Task] = collections.deque()  # hashed, not yet submitted
        self._isolated: collections.deque[Task] = collections.deque()  # suspects of a crash, retried one at a time
        self._inflight: dict[cf.Future[Any], list[Task]] = {}

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
        # Largest first, so that no big artifact starts last and leaves one worker busy while the others idle.
        hashed = self._hashed(sorted(todo, key=lambda s: _largest_first(self._stat[s.path])))
        # batches only when there is enough work for every worker to get several
        window, chunk = self.engine.window, max(1, min(self.engine.chunk, len(todo) // (self.engine.workers * 4)))
        while True:
            self._fill(hashed, window * chunk)
            if not (self._ready or self._isolated or self._inflight):
                break
            self._submit(window, chunk)
            done, _ = cf.wait(list(self._inflight), timeout=0.5, return_when=cf.FIRST_COMPLETED)
            self._collect(done)
            self.progress.update(self.c)
            if len(self._batch) >= self.batch_size or time.monotonic() - self._flushed >= self.batch_seconds:
                self._flush()

    def _fill(self, hashed: Iterator[Any], want: int) -> None:
        """Keep `want` tasks ready, so that a worker that finishes gets its next task at once."""
        while len(self._ready) < want:
            got = next(hashed, None)
            if got is None:
                return
            if got is not _LINKED:
                self._ready.append(got)

    def _collect(self, done: set[cf.Future[Any]]) -> None:
        alone = len(self._inflight) == 1
        for fut in done:
            tasks = self._inflight.pop(fut, None)
            if tasks is None:  # already moved to the suspects when the pool broke
                continue
            try:
                result = fut.result()
            except BaseException as exc:  # noqa: BLE001 - the executor lost the task: a worker died
                if isinstance(exc, KeyboardInterrupt):
                    raise
                self._crashed(tasks, exc, alone)
                continue
            for task, outcome in zip(tasks, result if isinstance(result, list) else [result], strict=True):
                self._outcome(task, outcome)

    def _submit(self, window: int, chunk: int) -> None:
        if self._isolated:  # after a crash: one suspect at a time, so the next crash names its input
            if not self._inflight:
                self._send([self._isolated.popleft()])
            return
        while self._ready and len(self._inflight) < window:
            self._send([self._ready.popleft() for _ in range(min(chunk, len(self._ready)))])

    def _send(self, tasks: list[Task]) -> None:
        for t in tasks:
            self._attempts[t.path] += 1
        ex = self.engine.executor()
        fut = ex.submit(self.scan_fn, tasks[0]) if len(tasks) == 1 else ex.submit(scan_batch, self.scan_fn, tasks)
        self._inflight[fut] = tasks

    def _crashed(self, tasks: list[Task], exc: BaseException, alone: bool) -> None:
        if self.engine.broken(exc):  # the pool is gone: every other task in flight is a suspect too
            for others in list(self._inflight.values()):
                self._isolated.extend(others)
            self._inflight.clear()
        if len(tasks) > 1:  # a batch of inputs (Dask): which one killed the worker is found by trying each alone
            for task in tasks:
                self._crashes[task.path] += 1
                self.c.retried += 1
                self._isolated.append(task)
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
        self._isolated.append(task)

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
        """Tasks for inputs whose bytes are not yet scanned under this key; links the others (yields _LINKED).

        Digests are computed by two threads running ahead of the dispatch (hashlib releases the GIL), and looked up
        in the store in groups that grow from 1 to 64: the first task leaves after one digest, not 64.
        """
        with cf.ThreadPoolExecutor(max_workers=2) as hashers:
            digests = _digests_ahead(todo, hashers)
            for size in _group_sizes():
                group = list(itertools.islice(digests, size))
                if not group:
                    return
                pairs = [p for p in (self._digest(s, f) for s, f in group) if p is not None]
                known = {} if self.rescan else self.store.scans_for(self.settings.scan_key, [sha for _, sha in pairs])
                for s, sha in pairs:
                    yield self._task_or_link(s, sha, known)

    def _digest(self, spec: InputSpec, fut: cf.Future[tuple[int, str]] | None) -> tuple[InputSpec, str] | None:
        """(input, sha256); None for an input that could not be read (recorded as an error)."""
        if fut is None:
            return spec, spec.sha256 or ""
        try:
            return spec, fut.result()[1]
        except OSError as exc:
            self.c.failed += 1
            self._final(Journal(spec.path, None, *self._stat[spec.path], "error", self._attempts[spec.path],
                                self.settings.scan_key, error=f"{spec.path}: {exc.strerror or exc}"))
            return None

    def _task_or_link(self, s: InputSpec, sha: str, known: dict[str, tuple[int, str]]) -> Any:
        if sha in known:  # these bytes were scanned under this key before: link to that scan
            self.c.linked += 1
            sid, verdict = known[sha]
            self._final(Journal(s.path, sha, *self._stat[s.path], "done", self._attempts[s.path],
                                self.settings.scan_key, scan_id=sid, verdict=verdict))
            return _LINKED
        if sha in self._twins:  # same bytes already on their way to a worker: wait for that scan
            self._twins[sha].append(s.path)
            return _LINKED
        self._twins[sha] = []
        return Task(s.path, sha, self.settings)


def _digests_ahead(todo: Sequence[InputSpec], hashers: cf.Executor,
                   ahead: int = 256) -> Iterator[tuple[InputSpec, cf.Future[tuple[int, str]] | None]]:
    """Each input with its digest job (None when the input list gave the digest), at most `ahead` jobs queued."""
    from ..scan import _file_digest

    queued: collections.deque[tuple[InputSpec, cf.Future[tuple[int, str]] | None]] = collections.deque()
    for s in todo:
        queued.append((s, None if s.sha256 else hashers.submit(_file_digest, Path(s.path))))
        if len(queued) >= ahead:
            yield queued.popleft()
    yield from queued


def _largest_first(stat: tuple[int | None, int | None]) -> tuple[bool, int]:
    size = stat[0]
    return size is not None, -(size or 0)  # folders (size unknown) first, then files by decreasing size


def _group_sizes() -> Iterator[int]:
    size = 1
    while True:
        yield size
        size = min(64, size * 2)


_LINKED = object()
