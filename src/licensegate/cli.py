"""Command line: argument parsing, progress and exit codes. Everything else is importable from the package.

Exit codes: 0 no policy violation, 1 policy violation, 2 usage error or unreadable/invalid input, 3 internal error.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__, escape
from ._files import package_file
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
    """argparse with one-line errors (main() adds the single `licensegate: error:` prefix) and did-you-mean hints."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("licensegate").strip()
        m = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if m:
            choices = re.findall(r"'([^']*)'", m.group(2))
            message += _suggest(m.group(1), choices)
            message = re.sub(r"^argument (?:command|policy_command): invalid choice: ", "unknown command ", message)
        elif "the following arguments are required" in message:
            message += f"; see licensegate {command + ' ' if command else ''}--help"
        raise UsageError(f"{command}: {message}" if command else message)

    def parse_args(self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None) -> argparse.Namespace:  # type: ignore[override]
        ns, extras = self.parse_known_args(args, namespace)
        if extras:
            parser = self._chosen(ns)
            options = [s for a in parser._actions for s in a.option_strings]
            unknown = next((x for x in extras if x.startswith("-")), None)
            if unknown is None:
                parser.error(f"unexpected argument {extras[0]!r}")
            flag = unknown.split("=", 1)[0]
            parser.error(f"unknown option {flag}" + _suggest(flag, options))
        return ns

    def _chosen(self, ns: argparse.Namespace) -> _Parser:
        """The (sub)command parser the arguments selected: the one whose options an unknown flag was meant for."""
        parser = self
        while True:
            sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
            name = getattr(ns, sub.dest, None) if sub is not None else None
            if sub is None or name not in sub.choices:
                return parser
            parser = sub.choices[name]


def _suggest(word: str, candidates: Sequence[str]) -> str:
    import difflib  # only for a usage error: 1 ms of every run's start-up otherwise

    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser; given the arguments it is for, only the part of it they can reach.

    Every command's parser costs ~0.5 ms of argparse objects, and building all of them 3-10 ms of every run
    (`scan tiny.apk`). Arguments that start with a command name reach only that command's parser (the others'
    names are only shown by the top-level help and errors, which a command's arguments never reach), and exactly
    `--version` none: argparse prints the version and exits at that first argument. Anything else (no command, a
    leading option, an unknown command) gets the whole parser, so its help and errors are unchanged.
    """
    p = _Parser(prog="licensegate", description="Find copyleft native code and on-device models in mobile builds, with evidence.")
    p.add_argument("--version", action="version", version=f"licensegate {__version__}")
    if argv is not None and list(argv[:1]) == ["--version"]:
        return p
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    wanted = _COMMANDS.get(argv[0]) if argv else None
    for add in dict.fromkeys(_COMMANDS.values()):  # in the order the help lists them
        if wanted is None or add is wanted:
            add(sub)
    return p


def _add_scan(sub: Any) -> None:
    # imported here, not by the module: `--version` builds no command's parser and so loads no report, model or
    # dataclasses module (their imports, with `inspect` under `dataclasses`: ~20 ms)
    from .report.formats import FORMATS

    s = sub.add_parser("scan", help="scan an APK, AAB, IPA, AAR, XCFramework, zip or folder")
    s.add_argument("artifact", type=Path, help="the build to scan")
    s.add_argument("--policy", type=Path, help="TOML policy file (default: licensegate.toml in the current folder, else at "
                   "the repository root, else beside the artifact, else the built-in policy)")
    s.add_argument("--format", action="append", choices=FORMATS, metavar="FMT",
                   help=f"report format, repeatable: {', '.join(FORMATS)} (default text); pair each with an --output")
    s.add_argument("--output", "-o", type=Path, action="append", metavar="FILE",
                   help="write the matching --format to FILE instead of stdout (repeatable, in order)")
    s.add_argument("--report", action="append", type=_report_spec, metavar="FMT=FILE", default=[],
                   help="also write format FMT to FILE (repeatable), e.g. --report sarif=licensegate.sarif")
    s.add_argument("--notices", type=Path, metavar="DIR",
                   help="write THIRD_PARTY_NOTICES.html/.txt and SOURCE_OFFER.txt to DIR, whatever the verdict")
    s.add_argument("--templates", type=Path, metavar="DIR", help="Jinja2 templates that override the built-in ones")
    s.add_argument("--fail-on", choices=("error", "warning", "never"), default="error", help="which findings make the exit code 1")
    s.add_argument("--verbose", "-v", action="store_true", help="show all evidence and obligations in the text report")
    s.add_argument("--summary", action="store_true",
                   help="print a short text report: the verdict, the failing findings with what to do, the counts")
    s.add_argument("--no-progress", action="store_true", help="never draw a progress bar")
    s.add_argument("--cache", type=Path, metavar="DIR",
                   help="reuse the analysis of unchanged binaries from earlier scans, keyed by their sha256 (docs/performance.md)")
    lim = s.add_argument_group("limits against hostile archives (docs/limits.md)")
    lim.add_argument("--max-member-size", type=_size, default=2 * 1024**3, metavar="SIZE", help="largest uncompressed member (default 2g)")
    lim.add_argument("--max-total-size", type=_size, default=16 * 1024**3, metavar="SIZE", help="total uncompressed bytes (default 16g)")
    lim.add_argument("--max-ratio", type=float, default=200.0, metavar="N", help="largest compression ratio for members over 1 MiB (default 200)")
    lim.add_argument("--max-depth", type=int, default=5, metavar="N", help="deepest nesting of archives (default 5)")
    lim.add_argument("--max-entries", type=int, default=500_000, metavar="N", help="most members in one scan (default 500000)")
    lim.add_argument("--max-memory", type=_size, default=1024**3, metavar="SIZE",
                     help="peak memory of the scan (default 1g); a member and the archives holding it get a third")


def _add_policy(sub: Any) -> None:
    pol = sub.add_parser("policy", help="write or check a policy file")
    psub = pol.add_subparsers(dest="policy_command", parser_class=_Parser)
    pi = psub.add_parser("init", help="write a commented starter policy")
    pi.add_argument("file", type=Path, nargs="?", default=Path("licensegate.toml"), help="where (default licensegate.toml)")
    pi.add_argument("--force", action="store_true", help="overwrite an existing file")
    pc = psub.add_parser("check", help="validate a policy file; errors name their line")
    pc.add_argument("file", type=Path)


def _add_diff(sub: Any) -> None:
    d = sub.add_parser("diff", help="what changed between two builds (JSON reports or artifacts); exit 1 on a new violation")
    d.add_argument("old", type=Path, help="the previous build: a JSON report or an artifact")
    d.add_argument("new", type=Path, help="the new build: a JSON report or an artifact")
    d.add_argument("--policy", type=Path, help="policy for artifacts that need scanning")
    d.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    d.add_argument("--output", "-o", type=Path, help="write to FILE instead of stdout")
    d.add_argument("--fail-on", choices=("error", "warning", "never"), default="error", help="which new findings count as violations")


def _add_audit(sub: Any) -> None:  # `audit` and `db`
    from .audit.cli import add_parsers

    add_parsers(sub)


# command name -> what adds its parser (in the order of the top-level help)
_COMMANDS: dict[str, Callable[[Any], None]] = {
    "scan": _add_scan, "policy": _add_policy, "diff": _add_diff, "audit": _add_audit, "db": _add_audit,
}


def _report_spec(text: str) -> tuple[str, Path]:
    from .report.formats import FORMATS

    fmt, sep, file = text.partition("=")
    if not sep or not file:
        raise argparse.ArgumentTypeError(f"expected FMT=FILE, got {text!r}")
    if fmt not in FORMATS:
        raise argparse.ArgumentTypeError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}{_suggest(fmt, FORMATS)}")
    return fmt, Path(file)


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except LicenseGateError as exc:
        print(f"licensegate: error: {escape.text(exc)}", file=sys.stderr)
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
        print(f"licensegate: internal error: {type(exc).__name__}: {escape.clip(exc)} (set LICENSEGATE_DEBUG=1 for a traceback; please report it)", file=sys.stderr)
        return EXIT_INTERNAL


def _main(argv: list[str] | None) -> int:
    # What the imports made (~20,000 objects: modules, classes, functions) lives as long as the process: kept out
    # of the collector's generations, neither the ~20 collections a small scan triggers nor the interpreter's last
    # one at exit traverse it (`scan tiny.apk` CPU-s, min of 15: 0.196 thawed again on return, 0.160 left frozen,
    # 0.189 without; peak RSS unchanged on many-libs.apk and wild-debian.apk). Frozen before parsing (`--version`
    # exits there: 140.9M -> 129.7M instructions) and again after (a scan's parser imports the report and its
    # dataclasses: 443.1M -> 438.9M). Only for the process's own command line (argv None: the console script,
    # `python -m licensegate`): a caller passing argv (the tests, a build script running many commands) keeps its
    # collector as it was, since a freeze would also keep whatever garbage cycles were waiting at that moment forever.
    own = argv is None
    if own:
        gc.freeze()
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if own:
        gc.freeze()
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_INPUT
    if args.command == "scan":
        return _scan(args)
    if args.command == "policy":
        return _policy(args)
    if args.command == "diff":
        return _diff(args)
    if args.command in ("audit", "db"):
        return int(args.handler(args))
    raise UsageError(f"unknown command {args.command}")


def _scan(args: argparse.Namespace) -> int:
    from . import check, policy
    from .archive import Limits
    from .report.formats import render

    choice = policy.discover(args.artifact, args.policy)
    pol = policy.load(choice.path)
    limits = Limits(
        max_member_size=args.max_member_size,
        max_total_size=args.max_total_size,
        max_ratio=args.max_ratio,
        max_depth=args.max_depth,
        max_entries=args.max_entries,
        max_memory=args.max_memory,
    )
    outputs = _outputs(args)

    progress = None
    if not args.no_progress and sys.stderr.isatty() and args.artifact.is_file() and args.artifact.stat().st_size > 50 * 1024**2:
        progress = _ProgressBar()
    try:
        # the source-offer finding depends on the app and the policy, never on --notices (docs/policy.md)
        report = check(args.artifact, pol, cache=args.cache, limits=limits, fail_on=args.fail_on, progress=progress)
        report.policy_choice = choice
    finally:
        if progress is not None:
            progress.close()

    if args.notices is not None:
        from .report.notices import write_notices

        write_notices(report, args.notices, args.templates)
    for fmt, output in outputs:
        _write(render(report, fmt, verbose=args.verbose, templates=args.templates, summary=args.summary and output is None), output)
    return EXIT_FAIL if report.verdict == "fail" else EXIT_PASS


def _outputs(args: argparse.Namespace) -> list[tuple[str, Path | None]]:
    """(format, file or None for stdout) pairs from --format/--output pairs and --report FMT=FILE."""
    formats: list[str] = args.format or ["text"]
    files: list[Path] = args.output or []
    if len(files) > len(formats):
        raise UsageError(f"{len(files)} --output for {len(formats)} --format: give one --format per --output")
    pairs: list[tuple[str, Path | None]] = [(fmt, files[i] if i < len(files) else None) for i, fmt in enumerate(formats)]
    pairs += list(args.report)
    to_stdout = [fmt for fmt, f in pairs if f is None]
    if len(to_stdout) > 1:
        raise UsageError("only one format can go to stdout; give the others an --output or use --report FMT=FILE")
    if args.summary and to_stdout not in ([], ["text"]):
        raise UsageError(f"--summary is a short text report, but --format {to_stdout[0]} goes to stdout; give it an "
                         "--output (or use --report FMT=FILE) to print the summary beside it")
    if args.summary and not to_stdout:
        pairs.append(("text", None))  # every format goes to a file: the summary is what the terminal shows
    seen: set[Path] = set()
    for _, f in pairs:
        if f is None:
            continue
        if f.exists() and f.is_dir():
            raise UsageError(f"--output {f} is a folder; give a file name")
        if f.resolve() in seen:
            raise UsageError(f"two formats would write {f}")
        seen.add(f.resolve())
    return pairs


def _policy(args: argparse.Namespace) -> int:
    from . import policy as policy_mod

    if args.policy_command == "init":
        if args.file.exists() and not args.force:
            raise UsageError(f"{args.file} exists; use --force to overwrite it")
        _write(package_file("templates/policy.toml").read_text("utf-8"), args.file)
        print(f"wrote {args.file}; edit it, then run: licensegate policy check {args.file}", file=sys.stderr)
        return EXIT_PASS
    if args.policy_command == "check":
        pol = policy_mod.load(args.file)
        print(f"{args.file}: OK: version 1, app licence {pol.app_license or 'proprietary'}, model stance {pol.model_stance}, "
              f"{len(pol.waivers)} waiver(s), {len(pol.overrides)} override(s), "
              f"source offer contact {'complete' if pol.source_offer.complete else 'MISSING'}")
        for i, w in policy_mod.expired_waivers(pol.waivers):
            print(f"{args.file}:{w.line or '?'}: warning: waiver {i + 1} expired on {w.expires}; "
                  "scans will fail (waiver-expired)")
        return EXIT_PASS
    raise UsageError("licensegate policy: give a subcommand: init [FILE] or check FILE")


def _diff(args: argparse.Namespace) -> int:
    from . import check, policy
    from .diff import diff, load_side, render_markdown, render_text

    def scan_report(path: Path) -> dict[str, object]:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
        report = check(path, policy.load(policy.discover(path, args.policy).path), fail_on=args.fail_on)
        report.duration_s = 0.0  # the diff compares builds, not scan times
        return report.to_json()

    d = diff(load_side(args.old, scan_report), load_side(args.new, scan_report), args.fail_on)
    if args.format == "json":
        text = json.dumps(d.to_json(), indent=2) + "\n"
    elif args.format == "markdown":
        text = render_markdown(d)
    else:
        text = escape.terminal(render_text(d))
    _write(text, args.output)
    return EXIT_FAIL if d.adds_violation else EXIT_PASS


def _write(text: str, output: Path | None) -> None:
    if output is None:
        # a non-UTF-8 file name (a lone surrogate) shows as \udcff rather than failing the write
        sys.stdout.write(text.encode("utf-8", "backslashreplace").decode("utf-8"))
        sys.stdout.flush()
        return
    from .fsutil import atomic_write

    try:
        atomic_write(output, text)
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
