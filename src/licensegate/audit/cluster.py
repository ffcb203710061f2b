"""`--dask ADDRESS|local`: the same scan function on a Dask cluster, through `Client.get_executor()`.

Dask reschedules the tasks of a worker that dies; a task that killed `distributed.scheduler.allowed-failures`
workers comes back as KilledWorker and the input is quarantined. `local` starts a LocalCluster of processes on
this machine (one thread each: the scan is CPU-bound Python).
"""

from __future__ import annotations

import concurrent.futures as cf
from typing import Any

from ..errors import UsageError
from .runner import Engine


class DaskEngine(Engine):
    def __init__(self, address: str, workers: int | None = None, retries: int = 2) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise UsageError("--dask needs Dask: pip install 'licensegate[dask]'") from None
        self.name = "dask"
        self._cluster: Any = None
        try:
            if address == "local":
                dask.config.set({"distributed.scheduler.allowed-failures": retries})
                self._cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                             dashboard_address=None, host="127.0.0.1")
                self.client = Client(self._cluster)
            else:
                self.client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as exc:
            self.close()
            raise UsageError(f"--dask {address}: cannot reach the scheduler ({exc})") from None
        self.address = address
        self.workers = max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info().get("workers", {}).values()))
        self._executor: cf.Executor = self.client.get_executor(pure=False)
        self._warm()

    def _warm(self) -> None:
        """Load the scanner and its knowledge bases on every worker now, not during each worker's first task."""
        from .worker import warm

        try:
            self.client.run(warm)
        except Exception:  # noqa: BLE001 - a worker that cannot load them reports it with the first input it scans
            pass

    # A task's round trip goes through the scheduler (milliseconds, more on a busy machine): a few inputs per task
    # and several tasks per worker in flight hide it. A batch whose worker died is retried one input at a time.
    chunk = 4

    @property
    def window(self) -> int:
        return max(8, self.workers * 3)

    def executor(self) -> cf.Executor:
        return self._executor

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
