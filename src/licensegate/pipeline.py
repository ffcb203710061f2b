"""The library entry point: `check(path, policy) -> Report`, the whole pipeline in one call.

open the artifact -> walk members -> identify each (native code, DEX, models, bundle metadata) -> components with
evidence -> link graph (all in `scan`) -> policy (`policy.evaluate`, pure) -> the `Report` that renderers read.

The CLI's `scan` and `diff`, the tests and fleet audits call this one function. It is a plain module-level function
taking and returning plain data, so a process pool can pickle a call to it.
"""

from __future__ import annotations

import datetime
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from .archive import Limits
    from .policy import Policy
    from .report import Report
    from .scan import ProgressCallback

FailOn = Literal["error", "warning", "never"]


def check(
    path: str | os.PathLike[str],
    policy: Policy | str | os.PathLike[str] | None = None,
    *,
    cache: str | os.PathLike[str] | None = None,
    limits: Limits | None = None,
    fail_on: FailOn | str = "error",
    progress: ProgressCallback | None = None,
    source_offer: bool = True,
    today: datetime.date | None = None,
) -> Report:
    """Scan the build at `path` and judge it by `policy`; `report.verdict` is "pass" or "fail".

    - `policy`: a `Policy`, the path of a policy file (read with `licensegate.policy.load`), or None for the
      built-in default (docs/policy.md). The library never looks for a policy file by itself; the CLI does.
    - `cache`: a folder that keeps the analysis of unchanged binaries between runs, keyed by sha256.
    - `limits`: caps against hostile archives (`licensegate.archive.Limits`; default: the documented defaults).
    - `fail_on`: "error", "warning" or "never": which unwaived findings make the verdict "fail".
    - `progress`: called as `progress(done, total)` while members are read.
    - `source_offer`: a written offer that is due with no [source_offer] contact in the policy is a
      `source-offer-contact-missing` finding (the CLI always asks, so --notices never changes the verdict line);
      False leaves it out, like setting the rule "off".
    - `today`: the date waivers expire against (default: today in UTC).

    Raises a `licensegate.errors.LicenseGateError`: `UsageError` for a bad policy file or argument, `InputError` for
    an artifact that does not exist or cannot be read (each carries the CLI's exit code).
    """
    from . import policy as policy_mod
    from .errors import UsageError
    from .report import build
    from .scan import scan

    if fail_on not in ("error", "warning", "never"):
        raise UsageError(f"fail_on must be 'error', 'warning' or 'never', not {fail_on!r}")
    pol = policy if isinstance(policy, policy_mod.Policy) else policy_mod.load(None if policy is None else Path(policy))
    started = time.perf_counter()
    result = scan(Path(path), limits, progress, cache_dir=None if cache is None else Path(cache))
    verdict = policy_mod.evaluate(result, pol, today, source_offer=source_offer)
    return build(result, pol, verdict, fail_on, time.perf_counter() - started)
