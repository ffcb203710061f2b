"""Command line: argument parsing, progress and exit codes. Everything else is importable from the package.

Exit codes: 0 no policy violation, 1 policy violation, 2 usage error or unreadable/invalid input, 3 internal error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

from . import __version__
from .errors import LicenseGateError, UsageError

EXIT_PASS, EXIT_FAIL, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3

_SIZE_SUFFIX = {"k": 1024, "m": 1024**2, "g": 1024**3}


def _size(text: str) -> int:
    """Bytes from "512", "64k", "2g" or "1.5GiB"."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*", text.lower())
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use bytes or a k/m/g suffix)")
    value = int(float(m.group(1)) * _SIZE_SUFFIX.get(m.group(2), 1))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive: {text!r}")
    return value


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="licensegate", description="Find copyleft native code and on-device models in mobile builds, with evidence.")
    p.add_argument("--version", action="version", version=f"licensegate {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    s = sub.add_parser("scan", help="scan an APK, AAB, IPA, AAR, XCFramework, zip or folder")
    s.add_argument("artifact", type=Path, help="the build to scan")
    s.add_argument("--policy", type=Path, help="TOML policy file (default: licensegate.toml beside the artifact, else built-in)")
    s.add_argument("--format", choices=("text", "json"), default="text", help="report format (default text)")
    s.add_argument("--output", "-o", type=Path, help="write the report to FILE instead of stdout")
    s.add_argument("--fail-on", choices=("error", "warning", "never"), default="error", help="which findings make the exit code 1")
    s.add_argument("--verbose", "-v", action="store_true", help="show all evidence and obligations in the text report")
    s.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    lim = s.add_argument_group("limits against hostile archives (docs/limits.md)")
    lim.add_argument("--max-member-size", type=_size, default=2 * 1024**3, metavar="SIZE", help="largest uncompressed member (default 2g)")
    lim.add_argument("--max-total-size", type=_size, default=16 * 1024**3, metavar="SIZE", help="total uncompressed bytes (default 16g)")
    lim.add_argument("--max-ratio", type=float, default=200.0, metavar="N", help="largest compression ratio for members over 1 MiB (default 200)")
    lim.add_argument("--max-depth", type=int, default=5, metavar="N", help="deepest nesting of archives (default 5)")
    lim.add_argument("--max-entries", type=int, default=500_000, metavar="N", help="most members in one scan (default 500000)")
    return p


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except LicenseGateError as exc:
        print(f"licensegate: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("licensegate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_PASS
    except MemoryError:
        print("licensegate: error: out of memory (lower --max-member-size)", file=sys.stderr)
        return EXIT_INPUT
    except Exception as exc:  # a bug: say so in one line; LICENSEGATE_DEBUG=1 shows the traceback
        if os.environ.get("LICENSEGATE_DEBUG"):
            raise
        print(f"licensegate: internal error: {type(exc).__name__}: {exc} (set LICENSEGATE_DEBUG=1 for a traceback; please report it)", file=sys.stderr)
        return EXIT_INTERNAL


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    if args.command == "scan":
        return _scan(args)
    raise UsageError(f"unknown command {args.command}")


def _scan(args: argparse.Namespace) -> int:
    from . import policy as policy_mod
    from .archive import Limits
    from .report import build
    from .scan import scan

    policy_path = args.policy
    if policy_path is None:
        beside = args.artifact.resolve().parent / "licensegate.toml"
        policy_path = beside if beside.is_file() else None
    pol = policy_mod.load(policy_path)
    limits = Limits(
        max_member_size=args.max_member_size,
        max_total_size=args.max_total_size,
        max_ratio=args.max_ratio,
        max_depth=args.max_depth,
        max_entries=args.max_entries,
    )
    if args.output is not None and args.output.exists() and args.output.is_dir():
        raise UsageError(f"--output {args.output} is a folder; give a file name")

    progress = None
    if not args.no_progress and sys.stderr.isatty() and args.artifact.is_file() and args.artifact.stat().st_size > 50 * 1024**2:
        progress = _ProgressBar()

    started = time.perf_counter()
    result = scan(args.artifact, limits, progress)
    if progress is not None:
        progress.close()
    findings = policy_mod.evaluate(result.components, result.problems, result.load_sites, pol, result.artifact.platform, result.models)
    report = build(result, pol, findings, args.fail_on, time.perf_counter() - started)

    if args.format == "json":
        text = json.dumps(report.to_json(), indent=2, sort_keys=False) + "\n"
    else:
        from .report.text import render

        text = render(report, verbose=args.verbose)
    _write(text, args.output)
    return EXIT_FAIL if report.verdict == "fail" else EXIT_PASS


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, output)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None


class _ProgressBar:
    """A one-line bar on stderr, redrawn at most ten times a second."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        frac = done / total if total else 0.0
        width = 30
        filled = int(frac * width)
        sys.stderr.write(f"\rscanning [{'#' * filled}{'.' * (width - filled)}] {frac:4.0%}")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\r" + " " * 50 + "\r")
        sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
