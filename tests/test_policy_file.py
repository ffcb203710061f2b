"""Policy files: good ones change severities, broken ones are a one-line usage error (exit 2)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from licensegate.cli import main
from licensegate.errors import UsageError
from licensegate.policy import DEFAULT_RULES, load


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "licensegate.toml"
    p.write_text(text)
    return p


def test_default_policy_is_proprietary() -> None:
    pol = load(None)
    assert pol.app_license is None and not pol.app_is_gpl_covered
    assert pol.rules == DEFAULT_RULES
    assert pol.rules["copyleft-gpl"] == "error" and pol.rules["lgpl-shared"] == "info"


def test_good_policy(tmp_path: Path) -> None:
    pol = load(write(tmp_path, 'version = 1\n[app]\nlicense = "GPL-3.0-or-later"\n[rules]\nlgpl-shared = "warning"\n'))
    assert pol.app_is_gpl_covered
    assert pol.rules["lgpl-shared"] == "warning"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[app\n", "invalid toml"),
        ("colour = 1\n", "unknown key"),
        ("version = 9\n", "version"),
        ('[app]\nlicense = "GPL-9.9-only"\n', "spdx"),
        ('[rules]\ncopyleft-gpl = "fatal"\n', "severity"),
        ('[rules]\nno-such-rule = "error"\n', "unknown rule"),
    ],
)
def test_broken_policy(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(UsageError) as exc:
        load(write(tmp_path, text))
    assert words in str(exc.value).lower()


def test_broken_policy_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apk = tmp_path / "a.apk"
    with zipfile.ZipFile(apk, "w") as zf:
        zf.writestr("AndroidManifest.xml", b"\0" * 8)
    code = main(["scan", str(apk), "--policy", str(write(tmp_path, "colour = 1\n"))])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "unknown key" in err


def test_policy_beside_the_artifact_is_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apk = tmp_path / "a.apk"
    with zipfile.ZipFile(apk, "w") as zf:
        zf.writestr("AndroidManifest.xml", b"\0" * 8)
        zf.writestr("../x", b"y")
    write(tmp_path, '[rules]\nmember-problem = "error"\n')
    assert main(["scan", str(apk)]) == 1
    assert "member-problem" in capsys.readouterr().out


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["scan"]) == 2
    assert main(["scan", "x.apk", "--format", "pdf"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
