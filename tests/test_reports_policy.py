"""The policy a user just wrote is the one used, and findings say what they mean (issue 14), through the CLI.

Policy discovery: `--policy`, else `licensegate.toml` in the current folder, else at the repository root, else
beside the artifact, else the built-in default; every report names the file it used and the ones it passed over.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from licensegate.cli import main

# a policy whose effect shows in the report: unidentified native code is no longer a finding
QUIET = 'version = 1\n\n[rules]\nunidentified-native = "off"\n'


def scan(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().out


@pytest.fixture
def repo(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git working tree with the build in build/out/app.apk, the shell in app/ (the current folder)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "build" / "out").mkdir(parents=True)
    (tmp_path / "app").mkdir()
    shutil.copyfile(corpus / "gpl-player.apk", tmp_path / "build" / "out" / "app.apk")
    monkeypatch.chdir(tmp_path / "app")
    return tmp_path


APK = "../build/out/app.apk"


def _policy_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("policy: "))


def test_policy_init_then_scan_uses_the_new_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, before = scan(["scan", APK], capsys)
    assert "unidentified-native" in before
    assert main(["policy", "init"]) == 0
    assert (repo / "app" / "licensegate.toml").is_file()
    capsys.readouterr()
    _, out = scan(["scan", APK], capsys)
    assert _policy_line(out) == "policy: licensegate.toml (found in the current folder)"
    report = json.loads(scan(["scan", APK, "--format", "json"], capsys)[1])
    assert report["policy"]["source"] == "licensegate.toml"
    assert report["policy"]["discovery"] == {"file": "licensegate.toml", "place": "the current folder", "not_used": []}


def test_the_starter_policy_changes_what_the_scan_says(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The file `policy init` wrote is read, not just named: a rule set in it changes the findings."""
    (repo / "app" / "licensegate.toml").write_text(QUIET)
    _, out = scan(["scan", APK], capsys)
    assert "unidentified-native" not in out
    assert _policy_line(out) == "policy: licensegate.toml (found in the current folder)"


def test_repository_root_comes_before_beside_the_artifact(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "build" / "out" / "licensegate.toml").write_text(QUIET)
    _, out = scan(["scan", APK], capsys)
    assert _policy_line(out) == "policy: ../build/out/licensegate.toml (found beside the artifact)"
    assert "unidentified-native" not in out
    (repo / "licensegate.toml").write_text("version = 1\n")
    _, out = scan(["scan", APK], capsys)
    assert _policy_line(out) == ("policy: ../licensegate.toml (found at the repository root); "
                                 "not used: ../build/out/licensegate.toml (beside the artifact)")
    assert "unidentified-native" in out  # the root's policy applies, not the one beside the artifact


def test_explicit_policy_wins_and_every_report_names_the_others(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app" / "licensegate.toml").write_text("version = 1\n")
    (repo / "strict.toml").write_text(QUIET)
    expected = "../strict.toml (given with --policy); not used: licensegate.toml (the current folder)"
    _, out = scan(["scan", APK, "--policy", "../strict.toml"], capsys)
    assert _policy_line(out) == f"policy: {expected}"
    assert "unidentified-native" not in out
    _, summary = scan(["scan", APK, "--policy", "../strict.toml", "--summary"], capsys)
    assert f"policy: {expected}" in summary.splitlines()
    _, md = scan(["scan", APK, "--policy", "../strict.toml", "--format", "markdown"], capsys)
    assert "../strict.toml (given with --policy); not used: licensegate.toml (the current folder)" in md
    _, html = scan(["scan", APK, "--policy", "../strict.toml", "--format", "html"], capsys)
    assert "<tr><th>policy</th><td>../strict.toml (given with --policy); not used: licensegate.toml (the current folder)" in html
    report = json.loads(scan(["scan", APK, "--policy", "../strict.toml", "--format", "json"], capsys)[1])
    assert report["policy"]["discovery"] == {
        "file": "../strict.toml", "place": "--policy",
        "not_used": [{"path": "licensegate.toml", "place": "the current folder"}]}


def test_no_policy_anywhere_says_how_to_write_one(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = scan(["scan", APK, "--summary"], capsys)
    assert "policy: built-in default (no licensegate.toml in the current folder, at the repository root or beside " \
           "the artifact; `licensegate policy init` writes one)" in out.splitlines()
    report = json.loads(scan(["scan", APK, "--format", "json"], capsys)[1])
    assert report["policy"]["source"] == "built-in default"
    assert report["policy"]["discovery"] == {"file": None, "place": None, "not_used": []}


def test_outside_a_repository_the_walk_stops_at_the_current_folder(corpus: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """No `.git` above: only the current folder and the artifact's folder are looked at."""
    (tmp_path / "work" / "deep").mkdir(parents=True)
    (tmp_path / "work" / "licensegate.toml").write_text(QUIET)  # a parent folder, but not a repository root
    monkeypatch.chdir(tmp_path / "work" / "deep")
    _, out = scan(["scan", str(corpus / "gpl-player.apk")], capsys)
    assert _policy_line(out).startswith("policy: built-in default")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_linked_policy_file_is_not_followed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "elsewhere.toml").write_text(QUIET)
    (repo / "app" / "licensegate.toml").symlink_to(repo / "elsewhere.toml")
    (repo / "licensegate.toml").write_text("version = 1\n")
    _, out = scan(["scan", APK], capsys)
    assert _policy_line(out) == (
        "policy: ../licensegate.toml (found at the repository root); not used: licensegate.toml (the current folder; "
        "a symbolic link, not followed; name it with --policy to use it)")
    assert "unidentified-native" in out
    # named explicitly, the user chose it
    _, out = scan(["scan", APK, "--policy", "licensegate.toml"], capsys)
    assert "unidentified-native" not in out


def test_diff_finds_the_policy_the_same_way(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An old report made under the built-in default, the same build rescanned by `diff` under the policy in the
    current folder: the findings that policy adds (its deny list) are new violations."""
    old = repo / "old.json"
    assert main(["scan", APK, "--format", "json", "--output", str(old)]) == 1
    (repo / "app" / "licensegate.toml").write_text('version = 1\n\n[licenses]\ndeny = ["GPL-2.0-or-later"]\n')
    code, out = scan(["diff", str(old), APK, "--format", "json"], capsys)
    assert code == 1
    assert "license-denied" in out
    (repo / "app" / "licensegate.toml").unlink()
    code, _ = scan(["diff", str(old), APK, "--format", "json"], capsys)
    assert code == 0
