"""The GitHub Action (action.yml) and the recipes in docs/ci.md, run as far as this machine can run them.

The action's shell steps run with bash against the installed CLI, with the inputs passed as the runner passes them
(environment variables) and $GITHUB_OUTPUT / $GITHUB_STEP_SUMMARY as files; the hosted pieces (actions/cache,
setup-python, uploads) cannot run here and are only checked for being wired up.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
CI_DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")


def _step(name: str) -> dict[str, object]:
    for step in ACTION["runs"]["steps"]:
        if step.get("name") == name:
            return step
    raise AssertionError(f"action.yml has no step named {name!r}")


def run_scan_step(tmp_path: Path, **inputs: str) -> tuple[int, dict[str, str], str, str]:
    """Run action.yml's Scan step; returns (exit code, $GITHUB_OUTPUT as a dict, job summary, step log)."""
    step = _step("Scan")
    values = {k: str(v.get("default", "")) for k, v in ACTION["inputs"].items()}
    values.update({k.replace("_", "-"): v for k, v in inputs.items()})
    out, summary = tmp_path / "github_output", tmp_path / "step_summary"
    out.write_text("")
    summary.write_text("")
    (tmp_path / "runner-temp").mkdir(exist_ok=True)
    env = dict(os.environ, GITHUB_OUTPUT=str(out), GITHUB_STEP_SUMMARY=str(summary), RUNNER_TEMP=str(tmp_path / "runner-temp"))
    cache_step = _step("Locate the analysis cache")
    subprocess.run(["bash", "-e", "-c", str(cache_step["run"])], env=dict(env, LG_CACHE=values["cache"]), check=True)
    cache_dir = dict(line.split("=", 1) for line in out.read_text().splitlines())["dir"]
    out.write_text("")
    for key, expr in step["env"].items():  # type: ignore[union-attr]
        m = re.fullmatch(r"\$\{\{\s*(inputs\.([\w-]+)|steps\.analysis-cache\.outputs\.dir)\s*\}\}", str(expr))
        assert m, f"unexpected env expression {expr!r}"
        env[key] = values[m.group(2)] if m.group(2) else cache_dir
    proc = subprocess.run(["bash", "-e", "-c", str(step["run"])], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    return proc.returncode, outputs, summary.read_text(), proc.stdout + proc.stderr


@pytest.fixture
def work(corpus: Path, tmp_path: Path) -> Path:
    shutil.copyfile(corpus / "gpl-player.apk", tmp_path / "app.apk")
    return tmp_path


def test_action_inputs_and_caches_are_declared() -> None:
    for name in ("fail-on", "args", "formats", "cache", "artifact", "policy"):
        assert name in ACTION["inputs"], name
    uses = [str(s.get("uses", "")) for s in ACTION["runs"]["steps"]]
    assert sum(u.startswith("actions/cache@") for u in uses) == 2  # pip's cache and the analysis cache
    pip_cache = next(s for s in ACTION["runs"]["steps"] if s.get("uses", "").startswith("actions/cache@"))
    assert "pip-cache" in pip_cache["with"]["path"]


def test_pip_cache_step_names_a_folder_and_a_key(tmp_path: Path) -> None:
    step = _step("Locate the pip cache")
    out = tmp_path / "out"
    env = dict(os.environ, GITHUB_OUTPUT=str(out), LG_INSTALL="", LG_ACTION_PATH=str(ROOT), LG_PYTHON="3.12",
               RUNNER_OS="Linux")
    subprocess.run(["bash", "-e", "-c", str(step["run"])], env=env, check=True, timeout=120)
    got = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert got["dir"] and Path(got["dir"]).is_absolute()
    assert re.fullmatch(r"licensegate-pip-Linux-py3\.12-[0-9a-f]{16}", got["key"])


def test_action_fails_with_the_markdown_report_as_summary(work: Path) -> None:
    code, outputs, summary, log = run_scan_step(work, artifact="app.apk", cache="false")
    assert code == 1, log
    assert outputs["verdict"] == "fail" and outputs["exit-code"] == "1"
    assert summary.startswith("## ❌ LicenseGate: FAIL: com.example.player")
    assert summary == (work / "licensegate-reports" / "licensegate.md").read_text(encoding="utf-8")
    assert (work / "licensegate-reports" / "licensegate.json").is_file()
    assert outputs["sarif"] == "licensegate-reports/licensegate.sarif" and (work / outputs["sarif"]).is_file()
    assert (work / "licensegate-notices" / "SOURCE_OFFER.txt").is_file()
    assert "::error::LicenseGate: policy violation in app.apk" in log


def test_action_fail_on_never_and_formats_and_args(work: Path) -> None:
    code, outputs, summary, log = run_scan_step(
        work, artifact="app.apk", **{"fail-on": "never", "formats": "junit,html", "args": "--max-depth 4 --verbose",
                                     "cache": "false", "notices-dir": ""})
    assert code == 0, log
    assert outputs["verdict"] == "pass" and outputs["sarif"] == ""
    reports = sorted(p.name for p in (work / "licensegate-reports").iterdir())
    assert reports == ["licensegate.html", "licensegate.json", "licensegate.junit.xml"]
    assert summary.startswith("## ✅ LicenseGate: PASS")  # not asked as a format, still the summary
    assert not (work / "licensegate-notices").exists()
    assert "evidence" in log  # --verbose reached the CLI: the text report in the log shows all evidence


def test_action_keeps_the_analysis_cache(work: Path) -> None:
    cache = work / "analysis"
    code, _, _, log = run_scan_step(work, artifact="app.apk", cache=str(cache))
    assert code == 1, log
    assert any(cache.rglob("*.json")), "the scan wrote no cache entries"


def test_action_rejects_a_bad_format_and_fail_on(work: Path) -> None:
    code, _, _, log = run_scan_step(work, artifact="app.apk", formats="json pdf", cache="false")
    assert code == 2 and "unknown format 'pdf'" in log
    code, _, _, log = run_scan_step(work, artifact="app.apk", **{"fail-on": "warnings", "cache": "false"})
    assert code == 2 and "fail-on must be error, warning or never" in log


def test_action_unreadable_input_is_an_error_not_a_verdict(work: Path) -> None:
    (work / "broken.apk").write_bytes(b"PK\x03\x04 not really")
    code, outputs, summary, _ = run_scan_step(work, artifact="broken.apk", cache="false")
    assert code == 2 and outputs["verdict"] == "error"
    assert "without a report" in summary


def _fenced(lang: str, after: str) -> str:
    """The first ```lang block after the heading `after` in docs/ci.md."""
    start = CI_DOC.index(after)
    m = re.search(rf"```{lang}\n(.*?)```", CI_DOC[start:], re.S)
    assert m, f"no {lang} block after {after!r}"
    return m.group(1)


def test_ci_doc_uses_report_directly_and_says_nothing_is_published() -> None:
    assert "```python" not in CI_DOC  # no converter to copy: --report junit= writes JUnit
    gitlab = _fenced("yaml", "## GitLab CI")
    assert "--report junit=" in gitlab and "junit: licensegate-junit.xml" in gitlab
    assert "not yet published" in CI_DOC and "OWNER" in CI_DOC
    assert "--help | grep" not in CI_DOC  # the recipes install a licensegate that has --report


def test_ci_doc_shell_recipe_runs(work: Path) -> None:
    script = _fenced("bash", "## Bitrise")
    script = re.sub(r"^pip install .*$", ": no install here, the licensegate under test is on PATH", script, flags=re.M)
    env = dict(os.environ, BITRISE_DEPLOY_DIR=str(work / "deploy"))
    env.pop("BITRISE_APK_PATH", None)
    proc = subprocess.run(["bash", "-c", script, "recipe", str(work / "app.apk")], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stderr
    out = work / "deploy" / "licensegate"
    assert (out / "licensegate.json").is_file() and (out / "licensegate.txt").is_file(), proc.stderr + proc.stdout[-500:]
    assert (out / "licensegate.junit.xml").is_file() and (out / "notices" / "SOURCE_OFFER.txt").is_file()
    assert "policy violation" in proc.stderr
