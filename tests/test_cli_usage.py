"""Argument errors: one line, one `licensegate:` prefix, exit 2, and a did-you-mean for a mistyped flag or command."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from licensegate.cli import build_parser, main


@pytest.mark.parametrize(("argv", "expected"), [
    (["scan", "app.apk", "--polcy", "x.toml"], "licensegate: error: scan: unknown option --polcy; did you mean --policy?"),
    (["scan", "app.apk", "--fail-on=warnings"], "did you mean warning?"),
    (["scan", "app.apk", "--report", "htlm=r.html"], "scan: argument --report: unknown format 'htlm'; known: text,"),
    (["scan", "app.apk", "--report", "htlm=r.html"], "; did you mean html?"),
    (["scna", "app.apk"], "licensegate: error: unknown command 'scna' (choose from 'scan', 'policy', 'diff',"),
    (["scna", "app.apk"], "; did you mean scan?"),
    (["policy", "chek", "x.toml"], "licensegate: error: policy: unknown command 'chek'"),
    (["policy", "init", "--forse"], "licensegate: error: policy init: unknown option --forse; did you mean --force?"),
    (["diff", "a.json", "b.json", "--fromat", "json"], "diff: unknown option --fromat; did you mean --format?"),
    (["scan"], "licensegate: error: scan: the following arguments are required: artifact; see licensegate scan --help"),
    (["scan", "app.apk", "extra"], "licensegate: error: scan: unexpected argument 'extra'"),
    (["--frobnicate"], "licensegate: error: unknown option --frobnicate"),
])
def test_usage_errors_are_one_line_with_a_hint(argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.count("licensegate:") == 1, err
    assert expected in err, err


def _printed(parse: Callable[[], object], capsys: pytest.CaptureFixture[str]) -> tuple[str, str, object]:
    with pytest.raises(SystemExit) as exited:
        parse()
    out, err = capsys.readouterr()
    return out, err, exited.value.code


@pytest.mark.parametrize("command", [
    [], ["db"], ["scan"], ["policy"], ["policy", "init"], ["policy", "check"], ["diff"], ["audit"], ["db", "apps-with"], ["db", "diff"], ["db", "export"], ["db", "overview"],
])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_is_that_of_the_whole_parser(command: list[str], flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    # main builds only the parser the arguments reach; what it prints is what the whole command line's parser prints
    whole = _printed(lambda: build_parser().parse_args([*command, flag]), capsys)
    assert whole[0].startswith("usage: licensegate") and whole[2] == 0
    assert _printed(lambda: main([*command, flag]), capsys) == whole


@pytest.mark.parametrize("argv", [["--version"], ["--version", "scan"], ["--vers"], ["-h", "scan"], ["scan", "-h"]])
def test_version_and_leading_options_are_those_of_the_whole_parser(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    whole = _printed(lambda: build_parser().parse_args(argv), capsys)
    assert whole[0] and whole[2] == 0
    assert _printed(lambda: main(argv), capsys) == whole


def test_a_caller_passing_argv_keeps_its_collector(capsys: pytest.CaptureFixture[str]) -> None:
    """Only the process's own command line freezes the collector's objects; a build script calling main() with a
    list must not have its waiting garbage kept forever."""
    import gc

    before = gc.get_freeze_count()
    assert main(["scan"]) == 2  # a usage error: main returns
    assert gc.get_freeze_count() == before
    capsys.readouterr()


def test_the_command_line_process_freezes_what_its_imports_made() -> None:
    import subprocess
    import sys

    code = "import gc, sys; from licensegate.cli import main; sys.argv = ['licensegate', 'scan']; main(); print(gc.get_freeze_count())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert int(out.split()[-1]) > 1000
