"""The `audit` and `db` subcommands: argument parsing and exit codes; the work is in the modules beside this one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .. import escape
from ..errors import UsageError


def add_parsers(sub: Any) -> None:
    a = sub.add_parser("audit", help="scan many artifacts into an SQLite or PostgreSQL database (docs/audit.md)")
    a.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="an artifact, a folder (walked for artifacts), @list.txt (one path a line, or sha256sum output), or - for stdin")
    a.add_argument("--db", required=True, metavar="FILE|URL", help="SQLite file, or postgresql://user@host/dbname")
    eng = a.add_mutually_exclusive_group()
    eng.add_argument("--jobs", "-j", type=_positive, metavar="N", help="worker processes on this machine (default: CPU count)")
    eng.add_argument("--dask", metavar="ADDRESS|local", help="run on a Dask cluster (scheduler address, or local for a LocalCluster)")
    a.add_argument("--dask-workers", type=_positive, metavar="N", help=argparse.SUPPRESS)
    a.add_argument("--cache", type=Path, metavar="DIR", help="content cache shared by every worker (put it on storage they all see)")
    a.add_argument("--policy", type=Path, metavar="FILE", help="TOML policy applied to every input (default: built-in)")
    a.add_argument("--fail-on", choices=("error", "warning", "never"), default="error", help="which findings make an input fail")
    a.add_argument("--retries", type=_count, default=2, metavar="N", help="retries of an input whose worker crashed, before quarantine (default 2)")
    a.add_argument("--timeout", type=float, metavar="S", help="seconds one input may take; then it is recorded as failed")
    a.add_argument("--rescan", action="store_true", help="scan every input again, even if already stored under the same key")
    a.add_argument("--progress", choices=("auto", "json", "none"), default="auto",
                   help="a progress line on a terminal (auto), JSON lines on stderr (json), or none")
    a.add_argument("--batch", type=_positive, default=200, metavar="N", help=argparse.SUPPRESS)
    a.set_defaults(handler=audit)

    d = sub.add_parser("db", help="query an audit database")
    dsub = d.add_subparsers(dest="db_command", parser_class=sub._parser_class)
    w = dsub.add_parser("apps-with", help="apps and versions shipping a component (name, case-insensitive; %% wildcards)")
    w.add_argument("name")
    w.add_argument("--format", choices=("text", "json"), default="text")
    df = dsub.add_parser("diff", help="what changed in APP between versions OLD and NEW; exit 1 on a new violation")
    df.add_argument("app")
    df.add_argument("old")
    df.add_argument("new")
    df.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    ex = dsub.add_parser("export", help="write every table as Parquet files for DuckDB, pandas or Spark")
    ex.add_argument("--parquet", type=Path, required=True, metavar="DIR")
    ov = dsub.add_parser("overview", help="one self-contained HTML page: apps, failing apps, copyleft components, licences")
    ov.add_argument("--output", "-o", type=Path, required=True, metavar="FILE")
    for p in (w, df, ex, ov):
        p.add_argument("--db", required=True, metavar="FILE|URL", help="the audit database")
    d.set_defaults(handler=db)


def _at_least(minimum: int) -> Any:
    """An argparse type: an integer of at least `minimum` (--jobs, --retries, ...), with a one-line error."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}: {text!r}" if minimum else f"must be 0 or more: {text!r}")
        return n

    return parse


_positive, _count = _at_least(1), _at_least(0)


def audit(args: argparse.Namespace) -> int:
    from .inputs import expand

    specs = expand(args.inputs)
    if not specs:
        raise UsageError("no artifacts found in the inputs given")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    summary = _run(args, specs, _settings(args))
    _report(summary, args)
    return summary.exit_code


def _settings(args: argparse.Namespace) -> Any:
    """What every worker needs: the scan key, the policy as text, the cache folder, the gate and the deadline."""
    from .. import policy as policy_mod
    from ..cache import analysis_fingerprint
    from ..signatures import SignatureDB
    from .worker import Settings, scan_key

    pol = policy_mod.load(args.policy)  # a bad policy is a usage error before anything starts
    policy_text = args.policy.read_text(encoding="utf-8") if args.policy is not None else None
    key = scan_key(analysis_fingerprint(SignatureDB.load_default().fingerprint), pol, args.fail_on)
    return Settings(scan_key=key, policy_text=policy_text, policy_name=str(args.policy) if args.policy else None,
                    cache_dir=str(args.cache.resolve()) if args.cache else None, fail_on=args.fail_on,
                    timeout_s=args.timeout)


def _engine(args: argparse.Namespace, inputs: int) -> Any:
    import os

    if args.dask:
        from .cluster import DaskEngine

        return DaskEngine(args.dask, args.dask_workers or os.cpu_count(), args.retries)
    from .runner import ProcessEngine

    return ProcessEngine(args.jobs or min(inputs, os.cpu_count() or 1))


def _run(args: argparse.Namespace, specs: list[Any], settings: Any) -> Any:
    from .progress import Progress
    from .runner import Audit
    from .store import Store

    store = Store(args.db)
    try:
        engine = _engine(args, len(specs))
        try:
            return Audit(store, engine, settings, retries=args.retries, rescan=args.rescan, batch_size=args.batch,
                         progress=Progress.choose(args.progress)).run(specs)
        finally:
            engine.close()
    finally:
        store.close()


def _report(summary: Any, args: argparse.Namespace) -> None:
    c = summary.counters
    fails = sum(1 for v in summary.verdicts.values() if v == "fail")
    hit = c.cache_hit_rate
    cache = "off" if args.cache is None else ("-" if hit is None else f"{hit:.0%} hits")
    print(f"audited {c.total} input(s) in {c.wall_s:.1f} s: {c.scanned} scanned, {c.linked} linked (same bytes), "
          f"{c.skipped} unchanged since an earlier run; {fails} fail the policy, {len(summary.errors)} could not be scanned, "
          f"{len(summary.quarantined)} quarantined; content cache {cache}", file=sys.stderr)
    for path, err in sorted({**summary.errors, **summary.quarantined}.items())[:20]:
        print(f"  {escape.text(path)}: {escape.clip(err)}", file=sys.stderr)


def db(args: argparse.Namespace) -> int:
    from . import queries
    from .store import Store

    if args.db_command is None:
        raise UsageError("licensegate db: give a subcommand: apps-with, diff, export or overview")
    store = Store(args.db, create=False)
    try:
        return int(getattr(queries, "cmd_" + args.db_command.replace("-", "_"))(store, args))
    finally:
        store.close()
