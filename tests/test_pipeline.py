"""The library entry point `licensegate.check` and the policy as a pure stage."""

from __future__ import annotations

import copy
import datetime
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

import licensegate
from licensegate import policy as policy_mod
from licensegate.cli import main
from licensegate.errors import UsageError
from licensegate.scan import scan
from test_formats import with_models

POLICY = """
[app]
license = "GPL-3.0-or-later"

[models]
source = "training-code-and-data"

[[models.declare]]
match = "assets/models/*.tflite"
license = "MIT"
training_code = "https://example.org/train"

[[override]]
rule = "lgpl-shared"
severity = "warning"
name = "*"

[[waiver]]
name = "x265*"
reason = "vendor licence"
expires = 2030-01-01

[[waiver]]
path = "lib/*/libnothing.so"
reason = "stale"
expires = 2020-01-01
"""


def test_evaluate_leaves_the_scan_result_unchanged(corpus: Path, tmp_path: Path) -> None:
    """Deep equality of the scan result before and after: evaluate concludes licences, obligations and provenance
    (a declared model licence, overrides, waivers, the model stance) into the Verdict only."""
    apk = with_models(corpus / "gpl-player.apk", tmp_path / "gpl-model.apk")
    (tmp_path / "p.toml").write_text(POLICY, encoding="utf-8")
    pol = policy_mod.load(tmp_path / "p.toml")
    result = scan(apk)
    before = copy.deepcopy(result)
    verdict = policy_mod.evaluate(result, pol, datetime.date(2026, 6, 1), source_offer=True)
    assert result == before
    # and the verdict did conclude something a mutating evaluate would have written into the components
    relu = verdict.conclusions["assets/models/relu.tflite"]
    assert relu.license == "MIT" and relu.embedded_license == "Apache-2.0" and relu.origin == "declared" and relu.license_declared
    assert next(c for c in result.components if c.path == "assets/models/relu.tflite").origin != "declared"
    assert set(verdict.models) == {"assets/models/relu.tflite", "assets/models/iris.ort"}
    assert verdict.conclusions["lib/arm64-v8a/libx264.so"].obligations
    assert any(f.waived_by for f in verdict.findings) and any(f.rule == "waiver-expired" for f in verdict.findings)
    # evaluating twice gives the same answer: nothing carried over from the first run
    again = policy_mod.evaluate(result, pol, datetime.date(2026, 6, 1), source_offer=True)
    assert [f.to_json() for f in again.findings] == [f.to_json() for f in verdict.findings]


def test_check_is_the_cli_scan(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    report = licensegate.check(corpus / "gpl-player.apk")
    assert report.verdict == "fail" and report.policy.source == "built-in default"
    assert main(["scan", str(corpus / "gpl-player.apk"), "--format", "json", "--output", str(tmp_path / "r.json"),
                 "--no-progress"]) == 1
    import json

    cli = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    lib = report.to_json()
    # the CLI also says how it chose the policy file (docs/policy.md); a library caller chose it itself
    assert cli["policy"].pop("discovery") == {"file": None, "place": None, "not_used": []}
    for d in (cli, lib):
        d["summary"].pop("duration_s")
    assert cli == lib


def test_check_takes_a_policy_object_a_path_or_none(corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('[rules]\ncopyleft-gpl = "warning"\napp-links-copyleft = "warning"\n'
                                     'lgpl-static = "warning"\nios-gpl = "warning"\n', encoding="utf-8")
    apk = corpus / "gpl-player.apk"
    by_path = licensegate.check(apk, tmp_path / "p.toml")
    by_str = licensegate.check(str(apk), str(tmp_path / "p.toml"))
    by_obj = licensegate.check(apk, policy_mod.load(tmp_path / "p.toml"))
    assert by_path.verdict == by_str.verdict == by_obj.verdict == "pass"
    assert licensegate.check(apk, tmp_path / "p.toml", fail_on="warning").verdict == "fail"
    assert licensegate.check(apk).verdict == "fail"
    with pytest.raises(UsageError, match="fail_on"):
        licensegate.check(apk, fail_on="sometimes")
    with pytest.raises(UsageError, match="policy file not found"):
        licensegate.check(apk, tmp_path / "missing.toml")


def _verdict_in_worker(path: str) -> tuple[str, int]:
    report = licensegate.check(path)
    return report.verdict, len(report.findings)


def test_check_runs_in_worker_processes(corpus: Path) -> None:
    """Fleet audits call check from a process pool: the function pickles by reference and its answer is plain data."""
    assert pickle.loads(pickle.dumps(licensegate.check)) is licensegate.check
    apk = str(corpus / "clean-app.apk")
    with ProcessPoolExecutor(max_workers=1) as pool:
        verdict, n = pool.submit(_verdict_in_worker, apk).result(timeout=600)
    assert (verdict, n) == _verdict_in_worker(apk)


def test_every_rule_has_catalogue_texts() -> None:
    rules = policy_mod.catalogue()
    assert list(rules) == list(policy_mod.DEFAULT_RULES)
    for r in rules.values():
        assert r.description and r.rationale and r.remediation, r.id
        assert r.severity in ("error", "warning", "info")


def test_every_rule_the_code_emits_is_in_the_catalogue() -> None:
    """Rule ids appear in the code as string literals passed to findings; each must be in data/rules.toml."""
    import re

    src = Path(licensegate.__file__).parent
    emitted = set()
    for p in (src / "policy").glob("*.py"):
        emitted |= set(re.findall(r'(?:add|Finding|severity)\(\s*"([a-z0-9-]+)"', p.read_text(encoding="utf-8")))
    assert emitted, "no rule ids found: the pattern above is stale"
    assert emitted <= set(policy_mod.catalogue()), emitted - set(policy_mod.catalogue())


def test_expired_waivers() -> None:
    w = [policy_mod.Waiver("a", name="x", expires=datetime.date(2026, 1, 1)), policy_mod.Waiver("b", name="y")]
    assert policy_mod.expired_waivers(w, datetime.date(2026, 1, 2)) == [(0, w[0])]
    assert policy_mod.expired_waivers(w, datetime.date(2026, 1, 1)) == []
