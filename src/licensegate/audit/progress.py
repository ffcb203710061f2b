"""Progress of an audit: one redrawn line on a terminal, JSON lines for CI, or nothing."""

from __future__ import annotations

import json
import sys
import time
from typing import IO, Any

from .._dataclasses import asdict, dataclass


@dataclass
class Counters:
    total: int = 0
    done: int = 0  # inputs with a final state this run (any of the below)
    scanned: int = 0  # scanned by a worker this run
    linked: int = 0  # same bytes already scanned under the same key: linked, not scanned
    skipped: int = 0  # done in an earlier run and unchanged (resume)
    failed: int = 0  # could not be scanned (recorded with the error)
    quarantined: int = 0  # kept killing workers
    retried: int = 0  # tasks resubmitted after a worker crash
    cache_hits: int = 0
    cache_misses: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0

    @property
    def cache_hit_rate(self) -> float | None:
        n = self.cache_hits + self.cache_misses
        return self.cache_hits / n if n else None

    def as_run(self) -> dict[str, Any]:
        return {"inputs": self.total, "scanned": self.scanned, "linked": self.linked, "skipped": self.skipped,
                "failed": self.failed, "quarantined": self.quarantined, "cache_hits": self.cache_hits,
                "cache_misses": self.cache_misses, "wall_s": round(self.wall_s, 3)}


class Progress:
    """mode: "tty" (a line on stderr, at most 5 redraws a second), "json" (a line a second), or "none"."""

    def __init__(self, mode: str, stream: IO[str] | None = None) -> None:
        self.mode = mode
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._last = 0.0
        self._first_done: tuple[float, int] | None = None

    @classmethod
    def choose(cls, mode: str) -> Progress:
        if mode == "auto":
            mode = "tty" if sys.stderr.isatty() else "none"
        return cls(mode)

    def _rate(self, c: Counters) -> tuple[float, float | None]:
        """Inputs per second since the first one finished this run (resumed ones do not count), and the ETA."""
        now = time.monotonic()
        work = c.done - c.skipped
        if self._first_done is None:
            if work <= 0:
                return 0.0, None
            self._first_done = (self.started, 0)
        t0, n0 = self._first_done
        rate = (work - n0) / (now - t0) if now > t0 else 0.0
        left = c.total - c.done
        return rate, (left / rate if rate > 0 else None)

    def update(self, c: Counters, force: bool = False) -> None:
        if self.mode == "none":
            return
        now = time.monotonic()
        if not force and now - self._last < (0.2 if self.mode == "tty" else 1.0):
            return
        self._last = now
        rate, eta = self._rate(c)
        if self.mode == "json":
            self._json("progress", c, rate, eta)
            return
        pct = c.done / c.total if c.total else 1.0
        hit = c.cache_hit_rate
        line = (f"audit {c.done}/{c.total} {pct:4.0%}  {rate:.1f}/s  ETA {_duration(eta)}  failed {c.failed + c.quarantined}"
                f"  dedup {c.linked}  resumed {c.skipped}  cache {'-' if hit is None else f'{hit:.0%}'}")
        self.stream.write("\r" + line[:160].ljust(100))
        self.stream.flush()

    def _json(self, event: str, c: Counters, rate: float, eta: float | None) -> None:
        doc = {"event": event, **{k: v for k, v in asdict(c).items() if k not in ("cpu_s",)},
               "rate_per_s": round(rate, 3), "eta_s": None if eta is None else round(eta, 1),
               "cache_hit_rate": None if c.cache_hit_rate is None else round(c.cache_hit_rate, 4),
               "elapsed_s": round(time.monotonic() - self.started, 3)}
        self.stream.write(json.dumps(doc) + "\n")
        self.stream.flush()

    def close(self, c: Counters) -> None:
        if self.mode == "tty":
            self.update(c, force=True)
            self.stream.write("\n")
        elif self.mode == "json":
            rate, _ = self._rate(c)
            self._json("summary", c, rate, 0.0)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "--"
    s = int(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"
