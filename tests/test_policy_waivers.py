"""Policy file v1 extended: allow/deny lists, per-platform rule, waivers with expiry, overrides, source-offer
contact, `policy init` / `policy check`, and errors that name their line."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from licensegate import policy as policy_mod
from licensegate.cli import main
from licensegate.errors import UsageError
from licensegate.policy import load
from licensegate.scan import scan

GOOD = '''\
version = 1

[app]
license = "Apache-2.0"

[rules]
lgpl-shared = "warning"

[licenses]
allow = ["MIT", "BSD-3-Clause", "Apache-2.0", "GPL-2.0-or-later"]
deny = ["AGPL-3.0-or-later"]

[source_offer]
organisation = "Example Ltd"
address = "1 Example Street, Example City"
email = "opensource@example.com"
url = "https://example.com/source"
years = 4

[[waiver]]
name = "x264"
reason = "licensed commercially from x264 LLC"
expires = 2030-01-01

[[waiver]]
path = "lib/*/libavcodec.so"
rule = ["copyleft-gpl"]
reason = "replaced in the next release"

[[override]]
rule = "unidentified-native"
path = "lib/*/libapp.so"
severity = "off"
'''


def write(tmp_path: Path, text: str, name: str = "licensegate.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def evaluate(corpus: Path, artifact: str, pol: policy_mod.Policy, today: datetime.date | None = None) -> list[policy_mod.Finding]:
    r = scan(corpus / artifact)
    return policy_mod.evaluate(r, pol, today).findings


def test_good_policy_parses_everything(tmp_path: Path) -> None:
    pol = load(write(tmp_path, GOOD))
    assert pol.app_license == "Apache-2.0" and pol.rules["lgpl-shared"] == "warning"
    assert pol.allow == ["MIT", "BSD-3-Clause", "Apache-2.0", "GPL-2.0-or-later"] and pol.deny == ["AGPL-3.0-or-later"]
    assert pol.source_offer.complete and pol.source_offer.years == 4
    w1, w2 = pol.waivers
    assert (w1.name, w1.expires, w1.line) == ("x264", datetime.date(2030, 1, 1), 20)
    assert (w2.path, w2.rules, w2.expires, w2.line) == ("lib/*/libavcodec.so", ["copyleft-gpl"], None, 25)
    assert pol.overrides[0].severity == "off" and pol.overrides[0].line == 30
    assert pol.to_json()["waivers"][0]["expires"] == "2030-01-01"


def test_starter_policy_is_valid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "licensegate.toml"
    assert main(["policy", "init", str(target)]) == 0
    assert "[source_offer]" in target.read_text() and "[[waiver]]" in target.read_text()
    assert main(["policy", "check", str(target)]) == 0
    assert "OK" in capsys.readouterr().out
    assert main(["policy", "init", str(target)]) == 2, "never overwrite without --force"
    assert main(["policy", "init", str(target), "--force"]) == 0


def test_starter_policy_and_docs_list_every_rule_that_exists(tmp_path: Path) -> None:
    """What `policy init` writes names every rule with its default, ready to uncomment; docs/policy.md's rule table
    names only rules a policy can set (a stale name there is an `unknown rule` error for whoever copies it)."""
    from licensegate.policy.rules import catalogue

    target = tmp_path / "licensegate.toml"
    assert main(["policy", "init", str(target)]) == 0
    starter = target.read_text()
    assert {rid: rule.severity for rid, rule in catalogue().items()} == dict(
        re.findall(r'^# ([a-z0-9-]+) = "(error|warning|info)"', starter.split("[rules]", 1)[1].split("\n[", 1)[0], re.M))
    doc = (Path(__file__).resolve().parent.parent / "docs" / "policy.md").read_text(encoding="utf-8")
    table = doc.split("## The built-in default", 1)[1].split("\n\n", 2)[2].split("\n\n", 1)[0]
    documented = re.findall(r"^\| `([a-z0-9-]+)` \|", table, re.M)
    assert set(documented) <= set(catalogue()), set(documented) - set(catalogue())
    assert set(catalogue()) - set(documented) == {r for r in catalogue() if r.startswith("model-")}  # docs/models.md


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('version = 1\n\n[app]\nlicense = "GPL-9.9-only"\n', 4, "spdx"),
        ('version = 1\n[rules]\ncopyleft-gpl = "error"\nlgpl-shared = "fatal"\n', 4, "severity"),
        ('version = 1\n[rules]\n\nno-such-rule = "error"\n', 4, "unknown rule"),
        ('version = 1\n\ncolour = "red"\n', 3, "unknown key"),
        ('[licenses]\nallow = ["MIT"]\ndeny = ["Nope-1.0"]\n', 3, "spdx"),
        ('[[waiver]]\nname = "x264"\nreason = "ok"\n\n[[waiver]]\nname = "lame"\n', 5, "reason"),
        ('[[waiver]]\nname = "x264"\nreason = "ok"\nexpires = "next year"\n', 4, "date"),
        ('[[waiver]]\nname = "x264"\nreason = "ok"\ncolour = 1\n', 4, "unknown key"),
        ('[[waiver]]\nreason = "matches nothing"\n', 1, "name, path or sha256"),
        ('[[waiver]]\nsha256 = "abc"\nreason = "short"\n', 2, "64 hex"),
        ('[source_offer]\norganisation = "X"\nyears = 2\n', 3, "at least 3"),
        ('[source_offer]\nemail = "not-an-address"\n', 2, "e-mail"),
        ('[[override]]\nrule = "copyleft-gpl"\nname = "x"\nseverity = "loud"\n', 4, "severity"),
        ('[models]\nsource = "vibes"\n', 2, "models.source"),
    ],
)
def test_broken_policy_names_the_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as exc:
        load(path)
    message = str(exc.value)
    assert f"{path}:{line}:" in message, message
    assert words in message.lower()


def test_every_error_is_reported_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, '[app]\nlicense = "Nope"\n[rules]\nfoo = "error"\n[source_offer]\nyears = 1\n')
    assert main(["policy", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2:" in err and f"{path}:4:" in err and f"{path}:6:" in err


def test_invalid_toml_keeps_tomllib_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"line 2"):
        load(write(tmp_path, "version = 1\n[app\n"))


def test_waivers_waive_and_expire(corpus: Path, tmp_path: Path) -> None:
    pol = load(write(tmp_path, GOOD))
    findings = evaluate(corpus, "gpl-player.apk", pol, today=datetime.date(2026, 6, 1))
    x264 = [f for f in findings if f.component and f.component.endswith("libx264.so")]
    assert x264 and all(f.waived_by and f.waived_by.startswith("waiver 1 (line 20): licensed commercially") for f in x264)
    codec = [f for f in findings if f.component == "lib/arm64-v8a/libavcodec.so"]
    assert {f.rule for f in codec if f.waived_by} == {"copyleft-gpl"}, "rule narrows the second waiver"
    assert {f.rule for f in codec if not f.waived_by} == {"app-links-copyleft"}
    assert not [f for f in findings if f.rule == "unidentified-native" and f.component and f.component.endswith("libapp.so")]
    assert policy_mod.outcome(findings) == "fail"  # the other FFmpeg libraries still fail

    later = evaluate(corpus, "gpl-player.apk", pol, today=datetime.date(2030, 1, 2))
    expired = [f for f in later if f.rule == "waiver-expired"]
    assert len(expired) == 1 and expired[0].severity == "error" and "expired on 2030-01-01" in expired[0].message
    assert "line 20" in expired[0].message
    assert not any(f.waived_by and f.waived_by.startswith("waiver 1") for f in later)


def test_waiver_that_matches_nothing_is_reported(corpus: Path, tmp_path: Path) -> None:
    pol = load(write(tmp_path, '[[waiver]]\nname = "libfoo*"\nreason = "gone since 2.0"\n'))
    findings = evaluate(corpus, "clean-app.apk", pol)
    unused = [f for f in findings if f.rule == "waiver-unused"]
    assert len(unused) == 1 and unused[0].severity == "warning" and "libfoo*" in unused[0].message
    assert policy_mod.outcome(findings) == "pass" and policy_mod.outcome(findings, "warning") == "fail"


def test_waiver_by_sha256(corpus: Path, tmp_path: Path) -> None:
    r = scan(corpus / "gpl-player.apk")
    x265 = next(c for c in r.components if c.path.endswith("libx265.so"))
    pol = load(write(tmp_path, f'[[waiver]]\nsha256 = "{x265.sha256}"\nreason = "vendor licence"\n'))
    findings = policy_mod.evaluate(r, pol).findings
    assert all(f.waived_by for f in findings if f.component == x265.path)
    assert not any(f.rule == "waiver-unused" for f in findings)


def test_expired_waiver_fails_the_cli(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, '[[waiver]]\nname = "zlib"\nreason = "old"\nexpires = 2020-01-01\n')
    assert main(["policy", "check", str(path)]) == 0
    assert f"{path}:1: warning: waiver 1 expired on 2020-01-01" in capsys.readouterr().out
    assert main(["scan", str(corpus / "clean-app.apk"), "--policy", str(path)]) == 1
    assert "waiver-expired" in capsys.readouterr().out


def test_allow_and_deny_lists(corpus: Path, tmp_path: Path) -> None:
    pol = load(write(tmp_path, '[licenses]\ndeny = ["GPL-2.0-only"]\nallow = ["BSD-3-Clause", "Zlib", "Apache-2.0", "MIT"]\n'))
    findings = evaluate(corpus, "clean-app.apk", pol)
    by_rule: dict[str, set[str]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, set()).add((f.component or "").rsplit("/", 1)[-1])
    # zstd is BSD-3-Clause OR GPL-2.0-only: the BSD choice avoids the denied id and stays in the allow list
    assert "libzstd.so" not in by_rule.get("license-denied", set()) | by_rule.get("license-not-allowed", set())
    assert {"libpng16.so", "libsqlite3.so", "libdav1d.so", "libjpeg.so"} <= by_rule["license-not-allowed"]
    assert "libz.so" not in by_rule["license-not-allowed"]
    traps = evaluate(corpus, "traps.apk", load(write(tmp_path, '[licenses]\ndeny = ["GPL-2.0-only"]\n', "p2.toml")))
    assert {f.component for f in traps if f.rule == "license-denied"} == {"lib/arm64-v8a/libbusybox.so", "lib/arm64-v8a/libopenvpn.so"}


def test_ios_gpl_is_its_own_rule(corpus: Path, tmp_path: Path) -> None:
    findings = evaluate(corpus, "ios-app.ipa", load(None))
    ios = [f for f in findings if f.rule == "ios-gpl"]
    assert [f.component for f in ios] == ["Payload/App.app/Frameworks/x264.framework/x264"] and ios[0].severity == "error"
    # a GPL app still may not go to the App Store with GPL code: the rule keeps its severity
    gpl_app = load(write(tmp_path, '[app]\nlicense = "GPL-2.0-or-later"\n'))
    assert [f.severity for f in evaluate(corpus, "ios-app.ipa", gpl_app) if f.rule == "ios-gpl"] == ["error"]
    off = load(write(tmp_path, '[rules]\nios-gpl = "warning"\n', "p2.toml"))
    assert [f.severity for f in evaluate(corpus, "ios-app.ipa", off) if f.rule == "ios-gpl"] == ["warning"]
    assert not [f for f in evaluate(corpus, "gpl-player.apk", load(None)) if f.rule == "ios-gpl"]


def test_override_changes_one_components_severity(corpus: Path, tmp_path: Path) -> None:
    pol = load(write(tmp_path, '[[override]]\nrule = "lgpl-shared"\nname = "LAME"\nseverity = "error"\nreason = "no LAME"\n'))
    findings = evaluate(corpus, "player.aab", pol)
    sev = {f.component: f.severity for f in findings if f.rule == "lgpl-shared"}
    assert sev["feature1/lib/arm64-v8a/libmp3lame.so"] == "error"
    assert sev["base/lib/arm64-v8a/libvlc.so"] == "info"


def test_report_with_a_full_policy_matches_the_schema(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    import jsonschema

    out = tmp_path / "r.json"
    assert main(["scan", str(corpus / "gpl-player.apk"), "--policy", str(write(tmp_path, GOOD)), "--format", "json", "--output", str(out)]) == 1
    report = json.loads(out.read_text())
    schema = json.loads((Path(__file__).parent.parent / "src/licensegate/report/schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(report)
    assert report["policy"]["waivers"][0]["line"] == 20
    assert any(f["waived_by"] for f in report["findings"])
