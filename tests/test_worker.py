"""The scan's one hashing thread (scan._Worker): members' jobs in order, the artifact's digest a step at a time in
between, results and errors handed back, and a shutdown that does not wait for a digest nobody needs any more."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Generator
from pathlib import Path

import pytest

from licensegate.scan import _file_digest, _file_digest_steps, _Worker


def _slow_steps(n: int, seen: list[int]) -> Generator[None, None, int]:
    for i in range(n):
        time.sleep(0.001)
        seen.append(i)
        yield
    return n


def test_jobs_give_their_results_and_errors() -> None:
    worker = _Worker()
    try:
        assert worker.submit(lambda x: x * 2, 21).result() == 42
        job = worker.submit(lambda x: 1 // x, 0)
        with pytest.raises(ZeroDivisionError):
            job.result()
        assert worker.submit(str.upper, "still works").result() == "STILL WORKS"
    finally:
        worker.shutdown()


def test_a_job_runs_between_the_steps_of_the_background_not_after_them() -> None:
    worker = _Worker()
    try:
        seen: list[int] = []
        digest = worker.background(_slow_steps(1000, seen))  # about a second of steps
        while not seen:
            time.sleep(0.001)
        at = worker.submit(lambda _: len(seen), None).result()
        assert 0 < at < 1000  # the job did not wait for the whole background
        assert digest.result() == 1000 and seen == list(range(1000))  # and the background went on to its end
    finally:
        worker.shutdown()


def test_shutdown_stops_a_background_that_nobody_waits_for() -> None:
    worker = _Worker()
    seen: list[int] = []
    worker.background(_slow_steps(10**6, seen))  # ~17 minutes if run to its end
    while not seen:
        time.sleep(0.001)
    started = time.monotonic()
    worker.shutdown()
    assert not worker._thread.is_alive() and len(seen) < 10**6
    assert time.monotonic() - started < 60  # generous: one step is 1 ms


def test_an_error_in_the_background_is_its_result() -> None:
    def broken() -> Generator[None, None, int]:
        yield
        raise OSError("the artifact went away")

    worker = _Worker()
    try:
        with pytest.raises(OSError, match="went away"):
            worker.background(broken()).result()
        assert worker.submit(len, b"abc").result() == 3  # the worker goes on
    finally:
        worker.shutdown()


def test_the_stepwise_digest_is_the_file_digest(tmp_path: Path) -> None:
    data = bytes(range(256)) * 12_345  # 3 MiB and a bit: several 1 MiB steps
    path = tmp_path / "a.apk"
    path.write_bytes(data)
    expected = (len(data), hashlib.sha256(data).hexdigest())
    assert _file_digest(path) == expected
    worker = _Worker()
    try:
        assert worker.background(_file_digest_steps(path)).result() == expected
    finally:
        worker.shutdown()


class _Blob:
    """A member's bytes stand-in that can be watched with a weak reference (bytes cannot)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __len__(self) -> int:
        return len(self.data)


def test_the_worker_keeps_no_bytes_of_a_finished_job_while_it_waits() -> None:
    import gc
    import weakref

    worker = _Worker()
    try:
        blob = _Blob(b"member bytes" * 1000)
        watch = weakref.ref(blob)
        assert worker.submit(len, blob).result() == 12_000
        del blob
        gc.collect()
        deadline = time.monotonic() + 10
        while watch() is not None and time.monotonic() < deadline:  # the worker thread may still be unwinding
            time.sleep(0.01)
        assert watch() is None  # the idle worker holds nothing: a member's bytes are freed when the scan drops them
    finally:
        worker.shutdown()
