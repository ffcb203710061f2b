"""Argument errors: one line, one `licensegate:` prefix, exit 2, and a did-you-mean for a mistyped flag or command."""

from __future__ import annotations

import pytest

from licensegate.cli import main


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
